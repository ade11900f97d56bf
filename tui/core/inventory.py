"""Every goroutine of a core and its whole stack, all at once (for a
report): from the core file, or through dlv when it cannot be read so."""

from __future__ import annotations

from dataclasses import dataclass

from ..analysis.groups import GoroutineIndex
from ..analysis.owncode import OwnCode
from ..model import Goroutine
from .backend import Backend
from .native import WAITS_NEED_THE_CORE, NativeListing, NativeUnavailable


@dataclass
class Inventory:
    goroutines: tuple[Goroutine, ...]
    index: GoroutineIndex
    problem: str = ""  # why the list stopped short
    through_dlv: str = ""  # why it came through dlv ("" when read from the core file)
    waits_problem: str = ""  # why what they wait on is not known


def take_inventory(backend: Backend, crashing: int | None, deadlock: bool = False) -> Inventory:
    """deadlock: the runtime said all goroutines are asleep (the waits' summary says on what)."""
    index = GoroutineIndex(crashing)
    index.own = OwnCode.of(backend.target.build)
    listed: list[Goroutine] = []
    try:
        with NativeListing(backend) as listing:
            for goroutines, stacks in listing.pages():
                listed += goroutines
                index.add(goroutines)
                index.add_stacks(stacks)
            try:
                index.waits = listing.read_waits(deadlock)
            except NativeUnavailable as why:
                return Inventory(tuple(listed), index, waits_problem=str(why))
        return Inventory(tuple(listed), index)
    except NativeUnavailable as why:
        listed.clear()
        index = GoroutineIndex(crashing)
        index.own = OwnCode.of(backend.target.build)
        goroutines, problem = backend.goroutines()
        index.add(goroutines)
        if not problem:
            for stacks in backend.stack_pages():
                index.add_stacks(stacks)
        return Inventory(goroutines, index, problem, str(why), WAITS_NEED_THE_CORE)
