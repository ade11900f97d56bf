"""gdb beside Delve on the same core: run it, and score both (one place for
the CLI's report and the TUI's pane)."""

from __future__ import annotations

from .compare import Comparison, compare
from ..debugger.gdb import goroot_from_frames, run_gdb
from ..model import GdbRun, Goroutine, Snapshot


def run_gdb_for(snapshot: Snapshot, gdb: str | None = None) -> GdbRun:
    """gdb on the snapshot's core, with the target's own runtime-gdb.py (blocking)."""
    return run_gdb(snapshot.target.executable, snapshot.target.core, snapshot.crash.goroutine_id,
                   goroot_from_frames(snapshot.crash_stack.frames), gdb=gdb)


def score(snapshot: Snapshot, goroutines: tuple[Goroutine, ...], run: GdbRun) -> Comparison:
    """Delve's view (crashing stack, focus stack, every goroutine) against gdb's."""
    return compare(snapshot.crash, snapshot.crash_stack.frames, snapshot.backtrace.frames, goroutines, run,
                   snapshot.seconds)


def run_comparison(snapshot: Snapshot, goroutines: tuple[Goroutine, ...] | None = None,
                   gdb: str | None = None) -> tuple[GdbRun, Comparison]:
    """goroutines defaults to the snapshot's (empty on a first screen that
    pages the list in behind: pass the full list then)."""
    run = run_gdb_for(snapshot, gdb)
    return run, score(snapshot, snapshot.goroutines if goroutines is None else goroutines, run)
