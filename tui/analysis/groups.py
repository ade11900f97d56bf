"""Goroutine buckets and filters, for lists of any size. Pure: no I/O.

Goroutines that stand in the same place, were started the same way and
wait for the same thing are one bucket: 100k goroutines usually make a few
dozen buckets. That much comes with the list itself. Whole stacks cost dlv
a stack walk per goroutine, so they arrive afterwards (add_stacks) and
split a bucket whose members got there by different calls: then every
bucket is one stack, as panicparse groups text tracebacks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from ..model import Goroutine, Location


@dataclass(frozen=True)
class Bucket:
    """Goroutines sharing Goroutine.signature(), biggest first.

    ids keeps every member (nothing is capped); crashing says the crashing
    goroutine is among them.
    """

    key: tuple
    ids: tuple[int, ...]
    state: str
    location: Location | None
    crashing: bool
    runtime_only: bool
    via: str = ""
    """For a bucket split by whole stacks: the function where its stack
    parts from its biggest sibling's ("" when not split)."""

    @property
    def count(self) -> int:
        return len(self.ids)


class GoroutineIndex:
    """Every goroutine of a core, filled a page at a time.

    Held compactly: one frozen Goroutine per id (their Locations shared),
    plus the bucket membership lists.
    """

    def __init__(self, crashing: int | None = None) -> None:
        self.crashing = crashing
        # Which functions are the program's own (owncode.OwnCode; None: not
        # known yet): a goroutine's row shows its innermost own frame.
        self.own = None
        self._own_places: dict[int, Location | None] = {}  # by stack number
        self.by_id: dict[int, Goroutine] = {}
        self.unreadable: list[Goroutine] = []
        self._members: dict[tuple, list[int]] = {}
        self.complete = False
        # Whole stacks as they arrive: goroutine id -> stack number.
        self._stack_of: dict[int, int] = {}
        self._stack_numbers: dict[tuple[Location, ...], int] = {}
        self._stacks: list[tuple[Location, ...]] = []

    def __len__(self) -> int:
        return len(self.by_id) + len(self.unreadable)

    def add(self, goroutines: Iterable[Goroutine]) -> list[Goroutine]:
        """Index a page; returns the goroutines not seen before (a listing
        restarted with a new dlv pages through the known ones again)."""
        added = []
        for goroutine in goroutines:
            if goroutine.id is None:
                self.unreadable.append(goroutine)
                continue
            if goroutine.id in self.by_id:
                continue
            self.by_id[goroutine.id] = goroutine
            self._members.setdefault(goroutine.signature(), []).append(goroutine.id)
            added.append(goroutine)
        return added

    def add_stacks(self, stacks: Iterable[tuple[int, tuple[Location, ...]]]) -> None:
        """Record whole stacks (id, frames innermost first); equal stacks are stored once."""
        # Stacks may come before their goroutines are listed (a second dlv
        # reads them beside the list): they wait here for them.
        for goroutine_id, stack in stacks:
            number = self._stack_numbers.get(stack)
            if number is None:
                number = self._stack_numbers[stack] = len(self._stacks)
                self._stacks.append(stack)
            self._stack_of[goroutine_id] = number

    def stack_of(self, goroutine_id: int) -> tuple[Location, ...] | None:
        """The goroutine's whole stack, innermost first, once read."""
        number = self._stack_of.get(goroutine_id)
        return self._stacks[number] if number is not None else None

    def own_place(self, goroutine_id: int) -> Location | None:
        """The innermost frame of the program's own code in the goroutine's
        whole stack, once read; None when unknown or when there is none."""
        number = self._stack_of.get(goroutine_id)
        if number is None or self.own is None:
            return None
        if number not in self._own_places:
            self._own_places[number] = next((f for f in self._stacks[number] if self.own(f.function, f.file)), None)
        return self._own_places[number]

    def where(self, goroutine_id: int) -> tuple[Location | None, Location | None]:
        """(where to show the goroutine, the blocking call beside it): its own
        code's place and, when that is not the place Delve names (a call into
        the standard library or a dependency), that place."""
        goroutine = self.by_id[goroutine_id]
        own = self.own_place(goroutine_id)
        if own is None or own == goroutine.location:
            return goroutine.location, None
        return own, goroutine.location

    def stacks(self) -> dict[int, tuple[Location, ...]]:
        """Every whole stack read so far, by goroutine id."""
        return {goroutine_id: self._stacks[number] for goroutine_id, number in self._stack_of.items()}

    @property
    def stacks_known(self) -> int:
        return len(self._stack_of)

    def bucket_key(self, goroutine_id: int) -> tuple:
        """The key of the bucket a goroutine is in (to expand it)."""
        signature = self.by_id[goroutine_id].signature()
        parts = self._by_stack(self._members[signature])
        return signature if len(parts) <= 1 else (signature, self._stack_of.get(goroutine_id))

    def _by_stack(self, ids: list[int]) -> dict[int | None, list[int]]:
        parts: dict[int | None, list[int]] = {}
        for goroutine_id in ids:
            parts.setdefault(self._stack_of.get(goroutine_id), []).append(goroutine_id)
        return parts

    def _split(self, key: tuple, ids: list[int]) -> list[tuple[tuple, list[int], str]]:
        """A bucket's members by whole stack: [(key, ids, via)]; one part,
        under the bucket's own key, while its stacks agree or are unknown."""
        if not self._stack_of:
            return [(key, ids, "")]
        parts = self._by_stack(ids)
        if len(parts) <= 1:
            return [(key, ids, "")]
        ordered = sorted(parts.items(), key=lambda item: -len(item[1]))
        return [((key, number), members, self._parting(number, ordered[1 if rank == 0 else 0][0]))
                for rank, (number, members) in enumerate(ordered)]

    def _stack_matches(self, goroutine_id: int, needle: str) -> bool:
        """Whether any frame of a goroutine's whole stack (once read) names `needle`."""
        number = self._stack_of.get(goroutine_id)
        return number is not None and any(needle in frame.function.lower() or needle in frame.file.lower()
                                          for frame in self._stacks[number])

    def _parting(self, number: int | None, other: int | None) -> str:
        """The function of the innermost frame where two stacks differ."""
        if number is None:
            return "(stack not read)"
        mine, theirs = self._stacks[number], self._stacks[other] if other is not None else ()
        for depth, frame in enumerate(mine):
            if depth >= len(theirs) or theirs[depth] != frame:
                return frame.function
        return mine[-1].function if mine else ""

    def runtime_count(self) -> int:
        return sum(1 for g in self.by_id.values() if g.is_runtime)

    def buckets(self, text: str = "", hide_runtime: bool = False) -> list[Bucket]:
        """Buckets, biggest first, of the goroutines that match the filter."""
        result = []
        for key, ids in self._members.items():
            sample = self.by_id[ids[0]]
            if hide_runtime and sample.is_runtime:
                continue
            for part_key, part_ids, via in self._split(key, ids):
                if text and not (_bucket_matches(sample, text) or self._stack_matches(part_ids[0], text.lower())):
                    # ids can still match one by one
                    part_ids = [i for i in part_ids if text in str(i)] if text.isdigit() else []
                    if not part_ids:
                        continue
                # Members in id order: two dlvs list from both ends of allgs.
                result.append(Bucket(part_key, tuple(sorted(part_ids)), sample.state, sample.location,
                                     self.crashing in part_ids, sample.is_runtime, via))
        result.sort(key=lambda b: (-b.count, b.ids[0]))
        return result

    def flat(self, text: str = "", hide_runtime: bool = False) -> list[Goroutine]:
        """Goroutines in id order that match the filter."""
        return [g for _, g in sorted(self.by_id.items())
                if not (hide_runtime and g.is_runtime)
                and (not text or matches(g, text) or self._stack_matches(g.id, text.lower()))]


def matches(goroutine: Goroutine, text: str) -> bool:
    """The `/` filter: a substring of the id, a function, a file or the wait reason."""
    if text.isdigit() and goroutine.id is not None and text in str(goroutine.id):
        return True
    return _bucket_matches(goroutine, text)


def _bucket_matches(goroutine: Goroutine, text: str) -> bool:
    needle = text.lower()
    if needle in goroutine.state.lower():
        return True
    for location in (goroutine.location, goroutine.go, goroutine.start):
        if location and (needle in location.function.lower() or needle in location.file.lower()):
            return True
    return False
