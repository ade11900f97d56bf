"""A non-interactive debugger run (gdb -batch): to completion or timeout,
its whole process group killed on every way out."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass

from .children import forking, hold_forever

# Running batch debuggers by process group: killed when we close down.
_live_batches: dict[int, subprocess.Popen] = {}
# How long stop_batches() waits for a killed debugger to be reaped.
REAP_WAIT = 2.0


@dataclass(frozen=True)
class BatchResult:
    """What a batch run printed, how it ended, and how long it took."""

    output: str
    returncode: int | None
    seconds: float
    timed_out: bool


def stop_batches(final: bool = False) -> None:
    """Kill every batch debugger still running (we are closing), and reap it:
    the thread that ran it may never get to (the interpreter is exiting).
    final: the process is about to end; no debugger starts after this."""
    if final:
        hold_forever()
    with forking:
        running = list(_live_batches.items())
    for group, _ in running:
        kill_group(group)
    for _, process in running:
        try:
            process.wait(REAP_WAIT)
        except subprocess.TimeoutExpired:
            pass


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
    return Batch(argv, env, cwd).finish(timeout)


class Batch:
    """A batch debugger started now, on this thread, and killed by a stop
    (a quit, a signal) until finish() has its answer."""

    def __init__(self, argv: list[str], env: dict[str, str] | None = None, cwd: str | None = None) -> None:
        program = shutil.which(argv[0])
        if program is None:
            raise FileNotFoundError(argv[0])
        # If we are killed outright (SIGKILL, or a crash no handler sees), the
        # kernel kills the debugger too: no gdb left looping on a core. (The
        # parent that counts is this thread, which waits for the child.)
        guard = [setpriv, "--pdeathsig", "KILL", "--"] if (setpriv := shutil.which("setpriv")) else []
        self.started = time.monotonic()
        with forking:
            self.process = subprocess.Popen(guard + [program, *argv[1:]], stdout=subprocess.PIPE,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=cwd,
                                            start_new_session=True)
            _live_batches[self.process.pid] = self.process

    def finish(self, timeout: float) -> BatchResult:
        """Wait for the end (or kill it at the timeout); it is reaped either way."""
        process = self.process
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
            _live_batches.pop(process.pid, None)
        text = output.decode("utf-8", errors="replace").replace("\r\n", "\n")
        return BatchResult(text, process.returncode, time.monotonic() - self.started, timed_out)
