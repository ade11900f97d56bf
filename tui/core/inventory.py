"""Every goroutine of a core and its whole stack, all at once (for a
report), from the same GoroutineSource the TUI reads."""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Iterator, Sequence

from ..analysis.groups import GoroutineIndex
from ..analysis.owncode import OwnCode
from ..model import Goroutine
from .backend import Backend
from .goroutines import GoroutineSource, ListDone, Listed, SourceFailed, StacksRead, ThroughDlv, WaitsKnown


class Goroutines(Sequence):
    """Every goroutine listed, in listing order (each page's unreadable gs
    after its rows), a Goroutine made when one is looked at."""

    def __init__(self, tables: list) -> None:
        self.tables = tables
        self._starts = [0]
        for table in tables:
            self._starts.append(self._starts[-1] + len(table) + len(table.unreadable))

    def __len__(self) -> int:
        return self._starts[-1]

    def __getitem__(self, position):
        if isinstance(position, slice):
            return [self[i] for i in range(*position.indices(len(self)))]
        if position < 0:
            position += len(self)
        if not 0 <= position < len(self):
            raise IndexError(position)
        page = bisect.bisect_right(self._starts, position) - 1
        table, row = self.tables[page], position - self._starts[page]
        return table.goroutine(row) if row < len(table) else table.unreadable[row - len(table)]

    def __iter__(self) -> Iterator[Goroutine]:
        for table in self.tables:
            yield from table.goroutines()


@dataclass
class Inventory:
    goroutines: Sequence[Goroutine]
    index: GoroutineIndex
    problem: str = ""  # why the list stopped short
    through_dlv: str = ""  # why it came through dlv ("" when read from the core file)
    waits_problem: str = ""  # why what they wait on is not known


def take_inventory(backend: Backend, crashing: int | None, deadlock: bool = False) -> Inventory:
    """deadlock: the runtime said all goroutines are asleep (the waits' summary
    says on what). Raises what the debugger raised when it failed midway."""

    def fresh_index() -> GoroutineIndex:
        index = GoroutineIndex(crashing)
        index.own = OwnCode.of(backend.target.build)
        return index

    index, listed = fresh_index(), []
    problem = through_dlv = waits_problem = ""
    try:
        for event in GoroutineSource(backend).read(deadlock):
            if isinstance(event, Listed):
                listed.append(event.table)
                index.add_table(event.table)
            elif isinstance(event, ThroughDlv):  # what the core file gave so far is read again
                through_dlv, listed, index = event.why, [], fresh_index()
            elif isinstance(event, ListDone):
                problem = event.problem
            elif isinstance(event, StacksRead):
                index.add_stacks(event.stacks)
            elif isinstance(event, WaitsKnown):
                index.waits, waits_problem = event.waits, event.problem
    except SourceFailed as failed:
        raise failed.cause from None
    return Inventory(Goroutines(listed), index, problem, through_dlv, waits_problem)
