"""The main screen: the crash summary and the four panes, and the keys that
act on them. It draws what the app gives it; what a key asks of dlv goes
through the app (self.app), which owns the core session and the workers."""

from __future__ import annotations

import time
from dataclasses import replace

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen

from ..analysis.waitview import Waits
from ..core.frames import FrameView
from ..core.store import GoroutineStore
from ..model import Backtrace, Frame, Snapshot
from ..widgets.backtrace_view import BacktraceView
from ..widgets.crash_summary import CrashSummary
from ..widgets.footer import Footer
from ..widgets.goroutine_list import GoroutineList
from ..widgets.source_view import SourceView
from ..widgets.variables_view import VariablesView
from .filter import FilterPrompt
from .goto import GotoPrompt

# Rebuilding the grouped rows is cheap, but not on every page of 100k:
# at most every REGROUP_EVERY s, and ten times as long as a rebuild took
# (a bucket of 50k opened makes one take a second), so the keys keep the UI.
REGROUP_EVERY = 0.5
REGROUP_IDLE_FACTOR = 10

PANE_TITLES = (("#goroutines", "Goroutines: loading…"), ("#backtrace", "Backtrace"), ("#source", "Source"),
               ("#variables", "Variables"))


class MainScreen(Screen):
    BINDINGS = [
        Binding("u", "up", "Caller", id="frame.up", tooltip="Move to the caller frame (Delve's up)"),
        Binding("d", "down", "Callee", id="frame.down", tooltip="Move to the callee frame (Delve's down)"),
        Binding("g", "goto", "Goroutine…", id="goroutine.goto", tooltip="Jump to a goroutine by id"),
        Binding("slash", "filter", "Filter", id="goroutine.filter",
                tooltip="Filter goroutines by function, file, wait reason or id"),
        Binding("v", "toggle_grouped", "Groups", id="goroutine.grouped",
                tooltip="Group goroutines by where they stand, or list them all"),
        Binding("w", "toggle_by_object", "Waits", id="goroutine.waits",
                tooltip="Group goroutines by what they wait on: the channel, mutex or WaitGroup, and who waits there how"),
        Binding("h", "toggle_runtime", "Runtime", id="goroutine.runtime",
                tooltip="Hide or show goroutines that are only in the runtime"),
        Binding("R", "restart", "Restart dlv", id="restart",
                tooltip="Start dlv again after it died or hung; the screen is kept"),
        Binding("t", "traceback", "Go traceback", id="traceback",
                tooltip="What the program printed to stderr when it died (gocore-tui run)"),
        Binding("colon", "console", "Console", id="console",
                tooltip="Type dlv commands (print, locals, stack ...) in the frame on screen; ctrl+t there pins a watch"),
        Binding("a", "toggle_disassembly", "Asm", id="disassembly",
                tooltip="Show the frame's instructions instead of its source, or back (frames without source get them anyway)"),
        Binding("x", "export", "Export", id="export",
                tooltip="Write the Markdown report of this view (and the GDB-vs-Delve scorecard) to a file"),
        Binding("e", "edit", "Editor", id="edit", tooltip="Open the frame's source file at its line in $EDITOR"),
        Binding("D", "download", "Get module", id="download",
                tooltip="Download the missing module's source into the module cache (go mod download; asks first)"),
        Binding("c", "compare", "GDB vs Delve", id="compare", tooltip="Compare gdb and Delve on this core"),
        Binding("i", "build_info", "Build", id="build", tooltip="What the executable was built from: module, "
                "dependencies, VCS revision, build settings"),
    ]

    # The footer follows these (bindings=True): no hand-called refresh.
    grouped = reactive(True, bindings=True)
    hide_runtime = reactive(False, bindings=True)
    goroutine_filter = reactive("", bindings=True)
    backend_lost = reactive(False, bindings=True)
    # (no caller above, no callee below) the frame on screen: u / d grey out.
    # A tuple that changes only at the ends of a stack, so the footer (whose
    # refresh re-mounts every key) is not redrawn on every move.
    frame_ends = reactive((True, True), bindings=True)
    frame_ready = reactive(False, bindings=True)
    # The `go mod download` that would bring the source on screen ("": none).
    download = reactive("", bindings=True)
    by_object = reactive(False, bindings=True)
    waits_known = reactive(False, bindings=True)  # w needs what they wait on

    def __init__(self, store: GoroutineStore, has_traceback: bool = False) -> None:
        super().__init__()
        self.store = store
        self.has_traceback = has_traceback
        self._last_regroup = self._regroup_seconds = 0.0

    def compose(self) -> ComposeResult:
        yield CrashSummary("opening the core…", id="summary")
        with Horizontal(id="panes"):
            with Vertical(id="left"):
                yield GoroutineList(self.store, id="goroutines").data_bind(
                    MainScreen.grouped, hide_runtime=MainScreen.hide_runtime, filter_text=MainScreen.goroutine_filter,
                    by_object=MainScreen.by_object)
                yield BacktraceView(id="backtrace")
            with Vertical(id="right"):
                yield SourceView(id="source")
                yield VariablesView(id="variables")
        yield Footer()

    class Ready(Message):
        """The panes are mounted: the app may start filling them."""

    def on_mount(self) -> None:
        for pane, title in PANE_TITLES:
            self.query_one(pane).border_title = title
        self.post_message(self.Ready())

    # -- keys ----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "restart":
            return self.backend_lost
        if action == "traceback":
            return self.has_traceback
        if action == "console":
            return self.frame_ready and not self.backend_lost
        if action in ("export", "edit"):
            return self.frame_ready
        if action == "download":
            return bool(self.download)
        if action == "toggle_by_object":
            return True if self.waits_known else None
        if action == "up":
            return None if self.frame_ends[0] else True
        if action == "down":
            return None if self.frame_ends[1] else True
        return True

    def action_up(self) -> None:
        self.app.select_frame(self.app.nav.frame_index + 1)

    def action_down(self) -> None:
        self.app.select_frame(self.app.nav.frame_index - 1)

    def action_goto(self) -> None:
        self.app.push_screen(GotoPrompt(), lambda gid: gid is not None and self.app.show_goroutine(gid))

    def action_filter(self) -> None:
        def apply(text: str | None) -> None:
            if text is not None:
                self.goroutine_filter = text

        self.app.push_screen(FilterPrompt(self.goroutine_filter), apply)

    def action_toggle_grouped(self) -> None:
        self.grouped = not self.grouped

    def action_toggle_by_object(self) -> None:
        self.by_object = not self.by_object

    def action_toggle_runtime(self) -> None:
        self.hide_runtime = not self.hide_runtime

    def action_restart(self) -> None:
        self.app.restart_backend()

    def action_traceback(self) -> None:
        self.app.show_traceback()

    def action_console(self) -> None:
        self.app.open_console()

    def action_toggle_disassembly(self) -> None:
        self.app.toggle_disassembly()

    def action_export(self) -> None:
        self.app.export()

    def action_edit(self) -> None:
        self.app.edit()

    def action_compare(self) -> None:
        self.app.compare()

    def action_build_info(self) -> None:
        self.app.show_build_info()

    def action_download(self) -> None:
        self.app.offer_download(self.download)

    def on_goroutine_list_chosen(self, message: GoroutineList.Chosen) -> None:
        self.app.select_goroutine(message.goroutine_id)

    def on_data_table_row_selected(self, message: BacktraceView.RowSelected) -> None:
        if message.data_table.id == "backtrace" and message.row_key.value not in (None, "truncated"):
            self.app.select_frame(int(message.row_key.value))

    def on_source_view_search_wanted(self, message: SourceView.SearchWanted) -> None:
        view = self.query_one(SourceView)
        self.app.push_screen(FilterPrompt(message.current, "Search this file:"),
                             lambda text: text and view.search(text))

    # -- drawing (what the app hands over) --------------------------------------------

    def show_snapshot(self, snapshot: Snapshot, source_line: str | None = None) -> None:
        self.query_one(CrashSummary).show(snapshot, source_line)
        goroutines = self.query_one(GoroutineList)
        goroutines.shown_goroutine = snapshot.backtrace.goroutine_id

    def show_backtrace(self, backtrace: Backtrace, frame_index: int, ends: tuple[bool, bool],
                       origins: dict[str, str] | None = None) -> None:
        view = self.query_one(BacktraceView)
        view.border_title = self._backtrace_title(backtrace.goroutine_id)
        view.show(backtrace, frame_index, origins or {})
        self.query_one(GoroutineList).mark_shown(backtrace.goroutine_id)
        self.frame_ends = ends

    def _backtrace_title(self, goroutine_id: int | None) -> str:
        if goroutine_id is None:
            return "Backtrace · crashing thread"
        waits = self.store.waits
        waiting = waits.header(goroutine_id) if waits is not None else ""
        return f"Backtrace · goroutine {goroutine_id}" + (f" · {waiting}" if waiting else "")

    def show_waits(self, waits: Waits | None, goroutine_id: int | None) -> None:
        """What they wait on is in: its columns, w, the shown goroutine's wait, a deadlock's summary."""
        self.waits_known = waits is not None
        self.regroup()
        self.query_one(BacktraceView).border_title = self._backtrace_title(goroutine_id)
        if waits is not None and waits.analysis.deadlock:
            self.query_one(CrashSummary).show_deadlock(waits.analysis.summary)

    def select_frame_row(self, index: int, ends: tuple[bool, bool]) -> None:
        self.query_one(BacktraceView).select(index)
        self.frame_ends = ends

    def show_frame(self, view: FrameView, frame: Frame | None) -> None:
        """Source and variables of the frame on screen, in one repaint."""
        source_view = self.query_one(SourceView)
        if frame is not None:
            if view.source.marked_line:  # a disassembly, with its own line to mark
                source_view.show(view.source, replace(frame.location, line=view.source.marked_line))
                source_view.border_title = f"Disassembly · {frame.function}"
                source_view.border_subtitle = view.source.missing_reason
                if view.source.download:
                    source_view.border_subtitle += " · D downloads it"
            else:
                source_view.show(view.source, frame.location)
                where = f" · {view.source.origin}" if view.source.origin else ""
                source_view.border_title = f"Source · {frame.location.short()} {frame.function}{where}"
                source_view.border_subtitle = view.source.warning
        self.download = view.source.download
        variables = self.query_one(VariablesView)
        variables.show(view.state)
        optimized = " · optimized" if view.state.optimized else ""
        variables.border_title = f"Variables · frame {view.frame_index}{optimized}"
        if not self.frame_ready:
            self.frame_ready = True
            self.query_one(BacktraceView).focus()

    def say_downloading(self, text: str) -> None:
        self.query_one(SourceView).border_subtitle = text

    def restyle_source(self, source) -> None:
        self.query_one(SourceView).restyle(source)

    @property
    def source_path(self) -> str:
        return self.query_one(SourceView).path

    def show_watches(self, values: list) -> None:
        self.query_one(VariablesView).show_watches(values)

    def fill_variable(self, node_id: int, variable) -> None:
        self.query_one(VariablesView).fill(node_id, variable)

    def mark_stale(self, panes: set[str], why: str) -> None:
        for pane in panes:
            widget = self.query_one(f"#{pane}")
            widget.border_subtitle = why
            widget.add_class("-stale")

    def fresh(self, panes: set[str]) -> None:
        for pane in panes:
            widget = self.query_one(f"#{pane}")
            if widget.has_class("-stale"):
                widget.border_subtitle = ""
                widget.remove_class("-stale")

    def say_backend_lost(self, lost: bool) -> None:
        self.backend_lost = lost
        self.query_one(CrashSummary).border_subtitle = "dlv stopped · R restarts it" if lost else ""

    def goroutines_added(self, added: list) -> None:
        self.query_one(GoroutineList).rows_added(added)
        self.regroup_soon()

    def regroup(self) -> None:
        self.query_one(GoroutineList).refresh_rows()

    def regroup_soon(self) -> None:
        """Rebuild the grouped rows while pages arrive, timed (REGROUP_*)."""
        started = time.monotonic()
        if (self.grouped or self.by_object) and started - self._last_regroup > max(REGROUP_EVERY,
                                                                 REGROUP_IDLE_FACTOR * self._regroup_seconds):
            self.regroup()
            self._last_regroup = time.monotonic()
            self._regroup_seconds = self._last_regroup - started

    def reveal(self, goroutine_id: int) -> bool:
        return self.query_one(GoroutineList).reveal(goroutine_id)

    def retitle_goroutines(self) -> None:
        self.query_one(GoroutineList).retitle()
