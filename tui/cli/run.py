"""`gocore-tui run -- PROG ARGS`: run a program the way that leaves a core,
and catch the core when it crashes.

PROG gets the terminal (stdin and stdout pass through), GOTRACEBACK=crash
and the highest core size limit allowed. Its stderr passes through too and
is kept: the traceback Go printed is shown beside Delve's view.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from .corerun import CorerunError, find_core, raise_core_limit


class RunError(Exception):
    """str() is the one line the user sees."""


@dataclass(frozen=True)
class Caught:
    program: Path
    returncode: int  # negative: the signal that ended it
    core: Path | None  # None when it exited on its own
    stderr: str  # everything it wrote there, Go's traceback included


def resolve_program(name: str) -> Path:
    """PROG as the shell would find it (a path, or a name on PATH)."""
    found = name if os.sep in name else shutil.which(name)
    if not found or not os.path.isfile(found):
        raise RunError(f"{name}: no such program; give its path (./{name}) or put it on PATH")
    if not os.access(found, os.X_OK):
        raise RunError(f"{found}: not executable; chmod +x it or run `go build` first")
    return Path(found).resolve()


def run_and_catch(argv: Sequence[str], cwd: Path | None = None) -> Caught:
    program = resolve_program(argv[0])
    cwd = Path(cwd or os.getcwd()).resolve()
    env = dict(os.environ, GOTRACEBACK="crash")
    started = time.time()
    # Ctrl+C belongs to the program while it runs (the terminal sends it to
    # both of us): we wait for it and then see how it ended.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        process = subprocess.Popen([str(program), *argv[1:]], cwd=cwd, env=env, stderr=subprocess.PIPE,
                                   preexec_fn=_child_setup)
    except OSError as err:
        signal.signal(signal.SIGINT, previous)
        raise RunError(f"{program}: cannot run it ({err.strerror})") from None
    kept: list[bytes] = []
    tee = threading.Thread(target=_tee, args=(process.stderr, kept), daemon=True)
    tee.start()
    try:
        returncode = process.wait()
        tee.join()
    finally:
        signal.signal(signal.SIGINT, previous)
    stderr = b"".join(kept).decode("utf-8", errors="replace")
    if returncode >= 0:
        return Caught(program, returncode, None, stderr)
    try:
        core = find_core(program, cwd, process.pid, -returncode, started)
    except CorerunError as err:
        raise RunError(str(err)) from None
    return Caught(program, returncode, core, stderr)


def _child_setup() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # not our SIG_IGN
    raise_core_limit()


def _tee(stream, kept: list[bytes]) -> None:
    """Copy the program's stderr to ours as it comes, and keep it."""
    out = sys.stderr.buffer
    for chunk in iter(lambda: stream.read1(65536), b""):
        kept.append(chunk)
        try:
            out.write(chunk)
            out.flush()
        except (OSError, ValueError):
            pass
