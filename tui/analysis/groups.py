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
from .blocking import forever_line
from .waitview import Waits, label_filter, labels_match


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
    title: str = ""
    """For a bucket of goroutines waiting on one object: who waits how on
    what ("5 goroutines send to chan int results (2/2, full) in main.main;
    none receives"), shown instead of a place."""

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
        # What every goroutine waits on, once read (after the list).
        self.waits: Waits | None = None

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

    def bucket_key(self, goroutine_id: int, by_object: bool = False) -> tuple:
        """The key of the bucket a goroutine is in (to expand it)."""
        if by_object:
            return self._object_key(goroutine_id)
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
        labelled = label_filter(text)
        result = []
        for key, ids in self._members.items():
            sample = self.by_id[ids[0]]
            if hide_runtime and sample.is_runtime:
                continue
            for part_key, part_ids, via in self._split(key, ids):
                if labelled:
                    part_ids = [i for i in part_ids if self._labelled(i, labelled)]
                    if not part_ids:
                        continue
                elif text and not (_bucket_matches(sample, text) or self._stack_matches(part_ids[0], text.lower())):
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
                if not (hide_runtime and g.is_runtime) and self._matches(g, text)]

    def _matches(self, goroutine: Goroutine, text: str) -> bool:
        """The `/` filter on one goroutine: `key=value` tests its labels."""
        if not text:
            return True
        labelled = label_filter(text)
        if labelled:
            return self._labelled(goroutine.id, labelled)
        return matches(goroutine, text) or self._stack_matches(goroutine.id, text.lower())

    def why_none_match(self, text: str) -> str:
        """Why no goroutine matches the `/` filter, for a user who expected some."""
        labelled = label_filter(text)
        if labelled is None:
            return f"no goroutine's function, file, wait reason or id contains {text!r}"
        key, value = labelled
        if self.waits is None:
            return "labels are read from the core file, and this list came through dlv"
        values = sorted({labels[key] for labels in self.waits.reading.labels.values() if labels and key in labels})
        if not values:
            keys = sorted({k for labels in self.waits.reading.labels.values() if labels for k in labels})
            known = f" (labels here: {', '.join(keys)})" if keys else " (no goroutine has labels)"
            return f"no goroutine has the label {key!r}{known}"
        shown = ", ".join(values[:5]) + (", …" if len(values) > 5 else "")
        return f"label {key!r} is never {value!r} (it is {shown})"

    def _labelled(self, goroutine_id: int, test: tuple[str, str]) -> bool:
        return self.waits is not None and labels_match(self.waits.labels(goroutine_id), test)

    # -- by what they wait on (`w`) --------------------------------------------------

    def object_buckets(self, text: str = "", hide_runtime: bool = False) -> list[Bucket]:
        """One bucket per object goroutines wait on, biggest first (titled
        with who waits how on what); then those that wait on nothing that
        could end it; then the rest by state."""
        if self.waits is None:
            return []
        analysis = self.waits.analysis
        taken: set[int] = set()
        result = []

        def bucket(key: tuple, ids, state: str, title: str) -> None:
            members = [i for i in ids if i in self.by_id]
            taken.update(members)
            shown = [i for i in members if self._shown(self.by_id[i], text, hide_runtime)]
            if shown:
                result.append(Bucket(key, tuple(sorted(shown)), state, None, self.crashing in shown,
                                     all(self.by_id[i].is_runtime for i in shown), title=title))

        for blocking in analysis.objects:
            ids = dict.fromkeys(i for members in blocking.waiters.values() for i in members)
            bucket(("object", blocking.address), ids, blocking.kind, blocking.description)
        for detail, ids in analysis.forever.items():
            bucket(("forever", detail), ids, detail, forever_line(detail, len(ids)))
        rest: dict[str, list[int]] = {}
        for goroutine_id, goroutine in self.by_id.items():
            if goroutine_id not in taken:
                rest.setdefault(goroutine.state, []).append(goroutine_id)
        for state, ids in sorted(rest.items(), key=lambda item: -len(item[1])):
            bucket(("state", state), ids, state, f"{state}: waits on no object")
        return result

    def _shown(self, goroutine: Goroutine, text: str, hide_runtime: bool) -> bool:
        return not (hide_runtime and goroutine.is_runtime) and self._matches(goroutine, text)

    def _object_key(self, goroutine_id: int) -> tuple:
        """The key of the object bucket a goroutine is in (object_buckets' keys)."""
        waits = self.waits
        if waits is not None:
            for blocking in waits.analysis.objects:
                if any(goroutine_id in ids for ids in blocking.waiters.values()):
                    return ("object", blocking.address)
            for detail, ids in waits.analysis.forever.items():
                if goroutine_id in ids:
                    return ("forever", detail)
        return ("state", self.by_id[goroutine_id].state)


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
