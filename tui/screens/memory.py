"""`m`: what fills the heap. A header with the runtime's figures and ours,
the types (objects, bytes, average size, share of the reachable heap,
garbage), sortable (`s`) and filtered (`/`); enter on a type lists its
biggest objects, enter on an object shows it as a Go value.

State comes down: the app sets `status` (the heap's HeapStatus: the
runtime's figures at once, the read's progress, then the reading) and
`value` (the object asked for, read). Events go up: InstanceWanted asks
the app to read an object; leaving the screen is the app's to act on (a
read still going is stopped). The screen never calls into the app.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Label, ProgressBar, Static

from ..analysis.heapview import TYPE_COLUMNS, SortBy, header_line, size_text, type_cells, type_rows
from ..model import Variable
from ..model.heap import HeapReading, HeapState, HeapStatus
from ..widgets.footer import Footer
from ..widgets.prompt_bar import PromptBar, Purpose, Question
from ..widgets.row_table import Column, RowTable
from ..widgets.variables_view import VariablesView

INSTANCES = 200  # the biggest objects of a type listed
STAGE_WORDS = {"spans": "reading spans", "pointers": "objects read", "roots": "reading roots",
               "reachability": "following pointers", "types": "objects typed", "done": "done"}


@dataclass(frozen=True)
class InstanceValue:
    """An object read as a Go value."""

    address: int
    variable: Variable


class MemoryScreen(Screen):
    HELP_TITLE = "memory"
    HELP_EXTRA = [
        ("↑/↓, j/k", "move in the focused table"),
        ("enter", "on a type: its biggest objects; on an object: its value as Go reads it"),
        ("tab / shift+tab", "next / previous pane"),
    ]
    BINDINGS = [
        Binding("escape", "back", "Back", id="memory.back",
                tooltip="Back to the first screen (a heap read still going is stopped)"),
        Binding("slash", "filter", "Filter", id="memory.filter", tooltip="Show only the types whose name holds a text"),
        Binding("s", "sort", "Sort", id="memory.sort",
                tooltip="Order the types by bytes, count, average size, garbage or name"),
    ]
    DEFAULT_CSS = """
    MemoryScreen #memory-header { height: auto; padding: 0 1; background: $boost; border-bottom: solid $primary; }
    MemoryScreen #memory-loading { height: auto; padding: 0 1; }
    MemoryScreen #memory-loading > Label { padding: 0 1; }
    MemoryScreen #memory-panes { height: 1fr; }
    MemoryScreen #types { width: 60%; }
    MemoryScreen #memory-right { width: 1fr; }
    MemoryScreen #instances { height: 1fr; }
    MemoryScreen #instance-value { height: 1fr; }
    MemoryScreen #types, MemoryScreen #instances, MemoryScreen #instance-value {
        border: round $panel; border-title-color: $text-muted;
    }
    MemoryScreen #types:focus, MemoryScreen #instances:focus, MemoryScreen #instance-value:focus {
        border: round $accent; border-title-color: $accent;
    }
    """

    status: reactive[HeapStatus] = reactive(HeapStatus, init=False, always_update=True)
    value: reactive[InstanceValue | None] = reactive(None, init=False)
    sort = reactive(SortBy.BYTES, init=False)
    type_filter = reactive("", init=False)

    @dataclass
    class InstanceWanted(Message):
        """Read this object as a Go value (enter on an instance)."""

        type_name: str
        """Its type, as the table names it."""
        address: int
        """Where it starts."""
        size: int
        """Its slot's size in bytes."""
        die: int | None
        """The DWARF type of one element (None: none known)."""

    def __init__(self, status: HeapStatus) -> None:
        super().__init__()
        self._initial = status
        self.shown_type: int | None = None  # index into reading.types of the instances listed
        self._reading: HeapReading | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="memory-header")
        with Horizontal(id="memory-loading"):
            yield ProgressBar(id="memory-progress", show_eta=False)
            yield Label("", id="memory-stage")
        with Horizontal(id="memory-panes"):
            types = RowTable(id="types", empty="reading the heap…")
            types.border_title = "Types"
            yield types
            with Vertical(id="memory-right"):
                instances = RowTable(id="instances", empty="enter on a type lists its biggest objects")
                instances.border_title = "Objects"
                yield instances
                value = VariablesView(id="instance-value")
                value.border_title = "Value"
                yield value
        yield PromptBar(id="prompt")
        yield Footer()

    def on_mount(self) -> None:
        self.status = self._initial
        self.query_one("#types", RowTable).focus()

    # -- keys ----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if self.is_mounted and self.prompting:
            return False
        if action in ("filter", "sort"):
            return True if self._reading is not None else None
        return True

    @property
    def prompting(self) -> bool:
        return self.query_one(PromptBar).asking

    def type_ahead(self, character: str) -> None:
        self.query_one(PromptBar).type_ahead(character)

    def action_back(self) -> None:
        self.dismiss(None)

    def action_filter(self) -> None:
        self.query_one(PromptBar).ask(Question(Purpose.FILTER, "Filter types:", self.type_filter,
                                               hint="part of a type's name · empty clears · esc keeps it"))

    def action_sort(self) -> None:
        self.sort = self.sort.next()

    def on_prompt_bar_answered(self, answer: PromptBar.Answered) -> None:
        if answer.text is not None and answer.purpose is Purpose.FILTER:
            self.type_filter = answer.text

    def on_row_table_chosen(self, message: RowTable.Chosen) -> None:
        message.stop()
        reading = self._reading
        if reading is None:
            return
        if message.table.id == "types":
            self.show_instances(message.key)
        elif message.table.id == "instances" and self.shown_type is not None:
            row = reading.types[self.shown_type]
            address, size = message.key
            self.query_one(VariablesView).show_values((), note=f"reading {address:#x}…")
            self.post_message(self.InstanceWanted(row.name, address, size, row.die))

    # -- drawing what the app hands down ----------------------------------------------

    def watch_status(self, status: HeapStatus) -> None:
        self.query_one("#memory-header", Static).update(self._header(status))
        loading = self.query_one("#memory-loading")
        loading.display = status.state is HeapState.READING
        if status.state is HeapState.READING and status.progress is not None:
            progress = status.progress
            bar = self.query_one(ProgressBar)
            fraction = progress.fraction
            if fraction is not None:
                bar.update(total=progress.total, progress=progress.done)
            word = STAGE_WORDS.get(progress.stage, progress.stage)
            counted = f": {progress.done:,} of {progress.total:,} objects" if fraction is not None else ""
            self.query_one("#memory-stage", Label).update(f"{word}{counted} · esc stops reading")
        if status.reading is not None and status.reading is not self._reading:
            self._reading = status.reading
            self.refresh_bindings()
            self._show_types()
        elif status.reading is None:
            empty = {HeapState.FAILED: f"the heap could not be read: {status.failure}",
                     HeapState.STOPPED: "reading stopped", HeapState.NOT_READ: "the heap is not read here"}
            self.query_one("#types", RowTable).show((), (), lambda key: (),
                                                    empty=empty.get(status.state, "reading the heap…"))

    @staticmethod
    def _header(status: HeapStatus) -> Text:
        text = Text()
        for number, line in enumerate(header_line(status).splitlines()):
            if number:
                text.append("\n")
            text.append(line, "bold yellow" if line.startswith("⚠") else ("dim" if line.startswith("agrees") else ""))
        return text

    def watch_sort(self) -> None:
        self._show_types()

    def watch_type_filter(self) -> None:
        self._show_types()

    def watch_value(self, value: InstanceValue | None) -> None:
        if value is not None:
            self.query_one(VariablesView).show_values((value.variable,))

    def _show_types(self) -> None:
        reading = self._reading
        table = self.query_one("#types", RowTable)
        if reading is None:
            return
        rows = type_rows(reading, self.sort, self.type_filter)
        columns = [Column(TYPE_COLUMNS[0], max_width=52)] + [Column(title, right=True) for title in TYPE_COLUMNS[1:]]
        total = reading.reachable_bytes
        empty = f"no type's name holds {self.type_filter!r}" if self.type_filter else "no objects"
        table.show(columns, rows, lambda i: type_cells(reading.types[i], total), empty=empty)
        title = f"Types: {len(rows):,}" + (f" of {len(reading.types):,}" if self.type_filter else "")
        title += f" · by {self.sort.value}"
        if self.type_filter:
            title += f"  /{self.type_filter}"
        table.border_title = title

    def show_instances(self, row: int) -> None:
        reading = self._reading
        if reading is None:
            return
        self.shown_type = row
        found = reading.instances(row, INSTANCES)
        table = self.query_one("#instances", RowTable)
        garbage = {(address, size) for address, size, live in found if not live}
        table.show([Column("address"), Column("size", right=True), Column("")],
                   [(address, size) for address, size, _ in found],
                   lambda key: (f"{key[0]:#x}", size_text(key[1]), "garbage" if key in garbage else ""),
                   empty="no objects")
        type_row = reading.types[row]
        total = type_row.count + type_row.garbage_count
        table.border_title = (f"Objects of {type_row.name}: biggest {len(found):,} of {total:,}" if total > len(found)
                              else f"Objects of {type_row.name}: {total:,}")
        table.move_cursor(0)
        table.focus()
