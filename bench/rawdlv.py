"""The baseline every benchmark compares against: raw `dlv core` in a pty,
driven the way a developer types it (same TERM, same private config)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from tui.debugger.delve import PROMPT
from tui.debugger.dlv import dlv_env, find_dlv
from tui.debugger.session import PromptSession


def peak_rss_mb(pid: int) -> float:
    """VmHWM: the most resident memory the process ever had."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


@dataclass(frozen=True)
class RawRun:
    seconds: float
    peak_rss_mb: float


def raw_dlv(executable: str, core: str, commands: list[str]) -> RawRun:
    """Seconds from spawning dlv to the answer of the last command."""
    started = time.monotonic()
    session = PromptSession([find_dlv(), "core", executable, core], PROMPT, env=dlv_env())
    try:
        for command in commands:
            session.run(command, timeout=900)
        seconds = time.monotonic() - started
        return RawRun(seconds, peak_rss_mb(session.pid))
    finally:
        session.close()
