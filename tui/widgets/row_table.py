"""A table drawn as a virtual list: rows are keys (what each row is: a
type's index, an object's address), and only the rows on screen are
turned into text. The Memory screen's tables (types, instances, roots,
the dominator tree) are all this widget; the goroutines pane is its
elder sibling (goroutine_list.py), with grouping of its own.

    table.show(columns, keys, cells)   # cells(key) -> one str or Text per column
    table.cursor_key()                 # the key under the cursor
    RowTable.Chosen(key)               # enter or a click on a row
    RowTable.Highlighted(key)          # the cursor moved to a row

show() keeps the cursor on the same key when the rows change (a new sort,
a filter): identities, not positions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Hashable, Sequence

from rich.cells import cell_len
from rich.text import Text
from textual.geometry import Size
from textual.message import Message
from textual.strip import Strip

from .keys import row_keys
from .virtual_rows import VirtualRows

# Column widths are measured on at most this many rows (the first ones,
# biggest first in every table here), not on every row of a long table.
MEASURED_ROWS = 2000
MAX_COLUMN = 80


@dataclass(frozen=True, slots=True)
class Column:
    title: str
    right: bool = False  # numbers: aligned right
    max_width: int = MAX_COLUMN


class RowTable(VirtualRows):
    BINDINGS = row_keys("rows")

    @dataclass
    class Chosen(Message):
        """Enter (or a click) on a row."""

        table: "RowTable"
        """The table it was chosen in."""
        key: Hashable
        """What the row is."""

        @property
        def control(self) -> "RowTable":
            return self.table

    @dataclass
    class Highlighted(Message):
        """The cursor is on another row."""

        table: "RowTable"
        """The table whose cursor moved."""
        key: Hashable
        """What the row is."""

        @property
        def control(self) -> "RowTable":
            return self.table

    def __init__(self, *, id: str | None = None, empty: str = "") -> None:
        super().__init__(id=id)
        self.cursor_row = 0
        self.empty = empty  # said on the first row when there is none
        self._columns: tuple[Column, ...] = ()
        self._keys: list[Hashable] = []
        self._numbers: dict[Hashable, int] | None = None
        self._cells: Callable[[Hashable], Sequence[str | Text]] = lambda key: ()
        self._widths: list[int] = []

    # -- data -----------------------------------------------------------------

    def show(self, columns: Sequence[Column], keys: Sequence[Hashable],
             cells: Callable[[Hashable], Sequence[str | Text]], empty: str | None = None) -> None:
        """New rows (and columns); the cursor stays on its key if it is still there."""
        kept = self.cursor_key()
        self._columns = tuple(columns)
        self._keys = list(keys)
        self._numbers = None
        self._cells = cells
        if empty is not None:
            self.empty = empty
        self._widths = [cell_len(column.title) for column in self._columns]
        for key in self._keys[:MEASURED_ROWS]:
            for number, cell in enumerate(self._cells(key)):
                self._widths[number] = max(self._widths[number], min(cell_len(str(cell)), columns[number].max_width))
        self.virtual_size = Size(sum(self._widths) + 2 * len(self._widths), max(len(self._keys), 1) + 1)
        number = self.row_of(kept) if kept is not None else None
        self.move_cursor(number if number is not None else min(self.cursor_row, max(0, len(self._keys) - 1)))
        self.refresh()

    @property
    def row_count(self) -> int:
        return len(self._keys)

    @property
    def keys(self) -> tuple[Hashable, ...]:
        return tuple(self._keys)

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(column.title for column in self._columns)

    def row_of(self, key: Hashable) -> int | None:
        if self._numbers is None:
            self._numbers = {k: n for n, k in enumerate(self._keys)}
        return self._numbers.get(key)

    def cursor_key(self) -> Hashable | None:
        return self._keys[self.cursor_row] if 0 <= self.cursor_row < len(self._keys) else None

    def cells_of(self, key: Hashable) -> tuple[str, ...]:
        """A row's cells as plain text (for tests)."""
        return tuple(str(cell) for cell in self._cells(key))

    # -- drawing ----------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        return self._line(y).apply_style(self.rich_style)

    def _line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        if y == 0:
            header = self.get_component_rich_style("virtual-rows--header")
            return self._strip([Text(c.title) for c in self._columns], scroll_x, width).apply_style(header)
        number = scroll_y + y - 1
        if number >= len(self._keys):
            if number == 0 and self.empty:
                return Strip([*Text(f" {self.empty}", "dim").render(self.app.console)]).crop_extend(0, width, None)
            return Strip.blank(width)
        strip = self._strip(self._cells(self._keys[number]), scroll_x, width)
        if number == self.cursor_row:
            strip = strip.apply_style(self.get_component_rich_style("virtual-rows--cursor"))
        return strip

    def _strip(self, cells: Sequence[str | Text], scroll_x: int, width: int) -> Strip:
        line = Text(no_wrap=True, end="")
        for cell, column, cell_width in zip(cells, self._columns, self._widths):
            text = cell.copy() if isinstance(cell, Text) else Text(str(cell))
            line.append(" ")
            if column.right:
                text.truncate(cell_width)
                line.append(" " * (cell_width - text.cell_len))
                line.append_text(text)
            else:
                text.truncate(cell_width, overflow="ellipsis", pad=True)
                line.append_text(text)
            line.append(" ")
        return Strip(list(line.render(self.app.console))).crop_extend(scroll_x, scroll_x + width, None)

    # -- cursor -------------------------------------------------------------------

    def move_cursor(self, row: int, scroll: bool = True) -> None:
        before = self.cursor_key()
        super().move_cursor(row, scroll)
        key = self.cursor_key()
        if key is not None and key != before:
            self.post_message(self.Highlighted(self, key))

    def action_select(self) -> None:
        key = self.cursor_key()
        if key is not None:
            self.post_message(self.Chosen(self, key))
