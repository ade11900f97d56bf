"""`?`: the keys of the screen it was opened from; and the same actions in
the command palette (ctrl+p), by the names the footer gives them.

Both are read off the screen's active bindings (its own, its focused
widgets' and the app's), so a screen's help and palette list what its keys
do there and nothing else. A screen may add keys that are not bindings of
its own (moving inside a pane) as `HELP_EXTRA`: (key, what it does) pairs.
"""

from __future__ import annotations

from functools import partial
from typing import Iterator

from rich.table import Table
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import Static


def _bindings(screen: Screen) -> Iterator[tuple[DOMNode, Binding, bool]]:
    """(where it is bound, the binding, enabled) for each key the screen
    offers: those the footer shows, and ours it does not (they say what they
    do in a tooltip); a widget's own cursor keys are HELP_EXTRA's."""
    for node, binding, enabled, _tooltip in screen.active_bindings.values():
        if (binding.show and binding.description) or binding.tooltip:
            yield node, binding, enabled


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close", id="help.close", tooltip="Close the help")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 90; height: auto; max-height: 90%; border: thick $primary; background: $surface; padding: 1 2; }
    """

    def __init__(self, title: str, bindings: list[tuple[str, str]]) -> None:
        super().__init__()
        self.title_text = title
        self.bindings = bindings

    @classmethod
    def of(cls, screen: Screen, app: App) -> "HelpScreen":
        """The help of `screen`: every key it offers, with what it does."""
        rows: dict[str, str] = {}
        # The screen's own keys first, then the focused pane's, then the app's.
        order = {screen: 0, app: 2}
        for _node, binding, _enabled in sorted(_bindings(screen), key=lambda entry: order.get(entry[0], 1)):
            key = app.get_key_display(binding)
            rows.setdefault(key, binding.tooltip or binding.description)
        rows.update((key, text) for key, text in getattr(screen, "HELP_EXTRA", ()) if key not in rows)
        name = getattr(screen, "HELP_TITLE", "") or type(screen).__name__
        return cls(f"gocore-tui keys · {name}", list(rows.items()))

    def compose(self) -> ComposeResult:
        table = Table(title=self.title_text, expand=True, show_edge=False)
        table.add_column("key", style="bold cyan", no_wrap=True)
        table.add_column("what it does")
        for key, description in self.bindings:
            table.add_row(key, description)
        with VerticalScroll():
            yield Static(table)
            yield Static("\nMouse: click a row to select it. Esc or q closes this help.", classes="dim")


def palette_commands(screen: Screen, app: App) -> Iterator[SystemCommand]:
    """Every action the screen's keys offer, for the command palette, named
    as the footer names it (its key beside it), enabled ones only."""
    seen: set[tuple[str, int]] = set()
    for node, binding, enabled in _bindings(screen):
        action = (binding.action, id(node))
        if action in seen or not enabled or not binding.description or binding.action == "command_palette":
            continue
        seen.add(action)
        key = app.get_key_display(binding)
        yield SystemCommand(binding.description, f"{binding.tooltip or binding.description} (key: {key})",
                            partial(app.call_later, app.run_action, binding.action, node))
