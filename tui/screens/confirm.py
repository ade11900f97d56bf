"""A yes/no question before something that writes to this machine."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS = [
        Binding("y,enter", "dismiss(True)", "Yes", id="confirm.yes", tooltip="Go ahead"),
        Binding("n,escape", "dismiss(False)", "No", id="confirm.no", tooltip="Leave it"),
    ]
    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical { width: 80; height: auto; border: thick $warning; background: $surface; padding: 1 2; }
    """

    def __init__(self, question: str, detail: str = "") -> None:
        super().__init__()
        self.question = question
        self.detail = detail

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.question, "bold"), id="confirm-question")
            if self.detail:
                yield Static(Text(self.detail, "dim"))
            yield Static(Text("\ny: yes   n / Esc: no", "dim"))
