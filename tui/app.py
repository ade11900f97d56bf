"""The Textual app: it composes the objects that do the work and routes the
messages between them.

    CoreSession      the dlvs of this core (core/session.py)
    Navigator        where the user is, which answers still count (core/navigator.py)
    GoroutineStore   every goroutine read so far (core/store.py)
    BackgroundWork   every dlv and gdb call, on thread workers (workers.py)
    RecoveryPolicy   what a failed job means for the user (recovery.py)
    MainScreen       the panes: state handed down as reactives, keys posted up
    HeapSource       the heap of the core, read in a process of its own (core/heap.py)
    MemoryScreen     `m`: what fills the heap (screens/memory.py)

A key the main screen cannot serve alone comes up as a message (FrameWanted,
GoroutineWanted, Asked); the app moves the navigator, starts a job, and
when the job's answer comes back as a message (messages.py) it hands the
screen the new state.
"""

from __future__ import annotations

import functools
import subprocess
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable, NamedTuple, Sequence

from rich.text import Text
from textual import events
from textual.app import App, ScreenStackError, SuspendNotSupported, SystemCommand
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.worker import Worker, WorkerState

from .core.backend import Backend
from .core.goroutines import ListDone, Listed, StacksDone, StacksRead, ThroughDlv, WaitsKnown
from .core.heap import HeapSource, NativeHeap
from .core.navigator import Navigation, Navigator
from .core.session import CoreSession, SessionClosed
from .core.store import GoroutineStore
from .debugger.batch import stop_batches
from .messages import (BacktraceLoaded, BackendRestarted, ComparisonValuesRead, ConsoleAnswered, FrameLoaded,
                       GdbFinished, GoroutinesRead, HeapFailed, HeapFiguresRead, HeapPathRead, HeapProgressed,
                       HeapRead, HeapValueRead, ModuleDownloading, SnapshotLoaded, SourceHighlighted, VariableLoaded,
                       WatchesEvaluated)
from .model import Backtrace, Target
from .model.heap import HeapState, HeapStatus
from .model.views import FrameView, Pane
from .palette import GoroutineAndFrameCommands
from .recovery import RecoveryPolicy
from .screens.error import ErrorScreen
from .screens.main import Ask, BacktraceOnScreen, CrashOnScreen, FrameOnScreen, MainScreen, Staleness
from .screens.memory import InstanceValue, MemoryScreen, NodePath
from .sources.highlight import Highlighter
from .sources.context import build_context
from .sources.resolve import find
from .workers import BackgroundWork, WorkFailed

class Notice(NamedTuple):
    """A notification the user was given."""

    message: str
    severity: str


# A pane still waiting this long after a navigation says so in its border.
STALE_NOTICE = 0.15
LOADING = "loading…"


def drawn(handler):
    """For the app's message handlers: drop an answer that arrives while
    the main screen is torn down (the app is quitting); anything else raises."""

    @functools.wraps(handler)
    def guarded(self, message):
        try:
            return handler(self, message)
        except (NoMatches, ScreenStackError):
            if self.closing:
                return None
            raise

    return guarded


def _native_heap(target: Target) -> HeapSource:
    return NativeHeap(target.executable, target.core)


class GocoreApp(App[int]):
    # Absolute: Textual resolves a relative CSS_PATH against the module of
    # the class that uses it, which breaks subclasses in tests and tools.
    CSS_PATH = Path(__file__).with_name("app.tcss")
    TITLE = "gocore-tui"
    COMMANDS = App.COMMANDS | {GoroutineAndFrameCommands}
    BINDINGS = [
        Binding("question_mark", "help", "Keys", id="help", tooltip="Show every key binding of this screen"),
        Binding("q", "quit", "Quit", id="quit", tooltip="Leave gocore-tui"),
        # In the TUI's raw terminal Ctrl+C is a key, not a signal: it quits,
        # as it would quit dlv.
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True, id="quit.ctrl_c", tooltip="Leave gocore-tui"),
    ]

    def __init__(self, open_backend: Callable[[], Backend], substitutions: Sequence[tuple[str, str]] = (),
                 title_paths: tuple[str, str] = ("", ""), compare_with_gdb: bool = True, go_traceback: str = "",
                 on_settled: Callable[[], None] | None = None, read_core_natively: bool = True,
                 open_on_comparison: bool = False, open_heap: Callable[[Target], HeapSource] | None = None,
                 read_heap_behind: bool = True) -> None:
        super().__init__()
        self.core = CoreSession(open_backend)
        self.nav = Navigator()
        self.store = GoroutineStore()
        self.substitutions = tuple(substitutions)
        # Until the target's build info is known (the first dlv is up), the
        # machine's own context with the user's rules.
        self.highlighter = Highlighter(build_context(rules=self.substitutions),
                                       lambda path: self.post_message(SourceHighlighted(path)))
        self.work = BackgroundWork(self, self.core, self.highlighter, self.substitutions, read_core_natively)
        self.recovery = RecoveryPolicy()
        self.compare_with_gdb = compare_with_gdb
        self.open_on_comparison = open_on_comparison  # --compare: once, when the first screen is up
        self.go_traceback = go_traceback
        # Called (on this thread) when a long-lived structure has just been
        # built: the CLI's process policy (tui/cli/tuning.py) freezes it.
        self.settled = on_settled or (lambda: None)
        self.sub_title = "  ".join(p for p in title_paths if p)
        self.main: MainScreen | None = None
        self.snapshot = None
        self.frame_view: FrameView | None = None
        self.origins: dict[str, str] = {}  # file -> where its source is on this machine
        self.gdb_run = None
        # Delve's full values of the faulting frame, once read (else the first screen's).
        self.comparison_values = None
        # `a`: instructions instead of source; False on a frame without source
        # shows them anyway, unless `a` on that very frame asked for its source.
        self.show_disassembly = False
        self._disassembly_if_no_source = True
        # The console's history and log outlive its screen; watches are
        # expressions evaluated in every frame shown.
        self.console_history: list[str] = []
        self.console_log: list[Text] = []
        self.watches: list[str] = []
        # The heap: its source (opened for the target once it is known), and
        # where its read stands. No core file to read (a recording): none.
        if open_heap is None and read_core_natively:
            open_heap = _native_heap
        self.open_heap = open_heap
        self.heap: HeapSource | None = None
        self.heap_status = HeapStatus(available=open_heap is not None)
        self.read_heap_behind = read_heap_behind  # False (--no-heap): only when m asks
        self.export_folder: Path | None = None  # the current directory, unless a test says otherwise
        self.exported: Path | None = None
        # What the user was told, in order (notifications), and every job's failure.
        self.told: list[Notice] = []
        self.failures: list[str] = []
        # Hooks for tests and benchmarks: how many times the frame panes were
        # redrawn, when the last navigation started and when it was drawn.
        self.panes_updated = 0
        self.navigated_at = self.updated_at = 0.0
        self._stale_timer = None

    def get_default_screen(self) -> MainScreen:
        self.main = MainScreen(self.store.index, has_traceback=bool(self.go_traceback))
        return self.main

    def on_mount(self) -> None:
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        self.highlighter.use_light(not self.current_theme.dark)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "command_palette" and isinstance(self.screen, ErrorScreen):
            return False  # no core: nothing to find or do but quit
        return True

    def notify(self, message: str, *, title: str = "", severity="information", timeout: float | None = None,
               markup: bool = True) -> None:
        self.told.append(Notice(message, severity))
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def on_key(self, event: events.Key) -> None:
        """A printable key no binding took, up here while the main screen's
        prompt is open, was typed ahead of it: keys are routed to the widget
        that had the focus when they came in, before the key that opened
        the prompt had run."""
        screen = self.screen
        if isinstance(screen, (MainScreen, MemoryScreen)) and event.is_printable and event.character \
                and screen.is_mounted and screen.prompting:
            event.stop()
            screen.type_ahead(event.character)

    def on_main_screen_ready(self, message: MainScreen.Ready) -> None:
        self.main.heap = self.heap_status  # m is offered when there is a core file to read
        self.work.open_first_screen()

    def on_unmount(self) -> None:
        if self.heap is not None:
            self.heap.close()  # the heap's process is killed, not waited for
        stop_batches()  # a gdb still reading the core is not waited for
        self.core.close()  # every dlv, those still starting too: no job waits on one

    def _theme_changed(self, theme) -> None:
        """Source highlighting follows the theme (ctrl+p "Change theme")."""
        if self.highlighter.use_light(not theme.dark) and self.nav.frame is not None:
            self.select_frame(self.nav.frame_index)

    @property
    def closing(self) -> bool:
        """True once the screens are being torn down (quitting)."""
        return not (self.is_running and self.main is not None and self.main.is_attached and self.main.children)

    # -- what tests and benchmarks read --------------------------------------------

    backtrace = property(lambda self: self.nav.backtrace)
    goroutine_id = property(lambda self: self.nav.goroutine_id)
    frame_index = property(lambda self: self.nav.frame_index)
    first_screen_ready = property(lambda self: self.main is not None and self.main.frame_ready)
    goroutines_complete = property(lambda self: self.store.list_complete)
    stacks_complete = property(lambda self: self.store.stacks_complete)
    waits_complete = property(lambda self: self.store.waits_complete)
    backend_lost = property(lambda self: self.recovery.lost)

    # -- navigation ----------------------------------------------------------------

    def on_main_screen_frame_wanted(self, message: MainScreen.FrameWanted) -> None:
        self.select_frame(message.index)

    def on_main_screen_goroutine_wanted(self, message: MainScreen.GoroutineWanted) -> None:
        self.show_goroutine(message.goroutine_id)

    def show_goroutine(self, goroutine_id: int) -> None:
        """Put a goroutine on screen, its row under the list's cursor."""
        if self.store.list_complete and goroutine_id not in self.store:
            self.notify(f"no goroutine {goroutine_id} in this core", severity="warning")
            return
        self.main.reveal(goroutine_id)
        self.select_goroutine(goroutine_id)

    def select_goroutine(self, goroutine_id: int | None, frame_index: int | None = None) -> None:
        if self.core.primary is None:
            return
        self.navigated_at = time.monotonic()
        self._disassembly_if_no_source = True
        known = self.store.get(goroutine_id) if goroutine_id is not None else None
        navigation = self._navigate(*self.nav.to_goroutine(goroutine_id, frame_index,
                                                           known.slot if known is not None else None))
        self.work.load_goroutine(navigation, self.show_disassembly, self.nav.is_current)

    def select_frame(self, index: int, disassembly_if_no_source: bool = True) -> None:
        """disassembly_if_no_source: a frame without source shows its
        instructions (False: its source pane, saying why there is none)."""
        started = self.nav.to_frame(index)
        if started is None:
            return
        self.navigated_at = time.monotonic()
        self._disassembly_if_no_source = disassembly_if_no_source
        self.main.frame_index = index
        navigation = self._navigate(*started)
        self.work.load_frame(navigation, self.show_disassembly, self._own_stack_of(navigation.backtrace),
                             self.nav.is_current, disassembly_if_no_source)

    def _navigate(self, navigation: Navigation, released: set[Pane]) -> Navigation:
        """The panes it makes wait say so after STALE_NOTICE; those it
        releases are fresh again."""
        self._restale()
        if self._stale_timer is not None:
            self._stale_timer.stop()
        self._stale_timer = self.set_timer(STALE_NOTICE, functools.partial(self._say_stale, LOADING,
                                                                           navigation.generation))
        return navigation

    def _say_stale(self, why: str, generation: int) -> None:
        if self.nav.is_current(generation) and not self.closing:
            self.main.stale = Staleness(frozenset(self.nav.stale), why)

    def _restale(self) -> None:
        """The stale panes on screen: those still waiting of the ones marked."""
        if self.main is not None and not self.closing:
            shown = self.main.stale
            self.main.stale = Staleness(frozenset(shown.panes & self.nav.stale), shown.why)

    def _own_stack_of(self, backtrace: Backtrace | None) -> Backtrace | None:
        """The goroutine's own stack, for a frame of a `-mode simple` stack."""
        snapshot = self.snapshot
        if backtrace is not None and backtrace.simple and snapshot is not None \
                and snapshot.backtrace.goroutine_id == backtrace.goroutine_id:
            return snapshot.backtrace
        return None

    # -- answers -------------------------------------------------------------------

    @drawn
    def on_snapshot_loaded(self, message: SnapshotLoaded) -> None:
        snapshot = self.snapshot = message.snapshot
        self.store.crashing = snapshot.crash.goroutine_id
        self.store.know_target(snapshot.target)
        crash_frame = snapshot.crash.frame
        self.main.crash = CrashOnScreen(snapshot, message.frame.line_text(crash_frame.line)
                                        if message.frame and crash_frame else None)
        self.origins.update(message.origins)
        self._show_backtrace(snapshot.backtrace, snapshot.crash.frame.index if snapshot.crash.frame else 0)
        if message.frame is not None:
            self._show_frame(message.frame)
        if self.open_on_comparison:
            self.open_on_comparison = False
            self.compare()
        self.call_after_refresh(self._start_behind_first_screen, snapshot)  # once it is painted

    def _start_behind_first_screen(self, snapshot) -> None:
        """What comes after the first screen, started once it is painted:
        the listing parses the core on a thread (holding the GIL as it
        goes) and gdb takes a CPU of its own."""
        if self.closing:
            return
        self.work.read_goroutines(snapshot.crash.deadlock)
        if self.compare_with_gdb:
            self.work.run_gdb(snapshot, self.log.info)

    def _show_backtrace(self, backtrace: Backtrace, frame_index: int) -> None:
        self.nav.show_backtrace(backtrace, frame_index)
        self.main.frame_index = frame_index
        self.main.backtrace = BacktraceOnScreen(backtrace, dict(self.origins), self._waiting(backtrace.goroutine_id))
        self._restale()

    def _waiting(self, goroutine_id: int | None) -> str:
        waits = self.store.waits
        return waits.header(goroutine_id) if waits is not None and goroutine_id is not None else ""

    def _show_frame(self, view: FrameView) -> None:
        first = not self.main.frame_ready
        self.main.frame = FrameOnScreen(view, self.nav.frame)
        self.frame_view = view
        if self.watches:
            self.work.evaluate_watches(tuple(self.watches), view.state.goroutine_id, view.state.frame_index,
                                       self.nav.generation)
        self.nav.answered(Pane.SOURCE, Pane.VARIABLES)
        self._restale()
        self.updated_at = time.monotonic()
        self.panes_updated += 1
        if first:
            self.settled()

    @drawn
    def on_backtrace_loaded(self, message: BacktraceLoaded) -> None:
        if self.nav.is_current(message.navigation.generation):
            self.origins.update(message.origins)
            self._show_backtrace(message.backtrace, message.frame_index)
            if message.frame is not None:
                self._show_frame(message.frame)
            else:  # no frame to show source or variables of
                self._say_stale("no frames", self.nav.generation)

    @drawn
    def on_frame_loaded(self, message: FrameLoaded) -> None:
        if self.nav.is_current(message.navigation.generation):
            self._show_frame(message.frame)

    @drawn
    def on_source_highlighted(self, message: SourceHighlighted) -> None:
        shown = self.main.frame
        if shown is not None and self.main.source_path == message.path and not shown.view.source.marked_line:
            self.main.restyle_source(self.highlighter.load(message.path))
        self.settled()  # a whole file's Text objects, as long-lived as the cache

    @drawn
    def on_variable_loaded(self, message: VariableLoaded) -> None:
        if self.nav.is_current(message.generation):
            self.main.fill_variable(message.node_id, message.variable)

    @drawn
    def on_watches_evaluated(self, message: WatchesEvaluated) -> None:
        if self.nav.is_current(message.generation):
            self.main.watches = message.values

    def on_variables_view_load_wanted(self, message) -> None:
        # The frame whose variables the tree shows, fixed now (not when the
        # job runs: a quick `u` would print it in another frame).
        self.work.load_variable(message.node_id, message.variable, message.goroutine_id, message.frame_index,
                                self.nav.generation)

    # -- every goroutine ---------------------------------------------------------------

    @drawn
    def on_goroutines_read(self, message: GoroutinesRead) -> None:
        event = message.event
        if isinstance(event, Listed):
            self.main.goroutines_added(self.store.add_page(event.table))
        elif isinstance(event, ThroughDlv):
            self.notify(f"listing goroutines through dlv: {event.why}", severity="warning", timeout=8,
                        markup=False)
        elif isinstance(event, ListDone):
            self._list_done(event)
        elif isinstance(event, StacksRead):
            self.store.add_stacks(event.stacks)
            self.main.stacks_added()
        elif isinstance(event, StacksDone):
            self._stacks_done(cut=False)
        elif isinstance(event, WaitsKnown):
            self._waits_known(event)

    def _list_done(self, done: ListDone) -> None:
        self.store.finish_list(cut=False)
        if done.stacks_done:
            self.store.finish_stacks(cut=False)
        self.main.list_complete = True
        self.main.stacks_complete = self.store.stacks_complete
        self.main.regroup()
        self.settled()
        if self.nav.goroutine_id is not None:
            self.main.reveal(self.nav.goroutine_id)
        if done.problem:  # a list that is garbage: no stacks either
            self.notify(done.problem, severity="warning", timeout=10, markup=False)
            self._stacks_done(cut=False)
        if done.helper_problem:  # the list is whole all the same: for the log, not the user
            self.log.warning(done.helper_problem)
        if done.warm_from is not None:
            self.work.warm(done.warm_from)
        self.update_comparison()
        if self.read_heap_behind:
            self.start_heap()  # after the list, as the waits are

    def _stacks_done(self, cut: bool) -> None:
        self.store.finish_stacks(cut)
        self.main.stacks_complete = True
        self.main.regroup()
        self.settled()

    def _waits_known(self, known: WaitsKnown) -> None:
        self.store.add_waits(known.waits, known.problem)
        self.main.waits = known.waits
        self.main.waits_complete = True  # the goroutine list's columns follow
        shown = self.main.backtrace
        if shown is not None:  # its title says what the goroutine on screen waits on
            self.main.backtrace = replace(shown, waiting=self._waiting(shown.backtrace.goroutine_id))
        self.settled()

    # -- failures, dlv lost and restarted -----------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place a job's failure reaches the user."""
        if event.state is not WorkerState.ERROR:
            return
        error = event.worker.error
        if isinstance(error, SessionClosed) or self.closing:
            self.log.debug(f"{event.worker.name} ended while closing: {error!r}")
            return
        failure = error if isinstance(error, WorkFailed) else WorkFailed(event.worker.name, error)
        self.log.error(f"worker {event.worker.name} failed: {failure}")
        self.failures.append(str(failure))
        primary = self.core.primary
        navigation = failure.navigation
        response = self.recovery.respond(failure, primary is None or primary.alive,
                                         navigation is not None and self.nav.is_current(navigation.generation))
        if response.error_screen:
            self.push_screen(ErrorScreen(str(failure)))
            return
        if response.list_cut:
            self.store.finish_list(cut=True)
            self.main.list_complete = True
            self.core.retire_helper()
            self._stacks_done(cut=True)
        if response.stacks_cut:
            self._stacks_done(cut=True)
        if response.console:
            self._console_write(Text(f"error: {response.console}", "red"))
        if response.backend_lost:
            # Jobs queued behind the dead session would each fail alike.
            self.workers.cancel_group(self, "navigate")
            self.main.backend_lost = True
        if response.notice:
            self.notify(response.notice, severity="error", timeout=30 if response.backend_lost else 8, markup=False)
        if response.old_goroutine_whole:
            self.nav.answered(Pane.BACKTRACE, Pane.SOURCE, Pane.VARIABLES)
            self._restale()
        if response.not_updated:
            if self._stale_timer is not None:
                self._stale_timer.stop()  # the answer came, as a failure: not "loading…"
            self._say_stale("not updated: dlv failed", navigation.generation)

    def restart_backend(self) -> None:
        if self.recovery.lost:
            self.notify("restarting dlv…", timeout=3)
            self.work.restart()

    def on_backend_restarted(self, message: BackendRestarted) -> None:
        if self.closing:
            return
        self.recovery.restarted()
        self.main.backend_lost = False
        self.notify("dlv restarted", timeout=3)
        # Reload what is on screen from the new session, and page in what
        # the old one never listed.
        self.select_goroutine(self.nav.goroutine_id, self.nav.frame_index)
        if self.store.list_cut:
            self.store.relist()
            self.main.list_complete = self.main.stacks_complete = False
            self.work.relist_goroutines()  # then the stacks, as at the start
        elif self.store.stacks_cut:
            self.store.restack()
            self.main.stacks_complete = False
            self.work.restack_goroutines()

    # -- what the main screen's keys ask for ------------------------------------------------

    def on_main_screen_asked(self, message: MainScreen.Asked) -> None:
        handlers = {
            Ask.RESTART: self.restart_backend,
            Ask.TRACEBACK: self.show_traceback,
            Ask.CONSOLE: self.open_console,
            Ask.DISASSEMBLY: self.toggle_disassembly,
            Ask.EXPORT: self.export,
            Ask.EDIT: self.edit,
            Ask.COMPARE: self.compare,
            Ask.BUILD_INFO: self.show_build_info,
            Ask.DOWNLOAD: self.offer_download,
            Ask.MEMORY: self.show_memory,
        }
        handlers[message.what]()

    def toggle_disassembly(self) -> None:
        """`a` switches what is on screen: a frame shown as instructions
        (asked for, or for want of source) to its source, and back."""
        shown = self.main.frame
        on_screen = shown is not None and bool(shown.view.source.marked_line)
        self.show_disassembly = not on_screen
        if self.nav.frame is not None:
            # Leaving the instructions of a frame without source: its source
            # pane (which says why there is none), until the next move.
            self.select_frame(self.nav.frame_index, disassembly_if_no_source=not on_screen)

    # -- the heap ----------------------------------------------------------------

    def start_heap(self) -> None:
        """Read the heap in the background (once; again after it was stopped)."""
        if self.open_heap is None or self.snapshot is None or self.closing:
            return
        if self.heap_status.state not in (HeapState.NOT_READ, HeapState.STOPPED):
            return
        if self.heap is None:
            self.heap = self.open_heap(self.snapshot.target)
        self._set_heap(replace(self.heap_status, state=HeapState.READING, progress=None, failure=""))
        self.work.read_heap(self.heap)

    def _set_heap(self, status: HeapStatus) -> None:
        self.heap_status = status
        if self.closing:
            return
        self.main.heap = status
        if isinstance(self.screen, MemoryScreen):
            self.screen.status = status

    def show_memory(self) -> None:
        """`m`: the Memory screen; the read starts now if it had not (or was stopped)."""
        if self.open_heap is None:
            return
        self.start_heap()
        self.push_screen(MemoryScreen(self.heap_status), self._memory_left)

    def _memory_left(self, _result) -> None:
        """Leaving the Memory screen stops a read still going (m reads it again)."""
        if self.heap is not None and self.heap_status.state is HeapState.READING:
            self.heap.stop()

    def on_heap_figures_read(self, message: HeapFiguresRead) -> None:
        self._set_heap(replace(self.heap_status, figures=message.figures))

    def on_heap_progressed(self, message: HeapProgressed) -> None:
        if self.heap_status.state is HeapState.READING:
            self._set_heap(replace(self.heap_status, progress=message.progress))

    def on_heap_read(self, message: HeapRead) -> None:
        self._set_heap(replace(self.heap_status, state=HeapState.READ, reading=message.reading))
        self.settled()

    def on_heap_failed(self, message: HeapFailed) -> None:
        state = HeapState.STOPPED if message.stopped else HeapState.FAILED
        self._set_heap(replace(self.heap_status, state=state, failure="" if message.stopped else message.why))

    def on_memory_screen_instance_wanted(self, message: MemoryScreen.InstanceWanted) -> None:
        if self.heap is not None:
            self.work.read_heap_value(self.heap, message.type_name, message.address, message.size, message.die)

    def on_heap_value_read(self, message: HeapValueRead) -> None:
        if not self.closing and isinstance(self.screen, MemoryScreen):
            self.screen.value = InstanceValue(message.address, message.variable)

    def on_memory_screen_path_wanted(self, message: MemoryScreen.PathWanted) -> None:
        if self.heap is not None and self.heap_status.reading is not None:
            self.work.read_heap_path(self.heap, self.heap_status.reading, message.node)

    def on_heap_path_read(self, message: HeapPathRead) -> None:
        if not self.closing and isinstance(self.screen, MemoryScreen):
            self.screen.path = NodePath(message.node, message.hops)

    def on_memory_screen_goroutine_wanted(self, message: MemoryScreen.GoroutineWanted) -> None:
        """A goroutine's root row: that goroutine, on the first screen."""
        if isinstance(self.screen, MemoryScreen):
            self.screen.dismiss(None)
        self.show_goroutine(message.goroutine_id)

    # -- GDB vs Delve ----------------------------------------------------------------

    def on_gdb_finished(self, message: GdbFinished) -> None:
        self.gdb_run = message.run
        if not message.run.error and self.snapshot is not None:
            self.work.read_comparison_values(self.snapshot)
        self.update_comparison()

    def on_comparison_values_read(self, message: ComparisonValuesRead) -> None:
        if message.snapshot is self.snapshot:
            self.comparison_values = message.values
            self.update_comparison()

    def comparison(self):
        """(GdbRun, Comparison or None) once gdb has run, else None. The
        scorecard counts the goroutines listed and the stacks read so far."""
        if self.gdb_run is None or self.snapshot is None:
            return None
        if self.gdb_run.error:
            return self.gdb_run, None
        from .analysis.showdown import score

        return self.gdb_run, score(self.snapshot, self.store.goroutines(), self.gdb_run, self.store.stacks(),
                                   self.comparison_values)

    def compare(self) -> None:
        from .screens.comparison import ComparisonScreen

        self.push_screen(ComparisonScreen(self.comparison(), self.snapshot), self.show_crash_stack_frame)

    def update_comparison(self) -> None:
        from .screens.comparison import ComparisonScreen

        if not self.closing and isinstance(self.screen, ComparisonScreen):
            self.screen.loaded = self.comparison()

    def show_crash_stack_frame(self, frame_index: int | None) -> None:
        """A frame picked on the crashing thread's stack (the comparison's
        aligned backtraces), shown here."""
        snapshot = self.snapshot
        if frame_index is None or snapshot is None:
            return
        if snapshot.crash_stack is not self.nav.backtrace:
            self.nav.redraw()
            self._show_backtrace(snapshot.crash_stack, frame_index)
        self.select_frame(frame_index)

    # -- the console ----------------------------------------------------------------

    def _dlv_scope(self) -> tuple[int | None, int]:
        """The goroutine and the frame (in Delve's numbering) on screen."""
        state = self.frame_view.state if self.frame_view is not None else None
        return (state.goroutine_id, state.frame_index) if state is not None else (self.nav.goroutine_id, 0)

    def open_console(self) -> None:
        goroutine_id, frame_index = self._dlv_scope()
        scope = f"goroutine {goroutine_id} frame {frame_index}" if goroutine_id is not None else f"frame {frame_index}"
        from .screens.console import ConsoleScreen

        self.push_screen(ConsoleScreen(self.console_history, self.console_log, scope))

    def on_console_screen_submitted(self, message) -> None:
        from .analysis.console import Refused, console_command

        try:
            line = console_command(message.text, *self._dlv_scope())
        except Refused as refused:
            self._console_write(Text(f"> {message.text.strip()}\n", "bold") + Text(str(refused), "yellow"))
            return
        self.work.send_to_dlv(message.text.strip(), line)

    def on_console_answered(self, message: ConsoleAnswered) -> None:
        self._console_write(Text(f"> {message.sent}\n", "bold") + Text(message.output.rstrip("\n") or "(no output)"))

    def _console_write(self, entry: Text) -> None:
        self.console_log.append(entry)
        from .screens.console import ConsoleScreen

        if not self.closing and isinstance(self.screen, ConsoleScreen):
            self.screen.show(entry)

    def on_console_screen_watch_wanted(self, message) -> None:
        if message.expression not in self.watches:
            self.watches.append(message.expression)
        self.notify(f"watching {message.expression}", timeout=3, markup=False)
        self.work.evaluate_watches(tuple(self.watches), *self._dlv_scope(), self.nav.generation)

    # -- the frame's source, elsewhere ----------------------------------------------------

    def export(self) -> None:
        view = self.frame_view
        if self.snapshot is None or self.nav.backtrace is None or view is None:
            return
        from .analysis.report import comparison_report, export_markdown, view_report

        comparison = self.comparison()
        scorecard = comparison_report(*comparison) if comparison else None
        report = view_report(self.snapshot, self.nav.backtrace, view.state, self.store.index.by_id.values(),
                             self.highlighter.context, scorecard, frame_index=view.frame_index,
                             index=self.store.index)
        try:
            path = export_markdown(report, self.export_folder or Path.cwd())
        except OSError as err:
            self.notify(f"report not written: {err}", severity="error", markup=False)
            return
        self.exported = path
        self.notify(f"report written to {path}", timeout=8, markup=False)

    def edit(self) -> None:
        frame = self.nav.frame
        if frame is None:
            return
        found = find(frame.file, self.highlighter.context)
        if found.path is None:
            self.notify(found.missing or f"{frame.file} is not on this machine", severity="warning", markup=False)
            return
        from .sources.editor import editor_command

        command = editor_command(found.path, frame.line)
        try:
            try:
                with self.suspend():  # the editor gets the terminal; the TUI comes back after
                    subprocess.run(command)
            except SuspendNotSupported:  # no terminal of ours (headless, a browser): a GUI editor still works
                subprocess.run(command, stdin=subprocess.DEVNULL, timeout=600)
        except (OSError, subprocess.SubprocessError) as err:
            self.notify(f"could not run {command[0]}: {err}", severity="error", markup=False)

    def offer_download(self) -> None:
        """Ask, then fetch the missing module's source; the user's go.mod is never touched."""
        command = self.main.download
        if not command:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.main.downloading = f"running {command}…"
                self.work.fetch_module(command)

        from .screens.confirm import ConfirmScreen

        self.push_screen(ConfirmScreen(f"Run `{command}`?",
                                       "It downloads the module's source into the module cache (GOMODCACHE), "
                                       "from an empty directory: no go.mod or go.sum of yours is read or written."),
                         answered)

    def on_module_downloading(self, message: ModuleDownloading) -> None:
        if self.closing:
            return
        if not message.done:
            self.main.downloading = f"downloading: {message.line[:120]}"
            return
        self.main.downloading = ""
        if message.error:
            self.notify(message.error, severity="error", timeout=10, markup=False)
            return
        self.notify(f"{message.command}: done", timeout=4, markup=False)
        self.highlighter.forget_origins()
        if self.nav.frame is not None:
            self.select_frame(self.nav.frame_index)  # the source is here now

    def show_build_info(self) -> None:
        from .screens.build import BuildInfoScreen

        if self.snapshot is not None:
            self.push_screen(BuildInfoScreen(self.snapshot.target.build))

    def show_traceback(self) -> None:
        from .screens.traceback import TracebackScreen

        if self.go_traceback:
            self.push_screen(TracebackScreen(self.go_traceback))

    # -- help and the command palette ----------------------------------------------------

    def get_system_commands(self, screen):
        """The command palette (ctrl+p) offers every action of the screen's
        keys, by the name the footer and the help give it."""
        yield from super().get_system_commands(screen)
        from .screens.help import palette_commands

        yield from palette_commands(screen, self)

    def action_help(self) -> None:
        from .screens.help import HelpScreen

        self.push_screen(HelpScreen.of(self.screen, self))

    def action_quit_with_error(self) -> None:
        self.exit(return_code=2)
