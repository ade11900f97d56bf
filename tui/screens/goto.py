"""`g`: jump to a goroutine by id. Digits only, so nothing else can reach dlv."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class GotoPrompt(ModalScreen[int | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="goto.cancel", tooltip="Close without jumping")]
    DEFAULT_CSS = """
    GotoPrompt { align: center middle; }
    GotoPrompt > Vertical { width: 40; height: auto; border: thick $primary; background: $surface; padding: 0 1; }
    """

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Go to goroutine id:")
            yield Input(placeholder="e.g. 18", restrict=r"[0-9]*", max_length=12, id="goto-id")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(int(event.value) if event.value.isdigit() else None)
