"""A screen for a core that could not be read: the reason, and q to leave."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Static

from ..widgets.footer import Footer


class ErrorScreen(Screen[None]):
    BINDINGS = [Binding("q,escape", "app.quit_with_error", "Quit", id="error.quit", tooltip="Leave gocore-tui (exit 2)")]
    DEFAULT_CSS = """
    ErrorScreen { align: center middle; }
    ErrorScreen > Vertical { width: 90%; height: auto; border: thick $error; padding: 1 2; }
    """

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text("gocore-tui could not read this core", "bold red"))
            yield Static(Text(self.message), id="error-message")
            yield Static(Text("\nPress q to quit.", "dim"))
        yield Footer()
