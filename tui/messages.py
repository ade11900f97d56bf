"""What the workers report to the app. Results come back only as these
messages, handled on the UI thread; `generation` lets the app drop
answers nobody waits for any more. Failures are not messages: a worker
raises, and the app's one failure handler takes it."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from .analysis.waitview import Waits
from .core.frames import FrameView
from .core.navigator import Navigation
from .model import Backtrace, GdbRun, Goroutine, Snapshot, Variable


@dataclass
class SnapshotLoaded(Message):
    """The first screen: the crash, its backtrace, its frame."""

    snapshot: Snapshot
    frame: FrameView | None
    origins: dict  # file -> where its source is here (Highlighter.origin)


@dataclass
class GoroutinesPaged(Message):
    """A page of the goroutine list; complete: the list is done (problem
    says why it stopped short, "" when whole). A native listing brings each
    page's whole stacks with it (stacks), and is complete with them."""

    goroutines: tuple[Goroutine, ...]
    complete: bool = False
    problem: str = ""
    stacks: tuple = ()
    stacks_complete: bool = False


@dataclass
class ListingFallback(Message):
    """The core could not be read natively: the list comes through dlv."""

    why: str


@dataclass
class StacksPaged(Message):
    """Whole stacks of a page of goroutines: (id, frames innermost first)."""

    stacks: tuple
    complete: bool = False


@dataclass
class BacktraceLoaded(Message):
    """A goroutine switch answered: its backtrace, the frame to show, and
    that frame's view (None when the backtrace has no frames)."""

    navigation: Navigation
    backtrace: Backtrace
    frame_index: int
    frame: FrameView | None
    origins: dict  # file -> where its source is here (Highlighter.origin)


@dataclass
class FrameLoaded(Message):
    navigation: Navigation
    frame: FrameView


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
class ComparisonValuesRead(Message):
    """The faulting frame's args and locals, each printed in full by Delve,
    for the GDB-vs-Delve comparison; snapshot says of which first screen."""

    snapshot: Snapshot
    values: tuple[Variable, ...]


@dataclass
class BackendRestarted(Message):
    """A new dlv session on the same core, after the old one died or hung."""


@dataclass
class ConsoleAnswered(Message):
    """What dlv answered to a line typed in the console."""

    sent: str
    output: str


@dataclass
class ModuleDownloading(Message):
    """A line `go mod download` printed; done: it ended (well, or with error)."""

    command: str
    line: str = ""
    done: bool = False
    error: str = ""


@dataclass
class WatchesEvaluated(Message):
    generation: int
    values: list  # [(expression, value or why not)]


@dataclass
class WaitsRead(Message):
    """What every goroutine waits on (after the list), or why it is not known."""

    waits: Waits | None
    problem: str = ""
