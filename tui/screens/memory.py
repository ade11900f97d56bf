"""`m`: what fills the heap, and what keeps it alive.

A header with the runtime's figures and ours, and the leak suspects. On
the left the types (objects, bytes, average size, share of the reachable
heap, what their instances retain, garbage), sortable (`s`) and filtered
(`/`); `r` shows the roots instead (globals, goroutines, the runtime's
own), by what each alone keeps alive. On the right the objects: a type's
biggest, or what a root or an object holds in the dominator tree (enter
goes down a level, backspace up), each with the bytes it retains; the
object entered shows as a Go value, and its shortest path from a root
as a Go programmer reads it. `l` goes to the next leak suspect: its
collection's elements and the path to it. Enter on a goroutine's root
row shows that goroutine on the first screen.

State comes down: the app sets `status` (the heap's HeapStatus), `value`
(an object read as a Go value) and `path` (an object's path, read).
Events go up: InstanceWanted, PathWanted, GoroutineWanted. Leaving the
screen is the app's to act on (a read still going is stopped).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Label, ProgressBar, Static

from ..analysis.heapview import (ROOT_COLUMNS, TYPE_COLUMNS, SortBy, describe_suspect, header_line, percent_text,
                                 root_cells, root_rows, size_text, type_cells, type_rows)
from ..model import Variable
from ..model.heap import HeapReading, HeapState, HeapStatus
from ..widgets.footer import Footer
from ..widgets.prompt_bar import PromptBar, Purpose, Question
from ..widgets.row_table import Column, RowTable
from ..widgets.variables_view import VariablesView

INSTANCES = 200  # the biggest objects of a type listed
CHILDREN = 500  # the biggest children of a node in the dominator tree listed
STAGE_WORDS = {"spans": "reading spans", "pointers": "objects read", "roots": "reading roots",
               "reachability": "following pointers, the dominator tree", "types": "objects typed", "done": "done"}
OBJECT_COLUMNS = (Column("object"), Column("type", max_width=40), Column("size", right=True),
                  Column("retains", right=True), Column(""))


@dataclass(frozen=True)
class InstanceValue:
    """An object read as a Go value."""

    address: int
    variable: Variable


@dataclass(frozen=True)
class NodePath:
    """An object's shortest path from a root, hop by hop."""

    node: int
    hops: tuple[str, ...]


class MemoryScreen(Screen):
    HELP_TITLE = "memory"
    HELP_EXTRA = [
        ("↑/↓, j/k", "move in the focused table"),
        ("enter", "a type: its biggest objects; a root or an object: what it holds (the dominator tree), "
                  "its value and its path from a root; a goroutine's root: that goroutine on the first screen"),
        ("tab / shift+tab", "next / previous pane"),
    ]
    BINDINGS = [
        Binding("escape", "back", "Back", id="memory.back",
                tooltip="Back to the first screen (a heap read still going is stopped)"),
        Binding("slash", "filter", "Filter", id="memory.filter", tooltip="Show only the rows whose name holds a text"),
        Binding("s", "sort", "Sort", id="memory.sort",
                tooltip="Order the types by bytes, retained, count, average size, garbage or name"),
        Binding("r", "roots", "Roots", id="memory.roots",
                tooltip="The roots (globals, goroutines, the runtime) by what each alone keeps alive, or the types"),
        Binding("l", "suspect", "Suspect", id="memory.suspect",
                tooltip="The next leak suspect: where its memory piles up, and the path to it"),
        Binding("backspace", "up", "Up", id="memory.up", tooltip="Up the dominator tree, to what holds these objects"),
    ]
    DEFAULT_CSS = """
    MemoryScreen #memory-header { height: auto; padding: 0 1; background: $boost; border-bottom: solid $primary; }
    MemoryScreen #memory-loading { height: auto; padding: 0 1; }
    MemoryScreen #memory-loading > Label { padding: 0 1; }
    MemoryScreen #memory-panes { height: 1fr; }
    MemoryScreen #types { width: 58%; }
    MemoryScreen #memory-right { width: 1fr; }
    MemoryScreen #instances { height: 1fr; }
    MemoryScreen #memory-path { height: auto; max-height: 4; padding: 0 1; color: $text-muted; }
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
    path: reactive[NodePath | None] = reactive(None, init=False)
    sort = reactive(SortBy.BYTES, init=False)
    type_filter = reactive("", init=False)
    by_root = reactive(False, init=False, bindings=True)
    depth = reactive(0, init=False, bindings=True)  # levels entered in the dominator tree

    @dataclass
    class InstanceWanted(Message):
        """Read this object as a Go value."""

        type_name: str
        """Its type, as the table names it."""
        address: int
        """Where it starts."""
        size: int
        """Its slot's size in bytes."""
        die: int | None
        """The DWARF type of one element (None: none known)."""

    @dataclass
    class PathWanted(Message):
        """Name this object's shortest path from a root."""

        node: int
        """The object (its node in the reading)."""

    @dataclass
    class GoroutineWanted(Message):
        """Show this goroutine on the first screen (enter on its root row)."""

        goroutine_id: int
        """Which goroutine."""

    def __init__(self, status: HeapStatus) -> None:
        super().__init__()
        self._initial = status
        self._reading: HeapReading | None = None
        self._trail: list[int] = []  # nodes entered, the right pane shows the last one's children
        self._suspect = -1

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
                yield Static("", id="memory-path")
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
        if action == "sort":
            return True if self._reading is not None and not self.by_root else None
        if action in ("filter", "roots"):
            return True if self._reading is not None else None
        if action == "suspect":
            return True if self._reading is not None and self._reading.suspects else None
        if action == "up":
            return True if self.depth > 0 else None
        return True

    @property
    def prompting(self) -> bool:
        return self.query_one(PromptBar).asking

    def type_ahead(self, character: str) -> None:
        self.query_one(PromptBar).type_ahead(character)

    def action_back(self) -> None:
        self.dismiss(None)

    def action_filter(self) -> None:
        what = "roots" if self.by_root else "types"
        self.query_one(PromptBar).ask(Question(Purpose.FILTER, f"Filter {what}:", self.type_filter,
                                               hint="part of a name · empty clears · esc keeps it"))

    def action_sort(self) -> None:
        if not self.by_root:
            self.sort = self.sort.next()

    def action_roots(self) -> None:
        self.by_root = not self.by_root

    def action_suspect(self) -> None:
        reading = self._reading
        if reading is None or not reading.suspects:
            return
        self._suspect = (self._suspect + 1) % len(reading.suspects)
        suspect = reading.suspects[self._suspect]
        node = suspect.accumulation.node if suspect.accumulation is not None else suspect.node
        self._trail = [node]
        self._show_children(f"suspect {self._suspect + 1}: {describe_suspect(suspect)}")
        self.path = NodePath(node, suspect.path)
        self.query_one("#instances", RowTable).focus()

    def action_up(self) -> None:
        reading = self._reading
        if reading is None or not self._trail:
            return
        top = self._trail[-1]
        if len(self._trail) > 1:
            self._trail.pop()
        else:  # above where we came in: what holds it
            holder = int(reading.idom[top])
            if holder < 0:
                return
            self._trail = [holder]
        self._show_children()

    def on_prompt_bar_answered(self, answer: PromptBar.Answered) -> None:
        if answer.text is not None and answer.purpose is Purpose.FILTER:
            self.type_filter = answer.text

    def on_row_table_chosen(self, message: RowTable.Chosen) -> None:
        message.stop()
        reading = self._reading
        if reading is None:
            return
        if message.table.id == "types":
            if self.by_root:
                root = reading.roots[message.key]
                if root.whole_goroutine:
                    self.post_message(self.GoroutineWanted(root.goroutine))
                    return
                self._trail = [root.node]
                self._show_children()
                self.query_one("#instances", RowTable).focus()
            else:
                self.show_instances(message.key)
        elif message.table.id == "instances":
            self._enter(message.key)

    def _enter(self, node: int) -> None:
        """An object chosen: its value, its path, and what it holds."""
        reading = self._reading
        if node < reading.object_nodes:
            row = reading.types[reading.row[node]]
            address, size = int(reading.address[node]), int(reading.size[node])
            self.query_one(VariablesView).show_values((), note=f"reading {address:#x}…")
            self.post_message(self.InstanceWanted(row.name, address, size, row.die))
            self.post_message(self.PathWanted(node))
        self._trail.append(node)
        self._show_children()

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
            self._show_left()
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
            style = "bold yellow" if line.startswith(("⚠", "suspect")) else ("dim" if line.startswith("agrees") else "")
            text.append(line, style)
        return text

    def watch_sort(self) -> None:
        self._show_left()

    def watch_type_filter(self) -> None:
        self._show_left()

    def watch_by_root(self) -> None:
        self.type_filter = ""
        self._show_left()

    def watch_value(self, value: InstanceValue | None) -> None:
        if value is not None:
            self.query_one(VariablesView).show_values((value.variable,))

    def watch_path(self, path: NodePath | None) -> None:
        text = Text()
        if path is not None:
            text.append("path: ", "bold")
            text.append(" → ".join(path.hops))
        self.query_one("#memory-path", Static).update(text)

    def _show_left(self) -> None:
        if self._reading is None:
            return
        if self.by_root:
            self._show_roots()
        else:
            self._show_types()

    def _show_types(self) -> None:
        reading = self._reading
        table = self.query_one("#types", RowTable)
        rows = type_rows(reading, self.sort, self.type_filter)
        columns = [Column(TYPE_COLUMNS[0], max_width=40)] + [Column(title, right=True) for title in TYPE_COLUMNS[1:]]
        total = reading.reachable_bytes
        empty = f"no type's name holds {self.type_filter!r}" if self.type_filter else "no objects"
        table.show(columns, rows, lambda i: type_cells(reading.types[i], total), empty=empty)
        title = f"Types: {len(rows):,}" + (f" of {len(reading.types):,}" if self.type_filter else "")
        title += f" · by {self.sort.value}"
        if self.type_filter:
            title += f"  /{self.type_filter}"
        table.border_title = title

    def _show_roots(self) -> None:
        reading = self._reading
        table = self.query_one("#types", RowTable)
        rows = root_rows(reading, self.type_filter)
        columns = [Column(ROOT_COLUMNS[0], max_width=48), Column(ROOT_COLUMNS[1], max_width=32)] + \
            [Column(title, right=True) for title in ROOT_COLUMNS[2:]]
        total = reading.reachable_bytes
        table.show(columns, rows, lambda i: root_cells(reading.roots[i], total),
                   empty=f"no root's name holds {self.type_filter!r}" if self.type_filter else "no roots")
        title = f"Roots: {len(rows):,} · by what each alone retains"
        if self.type_filter:
            title += f"  /{self.type_filter}"
        table.border_title = title

    def _object_cells(self, node: int) -> tuple[str, ...]:
        reading = self._reading
        retained = size_text(int(reading.retained[node]))
        if node >= reading.object_nodes:
            root = reading.root_of_node(node)
            return (root.label if root is not None else "(roots)", "root", "", retained, "")
        row = reading.types[reading.row[node]]
        garbage = "" if reading.reachable[node] else "garbage"
        return (f"{int(reading.address[node]):#x}", row.name, size_text(int(reading.size[node])), retained, garbage)

    def show_instances(self, row: int) -> None:
        reading = self._reading
        if reading is None:
            return
        found = reading.instances(row, INSTANCES)
        nodes = np.searchsorted(reading.address, np.asarray([a for a, _, _ in found], dtype=np.uint64)).tolist()
        self._trail = []
        self.depth = 0
        table = self.query_one("#instances", RowTable)
        table.show(OBJECT_COLUMNS, nodes, self._object_cells, empty="no objects")
        type_row = reading.types[row]
        total = type_row.count + type_row.garbage_count
        table.border_title = (f"Objects of {type_row.name}: biggest {len(found):,} of {total:,}" if total > len(found)
                              else f"Objects of {type_row.name}: {total:,}")
        table.move_cursor(0)
        table.focus()

    def _show_children(self, title: str = "") -> None:
        """The right pane: what the last node entered holds (its children in the dominator tree)."""
        reading = self._reading
        node = self._trail[-1]
        children = np.flatnonzero(reading.idom == node)
        if len(children) > CHILDREN:
            top = np.argpartition(-reading.retained[children], CHILDREN - 1)[:CHILDREN]
            children = children[top]
        children = children[np.lexsort((children, -reading.retained[children]))]
        total = int(np.count_nonzero(reading.idom == node)) if len(children) >= CHILDREN else len(children)
        table = self.query_one("#instances", RowTable)
        table.show(OBJECT_COLUMNS, children.tolist(), self._object_cells, empty="it holds nothing else alone")
        self.depth = len(self._trail)
        holder = self._object_cells(node)
        name = holder[0] if node >= reading.object_nodes else f"{holder[1]} at {holder[0]}"
        shown = f"biggest {len(children):,} of {total:,}" if total > len(children) else f"{total:,}"
        share = percent_text(int(reading.retained[node]) / reading.reachable_bytes) if reading.reachable_bytes else ""
        table.border_title = title or f"Held by {name} (retains {size_text(int(reading.retained[node]))}, {share}): {shown}"
        table.move_cursor(0)
