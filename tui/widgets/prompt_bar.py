"""A one-line prompt at the bottom of the screen: the goroutine filter (`/`),
a goroutine id (`g`), a search in the source (`/` there).

It is mounted with the screen and only shown when asked, and it takes the
focus at once (not on the next turn of the event loop, as focus() does).
Keys typed in one burst after the key that opens it (`/auditor⏎`) were
already routed to the pane that had the focus: they come up to the screen,
which hands them here (type_ahead), so each lands in the field in order,
none in the pane behind, and none runs that pane's or the screen's key.
The field starts with the current text selected, so typing replaces it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Label


class Purpose(Enum):
    """What an answer is for."""

    FILTER = "filter"
    GOTO = "goto"
    SEARCH = "search"


@dataclass(frozen=True)
class Question:
    purpose: Purpose
    label: str
    initial: str = ""
    hint: str = ""
    restrict: str | None = r"[^\x00-\x1f\x7f]*"  # printable text on one line
    max_length: int = 200
    placeholder: str = ""


class PromptBar(Horizontal):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="prompt.cancel", tooltip="Close without a change")]
    DEFAULT_CSS = """
    PromptBar { dock: bottom; height: 3; display: none; background: $boost; padding: 0 1; }
    PromptBar > Label { width: auto; padding: 1 1 0 0; text-style: bold; }
    PromptBar > Input { width: 1fr; min-width: 20; }
    PromptBar > #prompt-hint { width: auto; max-width: 60%; padding: 1 0 0 1; color: $text-muted; }
    """

    @dataclass
    class Answered(Message):
        """The user answered (text) or closed the prompt (text is None)."""

        purpose: Purpose
        """What the question was for."""
        text: str | None
        """What was typed, stripped; None when cancelled."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.question: Question | None = None
        self._returns_to: Widget | None = None

    def compose(self) -> ComposeResult:
        yield Label(id="prompt-label")
        yield Input(id="prompt-text")
        yield Label(id="prompt-hint")

    def ask(self, question: Question) -> None:
        """Show the question and take the focus now."""
        self.question = question
        self.query_one("#prompt-label", Label).update(question.label)
        self.query_one("#prompt-hint", Label).update(question.hint)
        field = self.query_one(Input)
        field.restrict, field.max_length, field.placeholder = question.restrict, question.max_length, question.placeholder
        field.value = question.initial
        field.select_all()
        self._returns_to = self.screen.focused
        self.display = True
        self.screen.set_focus(field)

    @property
    def asking(self) -> bool:
        return bool(self.display)

    def type_ahead(self, character: str) -> None:
        """A key typed before the field had the focus (it went to the pane
        that had it, and came up from there): typed into the field, as the
        field would have taken it."""
        field = self.query_one(Input)
        selection = field.selection
        if selection.is_empty:
            field.insert_text_at_cursor(character)
        else:
            field.replace(character, *selection)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._answer(event.value.strip())

    def action_cancel(self) -> None:
        self._answer(None)

    def _answer(self, text: str | None) -> None:
        question = self.question
        self.display = False
        self.screen.set_focus(self._returns_to)
        if question is not None:
            self.post_message(self.Answered(question.purpose, text))
