"""The app's background work: every dlv and gdb call runs here, on a thread
worker, and comes back only as a message (tui/messages.py) posted to the
app. A job is given everything it needs as arguments when it starts: it
reads nothing of the screen's or the app's state while it runs.

A failing job raises WorkFailed, which says what it was doing (its Stage,
and the navigation it answered); the app's one failure handler asks the
recovery policy (tui/recovery.py) what the user should hear.
"""

from __future__ import annotations

import contextlib
import time
from enum import Enum
from functools import partial
from typing import Callable, Protocol

from textual.message import Message
from textual.worker import Worker, get_current_worker

from .core.frames import describe, load_frame
from .core.goroutines import GoroutineSource, Part, SourceFailed
from .core.heap import HeapSource, HeapUnreadable, Stopped
from .core.navigator import Navigation
from .core.session import CoreSession, SessionClosed
from .messages import (
    BacktraceLoaded,
    BackendRestarted,
    ComparisonValuesRead,
    ConsoleAnswered,
    FrameLoaded,
    GdbFinished,
    GoroutinesRead,
    HeapFailed,
    HeapFiguresRead,
    HeapPathRead,
    HeapProgressed,
    HeapRead,
    HeapValueRead,
    ModuleDownloading,
    SnapshotLoaded,
    VariableLoaded,
    WatchesEvaluated,
)
from .model import Backtrace, Snapshot, Variable
from .model.views import FrameView
from .sources.download import DownloadError, run_download
from .sources.highlight import Highlighter
from .sources.context import build_context


class Stage(Enum):
    """What a job was doing when it failed."""

    OPEN = "open"  # the first screen: nothing to keep
    LIST = "list"
    WARM = "warm"
    STACKS = "stacks"
    WAITS = "waits"
    NAVIGATE = "navigate"
    VARIABLE = "variable"
    CONSOLE = "console"
    RESTART = "restart"
    GDB = "gdb"


_STAGE_OF_PART = {Part.LIST: Stage.LIST, Part.STACKS: Stage.STACKS, Part.WAITS: Stage.WAITS}


class WorkFailed(Exception):
    """A job's failure: `what` it was doing, for the user; its stage; the
    navigation it answered, if any."""

    def __init__(self, what: str, cause: BaseException, stage: Stage | None = None,
                 navigation: Navigation | None = None) -> None:
        super().__init__(f"{what}: {describe(cause)}" if what else describe(cause))
        self.stage = stage
        self.navigation = navigation
        self.cause = cause

    @property
    def fatal(self) -> bool:
        return self.stage is Stage.OPEN


@contextlib.contextmanager
def failing_as(what: str, stage: Stage, navigation: Navigation | None = None):
    try:
        yield
    except SessionClosed:
        raise  # we are quitting: nobody to tell
    except Exception as err:
        raise WorkFailed(what, err, stage, navigation) from err


class Host(Protocol):
    """Where jobs run and whom they answer: the App."""

    def run_worker(self, work: Callable, name: str = "", group: str = "default", description: str = "",
                   exit_on_error: bool = True, start: bool = True, exclusive: bool = False,
                   thread: bool = False) -> Worker: ...

    def post_message(self, message: Message) -> bool: ...


class Job(Enum):
    """Worker groups: a new job of an exclusive group cancels the one before."""

    STARTUP = "startup"
    LIST = "list"
    WARM = "warm"
    RESTART = "restart"
    NAVIGATE = "navigate"
    VARIABLES = "variables"
    CONSOLE = "console"
    WATCHES = "watches"
    DOWNLOAD = "download"
    COMPARE = "compare"
    COMPARE_VALUES = "compare.values"
    HEAP = "heap"
    HEAP_VALUE = "heap.value"
    HEAP_PATH = "heap.path"


class BackgroundWork:
    """Starts the app's jobs on thread workers of `host`, against the dlvs
    of `session`, reading sources through `highlighter`."""

    def __init__(self, host: Host, session: CoreSession, highlighter: Highlighter,
                 substitutions: tuple[tuple[str, str], ...] = (), read_core_natively: bool = True) -> None:
        self.host = host
        self.session = session
        self.highlighter = highlighter
        self.substitutions = substitutions
        # False: goroutines through dlv only (a recording has no core file to read).
        self.read_core_natively = read_core_natively

    def _start(self, job: Job, work: Callable[[], None], exclusive: bool = True) -> None:
        self.host.run_worker(work, name=work.func.__name__ if isinstance(work, partial) else job.value,
                             group=job.value, exclusive=exclusive, exit_on_error=False, thread=True)

    def _post(self, message: Message) -> None:
        self.host.post_message(message)

    # -- the first screen, and everything behind it ------------------------------------

    def open_first_screen(self) -> None:
        self._start(Job.STARTUP, partial(self._open_first_screen))

    def _open_first_screen(self) -> None:
        with failing_as("", Stage.OPEN):
            backend = self.session.open()
            # The target's build info says its module, Go and replacements:
            # where its sources are on this machine.
            self.highlighter.context = build_context(rules=self.substitutions, build_info=backend.target.build)
            snapshot = backend.snapshot()
            frame = snapshot.crash.frame or (snapshot.backtrace.frames[0] if snapshot.backtrace.frames else None)
            view = None
            if frame is not None:  # the snapshot read its variables already
                source = self.highlighter.load(frame.file, line=frame.line)
                view = FrameView(snapshot.backtrace.goroutine_id, frame.index, snapshot.frame, source)
            origins = self.highlighter.origins(f.file for f in snapshot.backtrace.frames)
        self._post(SnapshotLoaded(snapshot, view, origins))

    def read_goroutines(self, deadlock: bool) -> None:
        """Every goroutine, its whole stack and what it waits on, as
        GoroutinesRead messages (core/goroutines.py's events)."""
        self._start(Job.LIST, partial(self._read_goroutines, deadlock))

    def _read_goroutines(self, deadlock: bool) -> None:
        backend = self.session.primary
        if backend is None:  # closed meanwhile
            return
        worker = get_current_worker()
        source = GoroutineSource(backend, self.session, self.read_core_natively, stop=lambda: worker.is_cancelled)
        self._relay(source.read(deadlock))

    def relist_goroutines(self) -> None:
        """After a restart cut the list: the list again, then the stacks, from the new dlv."""
        self._start(Job.LIST, partial(self._relist, stacks_only=False))

    def restack_goroutines(self) -> None:
        """After a restart cut the whole stacks: them again, from the new dlv."""
        self._start(Job.LIST, partial(self._relist, stacks_only=True))

    def _relist(self, stacks_only: bool) -> None:
        worker = get_current_worker()
        source = GoroutineSource(self.session.primary, self.session, stop=lambda: worker.is_cancelled)
        self._relay(source.stacks_through_dlv() if stacks_only else source.through_dlv())

    def _relay(self, events) -> None:
        worker = get_current_worker()
        try:
            for event in events:
                if worker.is_cancelled:
                    return
                self._post(GoroutinesRead(event))
        except SourceFailed as failed:
            what = {Part.LIST: "goroutine list incomplete", Part.STACKS: "grouping by whole stack stopped",
                    Part.WAITS: "reading what goroutines wait on"}[failed.part]
            if isinstance(failed.cause, SessionClosed):
                raise failed.cause from None
            raise WorkFailed(what, failed.cause, _STAGE_OF_PART[failed.part]) from failed.cause

    def warm(self, start: int) -> None:
        """Read into the first dlv's cache the goroutines only the second listed."""
        self._start(Job.WARM, partial(self._warm, start))

    def _warm(self, start: int) -> None:
        backend = self.session.primary
        lister = backend.lister() if backend is not None else None
        if lister is not None:
            with failing_as("warming dlv's goroutine cache", Stage.WARM):
                lister.warm_cache(start)

    def restart(self) -> None:
        self._start(Job.RESTART, partial(self._restart))

    def _restart(self) -> None:
        with failing_as("dlv could not be restarted", Stage.RESTART):
            self.session.restart()
        self._post(BackendRestarted())

    # -- the heap (its own process: the UI keeps its keys) ------------------------------------

    def read_heap(self, heap: HeapSource) -> None:
        """The runtime's figures at once, then the whole heap, with its progress."""
        self._start(Job.HEAP, partial(self._read_heap, heap))

    def _read_heap(self, heap: HeapSource) -> None:
        self._post(HeapFiguresRead(heap.figures()))
        try:
            reading = heap.read(lambda step: self._post(HeapProgressed(step)))
        except Stopped:
            self._post(HeapFailed("stopped", stopped=True))
            return
        except HeapUnreadable as err:
            self._post(HeapFailed(str(err)))
            return
        except Exception as err:  # the heap is its own line on the screen: dlv and the panes go on
            self._post(HeapFailed(describe(err)))
            return
        self._post(HeapRead(reading))

    def read_heap_value(self, heap: HeapSource, type_name: str, address: int, size: int, die: int | None) -> None:
        self._start(Job.HEAP_VALUE, partial(self._read_heap_value, heap, type_name, address, size, die))

    def _read_heap_value(self, heap: HeapSource, type_name: str, address: int, size: int, die: int | None) -> None:
        try:
            variable = heap.value(f"({type_name}) {address:#x}", address, die, size)
        except Stopped:
            return
        except Exception as err:
            variable = Variable(f"{address:#x}", f"(unreadable: {describe(err)})", type_name)
        self._post(HeapValueRead(address, variable))

    def read_heap_path(self, heap: HeapSource, reading, node: int) -> None:
        self._start(Job.HEAP_PATH, partial(self._read_heap_path, heap, reading, node))

    def _read_heap_path(self, heap: HeapSource, reading, node: int) -> None:
        try:
            hops = heap.path(reading, node)
        except Stopped:
            return
        except Exception as err:
            hops = (f"(no path: {describe(err)})",)
        self._post(HeapPathRead(node, hops))

    # -- navigation ----------------------------------------------------------------

    def load_goroutine(self, navigation: Navigation, show_disassembly: bool,
                       is_current: Callable[[int], bool]) -> None:
        """A goroutine switch: its backtrace, the frame to show (where the
        user was, after a restart, else its first frame of the program's own
        code) and that frame's view, in one message."""
        self._start(Job.NAVIGATE, partial(self._load_goroutine, navigation, show_disassembly, is_current))

    def _load_goroutine(self, navigation: Navigation, show_disassembly: bool,
                        is_current: Callable[[int], bool]) -> None:
        backend = self.session.primary
        with failing_as(f"goroutine {navigation.goroutine_id}", Stage.NAVIGATE, navigation):
            backtrace = backend.backtrace(navigation.goroutine_id, navigation.slot)
            if not is_current(navigation.generation):
                return  # the user has moved on; don't spend dlv's time on it
            wanted = navigation.frame_index
            if wanted is not None and wanted < len(backtrace.frames):
                frame = backtrace.frames[wanted]
            else:
                frame = backtrace.first_own_frame() or (backtrace.frames[0] if backtrace.frames else None)
            index = frame.index if frame else 0
            view = load_frame(backend, self.highlighter, backtrace, index, show_disassembly) if frame else None
            origins = self.highlighter.origins(f.file for f in backtrace.frames)
        # Backtrace, source and variables land together: one repaint, not three.
        self._post(BacktraceLoaded(navigation, backtrace, index, view, origins))

    def load_frame(self, navigation: Navigation, show_disassembly: bool, own_stack: Backtrace | None,
                   is_current: Callable[[int], bool], disassembly_if_no_source: bool = True) -> None:
        """A frame switch within the backtrace on screen. own_stack: the
        goroutine's own stack, for a frame of a thread's `-mode simple` stack."""
        self._start(Job.NAVIGATE, partial(self._load_frame, navigation, show_disassembly, own_stack, is_current,
                                          disassembly_if_no_source))

    def _load_frame(self, navigation: Navigation, show_disassembly: bool, own_stack: Backtrace | None,
                    is_current: Callable[[int], bool], disassembly_if_no_source: bool) -> None:
        if not is_current(navigation.generation):
            return
        with failing_as(f"frame {navigation.frame_index}", Stage.NAVIGATE, navigation):
            view = load_frame(self.session.primary, self.highlighter, navigation.backtrace, navigation.frame_index,
                              show_disassembly, own_stack, disassembly_if_no_source)
        self._post(FrameLoaded(navigation, view))

    def load_variable(self, node_id: int, variable: Variable, goroutine_id: int | None, frame_index: int,
                      generation: int) -> None:
        """A tree node the user opened, printed in full in the goroutine and
        frame it was opened in (not whatever is on screen when this runs)."""
        self._start(Job.VARIABLES, partial(self._load_variable, node_id, variable, goroutine_id, frame_index,
                                           generation), exclusive=False)

    def _load_variable(self, node_id: int, variable: Variable, goroutine_id: int | None, frame_index: int,
                       generation: int) -> None:
        with failing_as(variable.expr, Stage.VARIABLE):
            full = self.session.primary.expand(goroutine_id, frame_index, variable)
        self._post(VariableLoaded(generation, node_id, full))

    # -- the console and its watches ------------------------------------------------------

    def send_to_dlv(self, typed: str, line: str) -> None:
        self._start(Job.CONSOLE, partial(self._send_to_dlv, typed, line), exclusive=False)

    def _send_to_dlv(self, typed: str, line: str) -> None:
        with failing_as(f"console: {typed}", Stage.CONSOLE):
            output = self.session.primary.run(line)
        self._post(ConsoleAnswered(typed, output))

    def evaluate_watches(self, watches: tuple[str, ...], goroutine_id: int | None, frame_index: int,
                         generation: int) -> None:
        self._start(Job.WATCHES, partial(self._evaluate_watches, watches, goroutine_id, frame_index, generation))

    def _evaluate_watches(self, watches: tuple[str, ...], goroutine_id: int | None, frame_index: int,
                          generation: int) -> None:
        values = []
        for expression in watches:
            try:
                value = self.session.primary.evaluate(goroutine_id, frame_index, expression)
            except Exception as err:  # this watch's answer, shown in its row
                value = f"({describe(err)})"
            values.append((expression, value if value is not None else "(not in this frame)"))
        self._post(WatchesEvaluated(generation, tuple(values)))

    # -- sources ----------------------------------------------------------------------

    def fetch_module(self, command: str) -> None:
        """`go mod download MOD@VERSION` for the source on screen, reported as it goes."""
        self._start(Job.DOWNLOAD, partial(self._fetch_module, command))

    def _fetch_module(self, command: str) -> None:
        try:
            run_download(command, lambda line: self._post(ModuleDownloading(command, line)))
        except DownloadError as err:
            self._post(ModuleDownloading(command, done=True, error=str(err)))
            return
        self._post(ModuleDownloading(command, done=True))

    # -- GDB vs Delve -------------------------------------------------------------------

    def read_comparison_values(self, snapshot: Snapshot) -> None:
        """Delve's values of the faulting frame in full (`print NAME`), beside gdb's."""
        self._start(Job.COMPARE_VALUES, partial(self._read_comparison_values, snapshot))

    def _read_comparison_values(self, snapshot: Snapshot) -> None:
        from .analysis.showdown import read_delve_values

        backend = self.session.primary
        if backend is None:
            return
        with failing_as("reading the faulting frame's values for the comparison", Stage.GDB):
            values = read_delve_values(backend.evaluate, snapshot.frame)
        self._post(ComparisonValuesRead(snapshot, values))

    def run_gdb(self, snapshot: Snapshot, log: Callable[[str], None]) -> None:
        """gdb beside Delve, in the background: the TUI stays usable."""
        self._start(Job.COMPARE, partial(self._run_gdb, snapshot, log))

    def _run_gdb(self, snapshot: Snapshot, log: Callable[[str], None]) -> None:
        from .analysis.showdown import run_gdb_for

        started = time.monotonic()
        run = run_gdb_for(snapshot)
        log(f"gdb ran in {time.monotonic() - started:.2f}s")
        self._post(GdbFinished(run))
