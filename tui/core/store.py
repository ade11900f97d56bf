"""Every goroutine of the core as it pages in, and how far the listings
got. The one owner of the goroutine index: panes read it, workers' pages
are added to it on the UI thread."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from ..analysis.groups import GoroutineIndex
from ..analysis.owncode import OwnCode
from ..analysis.waitview import Waits
from ..model import Goroutine, Location, Target

if TYPE_CHECKING:
    from ..model.table import GoroutineTable


class GoroutineStore:
    def __init__(self) -> None:
        self.index = GoroutineIndex()
        self.list_complete = False
        self.stacks_complete = False
        # A listing cut short because dlv died: R lists again from the new dlv.
        self.list_cut = False
        self.stacks_cut = False
        # What they wait on comes after the list (read from the core file):
        # waits_complete once known or known to be unknown (waits_problem says why).
        self.waits_complete = False
        self.waits_problem = ""

    @property
    def crashing(self) -> int | None:
        return self.index.crashing

    @crashing.setter
    def crashing(self, goroutine_id: int | None) -> None:
        self.index.crashing = goroutine_id

    def __len__(self) -> int:
        return len(self.index)

    def __contains__(self, goroutine_id: int) -> bool:
        return goroutine_id in self.index.by_id

    def get(self, goroutine_id: int) -> Goroutine | None:
        return self.index.by_id.get(goroutine_id)

    def know_target(self, target: Target) -> None:
        """The target's build info says which code is the program's own:
        rows show its place."""
        self.index.own = OwnCode.of(target.build)

    def goroutines(self) -> tuple[Goroutine, ...]:
        """Every readable goroutine listed so far, in listing order."""
        return tuple(self.index.by_id.values())

    def add_page(self, page: "GoroutineTable | Iterable[Goroutine]") -> list[int]:
        """A page of goroutines (as columns, or Goroutines); the ids not
        seen before (a listing restarted with a new dlv pages through the
        known ones again)."""
        from ..model.table import GoroutineTable  # numpy: not on the first screen's path

        table = page if isinstance(page, GoroutineTable) else GoroutineTable.of(page)
        return self.index.add_table(table).tolist()

    def add_stacks(self, stacks: Iterable[tuple[int, tuple[Location, ...]]]) -> None:
        self.index.add_stacks(stacks)

    def stacks(self) -> dict[int, tuple[Location, ...]]:
        """Every whole stack read so far, by goroutine id (the comparison's)."""
        return self.index.stacks()

    @property
    def waits(self) -> Waits | None:
        return self.index.waits

    def add_waits(self, waits: Waits | None, problem: str = "") -> None:
        self.index.waits = waits
        self.waits_complete = True
        self.waits_problem = problem

    def finish_list(self, cut: bool) -> None:
        self.list_complete = True
        self.list_cut = cut

    def finish_stacks(self, cut: bool) -> None:
        self.stacks_complete = True
        self.stacks_cut = cut

    def relist(self) -> None:
        """After a restart: the list (and then the stacks) page in again."""
        self.list_complete = self.list_cut = False
        self.stacks_complete = self.stacks_cut = False

    def restack(self) -> None:
        self.stacks_complete = self.stacks_cut = False

    def switch_targets(self, count: int = 20) -> list[int]:
        """A few goroutines spread over the list (benchmarks)."""
        ids = self.index.flat_ids()
        return ids[:: max(1, len(ids) // count)][:count]
