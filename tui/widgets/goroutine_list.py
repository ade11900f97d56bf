"""The goroutines pane: buckets of goroutines that stand in the same place,
or every goroutine flat; filtered by text; filled while the list pages in.

One DataTable (rows are rendered lazily), never a widget per goroutine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

from ..groups import Bucket, GoroutineIndex
from ..model import Goroutine, Location
from .fitted_table import FittedTable
from .keys import row_keys

CRASHED = "✖"
SHOWN = "●"


def _where(location: Location | None) -> str:
    if location is None:
        return "?"
    return f"{location.short()} {location.function}"


class GoroutineList(FittedTable):
    """Row keys: "b<n>" for bucket n, "g<id>" for a goroutine."""

    BINDINGS = row_keys("goroutines")

    DEFAULT_CSS = """
    GoroutineList { height: 1fr; }
    """

    @dataclass
    class Chosen(Message):
        """The user picked a goroutine (enter or click on its row)."""

        goroutine_id: int
        """Which goroutine to show."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.index = GoroutineIndex()
        self.grouped = True
        self.hide_runtime = False
        self.filter_text = ""
        self.shown_goroutine: int | None = None
        self._buckets: list[Bucket] = []
        self._expanded: set[tuple] = set()
        self._texts: dict[tuple[str, str], Text] = {}

    def on_mount(self) -> None:
        self.add_columns(" ", "id / count", "state", "location", "thread")

    # -- data -----------------------------------------------------------------

    def set_crashing(self, goroutine_id: int | None) -> None:
        self.index.crashing = goroutine_id

    def add_page(self, goroutines: tuple[Goroutine, ...]) -> None:
        """Append a page; flat mode appends rows, grouped mode is rebuilt by
        refresh_rows() (the app throttles that while the list loads)."""
        added = self.index.add(goroutines)
        if not self.grouped and not self.filter_text and not self.hide_runtime:
            self.add_rows_at_once(self._goroutine_row(goroutine, indent=False) for goroutine in added)

    def refresh_rows(self) -> None:
        """Rebuild the rows for the current mode and filter, keeping the cursor's row."""
        key = self._cursor_key()
        self.clear()
        self.add_rows_at_once(self._rows())
        if key is not None and key in self.rows:
            self.move_cursor(row=self.get_row_index(key), animate=False)

    def _cursor_key(self) -> str | None:
        if not self.row_count:
            return None
        try:
            return self.coordinate_to_cell_key((self.cursor_row, 0)).row_key.value
        except Exception:  # the table is empty or being rebuilt
            return None

    def _rows(self) -> Iterator[tuple[str, tuple[Text, ...]]]:
        """The rows for the current mode and filter: (key, cells)."""
        if not self.grouped:
            for goroutine in self.index.flat(self.filter_text, self.hide_runtime):
                yield self._goroutine_row(goroutine, indent=False)
            return
        self._buckets = self.index.buckets(self.filter_text, self.hide_runtime)
        for number, bucket in enumerate(self._buckets):
            if bucket.count == 1:
                # A group of one is just that goroutine.
                yield self._goroutine_row(self.index.by_id[bucket.ids[0]], indent=False)
                continue
            yield self._bucket_row(number, bucket)
            if bucket.key in self._expanded:
                for gid in bucket.ids:
                    yield self._goroutine_row(self.index.by_id[gid], indent=True)

    def _bucket_row(self, number: int, bucket: Bucket) -> tuple[str, tuple[Text, ...]]:
        expanded = bucket.key in self._expanded
        style = "dim" if bucket.runtime_only else ""
        marker = Text(CRASHED if bucket.crashing else ("▾" if expanded else "▸"), "bold red" if bucket.crashing else "")
        where = Text(_where(bucket.location), style)
        if bucket.via:  # split by whole stack: say which call path this is
            where.append(f"  via {bucket.via}", "italic")
        return f"b{number}", (marker, Text(f"×{bucket.count}", "bold"), Text(bucket.state, style), where, Text(""))

    def _goroutine_row(self, goroutine: Goroutine, indent: bool) -> tuple[str, tuple[Text, ...]]:
        crashed = goroutine.id == self.index.crashing
        shown = goroutine.id == self.shown_goroutine
        marker = self._text(CRASHED if crashed else (SHOWN if shown else ""), "bold red" if crashed else "bold green")
        style = "dim" if goroutine.is_runtime else ""
        ident = f"  {goroutine.id}" if indent else str(goroutine.id)
        thread = str(goroutine.thread) if goroutine.thread else ""
        return f"g{goroutine.id}", (marker, Text(ident, "bold" if shown else style), self._text(goroutine.state, style),
                                    self._text(_where(goroutine.location), style), self._text(thread, style))

    def _text(self, plain: str, style: str) -> Text:
        """One Text for each text the rows repeat (a state, a place): 100k
        goroutines stand in a few hundred places, and a Text costs ~10 µs to
        make. The table only reads its cells."""
        key = (plain, style)
        text = self._texts.get(key)
        if text is None:
            if len(self._texts) > 10_000:
                self._texts.clear()
            text = self._texts[key] = Text(plain, style)
        return text

    # -- selection --------------------------------------------------------------

    def reveal(self, goroutine_id: int) -> bool:
        """Put the cursor on a goroutine's row, expanding its bucket; False if filtered out."""
        if goroutine_id not in self.index.by_id:
            return False
        if self.grouped:
            bucket_key = self.index.bucket_key(goroutine_id)
            if f"g{goroutine_id}" not in self.rows and bucket_key not in self._expanded:
                self._expanded.add(bucket_key)
                self.refresh_rows()
        key = f"g{goroutine_id}"
        if key not in self.rows:
            return False
        self.move_cursor(row=self.get_row_index(key), animate=False, scroll=True)
        return True

    def mark_shown(self, goroutine_id: int | None) -> None:
        previous, self.shown_goroutine = self.shown_goroutine, goroutine_id
        for gid in (previous, goroutine_id):
            key = f"g{gid}"
            if gid is not None and key in self.rows and gid in self.index.by_id:
                crashed = gid == self.index.crashing
                shown = gid == goroutine_id
                self.update_cell(key, self.ordered_columns[0].key,
                                 Text(CRASHED if crashed else (SHOWN if shown else ""), "bold red" if crashed else "bold green"))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        key = event.row_key.value or ""
        if key.startswith("g"):
            self.post_message(self.Chosen(int(key[1:])))
        elif key.startswith("b"):
            bucket = self._buckets[int(key[1:])]
            if bucket.count == 1:
                self.post_message(self.Chosen(bucket.ids[0]))
                return
            self._expanded.symmetric_difference_update({bucket.key})
            self.refresh_rows()

    def title(self, complete: bool, stacks_complete: bool = True) -> str:
        total = len(self.index)
        text = f"Goroutines {total}" if complete else f"Goroutines: loading… {total}"
        if self.grouped:
            text += f" in {len(self._buckets)} groups"
            if not stacks_complete:
                text += f" (stacks read: {self.index.stacks_known:,})"
        else:
            text += " (flat)"
        if self.hide_runtime:
            text += f" ({self.index.runtime_count()} runtime hidden)"
        if self.filter_text:
            text += f"  /{self.filter_text}"
        return text
