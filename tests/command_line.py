"""gocore-tui run as a command, the way a user runs it, with the leg's dlv."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import toolchains


def gocore(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """gocore-tui ARGS with the dlv of the toolchain under test."""
    # --dlv first: args may end in `-- PATHS`
    command = [sys.executable, "-m", "tui", "--dlv", toolchains.current().dlv, *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=cwd, env=env)
