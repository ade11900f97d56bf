"""`/`: a line of text: the goroutine filter, or a search in the source pane."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class FilterPrompt(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="filter.cancel", tooltip="Keep the current filter")]
    DEFAULT_CSS = """
    FilterPrompt { align: center middle; }
    FilterPrompt > Vertical { width: 60; height: auto; border: thick $primary; background: $surface; padding: 0 1; }
    """

    def __init__(self, current: str, label: str = "Filter goroutines (empty clears):") -> None:
        super().__init__()
        self.current = current
        self.label = label

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.label)
            # Printable text only: the filter never reaches dlv, but keep it one line.
            yield Input(value=self.current, restrict=r"[^\x00-\x1f\x7f]*", max_length=200, id="filter-text")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip())
