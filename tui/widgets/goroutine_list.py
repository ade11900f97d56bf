"""The goroutines pane: buckets of goroutines that stand in the same place,
or every goroutine flat; filtered by text; filled while the list pages in.

A virtual list (Textual's Line API): the rows are a list of keys, and only
the rows on screen are turned into text. 100k goroutines flat, or a bucket
of 52k opened, cost a list of 100k short tuples, not a table of cells
(Textual's DataTable took 7 s to take 52k rows, and held the keys meanwhile).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from rich.cells import cell_len
from rich.segment import Segment
from rich.text import Text
from textual.geometry import Size
from textual.message import Message
from textual.strip import Strip

from textual.reactive import reactive

from ..analysis.groups import Bucket, GoroutineIndex
from ..analysis.heapview import size_text
from ..model import Goroutine, Location
from .keys import row_keys
from .virtual_rows import VirtualRows

CRASHED = "✖"
SHOWN = "●"
# What they wait on is read after the list: its column is there from the
# start (empty meanwhile), so that no column moves under the user. It comes
# after the location, the column people read first, which a long wait (a
# select of many channels) must never push off the pane.
WAITING_COLUMN = "waiting on"
COLUMNS = (" ", "id / count", "state", "location", "thread", WAITING_COLUMN)
BY_OBJECT_COLUMNS = (" ", "id / count", "state", WAITING_COLUMN, "location", "thread")
# After "waiting on", when any goroutine has pprof labels.
LABELS_COLUMN = "labels"
# Once the heap is read, after the state (a few characters: after the
# location and "waiting on" it would be off the pane): what each goroutine
# alone keeps alive (its frames' retained bytes together; a group's row,
# its members').
RETAINED_COLUMN = "retained"
# "waiting on" can be a select of many channels: wider than this, it is cut.
MAX_WAITING_WIDTH = 60
INDENT = "  "  # a bucket's members, under it



@dataclass(frozen=True, slots=True)
class GroupRow:
    """A group's row, keyed by what the group is (its Bucket.key), so the
    cursor stays on the same group when the groups reorder."""

    key: tuple


@dataclass(frozen=True, slots=True)
class GoroutineRow:
    """A goroutine's row, keyed by its id; indented under its group's row
    (which does not make it another row)."""

    id: int
    indented: bool = field(default=False, compare=False)


Row = GroupRow | GoroutineRow


def _where(location: Location | None, blocking: Location | None = None) -> str:
    """The place to show, and the blocking call beside it (your code's frame
    first: `main.go:42 main.worker · sync.(*WaitGroup).Wait`)."""
    if location is None:
        return "?"
    text = f"{location.short()} {location.function}"
    return f"{text} · {blocking.function}" if blocking is not None else text


class GoroutineList(VirtualRows):
    """Rows are GroupRow and GoroutineRow values.

    It draws the goroutines of a GoroutineIndex (which the app fills),
    grouped or flat, filtered, runtime-only ones hidden or not, and how far
    the reading got: all bound from the screen's reactives."""

    BINDINGS = row_keys("goroutines")

    @dataclass
    class Chosen(Message):
        """The user picked a goroutine (enter or click on its row)."""

        goroutine_id: int
        """Which goroutine to show."""

    grouped = reactive(True, init=False)
    hide_runtime = reactive(False, init=False)
    filter_text = reactive("", init=False)
    by_object = reactive(False, init=False)  # `w`: grouped by what they wait on
    # How far the reading got: the title says so, the columns follow.
    list_complete = reactive(False, init=False)
    stacks_complete = reactive(False, init=False)
    waits_complete = reactive(False, init=False)
    # goroutine id -> the bytes it retains, once the heap is read (None before)
    retained: reactive[Mapping[int, int] | None] = reactive(None, init=False)

    def __init__(self, index: GoroutineIndex, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.index = index
        self.shown_goroutine: int | None = None
        self.cursor_row = 0
        self._buckets: dict[tuple, Bucket] = {}  # by key, in the groups' order
        self._expanded: set[tuple] = set()
        self._rows: list[Row] = []
        self._row_numbers: dict[Row, int] | None = None  # built when first asked
        self._columns = COLUMNS
        self._widths = [cell_len(title) for title in self._columns]
        self._group_retained: dict[tuple, int] = {}

    def _current_columns(self) -> tuple[str, ...]:
        columns = self._waits_columns()
        if self.retained is None:
            return columns
        at = columns.index("state") + 1
        return columns[:at] + (RETAINED_COLUMN,) + columns[at:]

    def _waits_columns(self) -> tuple[str, ...]:
        """The columns, with a goroutine's labels once any has some, and
        without "waiting on" once it is known it cannot be read. Grouped by
        what they wait on (w), that is what a row says first: who waits how
        on what, before where."""
        waits = self.index.waits
        if waits is None:
            return tuple(c for c in COLUMNS if c != WAITING_COLUMN) if self.waits_complete else COLUMNS
        columns = BY_OBJECT_COLUMNS if self._by_object() else COLUMNS
        return columns + (LABELS_COLUMN,) if waits.has_labels else columns

    # -- data -----------------------------------------------------------------

    def watch_grouped(self) -> None:
        self.refresh_rows()
        if self.shown_goroutine is not None:
            self.reveal(self.shown_goroutine)
        self.retitle()

    def watch_hide_runtime(self) -> None:
        self.refresh_rows()
        self.retitle()

    def watch_filter_text(self) -> None:
        self.refresh_rows()
        self.retitle()

    def watch_by_object(self) -> None:
        self.watch_grouped()

    def watch_list_complete(self) -> None:
        self.retitle()

    def watch_stacks_complete(self) -> None:
        self.retitle()

    def watch_waits_complete(self) -> None:
        self.refresh_rows()  # "waiting on" is filled, or gone
        self.retitle()

    def watch_retained(self) -> None:
        self.refresh_rows()  # the column comes

    def retitle(self) -> None:
        self.border_title = self.title()

    def rows_added(self, added: list[int]) -> None:
        """Goroutines the store just took (ids): flat mode appends their
        rows, grouped mode is rebuilt by refresh_rows() (throttled while
        the list loads)."""
        if not self._grouping() and not self.filter_text and not self.hide_runtime and added:
            rows = [GoroutineRow(goroutine_id) for goroutine_id in added]
            self._rows.extend(rows)
            self._row_numbers = None
            self._widen(rows)
            self._resize()

    def refresh_rows(self) -> None:
        """Rebuild the rows for the current mode and filter, keeping the cursor's row."""
        key = self.cursor_key()
        self._group_retained = {}
        self._columns = self._current_columns()
        self._rows = list(self._build_rows())
        self._row_numbers = None
        self._widths = [cell_len(title) for title in self._columns]
        self._widen(self._rows)
        self._resize()
        if key is not None and self.has_row(key):
            self.move_cursor(row=self.get_row_index(key))
        else:
            self.move_cursor(row=min(self.cursor_row, max(0, len(self._rows) - 1)))

    def _grouping(self) -> bool:
        return self.grouped or self._by_object()

    def _by_object(self) -> bool:
        return self.by_object and self.index.waits is not None

    def _build_rows(self):
        if not self._grouping():
            for goroutine_id in self.index.flat_ids(self.filter_text, self.hide_runtime):
                yield GoroutineRow(goroutine_id)
            return
        if self._by_object():
            buckets = self.index.object_buckets(self.filter_text, self.hide_runtime)
        else:
            buckets = self.index.buckets(self.filter_text, self.hide_runtime)
        self._buckets = {bucket.key: bucket for bucket in buckets}
        for bucket in buckets:
            if bucket.count == 1:
                # A group of one is just that goroutine.
                yield GoroutineRow(bucket.ids[0])
                continue
            yield GroupRow(bucket.key)
            if bucket.key in self._expanded:
                for gid in bucket.ids:
                    yield GoroutineRow(gid, indented=True)

    def _widen(self, rows: list[Row]) -> None:
        """Column widths for these rows, read off the strings the cells will
        hold: of the goroutine rows, one of each way they look is measured
        (a million goroutines stand in a few hundred places, and a few
        thousand waits), and the longest id."""
        ids: dict[bool, list[int]] = {False: [], True: []}
        for row in rows:
            if isinstance(row, GoroutineRow):
                # (its retained cell is never wider than the column's title:
                # a size_text is at most 7 characters, "99.9 MB")
                ids[row.indented].append(row.id)
            else:
                self._widen_to(self._strings(row))
        for indented, members in ids.items():
            if members:
                for goroutine_id in self.index.representatives(members):
                    self._widen_to(self._strings(GoroutineRow(goroutine_id, indented)))
                longest = len(str(max(members))) + (len(INDENT) if indented else 0)
                self._widths[1] = max(self._widths[1], longest)

    def _widen_to(self, cells: tuple[str, ...]) -> None:
        for column, cell in enumerate(cells):
            if cell:
                self._widths[column] = max(self._widths[column], cell_len(cell))
        if WAITING_COLUMN in self._columns and not self._by_object():  # by object it is the point: whole
            waiting = self._columns.index(WAITING_COLUMN)
            self._widths[waiting] = min(self._widths[waiting], MAX_WAITING_WIDTH)

    def _resize(self) -> None:
        # One line for the header; each column padded by a space either side.
        self.virtual_size = Size(sum(self._widths) + 2 * len(self._widths), len(self._rows) + 1)
        self.refresh()

    # -- rows -------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._rows)

    @property
    def columns(self) -> tuple[str, ...]:
        """The column titles, left to right."""
        return self._columns

    def rows(self) -> tuple[Row, ...]:
        """The rows, top to bottom."""
        return tuple(self._rows)

    def group_rows(self) -> tuple[GroupRow, ...]:
        return tuple(row for row in self._rows if isinstance(row, GroupRow))

    def goroutine_rows(self) -> tuple[GoroutineRow, ...]:
        return tuple(row for row in self._rows if isinstance(row, GoroutineRow))

    def bucket(self, row: GroupRow) -> Bucket:
        """The group a group row stands for."""
        return self._buckets[row.key]

    def has_row(self, row: Row) -> bool:
        return row in self._numbers()

    def get_row_index(self, row: Row) -> int:
        return self._numbers()[row]

    def _numbers(self) -> dict[Row, int]:
        if self._row_numbers is None:
            self._row_numbers = {row: number for number, row in enumerate(self._rows)}
        return self._row_numbers

    def cursor_key(self) -> Row | None:
        """The row under the cursor."""
        return self._rows[self.cursor_row] if 0 <= self.cursor_row < len(self._rows) else None

    def row_cells(self, row: Row) -> tuple[Text, ...]:
        """The cells of a row as drawn (for tests and the renderer)."""
        return self._cells(self._rows[self.get_row_index(row)])

    def _cells(self, row: Row) -> tuple[Text, ...]:
        strings = self._strings(row)
        if isinstance(row, GroupRow):
            bucket = self._buckets[row.key]
            style = "dim" if bucket.runtime_only else ""
            marker = Text(CRASHED if bucket.crashing else ("▾" if bucket.key in self._expanded else "▸"),
                          "bold red" if bucket.crashing else "")
            cells = [marker, Text(strings[1], "bold")] + [Text(cell, style) for cell in strings[2:]]
            if bucket.title:  # who waits how on one object
                cells[self._columns.index(WAITING_COLUMN)].stylize(style or "bold")
            if bucket.via:  # split by whole stack: say which call path this is
                location = cells[self._columns.index("location")]
                location.stylize("italic", len(location) - len(bucket.via) - len("  via "))
            return tuple(cells)
        goroutine = self.index.by_id[row.id]
        crashed = goroutine.id == self.index.crashing
        shown = goroutine.id == self.shown_goroutine
        marker = Text(CRASHED if crashed else (SHOWN if shown else ""), "bold red" if crashed else "bold green")
        style = "dim" if goroutine.is_runtime else ""
        cells = [marker, Text(strings[1], "bold" if shown else style)] + [Text(cell, style) for cell in strings[2:]]
        if WAITING_COLUMN in self._columns:
            cells[self._columns.index(WAITING_COLUMN)].stylize(style or "yellow")
        return tuple(cells)

    def _strings(self, row: Row) -> tuple[str, ...]:
        """A row's cells as plain text, one per column (self._columns)."""
        waits = self.index.waits
        if isinstance(row, GroupRow):
            bucket = self._buckets[row.key]
            cells = {"id / count": f"×{bucket.count}", "state": bucket.state,
                     WAITING_COLUMN: bucket.title or (waits.common_phrase(bucket.ids) if waits is not None else ""),
                     "location": _where(*self.index.where(bucket.ids[0])) + (f"  via {bucket.via}" if bucket.via else "")}
            if self.retained is not None:
                if bucket.key not in self._group_retained:
                    self._group_retained[bucket.key] = sum(self.retained.get(gid, 0) for gid in bucket.ids)
                cells[RETAINED_COLUMN] = size_text(self._group_retained[bucket.key])
        else:
            goroutine = self.index.by_id[row.id]
            cells = {"id / count": f"{INDENT}{goroutine.id}" if row.indented else str(goroutine.id),
                     "state": goroutine.state,
                     "location": _where(*self.index.where(goroutine.id)), "thread": str(goroutine.thread or ""),
                     RETAINED_COLUMN: self._retained_text(goroutine.id)}
            if waits is not None:
                minutes = waits.minutes(goroutine.id)
                if minutes:  # as Go prints it
                    cells["state"] += f", {minutes} minutes"
                cells[WAITING_COLUMN] = waits.phrase(goroutine.id)
                cells[LABELS_COLUMN] = waits.labels_text(goroutine.id)
        return tuple(cells.get(title, "") for title in self._columns)

    def _retained_text(self, goroutine_id: int) -> str:
        # a live goroutine whose stack holds no heap pointer has no root: it retains nothing
        return "" if self.retained is None else size_text(self.retained.get(goroutine_id, 0))

    # -- drawing ------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        # Every segment gets a style (the widget's own underneath): NO_COLOR's
        # monochrome filter cannot take a segment without one.
        return self._line(y).apply_style(self.rich_style)

    def _line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        if y == 0:
            header = self.get_component_rich_style("virtual-rows--header")
            cells = tuple(Text(title) for title in self._columns)
            return self._strip(cells, scroll_x, width).apply_style(header)
        number = scroll_y + y - 1
        if number >= len(self._rows):
            return Strip.blank(width)
        strip = self._strip(self._cells(self._rows[number]), scroll_x, width)
        if number == self.cursor_row:
            strip = strip.apply_style(self.get_component_rich_style("virtual-rows--cursor"))
        return strip

    def _strip(self, cells: tuple[Text, ...], scroll_x: int, width: int) -> Strip:
        line = Text(no_wrap=True, end="")
        for cell, cell_width in zip(cells, self._widths):
            line.append(" ")
            cell = cell.copy()
            cell.truncate(cell_width, pad=True)
            line.append_text(cell)
            line.append(" ")
        segments = list(line.render(self.app.console))
        return Strip(segments).crop_extend(scroll_x, scroll_x + width, None)

    # -- cursor -------------------------------------------------------------------

    def action_select(self) -> None:
        row = self.cursor_key()
        if isinstance(row, GoroutineRow):
            self.post_message(self.Chosen(row.id))
        elif isinstance(row, GroupRow):
            self._expanded.symmetric_difference_update({row.key})
            self.refresh_rows()

    # -- selection --------------------------------------------------------------

    def reveal(self, goroutine_id: int) -> bool:
        """Put the cursor on a goroutine's row, expanding its bucket; False if filtered out."""
        if goroutine_id not in self.index.by_id:
            return False
        key = GoroutineRow(goroutine_id)
        if self._grouping():
            bucket_key = self.index.bucket_key(goroutine_id, by_object=self._by_object())
            if not self.has_row(key) and bucket_key not in self._expanded:
                self._expanded.add(bucket_key)
                self.refresh_rows()
        if not self.has_row(key):
            return False
        self.move_cursor(self.get_row_index(key))
        return True

    def mark_shown(self, goroutine_id: int | None) -> None:
        self.shown_goroutine = goroutine_id
        self.refresh()

    def title(self) -> str:
        total = len(self.index)
        text = f"Goroutines {total}" if self.list_complete else f"Goroutines: loading… {total}"
        if self.filter_text:
            shown = self._shown_count()
            text = (f"Goroutines: {shown:,} of {total:,}" if self.list_complete else
                    f"Goroutines: loading… {shown:,} of {total:,}")
        if self._by_object():
            objects = sum(1 for key in self._buckets if key[0] == "object")
            text += f" by what they wait on: {objects} object{'' if objects == 1 else 's'}"
        elif self.grouped:
            groups = len(self._buckets)
            text += f", {groups} group{'' if groups == 1 else 's'}" if self.filter_text else \
                f" in {groups} group{'' if groups == 1 else 's'}"
            if not self.stacks_complete:
                text += f" (stacks read: {self.index.stacks_known:,})"
        else:
            text += " (flat)"
        if self.hide_runtime:
            text += f" ({self.index.runtime_count()} runtime hidden)"
        if self.filter_text:
            text += f"  /{self.filter_text}"
            if self.list_complete and not self._rows:
                text += f": {self.index.why_none_match(self.filter_text)}"
        return text

    def _shown_count(self) -> int:
        """How many goroutines the rows stand for (a group's members count)."""
        if not self._grouping():
            return len(self._rows)
        return sum(bucket.count for bucket in self._buckets.values())
