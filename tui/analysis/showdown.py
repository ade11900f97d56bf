"""gdb beside Delve on the same core: run it, and score both (one place for
the CLI's report and the TUI's pane)."""

from __future__ import annotations

from dataclasses import replace
from typing import Callable, Iterable, Mapping

from .compare import Comparison, compare
from ..debugger.gdb import goroot_from_frames, run_gdb
from ..model import FrameState, GdbRun, Goroutine, Location, Snapshot, Variable

# Delve's `print EXPR` in a frame: (goroutine, frame, expression) -> text, None when it cannot.
Evaluate = Callable[[int | None, int | None, str], "str | None"]
Stacks = Mapping[int, tuple[Location, ...]]


def run_gdb_for(snapshot: Snapshot, gdb: str | None = None) -> GdbRun:
    """gdb on the snapshot's core, with the target's own runtime-gdb.py, asked
    for the values of Delve's faulting frame (blocking)."""
    return run_gdb(snapshot.target.executable, snapshot.target.core, snapshot.crash.goroutine_id,
                   goroot_from_frames(snapshot.crash_stack.frames), gdb=gdb, faulting=snapshot.crash.frame)


def one_line(printed: str) -> str:
    """Delve's multi-line `print` on one line, as `locals` would print it:
    `main.Order {ID: 1042, Customer: "ada",}`."""
    out = ""
    for line in (part.strip() for part in printed.splitlines()):
        if not line:
            continue
        out += line if not out or out.endswith(("{", "[")) or line.startswith(("}", "]")) else " " + line
    return out


def read_delve_values(evaluate: Evaluate, state: FrameState) -> tuple[Variable, ...]:
    """The faulting frame's args and locals, each printed in full by Delve
    (`print NAME`: `locals` elides nested values); a value Delve cannot
    print again keeps what `locals` printed (blocking: one dlv call each)."""
    values = []
    for variable in state.args + state.locals:
        printed = evaluate(state.goroutine_id, state.frame_index, variable.expr) \
            if variable.expr and not variable.unreadable else None
        values.append(replace(variable, value=one_line(printed)) if printed else variable)
    return tuple(values)


def collect_stacks(pages: Iterable[tuple]) -> dict[int, tuple[Location, ...]]:
    """Delve's whole-stack pages ((id, stack), ...) as one mapping."""
    return {goroutine_id: stack for page in pages for goroutine_id, stack in page}


def _with_crash_stack(snapshot: Snapshot, stacks: Stacks) -> Stacks:
    """The crashing goroutine's stack is known from the first screen, before
    any page of whole stacks."""
    crashing, own = snapshot.crash.goroutine_id, snapshot.crash_stack
    if crashing is None or crashing in stacks or own.goroutine_id != crashing or own.truncated or own.simple:
        return stacks
    return {**stacks, crashing: tuple(frame.location for frame in own.frames)}


def score(snapshot: Snapshot, goroutines: tuple[Goroutine, ...], run: GdbRun, stacks: Stacks | None = None,
          values: tuple[Variable, ...] | None = None) -> Comparison:
    """Delve's view (crashing stack, focus stack, every goroutine and its whole
    stack, the faulting frame's values) against gdb's. values default to
    what the first screen's `args` and `locals` printed."""
    if values is None:
        values = snapshot.frame.args + snapshot.frame.locals
    return compare(snapshot.crash, snapshot.crash_stack.frames, snapshot.backtrace.frames, goroutines, run,
                   snapshot.seconds, _with_crash_stack(snapshot, stacks or {}), values)


def run_comparison(snapshot: Snapshot, goroutines: tuple[Goroutine, ...] | None = None,
                   gdb: str | None = None, stacks: Stacks | None = None,
                   values: tuple[Variable, ...] | None = None) -> tuple[GdbRun, Comparison]:
    """goroutines defaults to the snapshot's (empty on a first screen that
    pages the list in behind: pass the full list then)."""
    run = run_gdb_for(snapshot, gdb)
    return run, score(snapshot, snapshot.goroutines if goroutines is None else goroutines, run, stacks, values)
