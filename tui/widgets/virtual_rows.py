"""What the virtual lists share (goroutine_list.py, row_table.py): a header
line, then rows drawn only when on screen (Textual's Line API), and a
cursor that the keys move and that stays in view at any size."""

from __future__ import annotations

from textual.binding import Binding
from textual.events import Click
from textual.scroll_view import ScrollView


class VirtualRows(ScrollView, can_focus=True):
    """A subclass draws the lines (render_line: line 0 is the header) and
    says how many rows there are (row_count); enter or a click on a row
    runs its action_select."""

    BINDINGS = [
        Binding("up", "cursor_up", "Up", show=False),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Last", show=False),
        Binding("enter", "select", "Open", show=False),
    ]

    COMPONENT_CLASSES = {"virtual-rows--header", "virtual-rows--cursor"}

    DEFAULT_CSS = """
    VirtualRows { height: 1fr; background: $surface; }
    VirtualRows > .virtual-rows--header { text-style: bold; background: $panel; color: $foreground; }
    VirtualRows > .virtual-rows--cursor {
        background: $block-cursor-blurred-background;
        color: $block-cursor-blurred-foreground;
        text-style: $block-cursor-blurred-text-style;
    }
    VirtualRows:focus > .virtual-rows--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: $block-cursor-text-style;
    }
    """

    cursor_row = 0

    @property
    def row_count(self) -> int:
        raise NotImplementedError

    def move_cursor(self, row: int, scroll: bool = True) -> None:
        """Put the cursor on a row (clamped) and, by default, into view."""
        self.cursor_row = max(0, min(row, self.row_count - 1))
        if scroll:
            self._scroll_to_cursor()
        self.refresh()

    def on_resize(self) -> None:
        self._scroll_to_cursor()  # the selected row stays in view at any size

    def _scroll_to_cursor(self) -> None:
        visible = max(1, self.scrollable_content_region.height - 1)  # under the header
        top = self.scroll_offset.y
        if self.cursor_row < top:
            top = self.cursor_row
        elif self.cursor_row >= top + visible:
            top = self.cursor_row - visible + 1
        else:
            return
        self.scroll_to(y=top, animate=False, force=True, immediate=True)

    def action_cursor_down(self) -> None:
        self.move_cursor(self.cursor_row + 1)

    def action_cursor_up(self) -> None:
        self.move_cursor(self.cursor_row - 1)

    def action_page_down(self) -> None:
        self.move_cursor(self.cursor_row + max(1, self.scrollable_content_region.height - 2))

    def action_page_up(self) -> None:
        self.move_cursor(self.cursor_row - max(1, self.scrollable_content_region.height - 2))

    def action_first(self) -> None:
        self.move_cursor(0)

    def action_last(self) -> None:
        self.move_cursor(self.row_count - 1)

    def action_select(self) -> None:
        """Enter on the cursor's row."""

    def on_click(self, event: Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y == 0:  # the header
            return
        number = self.scroll_offset.y + offset.y - 1
        if number < self.row_count:
            self.move_cursor(number, scroll=False)
            self.action_select()
