"""A DataTable that never keeps rows drawn at old column widths, and keeps
its cursor's row in view when its pane is resized.

Textual 8.2's DataTable measures new rows on idle (`_update_dimensions`) but
keeps the lines it painted before that in caches keyed by row, cursor and
crop, not by column widths. When the table is wider than its pane, a repaint
that lands between `add_row` and the idle stays truncated to the header's
widths until the cursor moves (seen at 120x35: `chan  main.go:`). Clearing
those caches when a width grows fixes it; that happens once per fill.
"""

from __future__ import annotations

from typing import Iterable

from textual.widgets import DataTable
from textual.widgets.data_table import RowKey


class FittedTable(DataTable):
    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        before = [column.content_width for column in self.columns.values()]
        super()._update_dimensions(new_rows)
        if before != [column.content_width for column in self.columns.values()]:
            self._clear_caches()
            self.refresh()

    def on_resize(self) -> None:
        # The pane shrinks as the panes around it fill in (the crash
        # summary grows by a few lines): the selected row stays in view.
        if self.row_count:
            self.move_cursor(row=self.cursor_row, scroll=True)
