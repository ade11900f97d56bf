"""The main screen: the crash summary and the four panes, and the keys that
act on them.

State comes down: the app sets this screen's reactives (the crash, the
backtrace and the frame on screen, which panes are stale, how far the
goroutines are read ...) and the watchers below hand each pane what it
draws. Events go up: a key that asks for something beyond this screen
posts a message (FrameWanted, GoroutineWanted, Asked) that the app
routes; the screen never calls into the app.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import Enum

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen

from ..analysis.groups import GoroutineIndex
from ..analysis.heapview import goroutine_retained, heap_is_the_story
from ..analysis.waitview import Waits
from ..model import Backtrace, Frame, Goroutine, Snapshot, Variable
from ..model.heap import HeapStatus
from ..model.views import FrameView, Pane, SourceFile
from ..widgets.backtrace_view import BacktraceView
from ..widgets.crash_summary import CrashSummary
from ..widgets.footer import Footer
from ..widgets.goroutine_list import GoroutineList
from ..widgets.prompt_bar import PromptBar, Purpose, Question
from ..widgets.source_view import SourceView
from ..widgets.variables_view import VariablesView

# Rebuilding the grouped rows is cheap, but not on every page of 100k:
# at most every REGROUP_EVERY s, and ten times as long as a rebuild took
# (a bucket of 50k opened makes one take a second), so the keys keep the UI.
REGROUP_EVERY = 0.5
REGROUP_IDLE_FACTOR = 10

# What the goroutine filter understands (analysis/groups.py).
FILTER_SYNTAX = "function, file, wait reason or id · key=value, key= (labels) · empty clears · esc keeps it"
PANE_IDS = {Pane.BACKTRACE: "#backtrace", Pane.SOURCE: "#source", Pane.VARIABLES: "#variables"}


class Ask(Enum):
    """What a key of this screen asks the app for."""

    RESTART = "restart"
    TRACEBACK = "traceback"
    CONSOLE = "console"
    DISASSEMBLY = "disassembly"
    EXPORT = "export"
    EDIT = "edit"
    COMPARE = "compare"
    BUILD_INFO = "build info"
    DOWNLOAD = "download"
    MEMORY = "memory"


@dataclass(frozen=True)
class CrashOnScreen:
    """The summary's content: the first screen's snapshot, and the text of
    the faulting line (None: no source)."""

    snapshot: Snapshot
    source_line: str | None = None


@dataclass(frozen=True)
class BacktraceOnScreen:
    """The backtrace pane's content: whose stack, and where each frame's
    source is on this machine (file -> origin)."""

    backtrace: Backtrace
    origins: dict
    waiting: str = ""  # what its goroutine waits on, for the title


@dataclass(frozen=True)
class FrameOnScreen:
    """The source and variables panes' content."""

    view: FrameView
    frame: Frame | None


@dataclass(frozen=True)
class Staleness:
    """Panes that still show an older selection, and what they say about it."""

    panes: frozenset[Pane] = frozenset()
    why: str = ""


class MainScreen(Screen):
    HELP_TITLE = "main screen"
    HELP_EXTRA = [
        ("↑/↓, j/k", "move in the focused pane"),
        ("enter", "select: a goroutine loads its backtrace, a frame its source and variables; a group expands"),
        ("tab / shift+tab", "next / previous pane"),
        ("/ then n, N (source pane)", "search the file on screen; next / previous match"),
        ("ctrl+p", "command palette: every action by name, a goroutine by id, a frame by function"),
    ]
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
        Binding("R", "ask('restart')", "Restart dlv", id="restart",
                tooltip="Start dlv again after it died or hung; the screen is kept"),
        Binding("t", "ask('traceback')", "Go traceback", id="traceback",
                tooltip="What the program printed to stderr when it died (gocore-tui run)"),
        Binding("colon", "ask('console')", "Console", id="console",
                tooltip="Type dlv commands (print, locals, stack ...) in the frame on screen; ctrl+t there pins a watch"),
        Binding("a", "ask('disassembly')", "Asm", id="disassembly",
                tooltip="Switch between the frame's source and its instructions"),
        Binding("x", "ask('export')", "Export", id="export",
                tooltip="Write the Markdown report of this view (and the GDB-vs-Delve scorecard) to a file"),
        Binding("e", "ask('edit')", "Editor", id="edit", tooltip="Open the frame's source file at its line in $EDITOR"),
        Binding("D", "ask('download')", "Get module", id="download",
                tooltip="Download the missing module's source into the module cache (go mod download; asks first)"),
        Binding("c", "ask('compare')", "GDB vs Delve", id="compare", tooltip="Compare gdb and Delve on this core"),
        Binding("i", "ask('build info')", "Build", id="build", tooltip="What the executable was built from: module, "
                "dependencies, VCS revision, build settings"),
        Binding("m", "ask('memory')", "Memory", id="memory", tooltip="What fills the heap: types, their objects, "
                "the runtime's own figures beside ours"),
    ]

    # -- state the app hands down ----------------------------------------------------
    # Always drawn when set: comparing whole highlighted files would cost
    # more than drawing them, and a restyled one must be drawn again.
    crash: reactive[CrashOnScreen | None] = reactive(None, init=False, always_update=True)
    backtrace: reactive[BacktraceOnScreen | None] = reactive(None, init=False, always_update=True)
    frame_index: reactive[int] = reactive(0, init=False)  # the backtrace's selected row
    frame: reactive[FrameOnScreen | None] = reactive(None, init=False, always_update=True)
    stale: reactive[Staleness] = reactive(Staleness(), init=False)
    backend_lost = reactive(False, bindings=True, init=False)
    downloading: reactive[str] = reactive("", init=False)  # what `go mod download` says
    # Each frame's values of the pinned expressions (a new frame clears them).
    watches: reactive[tuple[tuple[str, str], ...]] = reactive((), init=False, always_update=True)
    waits: reactive[Waits | None] = reactive(None, init=False)
    # Progress comes often: the footer (m) follows `heap_available` only.
    heap: reactive[HeapStatus] = reactive(HeapStatus, init=False, always_update=True)
    heap_available = reactive(False, bindings=True, init=False)
    list_complete = reactive(False, init=False)
    stacks_complete = reactive(False, init=False)
    waits_complete = reactive(False, init=False)
    # goroutine id -> what it retains, once the heap is read: the goroutines' column
    goroutine_retained: reactive[Mapping[int, int] | None] = reactive(None, init=False)

    # -- the screen's own state (the footer follows these: bindings=True) --------------
    grouped = reactive(True, bindings=True)
    hide_runtime = reactive(False, bindings=True)
    goroutine_filter = reactive("", bindings=True)
    by_object = reactive(False, bindings=True)
    # (no caller above, no callee below) the frame on screen: u / d grey out.
    # A tuple that changes only at the ends of a stack, so the footer (whose
    # refresh re-mounts every key) is not redrawn on every move.
    frame_ends = reactive((True, True), bindings=True)
    frame_ready = reactive(False, bindings=True)
    # The `go mod download` that would bring the source on screen ("": none).
    download = reactive("", bindings=True)
    waits_known = reactive(False, bindings=True)  # w needs what they wait on

    @dataclass
    class Ready(Message):
        """The panes are mounted: the app may start filling them."""

    @dataclass
    class FrameWanted(Message):
        """Show this frame of the backtrace on screen (u, d, a row chosen)."""

        index: int
        """The frame's index in the backtrace on screen."""

    @dataclass
    class GoroutineWanted(Message):
        """Show this goroutine (a row chosen, `g` and its id)."""

        goroutine_id: int
        """Which goroutine."""

    @dataclass
    class Asked(Message):
        """A key asked for something beyond this screen."""

        what: Ask
        """What the key asks for."""

    def __init__(self, index: GoroutineIndex, has_traceback: bool = False) -> None:
        super().__init__()
        self.index = index
        self.has_traceback = has_traceback
        self._last_regroup = self._regroup_seconds = 0.0
        self._retained_of = None  # the heap reading goroutine_retained was taken from

    def compose(self) -> ComposeResult:
        def titled(widget, title: str):
            widget.border_title = title
            return widget

        yield CrashSummary("opening the core…", id="summary")
        with Horizontal(id="panes"):
            with Vertical(id="left"):
                yield titled(GoroutineList(self.index, id="goroutines"), "Goroutines: loading…").data_bind(
                    MainScreen.grouped, hide_runtime=MainScreen.hide_runtime, filter_text=MainScreen.goroutine_filter,
                    by_object=MainScreen.by_object, list_complete=MainScreen.list_complete,
                    stacks_complete=MainScreen.stacks_complete, waits_complete=MainScreen.waits_complete,
                    retained=MainScreen.goroutine_retained)
                yield titled(BacktraceView(id="backtrace"), "Backtrace")
            with Vertical(id="right"):
                yield titled(SourceView(id="source"), "Source")
                yield titled(VariablesView(id="variables"), "Variables")
        yield PromptBar(id="prompt")
        yield Footer()

    def on_mount(self) -> None:
        # Nothing queried here: a browser tab closed while it starts tears
        # the screen down under this handler.
        self.post_message(self.Ready())

    # -- keys ----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if self.is_mounted and self.prompting:
            return False  # keys typed while the prompt is open are the prompt's
        if action == "ask":
            return self.can_ask(Ask(parameters[0]))
        if action == "toggle_by_object":
            return True if self.waits_known else None
        if action == "up":
            return None if self.frame_ends[0] else True
        if action == "down":
            return None if self.frame_ends[1] else True
        return True

    def can_ask(self, what: Ask) -> bool:
        """Whether the key asking for `what` is offered now."""
        if what is Ask.RESTART:
            return self.backend_lost
        if what is Ask.TRACEBACK:
            return self.has_traceback
        if what is Ask.CONSOLE:
            return self.frame_ready and not self.backend_lost
        if what in (Ask.EXPORT, Ask.EDIT):
            return self.frame_ready
        if what is Ask.DOWNLOAD:
            return bool(self.download)
        if what is Ask.MEMORY:
            return self.heap_available
        return True

    def action_up(self) -> None:
        self.post_message(self.FrameWanted(self.frame_index + 1))

    def action_down(self) -> None:
        self.post_message(self.FrameWanted(self.frame_index - 1))

    def action_ask(self, what: str) -> None:
        self.post_message(self.Asked(Ask(what)))

    def action_goto(self) -> None:
        self.query_one(PromptBar).ask(Question(Purpose.GOTO, "Go to goroutine:", restrict=r"[0-9]*", max_length=12,
                                               placeholder="its id, e.g. 18"))

    def action_filter(self) -> None:
        self.query_one(PromptBar).ask(Question(Purpose.FILTER, "Filter goroutines:", self.goroutine_filter,
                                               hint=FILTER_SYNTAX))

    @property
    def prompting(self) -> bool:
        """The prompt bar is open: the screen's own keys are off."""
        return self.query_one(PromptBar).asking

    def type_ahead(self, character: str) -> None:
        """A key typed ahead of the prompt (see widgets/prompt_bar.py)."""
        self.query_one(PromptBar).type_ahead(character)

    def on_prompt_bar_answered(self, answer: PromptBar.Answered) -> None:
        if answer.text is None:
            return
        if answer.purpose is Purpose.FILTER:
            self.goroutine_filter = answer.text
        elif answer.purpose is Purpose.GOTO and answer.text.isdigit():
            self.post_message(self.GoroutineWanted(int(answer.text)))
        elif answer.purpose is Purpose.SEARCH and answer.text:
            self.query_one(SourceView).search(answer.text)

    def action_toggle_grouped(self) -> None:
        self.grouped = not self.grouped

    def action_toggle_by_object(self) -> None:
        self.by_object = not self.by_object

    def action_toggle_runtime(self) -> None:
        self.hide_runtime = not self.hide_runtime

    def on_goroutine_list_chosen(self, message: GoroutineList.Chosen) -> None:
        message.stop()
        self.post_message(self.GoroutineWanted(message.goroutine_id))

    def on_data_table_row_selected(self, message: BacktraceView.RowSelected) -> None:
        if message.data_table.id == "backtrace" and message.row_key.value not in (None, "truncated"):
            message.stop()
            self.post_message(self.FrameWanted(int(message.row_key.value)))

    def on_source_view_search_wanted(self, message: SourceView.SearchWanted) -> None:
        self.query_one(PromptBar).ask(Question(Purpose.SEARCH, "Search this file:", message.current,
                                               hint="n / N: next / previous match"))

    # -- drawing what the app hands down ----------------------------------------------

    def watch_crash(self, crash: CrashOnScreen | None) -> None:
        if crash is None:
            return
        self.query_one(CrashSummary).show(crash.snapshot, crash.source_line)
        self.query_one(GoroutineList).shown_goroutine = crash.snapshot.backtrace.goroutine_id
        self._show_deadlock()

    def watch_backtrace(self, shown: BacktraceOnScreen | None) -> None:
        if shown is None:
            return
        view = self.query_one(BacktraceView)
        view.border_title = self._backtrace_title(shown)
        view.show(shown.backtrace, self.frame_index, shown.origins)
        self.query_one(GoroutineList).mark_shown(shown.backtrace.goroutine_id)
        self.frame_ends = self._ends()

    def watch_frame_index(self, index: int) -> None:
        self.query_one(BacktraceView).select(index)
        self.frame_ends = self._ends()

    def _ends(self) -> tuple[bool, bool]:
        """(no caller above, no callee below) the frame on screen."""
        frames = len(self.backtrace.backtrace.frames) if self.backtrace is not None else 0
        return self.frame_index >= frames - 1, self.frame_index <= 0

    @staticmethod
    def _backtrace_title(shown: BacktraceOnScreen) -> str:
        goroutine_id = shown.backtrace.goroutine_id
        if goroutine_id is None:
            return "Backtrace · crashing thread"
        return f"Backtrace · goroutine {goroutine_id}" + (f" · {shown.waiting}" if shown.waiting else "")

    def watch_frame(self, shown: FrameOnScreen | None) -> None:
        """Source and variables of the frame on screen, in one repaint."""
        if shown is None:
            return
        view, frame = shown.view, shown.frame
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
                source_view.border_subtitle = view.source.warning or view.source.missing_reason
        self.download = view.source.download
        variables = self.query_one(VariablesView)
        variables.show(view.state)
        optimized = " · optimized" if view.state.optimized else ""
        variables.border_title = f"Variables · frame {view.frame_index}{optimized}"
        if not self.frame_ready:
            self.frame_ready = True
            self.query_one(BacktraceView).focus()

    def watch_stale(self, stale: Staleness) -> None:
        for pane, selector in PANE_IDS.items():
            widget = self.query_one(selector)
            if pane in stale.panes:
                widget.border_subtitle = stale.why
                widget.add_class("-stale")
            elif widget.has_class("-stale"):
                widget.border_subtitle = ""
                widget.remove_class("-stale")

    def watch_heap(self, heap: HeapStatus) -> None:
        message = self.crash.snapshot.crash.message if self.crash is not None else ""
        self.query_one(CrashSummary).show_heap(heap, heap_is_the_story(heap, message))
        self.heap_available = heap.available
        reading = heap.reading
        if reading is not None and self._retained_of is not reading:
            self._retained_of = reading
            self.goroutine_retained = goroutine_retained(reading)

    def watch_backend_lost(self, lost: bool) -> None:
        self.query_one(CrashSummary).border_subtitle = "dlv stopped · R restarts it" if lost else ""

    def watch_downloading(self, text: str) -> None:
        self.query_one(SourceView).border_subtitle = text

    def watch_watches(self, values: tuple[tuple[str, str], ...]) -> None:
        self.query_one(VariablesView).show_watches(list(values))

    def watch_waits(self, waits: Waits | None) -> None:
        """What they wait on is in: its columns, w, the shown goroutine's wait, a deadlock's summary."""
        self.waits_known = waits is not None
        self._show_deadlock()

    def _show_deadlock(self) -> None:
        waits, crash = self.waits, self.crash
        if waits is not None and crash is not None and waits.analysis.deadlock:
            self.query_one(CrashSummary).show_deadlock(waits.analysis.summary)

    # -- events the app passes on ------------------------------------------------------

    def goroutines_added(self, added: list[int]) -> None:
        """Goroutines the list had not seen (a page came in), by id."""
        self.query_one(GoroutineList).rows_added(added)
        self.regroup_soon()
        self.query_one(GoroutineList).retitle()

    def stacks_added(self) -> None:
        """Whole stacks came in: groups may split."""
        self.regroup_soon()
        self.query_one(GoroutineList).retitle()

    def reveal(self, goroutine_id: int) -> bool:
        """Put the goroutine list's cursor on a goroutine (False: filtered out)."""
        return self.query_one(GoroutineList).reveal(goroutine_id)

    def fill_variable(self, node_id: int, variable: Variable) -> None:
        self.query_one(VariablesView).fill(node_id, variable)

    def restyle_source(self, source: SourceFile) -> None:
        """The file on screen, highlighted whole (or in another theme)."""
        self.query_one(SourceView).restyle(source)

    @property
    def source_path(self) -> str:
        return self.query_one(SourceView).path

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
