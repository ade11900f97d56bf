"""A DataTable that never keeps rows drawn at old column widths, and that
takes and measures a hundred thousand one-line rows in a blink.

Textual 8.2's DataTable measures new rows on idle (`_update_dimensions`) but
keeps the lines it painted before that in caches keyed by row, cursor and
crop, not by column widths. When the table is wider than its pane, a repaint
that lands between `add_row` and the idle stays truncated to the header's
widths until the cursor moves (seen at 120x35: `chan  main.go:`). Clearing
those caches when a width grows fixes it; that happens once per fill.

Its add_row re-validates the cursor through a reactive each time (~90 µs)
and its measuring asks Rich for each cell (~20 µs): opening a bucket of 52k
goroutines held the keys for 7 s. Rows added at once set the cursor once,
and a one-line Text is as wide as its cell length, which costs almost
nothing to read.
"""

from __future__ import annotations

from typing import Iterable, Sequence

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import DuplicateKey, Row, RowKey


class FittedTable(DataTable):
    def add_rows_at_once(self, rows: Iterable[tuple[str, Sequence[Text]]]) -> None:
        """add_row for many one-line rows (key, cells): the same table, without
        the per-row cursor and idle work (Textual 8's own bookkeeping, kept)."""
        was_empty = self.row_count == 0
        column_keys = [column.key for column in self.ordered_columns]
        for key, cells in rows:
            row_key = RowKey(key)
            if row_key in self._row_locations:
                raise DuplicateKey(f"The row key {row_key!r} already exists.")
            self._row_locations[row_key] = len(self.rows)
            self._data[row_key] = dict(zip(column_keys, cells))
            self.rows[row_key] = Row(row_key, 1)
            self._new_rows.add(row_key)
        self._require_update_dimensions = True
        self.cursor_coordinate = self.cursor_coordinate
        if was_empty and self.row_count and self.columns and self.show_cursor and self.cursor_type != "none":
            self._highlight_cursor()
        self._update_count += 1
        self.check_idle()

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        columns = self.ordered_columns
        before = [column.content_width for column in columns]
        widths = list(before)
        others = []  # rows Rich has to measure: labels, auto height, not plain text
        for row_key in new_rows:
            row, cells = self.rows.get(row_key), self._data.get(row_key)
            if row is None or cells is None:  # removed before the idle came
                continue
            values = [cells.get(column.key) for column in columns]
            if row.label is not None or row.auto_height or not all(
                    isinstance(cell, Text) and "\n" not in cell.plain for cell in values):
                others.append(row_key)
                continue
            for number, cell in enumerate(values):
                if cell.cell_len > widths[number]:
                    widths[number] = cell.cell_len
        for column, width in zip(columns, widths):
            column.content_width = width
        super()._update_dimensions(others)
        if before != [column.content_width for column in columns]:
            self._clear_caches()
            self.refresh()
