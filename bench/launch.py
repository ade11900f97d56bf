"""The installed gocore-tui launched in a pty (200x50), timed to its first screen."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pexpect


def launch_to_first_screen(exe: Path, core: Path, source_marker: str | None = "// CRASH") -> float:
    """Seconds from spawning the installed gocore-tui to the screen showing
    the faulting frame's variables (and the marked source line, if given)."""
    started = time.monotonic()
    child = pexpect.spawn(str(Path(sys.executable).parent / "gocore-tui"), [str(exe), str(core), "--no-gdb"],
                          env=dict(os.environ, TERM="xterm-256color"), dimensions=(50, 200),
                          encoding="utf-8", codec_errors="replace", timeout=60)
    try:
        # Both only appear once the crash frame's source and variables are in.
        if source_marker:
            child.expect_exact(source_marker)
        child.expect_exact("Variables · frame")
        return time.monotonic() - started
    finally:
        child.sendline("q")
        child.expect(pexpect.EOF, timeout=10)
        child.close()
