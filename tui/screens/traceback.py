"""`t`: what the program wrote to stderr before it died (`gocore-tui run`),
Go's own traceback, beside Delve's view of the same crash."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


class TracebackScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,t", "dismiss", "Close", id="traceback.close", tooltip="Back to Delve's view")]
    DEFAULT_CSS = """
    TracebackScreen { align: center middle; }
    TracebackScreen > VerticalScroll { width: 90%; height: 90%; border: thick $primary; background: $surface; padding: 0 1; }
    """

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = "What the program printed to stderr · Esc closes"
            # Text, not markup: a traceback is full of [brackets].
            yield Static(Text(self.text.rstrip("\n")), id="traceback-text")
