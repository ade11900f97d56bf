"""Every goroutine of a core and its whole stack, all at once (for a
report), from the same GoroutineSource the TUI reads."""

from __future__ import annotations

from dataclasses import dataclass

from ..analysis.groups import GoroutineIndex
from ..analysis.owncode import OwnCode
from ..model import Goroutine
from .backend import Backend
from .goroutines import GoroutineSource, ListDone, Listed, SourceFailed, StacksRead, ThroughDlv, WaitsKnown


@dataclass
class Inventory:
    goroutines: tuple[Goroutine, ...]
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
                listed += event.goroutines
                index.add(event.goroutines)
                index.add_stacks(event.stacks)
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
    return Inventory(tuple(listed), index, problem, through_dlv, waits_problem)
