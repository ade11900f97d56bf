"""Vi-style row keys shared by the list panes (arrows work too)."""

from __future__ import annotations

from textual.binding import Binding


def row_keys(pane: str, down: str = "cursor_down", up: str = "cursor_up") -> list[Binding]:
    """j/k bound to a pane's own down/up actions, with ids for remapping."""
    return [
        Binding("j", down, "Down", show=False, id=f"{pane}.down", tooltip="Next row"),
        Binding("k", up, "Up", show=False, id=f"{pane}.up", tooltip="Previous row"),
    ]
