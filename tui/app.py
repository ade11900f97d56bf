"""The Textual app: the main screen, global keys, and the wiring between the
workers' messages and the core objects (the core session and its dlvs,
the navigator, the goroutine store) that the screens draw."""

from __future__ import annotations

import functools
import time
from pathlib import Path
from typing import Callable, Sequence

from textual.app import App
from textual.binding import Binding

from .actions import ScreenActions
from .core.backend import Backend
from .core.frames import FrameView
from .core.navigator import Navigation, Navigator
from .core.session import CoreSession
from .core.store import GoroutineStore
from .debugger.batch import stop_batches
from .messages import (BacktraceLoaded, FrameLoaded, GoroutinesPaged, ListingFallback, SnapshotLoaded,
                       SourceHighlighted, StacksPaged, VariableLoaded, WaitsRead, WatchesEvaluated)
from .model import Backtrace
from .palette import GoroutineAndFrameCommands
from .recovery import Recovery, drawn
from .screens.error import ErrorScreen
from .screens.main import MainScreen
from .sources.highlight import Highlighter
from .sources.locate import build_context
from .workers import Workers

# A pane still waiting this long after a navigation says so in its border.
STALE_NOTICE = 0.15


class GocoreApp(Workers, ScreenActions, Recovery, App[int]):
    # Absolute: Textual resolves a relative CSS_PATH against the module of
    # the class that uses it, which breaks subclasses in tests and tools.
    CSS_PATH = Path(__file__).with_name("app.tcss")
    TITLE = "gocore-tui"
    COMMANDS = App.COMMANDS | {GoroutineAndFrameCommands}
    BINDINGS = [
        Binding("question_mark", "help", "Keys", id="help", tooltip="Show every key binding"),
        Binding("q", "quit", "Quit", id="quit", tooltip="Leave gocore-tui"),
        # In the TUI's raw terminal Ctrl+C is a key, not a signal: it quits,
        # as it would quit dlv.
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True, id="quit.ctrl_c", tooltip="Leave gocore-tui"),
    ]

    def __init__(self, open_backend: Callable[[], Backend], substitutions: Sequence[tuple[str, str]] = (),
                 title_paths: tuple[str, str] = ("", ""), compare_with_gdb: bool = True, go_traceback: str = "",
                 on_settled: Callable[[], None] | None = None, read_core_natively: bool = True,
                 open_on_comparison: bool = False) -> None:
        super().__init__()
        self.core = CoreSession(open_backend)
        self.nav = Navigator()
        self.store = GoroutineStore()
        self.substitutions = tuple(substitutions)
        # Until the target's build info is known (the first dlv is up), the
        # machine's own context with the user's rules.
        self.highlighter = Highlighter(build_context(rules=self.substitutions),
                                       lambda path: self.post_message(SourceHighlighted(path)))
        self.compare_with_gdb = compare_with_gdb
        # False: list goroutines through dlv only (a recorded session has no core file to read).
        self.read_core_natively = read_core_natively
        self.open_on_comparison = open_on_comparison  # --compare
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
        self.show_disassembly = False
        # Hooks for tests and benchmarks: how many times the frame panes were
        # redrawn, when the last navigation started and when it was drawn.
        self.panes_updated = 0
        self.navigated_at = self.updated_at = 0.0
        self._stale_timer = None
        self._last_failure = ""
        self.failures: list[str] = []  # every worker failure, as the user was told it

    def get_default_screen(self) -> MainScreen:
        self.main = MainScreen(self.store, has_traceback=bool(self.go_traceback))
        return self.main

    def on_mount(self) -> None:
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        self.highlighter.use_light(not self.current_theme.dark)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "command_palette" and isinstance(self.screen, ErrorScreen):
            return False  # no core: nothing to find or do but quit
        return True

    def on_main_screen_ready(self, message: MainScreen.Ready) -> None:
        self.load_first_screen()

    def on_unmount(self) -> None:
        stop_batches()  # a gdb still reading the core is not waited for
        self.core.close()  # every dlv, those still starting too: no worker waits on one

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
    backend_lost = property(lambda self: self.main is not None and self.main.backend_lost)

    # -- navigation ----------------------------------------------------------------

    def select_goroutine(self, goroutine_id: int | None, frame_index: int | None = None) -> None:
        if self.core.primary is None:
            return
        self.navigated_at = time.monotonic()
        known = self.store.get(goroutine_id) if goroutine_id is not None else None
        slot = known.slot if known is not None else None
        self.load_goroutine(self._navigate(*self.nav.to_goroutine(goroutine_id, frame_index, slot)))

    def select_frame(self, index: int) -> None:
        started = self.nav.to_frame(index)
        if started is None:
            return
        self.navigated_at = time.monotonic()
        self.main.select_frame_row(index, self.nav.at_ends)
        self.load_frame(self._navigate(*started))

    def _navigate(self, navigation: Navigation, released: set[str]) -> Navigation:
        """Its panes wait for the answer; they say so after STALE_NOTICE."""
        self.main.fresh(released)
        if self._stale_timer is not None:
            self._stale_timer.stop()
        self._stale_timer = self.set_timer(STALE_NOTICE, functools.partial(self._say_stale, "loading…",
                                                                           navigation.generation))
        return navigation

    def _say_stale(self, why: str, generation: int) -> None:
        if self.nav.is_current(generation) and not self.closing:
            self.main.mark_stale(self.nav.stale, why)

    def own_stack_of(self, backtrace: Backtrace | None) -> Backtrace | None:
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
        self.main.show_snapshot(snapshot, message.frame.line_text(crash_frame.line) if message.frame and crash_frame
                                else None)
        self.origins.update(message.origins)
        self._show_backtrace(snapshot.backtrace, snapshot.crash.frame.index if snapshot.crash.frame else 0)
        if message.frame is not None:
            self._show_frame(message.frame)
        self.open_comparison_first()
        self.call_after_refresh(self.start_behind_first_screen, snapshot)  # once it is painted

    def _show_backtrace(self, backtrace: Backtrace, frame_index: int) -> None:
        self.nav.show_backtrace(backtrace, frame_index)
        self.main.show_backtrace(backtrace, frame_index, self.nav.at_ends, self.origins)
        self.main.fresh({"backtrace"})

    def _show_frame(self, view: FrameView) -> None:
        first = not self.main.frame_ready
        self.main.show_frame(view, self.nav.frame)
        self.frame_view = view
        if self.watches:
            self.evaluate_watches(view.state.goroutine_id, view.state.frame_index, self.nav.generation)
        self.main.fresh(self.nav.answered("source", "variables"))
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
        if self.main.source_path == message.path and not self.show_disassembly:
            self.main.restyle_source(self.highlighter.load(message.path))
        self.settled()  # a whole file's Text objects, as long-lived as the cache

    @drawn
    def on_variable_loaded(self, message: VariableLoaded) -> None:
        if self.nav.is_current(message.generation):
            self.main.fill_variable(message.node_id, message.variable)

    @drawn
    def on_watches_evaluated(self, message: WatchesEvaluated) -> None:
        if self.nav.is_current(message.generation):
            self.main.show_watches(message.values)

    @drawn
    def on_goroutines_paged(self, message: GoroutinesPaged) -> None:
        self.store.add_stacks(message.stacks)
        self.main.goroutines_added(self.store.add_page(message.goroutines))
        if message.stacks_complete:
            self.store.finish_stacks(cut=False)
        if message.complete:
            self._list_done(problem=message.problem)
        self.main.retitle_goroutines()

    @drawn
    def on_listing_fallback(self, message: ListingFallback) -> None:
        self.notify(f"listing goroutines through dlv: {message.why}", severity="warning", timeout=8, markup=False)

    @drawn
    def on_waits_read(self, message: WaitsRead) -> None:
        self.store.add_waits(message.waits, message.problem)
        self.main.show_waits(message.waits, self.nav.goroutine_id)
        self.settled()

    def _list_done(self, problem: str = "", cut: bool = False) -> None:
        self.store.finish_list(cut)
        self.main.regroup()
        self.settled()
        if self.nav.goroutine_id is not None:
            self.main.reveal(self.nav.goroutine_id)
        if problem:
            self.notify(problem, severity="warning", timeout=10, markup=False)
        if problem or cut:  # a list that is cut or garbage: no stacks either
            self.workers.cancel_group(self, "stacks")
            self.store.finish_stacks(cut)
            self.core.retire_helper()
        elif not self.store.stacks_complete:
            # Not beside the list: on two CPUs the two dlvs slowed the list by half.
            self.read_stacks()
        else:
            self.core.retire_helper()
        self.update_comparison()

    @drawn
    def on_stacks_paged(self, message: StacksPaged) -> None:
        self.store.add_stacks(message.stacks)
        if message.complete:
            self._stacks_done(cut=False)
        else:
            self.main.regroup_soon()
        self.main.retitle_goroutines()

    def _stacks_done(self, cut: bool) -> None:
        self.store.finish_stacks(cut)
        self.core.retire_helper()
        self.main.regroup()
        self.settled()
