"""The app's background work: every dlv and gdb call runs here, on a
thread worker, and comes back only as a message (tui/messages.py).

A failing worker raises; WorkFailed says what it was doing (and for which
navigation), and the app's one failure handler (on_worker_state_changed)
decides how the user hears of it.
"""

from __future__ import annotations

import contextlib
import time

from textual import work
from textual.worker import get_current_worker

from .core.backend import Backend
from .core.frames import FrameView, describe, load_frame
from .core.listing import TwoEndedListing
from .core.navigator import Navigation
from .core.session import SessionClosed
from .sources.download import DownloadError, run_download
from .sources.locate import build_context
from .messages import (
    BacktraceLoaded,
    BackendRestarted,
    ComparisonValuesRead,
    ConsoleAnswered,
    FrameLoaded,
    GdbFinished,
    GoroutinesPaged,
    ListingFallback,
    ModuleDownloading,
    SnapshotLoaded,
    StacksPaged,
    VariableLoaded,
    WaitsRead,
    WatchesEvaluated,
)
from .model import Snapshot, Variable


class WorkFailed(Exception):
    """A worker's failure: `what` it was doing, for the user; the `stage`
    of the work (open, list, warm, stacks, navigate, variable, console,
    restart, gdb); the navigation it answered, if any. An "open" failure
    is fatal: there is no first screen to keep."""

    def __init__(self, what: str, cause: BaseException, stage: str = "", navigation: Navigation | None = None) -> None:
        super().__init__(f"{what}: {describe(cause)}" if what else describe(cause))
        self.stage = stage
        self.navigation = navigation
        self.cause = cause

    @property
    def fatal(self) -> bool:
        return self.stage == "open"


@contextlib.contextmanager
def failing_as(what: str, stage: str, navigation: Navigation | None = None):
    try:
        yield
    except SessionClosed:
        raise  # we are quitting: nobody to tell
    except Exception as err:
        raise WorkFailed(what, err, stage, navigation) from err


class Workers:
    """Mixed into GocoreApp: it has core, nav, store, highlighter, settings."""

    @work(thread=True, exit_on_error=False, group="startup")
    def load_first_screen(self) -> None:
        with failing_as("", "open"):
            backend = self.core.open()
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
        self.post_message(SnapshotLoaded(snapshot, view, origins))

    def start_behind_first_screen(self, snapshot: Snapshot) -> None:
        """What comes after the first screen, started once it is painted:
        the listing parses the core on a thread (holding the GIL as it
        goes) and gdb takes a CPU of its own."""
        if self.closing:
            return
        self.list_everything()
        if self.compare_with_gdb:
            self.run_gdb(snapshot)

    @work(thread=True, exit_on_error=False, group="list", exclusive=True)
    def list_everything(self) -> None:
        """Every goroutine with its whole stack, read from the core file;
        through two dlvs (list, then stacks) when it cannot be read so."""
        # Imported here, on this thread, once the first screen is up: the
        # core reader is a tenth of the app's import time.
        from .core.native import WAITS_NEED_THE_CORE, NativeListing, NativeUnavailable

        backend = self.core.primary
        if backend is None:  # closed meanwhile
            return
        worker = get_current_worker()
        if not self.read_core_natively:
            self.post_message(WaitsRead(None, WAITS_NEED_THE_CORE))
            self.core.start_helper()
            self._list_goroutines(backend, self.core.helper)
            return
        with NativeListing(backend) as listing:
            try:
                for goroutines, stacks in listing.pages():
                    if worker.is_cancelled:
                        return
                    self.post_message(GoroutinesPaged(goroutines, stacks=stacks))
            except NativeUnavailable as why:
                self.post_message(ListingFallback(str(why)))
                self.post_message(WaitsRead(None, WAITS_NEED_THE_CORE))
                self.core.start_helper()
                self._list_goroutines(backend, self.core.helper)
                return
            self.post_message(GoroutinesPaged((), complete=True, stacks_complete=True))
            # After the list, on this thread (the core reader is not shared).
            with failing_as("reading what goroutines wait on", "waits"):
                try:
                    waits = listing.read_waits(self.snapshot is not None and self.snapshot.crash.deadlock,
                                               stop=lambda: worker.is_cancelled)
                except NativeUnavailable as why:
                    self.post_message(WaitsRead(None, str(why)))
                    return
            if waits is None:  # we are quitting
                return
        self.post_message(WaitsRead(waits))

    @work(thread=True, exit_on_error=False, group="list", exclusive=True)
    def relist_goroutines(self) -> None:
        """After a restart: the list again, from the new dlv alone."""
        self._list_goroutines(self.core.primary, lambda: None)

    def _list_goroutines(self, backend: Backend, second) -> None:
        worker = get_current_worker()
        listing = TwoEndedListing(backend, second)
        with failing_as("goroutine list incomplete", "list"):
            for page in listing.pages():
                if worker.is_cancelled:  # we are closing: stop asking dlv
                    listing.close()
                    return
                self.post_message(GoroutinesPaged(page))
        # Browsable now, whether or not the second dlv is up yet (a short list
        # is done before it): the stacks wait for it, the list does not.
        self.post_message(GoroutinesPaged((), complete=True, problem=listing.outcome.problem))
        if listing.outcome.unwarmed_from:
            with failing_as("warming dlv's goroutine cache", "warm"):
                backend.warm_cache(listing.outcome.unwarmed_from)

    @work(thread=True, exit_on_error=False, group="stacks", exclusive=True)
    def read_stacks(self) -> None:
        """Whole stacks: they split buckets whose members got to the same
        place by different calls. From the helper dlv when there is one."""
        worker = get_current_worker()
        backend = self.core.helper() or self.core.primary
        with failing_as("grouping by whole stack stopped", "stacks"):
            for stacks in backend.stack_pages():
                if worker.is_cancelled:
                    return
                self.post_message(StacksPaged(stacks))
        self.post_message(StacksPaged((), complete=True))

    @work(thread=True, exit_on_error=False, group="restart", exclusive=True)
    def restart(self) -> None:
        with failing_as("dlv could not be restarted", "restart"):
            self.core.restart()
        self.post_message(BackendRestarted())

    @work(thread=True, exit_on_error=False, group="navigate", exclusive=True)
    def load_goroutine(self, navigation: Navigation) -> None:
        backend = self.core.primary
        with failing_as(f"goroutine {navigation.goroutine_id}", "navigate", navigation):
            if navigation.goroutine_id is not None:
                backend.reach(navigation.goroutine_id, navigation.slot)
            backtrace = backend.backtrace(navigation.goroutine_id)
            if not self.nav.is_current(navigation.generation):
                return  # the user has moved on; don't spend dlv's time on it
            wanted = navigation.frame_index
            if wanted is not None and wanted < len(backtrace.frames):
                frame = backtrace.frames[wanted]  # where the user was (a restart)
            else:
                frame = backtrace.first_own_frame() or (backtrace.frames[0] if backtrace.frames else None)
            index = frame.index if frame else 0
            view = load_frame(backend, self.highlighter, backtrace, index, self.show_disassembly) if frame else None
            origins = self.highlighter.origins(f.file for f in backtrace.frames)
        # Backtrace, source and variables land together: one repaint, not three.
        self.post_message(BacktraceLoaded(navigation, backtrace, index, view, origins))

    @work(thread=True, exit_on_error=False, group="navigate", exclusive=True)
    def load_frame(self, navigation: Navigation) -> None:
        if not self.nav.is_current(navigation.generation):
            return
        with failing_as(f"frame {navigation.frame_index}", "navigate", navigation):
            view = load_frame(self.core.primary, self.highlighter, navigation.backtrace, navigation.frame_index,
                              self.show_disassembly, self.own_stack_of(navigation.backtrace))
        self.post_message(FrameLoaded(navigation, view))

    @work(thread=True, exit_on_error=False, group="variables")
    def load_variable(self, node_id: int, variable: Variable, goroutine_id: int | None, frame_index: int,
                      generation: int) -> None:
        # The goroutine and frame the node was opened in, not whatever is on
        # screen by the time this runs.
        with failing_as(variable.expr, "variable"):
            full = self.core.primary.expand(goroutine_id, frame_index, variable)
        self.post_message(VariableLoaded(generation, node_id, full))

    @work(thread=True, exit_on_error=False, group="console")
    def send_to_dlv(self, typed: str, line: str) -> None:
        with failing_as(f"console: {typed}", "console"):
            output = self.core.primary.run(line)
        self.post_message(ConsoleAnswered(typed, output))

    @work(thread=True, exit_on_error=False, group="watches", exclusive=True)
    def evaluate_watches(self, goroutine_id: int | None, frame_index: int, generation: int) -> None:
        values = []
        for expression in list(self.watches):
            try:
                value = self.core.primary.evaluate(goroutine_id, frame_index, expression)
            except Exception as err:  # this watch's answer, shown in its row
                value = f"({describe(err)})"
            values.append((expression, value if value is not None else "(not in this frame)"))
        self.post_message(WatchesEvaluated(generation, values))

    @work(thread=True, exit_on_error=False, group="download", exclusive=True)
    def fetch_module(self, command: str) -> None:
        """`go mod download MOD@VERSION` for the source on screen, reported as it goes."""
        try:
            run_download(command, lambda line: self.post_message(ModuleDownloading(command, line)))
        except DownloadError as err:
            self.post_message(ModuleDownloading(command, done=True, error=str(err)))
            return
        self.post_message(ModuleDownloading(command, done=True))

    @work(thread=True, exit_on_error=False, group="compare.values", exclusive=True)
    def read_comparison_values(self) -> None:
        """Delve's values of the faulting frame in full (`print NAME`), beside gdb's."""
        from .analysis.showdown import read_delve_values

        snapshot, backend = self.snapshot, self.core.primary
        if snapshot is None or backend is None:
            return
        with failing_as("reading the faulting frame's values for the comparison", "gdb"):
            values = read_delve_values(backend.evaluate, snapshot.frame)
        self.post_message(ComparisonValuesRead(snapshot, values))

    @work(thread=True, exit_on_error=False, group="compare", exclusive=True)
    def run_gdb(self, snapshot: Snapshot) -> None:
        """gdb beside Delve, in the background: the TUI stays usable."""
        from .analysis.showdown import run_gdb_for

        started = time.monotonic()
        run = run_gdb_for(snapshot)
        self.log.info(f"gdb ran in {time.monotonic() - started:.2f}s")
        self.post_message(GdbFinished(run))
