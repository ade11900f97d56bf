"""The Textual app: layout, key bindings, background workers, message wiring.

Every dlv command runs in a thread worker; results come back only as
messages (tui/messages.py). Which panes an event makes stale is the table
STALE_AFTER (as gdlv's refreshState):

    goroutine switch -> backtrace, source, variables
    frame switch     -> source, variables
"""

from __future__ import annotations

import functools
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Callable, Sequence

from rich.text import Text
from textual import work
from textual.app import ScreenStackError
from textual.css.query import NoMatches
from textual.worker import get_current_worker
from textual.app import App, ComposeResult, SuspendNotSupported, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer

from . import source
from .delve import Delve
from .messages import (
    BacktraceLoaded,
    BackendFailed,
    BackendRestarted,
    ConsoleAnswered,
    WatchesEvaluated,
    FrameLoaded,
    GdbFinished,
    GoroutinesPaged,
    SnapshotLoaded,
    SourceHighlighted,
    StacksPaged,
    VariableLoaded,
)
from .model import Backtrace, Snapshot, Variable
from .crash import SIGPANIC_FUNCTION
from .editor import editor_command
from .listing import pages_from_both_ends
from .gc_policy import freeze_long_lived
from .console import Refused, console_command
from .palette import GoroutineAndFrameCommands
from .widgets.console_screen import ConsoleScreen
from .report import comparison_report, export_markdown, view_report
from .session import stop_batches
from .showdown import run_gdb_for, score
from .widgets.backtrace_view import BacktraceView
from .widgets.crash_summary import CrashSummary
from .widgets.error_screen import ErrorScreen
from .widgets.filter_prompt import FilterPrompt
from .widgets.goroutine_list import GoroutineList
from .widgets.goto_prompt import GotoPrompt
from .widgets.help_screen import HelpScreen
from .widgets.source_view import SourceView
from .widgets.variables_view import VariablesView

# Rebuilding the grouped rows is cheap, but not on every page of 100k.
REGROUP_EVERY = 0.5
# ...unless a bucket of 50k members is open: then a rebuild takes a second,
# and pages arriving faster than that must not keep the UI rebuilding.
REGROUP_IDLE_FACTOR = 10
# dlv's answers are read by worker threads, a pty chunk at a time. With
# Python's default 5 ms GIL switch interval each chunk waits behind the UI
# thread's painting: a 1k-goroutine list took 1.0 s instead of 0.7 s.
GIL_SWITCH_INTERVAL = 0.0005
# Lines of dlv's own output shown with a parse problem.
RAW_LINES = 8
# Seconds of calm before the footer shows which of u/d apply.
FOOTER_SETTLE = 0.3

# The panes a navigation makes stale. They keep the old content until the
# answer replaces it in one repaint; a pane still waiting after STALE_NOTICE
# seconds (or whose command failed) says so in its border, so quick moves
# never flicker and a slow or failed one never passes for current.
STALE_AFTER = {
    "goroutine": ("#backtrace", "#source", "#variables"),
    "frame": ("#source", "#variables"),
}
STALE_NOTICE = 0.15

PANE_KEYS = [
    ("↑/↓, j/k", "move in the focused pane"),
    ("enter", "select: a goroutine loads its backtrace, a frame its source and variables; a group expands"),
    ("tab / shift+tab", "next / previous pane"),
    ("/ then n, N (source pane)", "search the file on screen; next / previous match"),
    ("ctrl+p", "command palette: the actions above by name, a goroutine by id, a frame by function"),
]


def describe(err: Exception) -> str:
    """A failure as the user reads it; a parse problem with the text dlv
    actually printed (its first lines), never a traceback."""
    text = str(err) or type(err).__name__
    raw = getattr(err, "raw", "").strip()
    if raw:
        lines = raw.splitlines()
        text += "\ndlv printed:\n" + "\n".join(line[:160] for line in lines[:RAW_LINES])
        if len(lines) > RAW_LINES:
            text += f"\n… ({len(lines) - RAW_LINES} more lines)"
    return text


def _while_mounted(handler):
    """Drop a worker's answer that arrives after the panes are gone (the app
    is closing); everything else still raises."""

    @functools.wraps(handler)
    def guarded(self, message):
        try:
            return handler(self, message)
        except (NoMatches, ScreenStackError):
            if self._closing_down():
                return None
            raise

    return guarded


class GocoreApp(App[int]):
    # Absolute: Textual resolves a relative CSS_PATH against the module of
    # the class that uses it, which breaks subclasses in tests and tools.
    CSS_PATH = Path(__file__).with_name("app.tcss")
    TITLE = "gocore-tui"
    COMMANDS = App.COMMANDS | {GoroutineAndFrameCommands}
    BINDINGS = [
        Binding("u", "up", "Caller", id="frame.up", tooltip="Move to the caller frame (Delve's up)"),
        Binding("d", "down", "Callee", id="frame.down", tooltip="Move to the callee frame (Delve's down)"),
        Binding("g", "goto", "Goroutine…", id="goroutine.goto", tooltip="Jump to a goroutine by id"),
        Binding("slash", "filter", "Filter", id="goroutine.filter", tooltip="Filter goroutines by function, file, wait reason or id"),
        Binding("v", "toggle_grouped", "Grouped/flat", id="goroutine.grouped", tooltip="Group goroutines by where they stand, or list them all"),
        Binding("h", "toggle_runtime", "Runtime", id="goroutine.runtime", tooltip="Hide or show goroutines that are only in the runtime"),
        Binding("R", "restart", "Restart dlv", id="restart", tooltip="Start dlv again after it died or hung; the screen is kept"),
        Binding("t", "traceback", "Go traceback", id="traceback",
                tooltip="What the program printed to stderr when it died (gocore-tui run)"),
        Binding("colon", "console", "Console", id="console",
                tooltip="Type dlv commands (print, locals, stack ...) in the frame on screen; ctrl+t there pins a watch"),
        Binding("a", "toggle_disassembly", "Asm/source", id="disassembly",
                tooltip="Show the frame's instructions instead of its source, or back (frames without source get them anyway)"),
        Binding("x", "export", "Export", id="export",
                tooltip="Write the Markdown report of this view (and the GDB-vs-Delve scorecard) to a file"),
        Binding("e", "edit", "Editor", id="edit", tooltip="Open the frame's source file at its line in $EDITOR"),
        Binding("c", "compare", "GDB vs Delve", id="compare", tooltip="Compare gdb and Delve on this core"),
        Binding("question_mark", "help", "Keys", id="help", tooltip="Show every key binding"),
        Binding("q", "quit", "Quit", id="quit", tooltip="Leave gocore-tui"),
        # In the TUI's raw terminal Ctrl+C is a key, not a signal: it quits,
        # as it would quit dlv.
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True, id="quit.ctrl_c", tooltip="Leave gocore-tui"),
    ]

    def __init__(self, open_backend: Callable[[], Delve], substitutions: Sequence[tuple[str, str]] = (),
                 title_paths: tuple[str, str] = ("", ""), compare_with_gdb: bool = True,
                 go_traceback: str = "") -> None:
        super().__init__()
        sys.setswitchinterval(GIL_SWITCH_INTERVAL)
        self.compare_with_gdb = compare_with_gdb
        self.go_traceback = go_traceback
        self.open_backend = open_backend
        self.substitutions = tuple(substitutions)
        self.sub_title = "  ".join(p for p in title_paths if p)
        self.delve: Delve | None = None
        # A second dlv that pages in the goroutine list and whole stacks.
        self.lister: Delve | None = None
        # Waits for the second dlv and adopts it as self.lister (None: none).
        self._lister_up: Callable[[], Delve | None] = lambda: None
        # dlvs are started on worker threads; one that comes up after the app
        # has unmounted is closed at once rather than left running.
        self._dlv_lock = threading.Lock()
        self._unmounted = False
        self.snapshot: Snapshot | None = None
        self.backtrace: Backtrace | None = None
        self.goroutine_id: int | None = None
        self.frame_index = 0
        self.generation = 0
        # Hooks for tests and benchmarks.
        self.first_screen_ready = False
        self.goroutines_complete = False
        self.stacks_complete = False
        self.panes_updated = 0
        # When the last navigation started and when its panes were redrawn.
        self.navigated_at = 0.0
        self.updated_at = 0.0
        self.gdb_run = None
        self._last_regroup = 0.0
        self._regroup_seconds = 0.0
        self._frame_key_state: tuple | None = None
        self._footer_timer = None
        # Panes (selectors from STALE_AFTER) still showing an older selection.
        self.stale_panes: set[str] = set()
        self._stale_timer = None
        # dlv died or hung: the screen stays, R starts a new one.
        self.backend_lost = False
        self._listing_cut = False
        self._stacks_cut = False
        self.frame_state = None  # of the frame on screen, for `x`
        # The console's history and log outlive its screen; watches are
        # expressions evaluated in every frame shown.
        self.console_history: list[str] = []
        self.console_log: list = []
        self.watches: list[str] = []
        self.show_disassembly = False
        self.export_folder = Path.cwd()

    def compose(self) -> ComposeResult:
        yield CrashSummary("opening the core…", id="summary")
        with Horizontal(id="panes"):
            with Vertical(id="left"):
                yield GoroutineList(id="goroutines")
                yield BacktraceView(id="backtrace")
            with Vertical(id="right"):
                yield SourceView(id="source")
                yield VariablesView(id="variables")
        yield Footer()

    def _theme_changed(self, theme) -> None:
        """Source highlighting follows the theme (ctrl+p "Change theme")."""
        if source.use_light_style(not theme.dark) and self.backtrace is not None and self.backtrace.frames:
            self.select_frame(self.frame_index)

    def on_mount(self) -> None:
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        source.use_light_style(not self.current_theme.dark)
        for pane, title in (("#goroutines", "Goroutines: loading…"), ("#backtrace", "Backtrace"),
                            ("#source", "Source"), ("#variables", "Variables")):
            self.query_one(pane).border_title = title
        self._load_first_screen()

    # -- workers (threads: dlv blocks) -----------------------------------------

    @work(thread=True, exit_on_error=False, group="startup")
    def _load_first_screen(self) -> None:
        # Not a with-block: leaving it would wait for the second dlv, and the
        # list does not (it starts in the first dlv, the second joins when up).
        pool = ThreadPoolExecutor(max_workers=1)
        try:
            delve = self.open_backend()
            if not self._adopt(delve, "delve"):
                return
            # The list's own dlv starts while this one reads the crash.
            lister = pool.submit(delve.lister)
            snapshot = delve.snapshot()
            self.post_message(SnapshotLoaded(snapshot))
            frame = snapshot.crash.frame or (snapshot.backtrace.frames[0] if snapshot.backtrace.frames else None)
            if frame is not None:
                loaded = source.load(frame.file, self.substitutions, line=frame.line, on_highlighted=self._highlighted)
                self.post_message(FrameLoaded(0, snapshot.backtrace.goroutine_id, frame.index, snapshot.frame,
                                              loaded))
        except Exception as err:  # anything: the user gets a screen, not a traceback
            self.post_message(BackendFailed(describe(err), fatal=True))
            if self.delve is not None:
                pool.submit(lambda: lister.result().close() if lister.result() is not delve else None)
            return
        finally:
            pool.shutdown(wait=False)

        @functools.cache
        def second() -> Delve | None:
            """The second dlv once it is up (None: a recording lists itself, or it failed)."""
            try:
                lister_dlv = lister.result()
            except Exception:
                return None
            if lister_dlv is delve or not self._adopt(lister_dlv, "lister"):
                return None
            return lister_dlv

        # The list from both dlvs, one from each end of allgs; then the whole
        # stacks from the second one.
        self._lister_up = second
        self._page_goroutines(delve, second)

    def _page_goroutines(self, delve: Delve, second: Callable[[], Delve | None] = lambda: None) -> None:
        worker = get_current_worker()
        try:
            for page in pages_from_both_ends(delve, second):
                if worker.is_cancelled:  # the app is closing: stop asking dlv
                    second()  # adopted, so that it is closed
                    self._retire_lister()
                    return
                self.post_message(GoroutinesPaged(page, complete=False))
            problem = delve.listing_problem
        except Exception as err:
            problem = f"goroutine list incomplete: {describe(err)}"
        # Browsable now, whether or not the second dlv is up yet (a short list
        # is done before it): the stacks wait for it, the list does not.
        self.post_message(GoroutinesPaged((), complete=True, problem=problem))
        second()  # adopted, so that it reads the stacks or is retired
        try:
            delve.warm_cache()  # switches to what only the second dlv listed
        except Exception:
            pass  # only a switch's speed depends on it

    @work(thread=True, exit_on_error=False, group="startup", exclusive=True)
    def _restart_backend(self) -> None:
        try:
            delve = self.open_backend()
        except Exception as err:
            self.post_message(BackendFailed(f"dlv could not be restarted: {err}"))
            return
        old = self.delve
        if self._adopt(delve, "delve"):  # swapped here: a quit meanwhile closes the new one too
            if old is not None:
                old.close()
            self.post_message(BackendRestarted(delve))

    @work(thread=True, exit_on_error=False, group="pages", exclusive=True)
    def _repage_goroutines(self, delve: Delve) -> None:
        self._page_goroutines(delve)

    @work(thread=True, exit_on_error=False, group="stacks", exclusive=True)
    def _read_stacks(self, delve: Delve | None = None) -> None:
        """Whole stacks: they split buckets whose members got to the same
        place by different calls. By default from the second dlv, once up."""
        worker = get_current_worker()
        delve = delve or self._lister_up() or self.delve
        try:
            for stacks in delve.stack_pages():
                if worker.is_cancelled:
                    self._retire_lister()
                    return
                self.post_message(StacksPaged(stacks, complete=False))
            self.post_message(StacksPaged((), complete=True))
        except Exception as err:
            self.post_message(StacksPaged((), complete=True, problem=f"grouping by whole stack stopped: {describe(err)}"))

    @work(thread=True, exit_on_error=False, group="console")
    def _send_to_dlv(self, typed: str, line: str) -> None:
        try:
            output = self.delve.run_raw(line)
        except Exception as err:
            output = f"error: {describe(err)}"
        self.post_message(ConsoleAnswered(typed, output))

    @work(thread=True, exit_on_error=False, group="watches", exclusive=True)
    def _evaluate_watches(self, goroutine_id: int | None, frame_index: int, generation: int) -> None:
        values = []
        for expression in list(self.watches):
            try:
                value = self.delve.evaluate(goroutine_id, frame_index, expression)
            except Exception as err:
                value = f"({err})"
            values.append((expression, value if value is not None else "(not in this frame)"))
        self.post_message(WatchesEvaluated(generation, values))

    @work(thread=True, exit_on_error=False, group="compare", exclusive=True)
    def _run_gdb(self, snapshot: Snapshot) -> None:
        """gdb beside Delve, in the background: the TUI stays usable."""
        self.post_message(GdbFinished(run_gdb_for(snapshot)))

    @work(thread=True, exit_on_error=False, group="navigate", exclusive=True)
    def _load_goroutine(self, goroutine_id: int | None, generation: int, frame_index: int | None = None) -> None:
        try:
            backtrace = self.delve.backtrace(goroutine_id)
        except Exception as err:
            self.post_message(BackendFailed(f"goroutine {goroutine_id}: {describe(err)}", generation=generation,
                                             navigation="goroutine"))
            return
        if generation != self.generation:
            return
        if frame_index is not None and frame_index < len(backtrace.frames):
            frame = backtrace.frames[frame_index]  # where the user was (a restart)
        else:
            frame = backtrace.first_user_frame() or (backtrace.frames[0] if backtrace.frames else None)
        index = frame.index if frame else 0
        loaded = self._frame_message(goroutine_id, backtrace, index, generation) if frame is not None else None
        # Backtrace, source and variables land together: one repaint, not three.
        self.post_message(BacktraceLoaded(generation, goroutine_id, backtrace, index))
        if loaded is not None:
            self.post_message(loaded)

    @work(thread=True, exit_on_error=False, group="navigate", exclusive=True)
    def _load_frame(self, goroutine_id: int | None, backtrace: Backtrace, index: int, generation: int) -> None:
        self._fetch_frame(goroutine_id, backtrace, index, generation)

    def _fetch_frame(self, goroutine_id: int | None, backtrace: Backtrace, index: int, generation: int) -> None:
        loaded = self._frame_message(goroutine_id, backtrace, index, generation)
        if loaded is not None:
            self.post_message(loaded)

    def _frame_message(self, goroutine_id: int | None, backtrace: Backtrace, index: int,
                       generation: int) -> FrameLoaded | None:
        if generation != self.generation:
            return None  # the user has moved on; don't spend dlv's time on it
        frame = backtrace.frames[index]
        try:
            state = self.delve.frame_state(goroutine_id, index)
        except Exception as err:
            self.post_message(BackendFailed(f"frame {index}: {describe(err)}", generation=generation, navigation="frame"))
            return None
        loaded = source.load(frame.file, self.substitutions, line=frame.line, on_highlighted=self._highlighted)
        if self.show_disassembly or not loaded.lines:  # `a`, or a frame without source
            try:
                # A frame a signal interrupted stopped at its PC, not after a call.
                interrupted = index > 0 and backtrace.frames[index - 1].function == SIGPANIC_FUNCTION
                loaded = source.disassembly(frame, self.delve.disassemble(goroutine_id, index), exact=interrupted)
            except Exception as err:  # keep the source's own reason, and say why no disassembly
                loaded = replace(loaded, missing_reason=f"{loaded.missing_reason or 'no source'}; "
                                                        f"no disassembly either: {describe(err)}")
        return FrameLoaded(generation, goroutine_id, index, state, loaded)

    @work(thread=True, exit_on_error=False, group="variables")
    def _load_variable(self, node_id: int, variable: Variable, generation: int) -> None:
        try:
            full = self.delve.expand(self.goroutine_id, self.frame_index, variable)
        except Exception as err:
            self.post_message(BackendFailed(f"{variable.expr}: {describe(err)}"))
            return
        self.post_message(VariableLoaded(generation, node_id, full))

    # -- results -------------------------------------------------------------------

    @_while_mounted
    def on_snapshot_loaded(self, message: SnapshotLoaded) -> None:
        snapshot = self.snapshot = message.snapshot
        if self.compare_with_gdb:
            self._run_gdb(snapshot)
        self.query_one(CrashSummary).show(snapshot)
        goroutines = self.query_one(GoroutineList)
        goroutines.set_crashing(snapshot.crash.goroutine_id)
        goroutines.shown_goroutine = snapshot.backtrace.goroutine_id
        self._show_backtrace(snapshot.backtrace, snapshot.crash.frame.index if snapshot.crash.frame else 0)

    def _show_backtrace(self, backtrace: Backtrace, frame_index: int) -> None:
        self.backtrace = backtrace
        self.goroutine_id = backtrace.goroutine_id
        self.frame_index = frame_index
        view = self.query_one(BacktraceView)
        view.border_title = f"Backtrace · goroutine {backtrace.goroutine_id}" if backtrace.goroutine_id is not None \
            else "Backtrace · crashing thread"
        view.show(backtrace, frame_index)
        self.query_one(GoroutineList).mark_shown(backtrace.goroutine_id)
        self._refresh_frame_keys()
        self._fresh("#backtrace")

    @_while_mounted
    def on_backtrace_loaded(self, message: BacktraceLoaded) -> None:
        if message.generation == self.generation:
            self._show_backtrace(message.backtrace, message.frame_index)
            if not message.backtrace.frames:  # no frame to show source or variables of
                self._show_stale("no frames", self.generation)

    @_while_mounted
    def on_frame_loaded(self, message: FrameLoaded) -> None:
        if message.generation != self.generation:
            return
        frame = self.backtrace.frames[message.frame_index] if self.backtrace else None
        source_view = self.query_one(SourceView)
        if frame is not None:
            if message.source.marked_line:  # a disassembly, with its own line to mark
                source_view.show(message.source, replace(frame.location, line=message.source.marked_line))
                source_view.border_title = f"Disassembly · {frame.function}"
            else:
                source_view.show(message.source, frame.location)
                source_view.border_title = f"Source · {frame.location.short()} {frame.function}"
        variables = self.query_one(VariablesView)
        variables.show(message.state)
        self.frame_state = message.state
        if self.watches:
            self._evaluate_watches(message.goroutine_id, message.frame_index, self.generation)
        variables.border_title = f"Variables · frame {message.frame_index}"
        self._fresh("#source", "#variables")
        self.updated_at = time.monotonic()
        self.panes_updated += 1
        if not self.first_screen_ready:
            self.first_screen_ready = True
            self.query_one(BacktraceView).focus()
            freeze_long_lived()

    def _highlighted(self, path: str) -> None:
        self.post_message(SourceHighlighted(path))  # from the highlighting thread: a message is thread-safe

    @_while_mounted
    def on_source_highlighted(self, message: SourceHighlighted) -> None:
        view = self.query_one(SourceView)
        if view.path == message.path and not self.show_disassembly:
            view.restyle(source.load(message.path))

    def on_variables_view_load_wanted(self, message: VariablesView.LoadWanted) -> None:
        self._load_variable(message.node_id, message.variable, self.generation)

    @_while_mounted
    def on_variable_loaded(self, message: VariableLoaded) -> None:
        if message.generation == self.generation:
            self.query_one(VariablesView).fill(message.node_id, message.variable)

    @_while_mounted
    def on_goroutines_paged(self, message: GoroutinesPaged) -> None:
        pane = self.query_one(GoroutineList)
        pane.add_page(message.goroutines)
        now = time.monotonic()
        if message.complete:
            self.goroutines_complete = True
            pane.refresh_rows()
            freeze_long_lived()
            if self.goroutine_id is not None:
                pane.reveal(self.goroutine_id)
            if message.problem and self._check_backend(message.problem):
                self._listing_cut = True
            elif message.problem:
                self.notify(message.problem, severity="warning", timeout=10, markup=False)
            if message.problem:  # a list that is cut or garbage: no stacks either
                self.workers.cancel_group(self, "stacks")
                self.stacks_complete = True
                self._retire_lister()
            else:
                # Not beside the list: on two CPUs the two dlvs slowed the list by half.
                self._read_stacks()
            self._update_comparison()
        elif pane.grouped and self._regroup_due(now):
            self._regroup(pane)
        self._retitle_goroutines()

    @_while_mounted
    def on_stacks_paged(self, message: StacksPaged) -> None:
        pane = self.query_one(GoroutineList)
        pane.index.add_stacks(message.stacks)
        now = time.monotonic()
        if message.complete:
            self.stacks_complete = True
            self._retire_lister()
            freeze_long_lived()
            if message.problem and self._check_backend(message.problem):
                self._stacks_cut = True
            elif message.problem:
                self.notify(message.problem, severity="warning", timeout=10, markup=False)
        if pane.grouped and (message.complete or self._regroup_due(now)):
            self._regroup(pane)
        self._retitle_goroutines()

    def _regroup_due(self, now: float) -> bool:
        return now - self._last_regroup > max(REGROUP_EVERY, REGROUP_IDLE_FACTOR * self._regroup_seconds)

    def _regroup(self, pane: GoroutineList) -> None:
        """Rebuild the grouped rows while pages arrive, timed: the next waits
        ten times as long as this one took, so the keys keep the UI."""
        started = time.monotonic()
        pane.refresh_rows()
        self._last_regroup = time.monotonic()
        self._regroup_seconds = self._last_regroup - started

    def _adopt(self, delve: Delve, role: str) -> bool:
        """Keep a dlv that just came up as self.<role>; False (and closed) when
        the app unmounted while it started."""
        with self._dlv_lock:
            if not self._unmounted:
                setattr(self, role, delve)
                return True
        delve.close()
        return False

    def _retire_lister(self, wait: bool = False) -> None:
        """The stacks are in: the second dlv has done its work. It is closed
        on a thread: a dlv holding 100k goroutines takes a while to quit."""
        if not wait:
            threading.Thread(target=self._close_lister, name="close-lister", daemon=True).start()
            return
        with self._dlv_lock:
            lister, self.lister = self.lister, None
        if lister is not None and lister is not self.delve:
            lister.close()

    def _close_lister(self) -> None:
        self._lister_up()  # still starting: closed once up
        self._retire_lister(wait=True)

    def _retitle_goroutines(self) -> None:
        pane = self.query_one(GoroutineList)
        pane.border_title = pane.title(self.goroutines_complete, self.stacks_complete)

    @_while_mounted
    def on_gdb_finished(self, message: GdbFinished) -> None:
        self.gdb_run = message.run
        self._update_comparison()

    def comparison(self):
        """(GdbRun, Comparison or None) once gdb has run, else None. The
        scorecard counts the goroutines listed so far."""
        if self.gdb_run is None or self.snapshot is None:
            return None
        if self.gdb_run.error:
            return self.gdb_run, None
        goroutines = tuple(self.query_one(GoroutineList).index.by_id.values())
        return self.gdb_run, score(self.snapshot, goroutines, self.gdb_run)

    def _update_comparison(self) -> None:
        from .widgets.comparison_screen import ComparisonScreen

        if isinstance(self.screen, ComparisonScreen):
            self.screen.show(self.comparison())

    def on_backend_failed(self, message: BackendFailed) -> None:
        if message.fatal:
            self.push_screen(ErrorScreen(message.text))
        else:
            if not self._check_backend(message.text):
                self.notify(message.text, severity="error", timeout=8, markup=False)
            if message.generation != self.generation:
                return
            if message.navigation == "goroutine":
                self._fresh(*STALE_AFTER["goroutine"])  # still the old goroutine, whole
            else:
                if self._stale_timer is not None:
                    self._stale_timer.stop()  # the answer came, as a failure: not "loading…"
                self._show_stale("not updated: dlv failed", message.generation)

    # -- dlv lost and restarted -----------------------------------------------------

    def _check_backend(self, why: str) -> bool:
        """After a failure: if dlv itself is gone, say so once and offer R."""
        if self.delve is None or self.delve.alive:
            return False
        if not self.backend_lost:
            self.backend_lost = True
            # Workers queued behind the dead session would each fail alike.
            self.workers.cancel_group(self, "navigate")
            self.query_one(CrashSummary).border_subtitle = "dlv stopped · R restarts it"
            self.notify(f"dlv stopped ({why}). The screen is kept; press R to restart dlv.",
                        severity="error", timeout=30, markup=False)
            self.refresh_bindings()
        return True

    def action_restart(self) -> None:
        if self.backend_lost:
            self.notify("restarting dlv…", timeout=3)
            self._restart_backend()

    @_while_mounted
    def on_backend_restarted(self, message: BackendRestarted) -> None:
        self.backend_lost = False
        self.query_one(CrashSummary).border_subtitle = ""
        self.refresh_bindings()
        self.notify("dlv restarted", timeout=3)
        # Reload what is on screen from the new session, and page in the
        # goroutines the old one never listed.
        self.generation += 1
        self._going_stale("goroutine")
        self._load_goroutine(self.goroutine_id, self.generation, self.frame_index)
        if self._listing_cut:
            self._listing_cut = False
            self.goroutines_complete = False
            self._repage_goroutines(self.delve)  # then the stacks, as at the start
        elif self._stacks_cut:
            self._stacks_cut = False
            self.stacks_complete = False
            self._read_stacks(self.delve)

    # -- staleness -------------------------------------------------------------------

    def _going_stale(self, event: str) -> None:
        """A navigation started: its panes wait for the answer (STALE_AFTER).
        It replaces any pending one, whose answer will be dropped: a frame
        move during a goroutine switch stays in the backtrace on screen."""
        waiting = set(STALE_AFTER[event])
        self._fresh(*(self.stale_panes - waiting))
        self.stale_panes = waiting
        if self._stale_timer is not None:
            self._stale_timer.stop()
        self._stale_timer = self.set_timer(STALE_NOTICE, functools.partial(self._show_stale, "loading…",
                                                                           self.generation))

    def _show_stale(self, why: str, generation: int) -> None:
        if generation != self.generation or self._closing_down():
            return  # the answer came, or the user has moved on again
        for selector in self.stale_panes:
            pane = self.query_one(selector)
            pane.border_subtitle = why
            pane.add_class("-stale")

    def _fresh(self, *selectors: str) -> None:
        for selector in selectors:
            if selector in self.stale_panes:
                self.stale_panes.discard(selector)
                pane = self.query_one(selector)
                if pane.has_class("-stale"):
                    pane.border_subtitle = ""
                    pane.remove_class("-stale")

    # -- user actions ------------------------------------------------------------

    def on_goroutine_list_chosen(self, message: GoroutineList.Chosen) -> None:
        self.select_goroutine(message.goroutine_id)

    def on_data_table_row_selected(self, message: BacktraceView.RowSelected) -> None:
        if message.data_table.id == "backtrace" and message.row_key.value not in (None, "truncated"):
            self.select_frame(int(message.row_key.value))

    def select_goroutine(self, goroutine_id: int) -> None:
        if self.delve is None:
            return
        self.navigated_at = time.monotonic()
        self.generation += 1
        # The old goroutine's panes stay until the new ones replace them in
        # one repaint; answers for an older generation are dropped.
        self._going_stale("goroutine")
        self._load_goroutine(goroutine_id, self.generation)

    def select_frame(self, index: int) -> None:
        if self.backtrace is None or not 0 <= index < len(self.backtrace.frames):
            return
        self.navigated_at = time.monotonic()
        self.generation += 1
        self.frame_index = index
        self.query_one(BacktraceView).select(index)
        self._refresh_frame_keys()
        self._going_stale("frame")
        self._load_frame(self.goroutine_id, self.backtrace, index, self.generation)

    def _refresh_frame_keys(self) -> None:
        """Grey out u/d in the footer at the ends of the stack.

        Textual's Footer re-mounts all its keys on a bindings refresh (tens
        of ms of restyling), so it follows a moment after the user stops
        moving; check_action already refuses u/d at the ends meanwhile.
        """
        ends = (self.check_action("up", ()), self.check_action("down", ()))
        if ends == self._frame_key_state:
            return
        self._frame_key_state = ends
        if self._footer_timer is not None:
            self._footer_timer.stop()
        self._footer_timer = self.set_timer(FOOTER_SETTLE, self._refresh_footer)

    def _refresh_footer(self) -> None:
        if not self._closing_down():
            self.refresh_bindings()

    def action_up(self) -> None:
        self.select_frame(self.frame_index + 1)

    def action_down(self) -> None:
        self.select_frame(self.frame_index - 1)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if isinstance(self.screen, ErrorScreen) and action not in ("help", "quit", "quit_with_error"):
            return False  # no core, nothing to navigate: only help and quit apply
        if action == "restart":
            return self.backend_lost
        if action == "traceback":
            return bool(self.go_traceback)
        if action == "console":
            return self.delve is not None and not self.backend_lost and self.first_screen_ready
        if action in ("export", "edit"):
            return self.frame_state is not None
        if action == "up":
            return None if self.backtrace is None or self.frame_index >= len(self.backtrace.frames) - 1 else True
        if action == "down":
            return None if self.backtrace is None or self.frame_index <= 0 else True
        return True

    def action_goto(self) -> None:
        self.push_screen(GotoPrompt(), lambda goroutine_id: goroutine_id is not None and self.show_goroutine(goroutine_id))

    def show_goroutine(self, goroutine_id: int) -> None:
        """Put a goroutine on screen, its row under the list's cursor."""
        pane = self.query_one(GoroutineList)
        if self.goroutines_complete and goroutine_id not in pane.index.by_id:
            self.notify(f"no goroutine {goroutine_id} in this core", severity="warning")
            return
        pane.reveal(goroutine_id)
        self.select_goroutine(goroutine_id)

    @property
    def goroutine_index(self):
        return self.query_one(GoroutineList).index

    def action_filter(self) -> None:
        pane = self.query_one(GoroutineList)

        def apply(text: str | None) -> None:
            if text is None:
                return
            pane.filter_text = text
            pane.refresh_rows()
            self._retitle_goroutines()

        self.push_screen(FilterPrompt(pane.filter_text), apply)

    def action_toggle_grouped(self) -> None:
        pane = self.query_one(GoroutineList)
        pane.grouped = not pane.grouped
        pane.refresh_rows()
        if self.goroutine_id is not None:
            pane.reveal(self.goroutine_id)
        self._retitle_goroutines()

    def action_toggle_runtime(self) -> None:
        pane = self.query_one(GoroutineList)
        pane.hide_runtime = not pane.hide_runtime
        pane.refresh_rows()
        self._retitle_goroutines()

    def action_compare(self) -> None:
        from .widgets.comparison_screen import ComparisonScreen

        self.push_screen(ComparisonScreen(self.comparison()), self._comparison_closed)

    def _comparison_closed(self, frame_index: int | None) -> None:
        snapshot = self.snapshot
        if frame_index is None or snapshot is None:
            return
        crash_stack = snapshot.crash_stack
        if crash_stack is not self.backtrace:
            self.generation += 1
            self._show_backtrace(crash_stack, frame_index)
        self.select_frame(frame_index)

    def get_system_commands(self, screen):
        """The command palette (ctrl+p) offers the app's own actions too."""
        yield from super().get_system_commands(screen)
        yield SystemCommand("GDB vs Delve", "Run gdb on the same core and compare, frame by frame", self.action_compare)
        yield SystemCommand("Go to goroutine", "Jump to a goroutine by id", self.action_goto)
        yield SystemCommand("Filter goroutines", "By function, file, wait reason or id", self.action_filter)
        yield SystemCommand("Grouped / flat goroutines", "Toggle the goroutine list's grouping", self.action_toggle_grouped)

    def action_console(self) -> None:
        scope = f"goroutine {self.goroutine_id} frame {self.frame_index}" if self.goroutine_id is not None \
            else f"frame {self.frame_index}"
        self.push_screen(ConsoleScreen(self.console_history, self.console_log, scope))

    def on_console_screen_submitted(self, message: ConsoleScreen.Submitted) -> None:
        try:
            line = console_command(message.text, self.goroutine_id, self.frame_index)
        except Refused as refused:
            self._console_write(Text(f"> {message.text.strip()}\n", "bold") + Text(str(refused), "yellow"))
            return
        self._send_to_dlv(message.text.strip(), line)

    @_while_mounted
    def on_console_answered(self, message: ConsoleAnswered) -> None:
        self._console_write(Text(f"> {message.sent}\n", "bold") + Text(message.output.rstrip("\n") or "(no output)"))

    def _console_write(self, entry: Text) -> None:
        self.console_log.append(entry)
        if isinstance(self.screen, ConsoleScreen):
            self.screen.show(entry)

    def on_console_screen_watch_wanted(self, message: ConsoleScreen.WatchWanted) -> None:
        if message.expression not in self.watches:
            self.watches.append(message.expression)
        self.notify(f"watching {message.expression}", timeout=3, markup=False)
        self._evaluate_watches(self.goroutine_id, self.frame_index, self.generation)

    @_while_mounted
    def on_watches_evaluated(self, message: WatchesEvaluated) -> None:
        if message.generation == self.generation:
            self.query_one(VariablesView).show_watches(message.values)

    def action_toggle_disassembly(self) -> None:
        self.show_disassembly = not self.show_disassembly
        if self.backtrace is not None and self.backtrace.frames:
            self.select_frame(self.frame_index)

    def action_export(self) -> None:
        if self.snapshot is None or self.backtrace is None or self.frame_state is None:
            return
        comparison = self.comparison()
        scorecard = comparison_report(*comparison) if comparison else None
        goroutines = tuple(self.query_one(GoroutineList).index.by_id.values())
        report = view_report(self.snapshot, self.backtrace, self.frame_state, goroutines, self.substitutions,
                             scorecard)
        try:
            path = export_markdown(report, self.export_folder)
        except OSError as err:
            self.notify(f"report not written: {err}", severity="error", markup=False)
            return
        self.exported = path
        self.notify(f"report written to {path}", timeout=8, markup=False)

    def action_edit(self) -> None:
        if self.backtrace is None or not 0 <= self.frame_index < len(self.backtrace.frames):
            return
        frame = self.backtrace.frames[self.frame_index]
        path = source.resolve(frame.file, self.substitutions)
        if path is None:
            self.notify(f"{frame.file} is not on this machine; map it with --substitute-path", severity="warning",
                        markup=False)
            return
        command = editor_command(path, frame.line)
        try:
            try:
                with self.suspend():  # the editor gets the terminal; the TUI comes back after
                    subprocess.run(command)
            except SuspendNotSupported:  # no terminal of ours (headless, a browser): a GUI editor still works
                subprocess.run(command, stdin=subprocess.DEVNULL, timeout=600)
        except (OSError, subprocess.SubprocessError) as err:
            self.notify(f"could not run {command[0]}: {err}", severity="error", markup=False)

    def action_traceback(self) -> None:
        from .widgets.traceback_screen import TracebackScreen

        if self.go_traceback:
            self.push_screen(TracebackScreen(self.go_traceback))

    def action_help(self) -> None:
        keys = [(b.key.replace("question_mark", "?").replace("slash", "/").replace("colon", ":"), b.tooltip or b.description)
                for b in self.BINDINGS]
        self.push_screen(HelpScreen(keys + PANE_KEYS))

    def action_quit_with_error(self) -> None:
        self.exit(return_code=2)

    def switch_targets(self) -> list[int]:
        """A few goroutines to switch between (benchmarks)."""
        ids = sorted(self.query_one(GoroutineList).index.by_id)
        return ids[:: max(1, len(ids) // 20)][:20] or ([self.goroutine_id] if self.goroutine_id else [])

    @property
    def goroutine_count(self) -> int:
        return len(self.query_one(GoroutineList).index)

    def _closing_down(self) -> bool:
        """True once the screens are being torn down (app exiting)."""
        try:
            return not (self.is_running and self.screen.is_attached and self.screen.children)
        except ScreenStackError:
            return True

    def on_unmount(self) -> None:
        stop_batches()  # a gdb still reading the core is not waited for
        with self._dlv_lock:
            self._unmounted = True
        self._retire_lister(wait=True)
        if self.delve is not None:
            self.delve.close()
