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
from typing import TYPE_CHECKING, Iterable, Iterator, Mapping, Sequence

from ..model import Goroutine, Location
from .blocking import forever_line
from .waitview import Waits, label_filter, labels_match

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class Bucket:
    """Goroutines sharing Goroutine.signature(), biggest first.

    ids keeps every member, smallest first (nothing is capped: an Ids of the
    index, or a tuple); crashing says the crashing goroutine is among them.
    """

    key: tuple
    ids: Sequence[int]
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

    Held as columns (columns.py: one row a goroutine, its places, wait
    reason and stack as codes), so that a million goroutines are a few
    arrays; by_id makes the Goroutine of an id when asked. Buckets,
    filters and counts are computed over the columns.
    """

    def __init__(self, crashing: int | None = None) -> None:
        self.crashing = crashing
        # Which functions are the program's own (owncode.OwnCode; None: not
        # known yet): a goroutine's row shows its innermost own frame.
        self.own = None
        self._own_places: dict[int, Location | None] = {}  # by stack number
        self.unreadable: list[Goroutine] = []
        self._columns = None
        self.by_id = GoroutinesById(self)
        # What every goroutine waits on, once read (after the list).
        self.waits: Waits | None = None

    @property
    def columns(self):
        """The storage (columns.py), made at the first page: numpy is
        imported then, not on the first screen's path."""
        if self._columns is None:
            from .columns import Columns

            self._columns = Columns()
        return self._columns

    def __len__(self) -> int:
        return (self._columns.n if self._columns is not None else 0) + len(self.unreadable)

    def add(self, goroutines: Iterable[Goroutine]) -> list[Goroutine]:
        """Index a page; returns the goroutines not seen before (a listing
        restarted with a new dlv pages through the known ones again)."""
        from ..model.table import GoroutineTable

        goroutines = list(goroutines)
        added = set(self.add_table(GoroutineTable.of(goroutines)).tolist())
        fresh = []
        for goroutine in goroutines:
            if goroutine.id is not None and goroutine.id in added:
                added.discard(goroutine.id)
                fresh.append(goroutine)
        return fresh

    def add_table(self, table) -> "np.ndarray":
        """Index a page of goroutines as columns (GoroutineTable); returns
        the ids not seen before."""
        self.unreadable.extend(table.unreadable)
        return self.columns.append(table)

    def add_stacks(self, stacks: Iterable[tuple[int, tuple[Location, ...]]]) -> None:
        """Record whole stacks (id, frames innermost first); equal stacks are stored once."""
        # Stacks may come before their goroutines are listed (a second dlv
        # reads them beside the list): they wait for them.
        self.columns.set_stacks(stacks)

    def _row(self, goroutine_id: int) -> int | None:
        return self._columns.row(goroutine_id) if self._columns is not None else None

    def stack_of(self, goroutine_id: int) -> tuple[Location, ...] | None:
        """The goroutine's whole stack, innermost first, once read."""
        row = self._row(goroutine_id)
        return self._columns.stack(row) if row is not None else None

    def _stack_number(self, goroutine_id: int) -> int | None:
        row = self._row(goroutine_id)
        if row is None:
            return None
        number = int(self._columns["stack"][row])
        return None if number < 0 else number

    def own_place(self, goroutine_id: int) -> Location | None:
        """The innermost frame of the program's own code in the goroutine's
        whole stack, once read; None when unknown or when there is none."""
        number = self._stack_number(goroutine_id)
        if number is None or self.own is None:
            return None
        if number not in self._own_places:
            stack = self._columns.stacks.values[number]
            self._own_places[number] = next((f for f in stack if self.own(f.function, f.file)), None)
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
        if self._columns is None:
            return {}
        columns = self._columns
        known = (columns["stack"] >= 0).nonzero()[0]
        stacks = columns.stacks.values
        return {goroutine_id: stacks[number]
                for goroutine_id, number in zip(columns["id"][known].tolist(), columns["stack"][known].tolist())}

    @property
    def stacks_known(self) -> int:
        if self._columns is None:
            return 0
        return int((self._columns["stack"] >= 0).sum()) + self._columns.pending_stacks

    def bucket_key(self, goroutine_id: int, by_object: bool = False) -> tuple:
        """The key of the bucket a goroutine is in (to expand it)."""
        if by_object:
            return self._object_key(goroutine_id)
        row = self._row(goroutine_id)
        parts = self._parts()
        signature = int(parts.signature[row])
        key = parts.keys[signature]
        if parts.parts_of[signature] <= 1:
            return key
        number = int(self._columns["stack"][row])
        return key, None if number < 0 else number

    def _parts(self) -> "_Parts":
        """The signatures and their parts by whole stack (kept until the rows change)."""
        columns = self.columns
        return columns.derived("parts", lambda: _Parts.of(columns))

    def _parting(self, number: int | None, other: int | None) -> str:
        """The function of the innermost frame where two stacks differ."""
        if number is None:
            return "(stack not read)"
        stacks = self._columns.stacks.values
        mine, theirs = stacks[number], stacks[other] if other is not None else ()
        for depth, frame in enumerate(mine):
            if depth >= len(theirs) or theirs[depth] != frame:
                return frame.function
        return mine[-1].function if mine else ""

    def alike(self) -> tuple["np.ndarray", "np.ndarray", list[int]]:
        """(every id in listing order, a code per goroutine, a sample id per
        code): goroutines share a code when everything a row or a report
        item shows of them but their id is the same: state, place, whole
        stack, thread, go statement, creator, whether it is goroutine 1 or
        the crashing one, what it waits on and since when, its labels.
        Kept until the rows or the waits change."""
        columns = self.columns
        waits = self.waits.reading if self.waits is not None else None
        key = ("alike", id(waits))

        def make():
            ids = columns["id"]
            states, _ = columns.states()
            extra = () if waits is None else (columns.wait_codes(waits.waits), columns.label_codes(waits.labels))
            codes, firsts = columns.numbered(states, columns["location"], columns["stack"], columns["thread"],
                                             columns["go"], columns["parent"], ids == 1,
                                             ids == (self.crashing if self.crashing is not None else -1), *extra)
            return ids, codes, ids[firsts].tolist()
        return columns.derived(key, make)

    def representatives(self, goroutine_ids: Iterable[int]) -> list[int]:
        """One of the goroutines given for each way they look (alike())."""
        _, codes, _ = self.alike()
        rows = self.columns.listed_rows(goroutine_ids)
        return self.columns["id"][rows[self.columns.firsts(codes[rows])]].tolist()

    def runtime_count(self) -> int:
        if self._columns is None:
            return 0
        return int(self._columns.runtime_rows().sum())

    def buckets(self, text: str = "", hide_runtime: bool = False) -> list[Bucket]:
        """Buckets, biggest first, of the goroutines that match the filter."""
        if self._columns is None or not self._columns.n:
            return []
        columns = self._columns
        parts = self._parts()
        labelled = label_filter(text)
        keep = self._labelled_rows(labelled) if labelled else None
        digits = self._id_rows(text) if text.isdigit() else None
        needle = text.lower()
        states = columns.states()
        runtime = columns.runtime_rows()
        result = []
        for signature, key in enumerate(parts.keys):
            sample_row = parts.first[signature]
            if hide_runtime and runtime[sample_row]:
                continue
            sample = columns.goroutine(sample_row)
            for part in parts.parts[signature]:
                rows = part.rows
                if keep is not None:
                    rows = rows[keep[rows]]
                elif text and not (_bucket_matches(sample, text) or self._stack_matches(part.number, needle)):
                    # ids can still match one by one
                    rows = rows[digits[rows]] if digits is not None else rows[:0]
                if not len(rows):
                    continue
                members = columns.ids_of(rows)
                via = "" if len(parts.parts[signature]) == 1 else self._parting(part.number, part.other)
                result.append(Bucket(key if len(parts.parts[signature]) == 1 else (key, part.number),
                                     members, states[1][states[0][sample_row]], sample.location,
                                     self.crashing in members, bool(runtime[sample_row]), via))
        result.sort(key=lambda b: (-b.count, b.ids[0]))
        return result

    def flat(self, text: str = "", hide_runtime: bool = False) -> list[Goroutine]:
        """Goroutines in id order that match the filter."""
        return [self.by_id[goroutine_id] for goroutine_id in self.flat_ids(text, hide_runtime)]

    def flat_ids(self, text: str = "", hide_runtime: bool = False) -> list[int]:
        """The ids of flat(), without making their Goroutines."""
        if self._columns is None:
            return []
        rows = self._columns.rows_in_id_order()
        shown = self._shown_rows(text, hide_runtime)
        return self._columns["id"][rows[shown[rows]]].tolist()

    def _shown_rows(self, text: str, hide_runtime: bool) -> np.ndarray:
        """A mask over the rows: the goroutine matches the filter and is not hidden."""
        columns = self.columns
        shown = columns.mask(True)
        if hide_runtime:
            shown &= ~columns.runtime_rows()
        if text:
            shown &= self._matching_rows(text)
        return shown

    def _matching_rows(self, text: str) -> np.ndarray:
        """The `/` filter over the rows: `key=value` tests labels; else the
        state, a place's function or file, a frame of the whole stack, or
        (digits) the id."""
        labelled = label_filter(text)
        if labelled:
            return self._labelled_rows(labelled)
        columns = self.columns
        needle = text.lower()
        states, words = columns.states()
        found = columns.flags(words, lambda word: needle in word.lower())[states]
        for name in ("location", "go", "start"):
            found |= columns.coded(name, columns.flags(
                columns.places.values, lambda place: needle in place.function.lower() or needle in place.file.lower()))
        found |= columns.coded("stack", columns.flags(
            range(len(columns.stacks)), lambda number: self._stack_matches(number, needle)))
        if text.isdigit():
            found |= self._id_rows(text)
        return found

    def _id_rows(self, digits: str) -> np.ndarray:
        """A mask of the rows whose id contains the digits."""
        return self.columns.ids_containing(digits)

    def _stack_matches(self, number: int | None, needle: str) -> bool:
        """Whether any frame of a whole stack (once read) names `needle`."""
        return number is not None and number >= 0 and any(
            needle in frame.function.lower() or needle in frame.file.lower()
            for frame in self._columns.stacks.values[number])

    def _labelled_rows(self, test: tuple[str, str]) -> np.ndarray:
        """A mask of the rows whose goroutine has the label."""
        columns = self.columns
        found = columns.mask(False)
        if self.waits is None:
            return found
        found[columns.listed_rows(goroutine_id for goroutine_id, labels in self.waits.reading.labels.items()
                                  if labels_match(labels, test))] = True
        return found

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

    # -- by what they wait on (`w`) --------------------------------------------------

    def object_buckets(self, text: str = "", hide_runtime: bool = False) -> list[Bucket]:
        """One bucket per object goroutines wait on, biggest first (titled
        with who waits how on what); then those that wait on nothing that
        could end it; then the rest by state."""
        if self.waits is None or self._columns is None:
            return []
        columns = self._columns
        analysis = self.waits.analysis
        taken = columns.mask(False)
        shown = self._shown_rows(text, hide_runtime)
        runtime = columns.runtime_rows()
        result = []

        def bucket(key: tuple, rows: np.ndarray, state: str, title: str) -> None:
            taken[rows] = True
            rows = rows[shown[rows]]
            if len(rows):
                members = columns.ids_of(rows)
                result.append(Bucket(key, members, state, None, self.crashing in members,
                                     bool(runtime[rows].all()), title=title))

        for blocking in analysis.objects:
            members = [i for ids_ in blocking.waiters.values() for i in ids_]
            bucket(("object", blocking.address), columns.listed_rows(members), blocking.kind, blocking.description)
        for detail, members in analysis.forever.items():
            bucket(("forever", detail), columns.listed_rows(members), detail, forever_line(detail, len(members)))
        codes, states = columns.states()
        rest = (~taken).nonzero()[0]
        by_state = columns.rows_by_code(codes[rest], len(states))
        for code in sorted(by_state, key=lambda c: -len(by_state[c])):
            state = states[code]
            bucket(("state", state), rest[by_state[code]], state, f"{state}: waits on no object")
        return result

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


class GoroutinesById(Mapping):
    """An index's goroutines by id, each made when asked (listing order)."""

    def __init__(self, index: GoroutineIndex) -> None:
        self._index = index

    def __getitem__(self, goroutine_id: int) -> Goroutine:
        row = self._index._row(goroutine_id) if isinstance(goroutine_id, int) else None
        if row is None:
            raise KeyError(goroutine_id)
        return self._index.columns.goroutine(row)

    def __contains__(self, goroutine_id: object) -> bool:
        return isinstance(goroutine_id, int) and self._index._row(goroutine_id) is not None

    def __iter__(self) -> Iterator[int]:
        columns = self._index._columns
        return iter(columns["id"].tolist() if columns is not None else ())

    def __len__(self) -> int:
        columns = self._index._columns
        return columns.n if columns is not None else 0


@dataclass(frozen=True)
class _Part:
    """Some goroutines of one signature that share a whole stack: their
    rows, the stack's number (None: not read) and the number of the
    sibling its `via` compares with."""

    rows: "np.ndarray"
    number: int | None
    other: int | None


@dataclass(frozen=True)
class _Parts:
    """Every signature (Goroutine.signature()) of an index's rows, in order
    of first appearance: its key, first row, and parts by whole stack
    (one part while its stacks agree or are unknown), biggest first."""

    signature: "np.ndarray"
    keys: list[tuple]
    first: list[int]
    parts: list[list[_Part]]
    parts_of: list[int]

    @classmethod
    def of(cls, columns) -> "_Parts":
        signature, first, by_stack = columns.stack_parts()
        keys = [columns.goroutine(row).signature() for row in first]
        parts = []
        for members in by_stack:
            numbers = [None if number < 0 else number for number, _ in members]
            if len(members) <= 1:
                parts.append([_Part(rows, numbers[0], None) for _, rows in members])
                continue
            parts.append([_Part(rows, numbers[rank], numbers[1 if rank == 0 else 0])
                          for rank, (_, rows) in enumerate(members)])
        return cls(signature, keys, first, parts, [len(p) for p in parts])


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
