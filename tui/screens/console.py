"""`:`: a line for dlv commands and a log of their answers, with history."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, RichLog


class ConsoleScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "dismiss(None)", "Close", id="console.close", tooltip="Back to the panes"),
        Binding("up", "history(-1)", "Earlier", show=False, id="console.earlier", tooltip="The command before"),
        Binding("down", "history(1)", "Later", show=False, id="console.later", tooltip="The command after"),
        Binding("ctrl+t", "watch", "Watch", id="console.watch",
                tooltip="Pin the last printed expression as a watch in the variables pane"),
    ]
    DEFAULT_CSS = """
    ConsoleScreen { align: center bottom; }
    ConsoleScreen > Vertical { width: 100%; height: 60%; border: thick $primary; background: $surface; }
    ConsoleScreen RichLog { height: 1fr; }
    """

    @dataclass
    class Submitted(Message):
        """The user sent a line."""

        text: str
        """What was typed, as typed."""

    @dataclass
    class WatchWanted(Message):
        """Pin an expression as a watch."""

        expression: str
        """What `print` printed."""

    def __init__(self, history: list[str], log: list[Text], scope: str) -> None:
        super().__init__()
        self.history = history  # the app's: it outlives the screen
        self.past = log
        self.scope = scope
        self._position = len(history)

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = f"dlv console · {self.scope} · Esc closes · ctrl+t pins the last print as a watch"
            yield RichLog(id="console-log", wrap=True, markup=False)
            yield Input(placeholder="a dlv command: print err, locals, stack 20, goroutines -group user",
                        id="console-input")

    def on_mount(self) -> None:
        log = self.query_one(RichLog)
        for entry in self.past:
            log.write(entry)
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value.strip():
            self.history.append(event.value)
        self._position = len(self.history)
        self.query_one(Input).value = ""
        self.post_message(self.Submitted(event.value))

    def show(self, entry: Text) -> None:
        self.query_one(RichLog).write(entry)

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        self._position = max(0, min(len(self.history), self._position + step))
        field = self.query_one(Input)
        field.value = self.history[self._position] if self._position < len(self.history) else ""
        field.cursor_position = len(field.value)

    def action_watch(self) -> None:
        for line in reversed(self.history):
            words = line.split(None, 1)
            if len(words) == 2 and words[0] in ("print", "p"):
                self.post_message(self.WatchWanted(words[1]))
                return
        self.app.notify("nothing printed yet: `print EXPR` first", severity="warning")
