"""A non-interactive debugger run (gdb -batch): to completion or timeout,
its whole process group killed on every way out."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass

# Process groups of running batch debuggers: killed when we close down.
_live_batches: set[int] = set()


@dataclass(frozen=True)
class BatchResult:
    """What a batch run printed, how it ended, and how long it took."""

    output: str
    returncode: int | None
    seconds: float
    timed_out: bool


def stop_batches() -> None:
    """Kill every batch debugger still running (we are closing)."""
    for group in list(_live_batches):
        kill_group(group)


def kill_group(group: int) -> None:
    try:
        os.killpg(group, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_batch(argv: list[str], timeout: float, env: dict[str, str] | None = None, cwd: str | None = None) -> BatchResult:
    """Run argv to completion or timeout.

    On timeout the whole process group is killed and what it printed so far
    is kept: a looping unwinder still shows the frames it found.
    """
    program = shutil.which(argv[0])
    if program is None:
        raise FileNotFoundError(argv[0])
    # If we are killed outright (SIGKILL, or a crash no handler sees), the
    # kernel kills the debugger too: no gdb left looping on a core. (The
    # parent that counts is this thread, which waits for the child.)
    guard = [setpriv, "--pdeathsig", "KILL", "--"] if (setpriv := shutil.which("setpriv")) else []
    started = time.monotonic()
    process = subprocess.Popen(guard + [program, *argv[1:]], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, env=env, cwd=cwd, start_new_session=True)
    _live_batches.add(process.pid)
    try:
        output, _ = process.communicate(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        kill_group(process.pid)
        output, _ = process.communicate()
        timed_out = True
    except BaseException:
        kill_group(process.pid)
        process.wait()
        raise
    finally:
        _live_batches.discard(process.pid)
    text = output.decode("utf-8", errors="replace").replace("\r\n", "\n")
    return BatchResult(text, process.returncode, time.monotonic() - started, timed_out)
