"""What the backend workers report to the app. Results come back only as
these messages; `generation` lets the app drop answers nobody waits for."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from .model import Backtrace, FrameState, GdbRun, Goroutine, Snapshot, Variable
from .source import SourceFile


@dataclass
class SnapshotLoaded(Message):
    snapshot: Snapshot


@dataclass
class GoroutinesPaged(Message):
    goroutines: tuple[Goroutine, ...]
    complete: bool
    problem: str = ""


@dataclass
class StacksPaged(Message):
    """Whole stacks of a page of goroutines: (id, frames innermost first)."""

    stacks: tuple
    complete: bool
    problem: str = ""


@dataclass
class BacktraceLoaded(Message):
    generation: int
    goroutine_id: int | None
    backtrace: Backtrace
    frame_index: int


@dataclass
class FrameLoaded(Message):
    generation: int
    goroutine_id: int | None
    frame_index: int
    state: FrameState
    source: SourceFile


@dataclass
class SourceHighlighted(Message):
    """A file shown highlighted only around its line is now highlighted whole."""

    path: str


@dataclass
class VariableLoaded(Message):
    generation: int
    node_id: int
    variable: Variable


@dataclass
class GdbFinished(Message):
    """gdb's two batch runs on the same core are done (or could not run)."""

    run: GdbRun


@dataclass
class BackendRestarted(Message):
    """A new dlv session on the same core, after the old one died or hung."""

    delve: object  # tui.delve.Delve (not imported: messages stay light)


@dataclass
class ConsoleAnswered(Message):
    """What dlv answered to a line typed in the console."""

    sent: str
    output: str


@dataclass
class WatchesEvaluated(Message):
    generation: int
    values: list  # [(expression, value or why not)]


@dataclass
class BackendFailed(Message):
    """A command failed; fatal when the first screen could not be built."""

    text: str
    fatal: bool = False
    generation: int | None = None
    """The navigation it answered, if any."""
    navigation: str = ""
    """Which kind ("goroutine", "frame"): a failed goroutine switch leaves
    the old goroutine whole on screen; a failed frame leaves its source and
    variables behind the backtrace's cursor, so they are marked stale."""
