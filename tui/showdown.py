"""Run gdb beside Delve on the same core and score both (blocking)."""

from __future__ import annotations

from .compare import Comparison, compare
from .gdb import GdbRun, goroot_from_frames, run_gdb
from .model import Goroutine, Snapshot


def run_comparison(snapshot: Snapshot, goroutines: tuple[Goroutine, ...] | None = None,
                   gdb: str | None = None) -> tuple[GdbRun, Comparison]:
    """goroutines defaults to the snapshot's (empty on a first screen that
    pages the list in behind: pass the full list then)."""
    crash_stack = snapshot.crash_stack
    run = run_gdb(snapshot.target.executable, snapshot.target.core, snapshot.crash.goroutine_id,
                  goroot_from_frames(crash_stack.frames), gdb=gdb)
    comparison = compare(snapshot.crash, crash_stack.frames, snapshot.backtrace.frames,
                         snapshot.goroutines if goroutines is None else goroutines, run, snapshot.seconds)
    return run, comparison
