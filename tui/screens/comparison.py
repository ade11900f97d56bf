"""`c`: the GDB-vs-Delve comparison, over the main screen.

It opens with one line saying what crashed and where; its keys (b, g, r,
f) are the screen's, so each works whatever sub-view has the focus, and
each sub-view keeps the focus on its content. Dismissed with the Delve
frame index the user picked (or None), so the app can move the main
backtrace and source to it.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Static

from ..model import Snapshot
from ..widgets.comparison_view import GOROUTINES_TAB, THREAD_TAB, ComparisonView
from ..widgets.crash_summary import crash_line
from ..widgets.footer import Footer


class ComparisonScreen(Screen[int | None]):
    HELP_TITLE = "GDB vs Delve"
    HELP_EXTRA = [("↑/↓", "move in the focused table"),
                  ("enter", "on a row of the crashing thread: show that frame in the main view")]
    BINDINGS = [
        Binding("escape,c", "dismiss(None)", "Back", id="compare.close", tooltip="Back to the main screen"),
        Binding("b", "show_tab('tab-thread')", "Crashing thread", id="compare.thread",
                tooltip="The crashing thread's two backtraces, aligned by PC"),
        Binding("g", "show_tab('tab-goroutines')", "Goroutines", id="compare.goroutines",
                tooltip="Pick a goroutine: Delve's stack beside what gdb printed for it"),
        Binding("r", "toggle_raw", "Raw output", id="compare.raw",
                tooltip="Switch between the aligned comparison and gdb's output as it printed it"),
        Binding("f", "toggle_fold", "Fold noise", id="compare.fold",
                tooltip="In the raw output, show or fold `[New LWP n]` and warning lines"),
    ]
    DEFAULT_CSS = """
    ComparisonScreen > #crashed { height: auto; padding: 0 1; background: $boost; }
    """

    # (GdbRun, Comparison or None when gdb could not run), or None while gdb runs.
    loaded = reactive(None, init=False, always_update=True)

    def __init__(self, loaded: tuple | None, snapshot: Snapshot | None = None) -> None:
        super().__init__()
        self.set_reactive(ComparisonScreen.loaded, loaded)
        self.snapshot = snapshot

    def compose(self) -> ComposeResult:
        if self.snapshot is not None:
            yield Static(crash_line(self.snapshot), id="crashed")
        yield ComparisonView(id="comparison")
        yield Footer()

    def on_mount(self) -> None:
        self._show(self.loaded)
        self.query_one(ComparisonView).focus_shown()

    def watch_loaded(self, loaded) -> None:
        if self.is_mounted:  # else on_mount shows it, once the view is composed
            self._show(loaded)

    def _show(self, loaded) -> None:
        view = self.query_one(ComparisonView)
        if loaded is None:
            view.show_running()
        elif loaded[1] is None:
            view.show_error(loaded[0].error)
        else:
            view.show(*loaded)
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("show_tab", "toggle_raw", "toggle_fold"):
            return self.query_one(ComparisonView).check_action(action, parameters)
        return True

    def action_show_tab(self, tab: str) -> None:
        self.query_one(ComparisonView).action_show_tab(tab)
        self.refresh_bindings()

    def action_toggle_raw(self) -> None:
        self.query_one(ComparisonView).action_toggle_raw()
        self.refresh_bindings()

    def action_toggle_fold(self) -> None:
        self.query_one(ComparisonView).action_toggle_fold()

    def on_comparison_view_frame_chosen(self, message: ComparisonView.FrameChosen) -> None:
        self.dismiss(message.frame_index)


__all__ = ["ComparisonScreen", "GOROUTINES_TAB", "THREAD_TAB"]
