"""`c`: the GDB-vs-Delve comparison, over the main screen.

Dismissed with the Delve frame index the user picked (or None), so the app
can move the main backtrace and source to it.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen

from ..widgets.comparison_view import ComparisonView
from ..widgets.footer import Footer


class ComparisonScreen(Screen[int | None]):
    BINDINGS = [Binding("escape,c", "dismiss(None)", "Back", id="compare.close", tooltip="Back to the main screen")]

    def __init__(self, loaded: tuple | None) -> None:
        super().__init__()
        self.loaded = loaded

    def compose(self) -> ComposeResult:
        yield ComparisonView(id="comparison")
        yield Footer()

    def on_mount(self) -> None:
        self.show(self.loaded)

    def show(self, loaded) -> None:
        """loaded: (GdbRun, Comparison or None when gdb could not run), or
        None while gdb still runs."""
        self.loaded = loaded
        views = self.query(ComparisonView)
        if not views or not views.first().query("#verdict"):
            # Not composed yet (a loaded machine): once it is drawn.
            self.call_after_refresh(self.show, loaded)
            return
        view = views.first()
        if loaded is None:
            view.show_running()
        elif loaded[1] is None:
            view.show_error(loaded[0].error)
        else:
            view.show(*loaded)

    def on_comparison_view_frame_chosen(self, message: ComparisonView.FrameChosen) -> None:
        self.dismiss(message.frame_index)
