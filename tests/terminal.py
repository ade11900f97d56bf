"""A real terminal for the installed gocore-tui: a tmux session, read as a user reads the screen."""

from __future__ import annotations

import subprocess
import time

from waiting import HANG


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=True).stdout


def wait_for_screen(session: str, predicate, timeout: float = HANG) -> str:
    """The session's screen once predicate(screen) holds; every part of it
    is waited for, since tmux can capture a frame half drawn."""
    deadline = time.monotonic() + timeout
    while True:
        screen = tmux("capture-pane", "-t", session, "-p")
        if predicate(screen):
            return screen
        if time.monotonic() > deadline:
            raise AssertionError(f"screen never got there in {timeout:g} s; last screen:\n{screen}")
        time.sleep(0.1)
