"""Every process we start ends with us, and is reaped by us.

A child is forked and registered (in the live sessions or batches) while
the fork gate is held, so a stop that holds it (a signal's handler closing
everything) never misses a child a worker thread is just starting.

Our children's own children are ours too: gdb forks a probe at start-up
(its ptrace check), and killing gdb's group meanwhile orphans it. As a
child subreaper we adopt such orphans, and reap them before we exit,
instead of leaving zombies for init.
"""

from __future__ import annotations

import ctypes
import os
import signal
import threading
import time
from pathlib import Path

forking = threading.RLock()  # reentrant: the handler may interrupt this thread's spawn
_PR_SET_CHILD_SUBREAPER = 36  # linux/prctl.h
_adopting = False


def hold_forever() -> None:
    """The process is about to end: no child is forked after this. A thread
    about to fork waits here until the interpreter is gone."""
    forking.acquire()


def adopt_orphans() -> None:
    """Become the reaper of our descendants' orphans (Linux; else a no-op)."""
    global _adopting
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        _adopting = libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        _adopting = False


def reap_orphans(wait: float = 1.0) -> None:
    """Kill and reap every child still here (we are exiting; the debuggers
    we started have been closed by now, so what is left are orphans)."""
    if not _adopting:
        return
    left = _children()
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + wait
    for pid in left:
        while True:
            try:
                if os.waitpid(pid, os.WNOHANG)[0] or time.monotonic() > deadline:
                    break
            except ChildProcessError:
                break
            time.sleep(0.005)


def _children() -> list[int]:
    found: list[int] = []
    for task in Path("/proc/self/task").glob("*/children"):
        try:
            found += [int(pid) for pid in task.read_text().split()]
        except OSError:
            pass
    return found
