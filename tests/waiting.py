"""Waiting for a condition, never for a clock.

A test waits for what it needs (a widget's state, a process gone, a line
printed) and gives up only at HANG: far beyond anything a loaded machine
takes, so only a hang reaches it. The poll interval only sets how soon a
condition that holds is seen.
"""

from __future__ import annotations

import asyncio
import time
from typing import Callable

# Seconds. Under two CPU hogs on a 2-CPU machine no single condition took
# more than a few seconds: serve's test that waits for the server, two tabs'
# first screens in Chromium and the server's exit took 14 s in all. A
# deadline tells a hang from slowness; it measures nothing.
HANG = 60.0


def wait_for(condition: Callable[[], object], failure: str, timeout: float = HANG, poll: float = 0.05):
    """condition()'s first true value; AssertionError(failure) after timeout."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{failure} (after {timeout:g} s)")
        time.sleep(poll)
    return value


async def async_wait_for(condition: Callable[[], object], failure: str, timeout: float = HANG, poll: float = 0.05):
    """wait_for() on an event loop: other tasks run while it waits."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{failure} (after {timeout:g} s)")
        await asyncio.sleep(poll)
    return value


async def until(pilot, condition: Callable[[], object], timeout: float = HANG) -> None:
    """Let the app run (Pilot) until condition() holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"the app did not get there (after {timeout:g} s)")
        await pilot.pause(0.01)
