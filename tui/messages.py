"""What the background jobs (tui/workers.py) report to the app. Results
come back only as these messages, handled on the UI thread; a navigation's
`generation` lets the app drop answers nobody waits for any more.
Failures are not messages: a job raises, and the app's one failure handler
takes it."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from .core.goroutines import Event
from .core.navigator import Navigation
from .model import Backtrace, GdbRun, Snapshot, Variable
from .model.heap import HeapProgress, HeapReading, RuntimeFigures
from .model.views import FrameView


@dataclass
class SnapshotLoaded(Message):
    """The first screen: the crash, its backtrace, its frame."""

    snapshot: Snapshot
    frame: FrameView | None
    origins: dict[str, str]  # file -> where its source is here (Highlighter.origin)


@dataclass
class GoroutinesRead(Message):
    """A step of reading every goroutine (core/goroutines.py's events: a page
    of the list, the list done, whole stacks, what they wait on)."""

    event: Event


@dataclass
class BacktraceLoaded(Message):
    """A goroutine switch answered: its backtrace, the frame to show, and
    that frame's view (None when the backtrace has no frames)."""

    navigation: Navigation
    backtrace: Backtrace
    frame_index: int
    frame: FrameView | None
    origins: dict[str, str]  # file -> where its source is here (Highlighter.origin)


@dataclass
class FrameLoaded(Message):
    """A frame switch answered."""

    navigation: Navigation
    frame: FrameView


@dataclass
class SourceHighlighted(Message):
    """A file shown highlighted only around its line is now highlighted whole."""

    path: str


@dataclass
class VariableLoaded(Message):
    """A variable the user opened, printed in full."""

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
    """Each watch's value in the frame of `generation`: (expression, value or why not)."""

    generation: int
    values: tuple[tuple[str, str], ...]


@dataclass
class HeapFiguresRead(Message):
    """The runtime's own heap figures (memstats), read at once; None: not in this core."""

    figures: RuntimeFigures | None


@dataclass
class HeapProgressed(Message):
    """How far the heap read got (only the latest counts)."""

    progress: HeapProgress

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, HeapProgressed)


@dataclass
class HeapRead(Message):
    """The whole heap, read."""

    reading: HeapReading


@dataclass
class HeapFailed(Message):
    """The heap read ended without a reading: stopped (the user left the
    Memory screen), or why it could not be read (one line)."""

    why: str
    stopped: bool = False


@dataclass
class HeapValueRead(Message):
    """A heap object the user opened, read as a Go value."""

    address: int
    variable: Variable


@dataclass
class HeapPathRead(Message):
    """A heap object's shortest path from a root, hop by hop."""

    node: int
    hops: tuple[str, ...]
