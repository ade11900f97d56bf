"""Goroutines as columns: a million of them without a million objects.

A GoroutineTable holds what a page of Goroutines holds, one numpy array a
field, every row one goroutine; the places, texts and whole stacks its
rows name are in small tuples the columns index (a million goroutines
stand in a few hundred places). A Goroutine is made only for a row someone
looks at (goroutine(i)), and it equals the one a listing of objects gives.

    table = GoroutineTable.of(goroutines, stacks)    # from objects (dlv's list)
    table.goroutine(0)                               # row 0 as a Goroutine
    table.places[table.location[0]]                  # its place, from the columns

Imported when a table is first made: numpy stays off the first screen's
start-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator, Mapping, Sequence

import numpy as np

from . import Goroutine, GoroutineStack, Location
from .waits import Wait, WaitRow, WaitRows

# The code of "no place" / "no stack" in the code columns.
NONE = -1
# The column fields, in the dataclass's order.
COLUMNS = ("id", "slot", "status", "wait_reason", "wait_since", "thread", "parent", "pc", "location", "go", "start",
           "stack", "unreadable_text")


class Interner:
    """Codes for equal values, in the order first seen (a page's places,
    texts or stacks)."""

    def __init__(self, values: Iterable = ()) -> None:
        self.values: list = []
        self._codes: dict = {}
        for value in values:
            self.code(value)

    def code(self, value) -> int:
        found = self._codes.get(value)
        if found is None:
            found = self._codes[value] = len(self.values)
            self.values.append(value)
        return found

    def codes(self, values: Sequence) -> np.ndarray:
        """The code of each value: int32, None (a place not known) NONE."""
        return np.fromiter((NONE if value is None else self.code(value) for value in values), dtype=np.int32,
                           count=len(values))

    def __len__(self) -> int:
        return len(self.values)


@dataclass(frozen=True, eq=False)
class GoroutineTable:
    """Goroutine's fields as columns, row i every column's i-th value.

    id, slot (-1: not known), wait_since, thread, parent (0: none): int64;
    pc: uint64; status, wait_reason and unreadable_text (a goroutine a
    debugger could not read: Goroutine.unreadable): codes into texts; location, go,
    start: codes into places (NONE: None); stack: a code into stacks, the
    goroutine's whole stack innermost first (NONE: not read). selected:
    the id of the goroutine Goroutine.selected marks. unreadable: the gs
    that could not be read (Goroutine(id=None, unreadable=...)), apart.
    """

    id: np.ndarray
    slot: np.ndarray
    status: np.ndarray
    wait_reason: np.ndarray
    wait_since: np.ndarray
    thread: np.ndarray
    parent: np.ndarray
    pc: np.ndarray
    location: np.ndarray
    go: np.ndarray
    start: np.ndarray
    stack: np.ndarray
    unreadable_text: np.ndarray
    places: tuple[Location, ...] = ()
    texts: tuple[str, ...] = ("",)
    stacks: tuple[tuple[Location, ...], ...] = ()
    selected: int | None = None
    unreadable: tuple[Goroutine, ...] = ()

    def __len__(self) -> int:
        return len(self.id)

    @classmethod
    def of(cls, goroutines: Iterable[Goroutine], stacks: Iterable[GoroutineStack] = ()) -> "GoroutineTable":
        """The table of Goroutine objects (readable ones in rows, the others
        in unreadable), with the whole stacks known of them."""
        readable, unreadable = [], []
        for goroutine in goroutines:
            (unreadable if goroutine.id is None else readable).append(goroutine)
        places, texts, stack_codes = Interner(), Interner([""]), Interner()
        known = {goroutine_id: stack for goroutine_id, stack in stacks}
        selected = next((g.id for g in readable if g.selected), None)
        n = len(readable)

        def column(values, dtype) -> np.ndarray:
            return np.fromiter(values, dtype=dtype, count=n)

        return cls(
            id=column((g.id for g in readable), np.int64),
            slot=column((NONE if g.slot is None else g.slot for g in readable), np.int64),
            status=column((texts.code(g.status) for g in readable), np.int32),
            wait_reason=column((texts.code(g.wait_reason) for g in readable), np.int32),
            wait_since=column((g.wait_since or 0 for g in readable), np.int64),
            thread=column((g.thread or 0 for g in readable), np.int64),
            parent=column((g.parent or 0 for g in readable), np.int64),
            pc=column((g.pc for g in readable), np.uint64),
            location=places.codes([g.location for g in readable]),
            go=places.codes([g.go for g in readable]),
            start=places.codes([g.start for g in readable]),
            stack=stack_codes.codes([known.get(g.id) for g in readable]),
            unreadable_text=column((texts.code(g.unreadable) for g in readable), np.int32),
            places=tuple(places.values), texts=tuple(texts.values), stacks=tuple(stack_codes.values),
            selected=selected, unreadable=tuple(unreadable))

    def goroutine(self, row: int) -> Goroutine:
        """Row `row` as the Goroutine a listing of objects gives."""
        goroutine_id = int(self.id[row])
        slot = int(self.slot[row])
        return Goroutine(goroutine_id, self._place(self.location[row]), int(self.pc[row]),
                         self.texts[self.wait_reason[row]], int(self.wait_since[row]) or None,
                         int(self.thread[row]) or None, goroutine_id == self.selected,
                         self.texts[self.unreadable_text[row]],
                         self._place(self.go[row]), self._place(self.start[row]), self.texts[self.status[row]],
                         None if slot == NONE else slot, int(self.parent[row]) or None)

    def _place(self, code) -> Location | None:
        return None if code == NONE else self.places[code]

    def goroutines(self) -> Iterator[Goroutine]:
        """Every row as a Goroutine, then the unreadable ones."""
        for row in range(len(self)):
            yield self.goroutine(row)
        yield from self.unreadable

    def stack_of(self, row: int) -> tuple[Location, ...] | None:
        code = self.stack[row]
        return None if code == NONE else self.stacks[code]

    def with_rows(self, rows: dict[int, tuple[Goroutine, tuple[Location, ...] | None]]) -> "GoroutineTable":
        """A copy with some rows replaced by other goroutines (with an id)
        and stacks: the few a debugger completed."""
        if not rows:
            return self
        places, texts, stacks = Interner(self.places), Interner(self.texts), Interner(self.stacks)
        columns = {name: getattr(self, name).copy() for name in COLUMNS}
        for row, (g, stack) in rows.items():
            columns["id"][row] = g.id
            columns["slot"][row] = NONE if g.slot is None else g.slot
            columns["status"][row] = texts.code(g.status)
            columns["wait_reason"][row] = texts.code(g.wait_reason)
            columns["wait_since"][row] = g.wait_since or 0
            columns["thread"][row] = g.thread or 0
            columns["parent"][row] = g.parent or 0
            columns["pc"][row] = g.pc
            for name in ("location", "go", "start"):
                value = getattr(g, name)
                columns[name][row] = NONE if value is None else places.code(value)
            columns["stack"][row] = NONE if stack is None else stacks.code(stack)
            columns["unreadable_text"][row] = texts.code(g.unreadable)
        return GoroutineTable(**columns, places=tuple(places.values), texts=tuple(texts.values),
                              stacks=tuple(stacks.values), selected=self.selected, unreadable=self.unreadable)




class Ids(Sequence):
    """Goroutine ids kept in a numpy array, read as a sequence of ints (a
    group of a million goroutines holds 8 MB, not a million ints); equal to
    a tuple or list of the same ids."""

    __slots__ = ("array",)

    def __init__(self, array: np.ndarray) -> None:
        self.array = array

    def __len__(self) -> int:
        return len(self.array)

    def __getitem__(self, position):
        if isinstance(position, slice):
            return Ids(self.array[position])
        return int(self.array[position])

    def __iter__(self) -> Iterator[int]:
        return iter(self.array.tolist())

    def __contains__(self, goroutine_id: object) -> bool:
        return isinstance(goroutine_id, (int, np.integer)) and bool((self.array == goroutine_id).any())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Ids):
            return bool(np.array_equal(self.array, other.array))
        if isinstance(other, (tuple, list)):
            return len(other) == len(self.array) and self.array.tolist() == list(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((len(self.array), self[0] if len(self.array) else None, self[-1] if len(self.array) else None))

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        return self.array if dtype is None else self.array.astype(dtype)

    def __repr__(self) -> str:
        return f"Ids({self.array.tolist()!r})" if len(self.array) <= 8 else f"Ids(<{len(self.array)} ids>)"


class StacksById(Mapping):
    """The whole stacks of some tables' goroutines by id (a mapping of a
    million ids without a million-entry dict): of each table only the ids
    whose stack was read and their codes into one tuple of stacks are kept."""

    def __init__(self, tables: Iterable[GoroutineTable] = ()) -> None:
        self._interner = Interner()
        self.stacks: list[tuple[Location, ...]] = self._interner.values
        self._parts: list[tuple[np.ndarray, np.ndarray]] = []
        self._ids = np.zeros(0, dtype=np.int64)
        self._codes = np.zeros(0, dtype=np.int64)
        for table in tables:
            self.add(table)

    def add(self, table: GoroutineTable) -> None:
        remap = np.fromiter((self._interner.code(stack) for stack in table.stacks), dtype=np.int64,
                            count=len(table.stacks))
        known = table.stack >= 0
        self._parts.append((table.id[known], remap[table.stack[known]]))

    def _sorted(self) -> tuple[np.ndarray, np.ndarray]:
        if self._parts:
            ids = np.concatenate([self._ids] + [ids for ids, _ in self._parts])
            codes = np.concatenate([self._codes] + [codes for _, codes in self._parts])
            order = np.argsort(ids, kind="stable")
            self._ids, self._codes, self._parts = ids[order], codes[order], []
        return self._ids, self._codes

    @classmethod
    def of(cls, stacks: "Mapping[int, tuple[Location, ...]] | Iterable[GoroutineStack]") -> "StacksById":
        """From (id, stack) pairs or a mapping of them (a listing of objects)."""
        if isinstance(stacks, StacksById):
            return stacks
        found = cls()
        found.add_pairs(list(stacks.items() if isinstance(stacks, Mapping) else stacks))
        return found

    def add_pairs(self, pairs: Sequence[GoroutineStack]) -> None:
        ids = np.fromiter((goroutine_id for goroutine_id, _ in pairs), dtype=np.int64, count=len(pairs))
        codes = np.fromiter((self._interner.code(stack) for _, stack in pairs), dtype=np.int64, count=len(pairs))
        self._parts.append((ids, codes))

    def codes(self, ids: np.ndarray) -> np.ndarray:
        """Each id's stack as an index in self.stacks (-1: not read)."""
        ids = np.asarray(ids, dtype=np.int64)
        known, codes = self._sorted()
        if not len(known):
            return np.full(len(ids), -1, dtype=np.int64)
        at = np.searchsorted(known, ids)
        at[at >= len(known)] = 0
        return np.where(known[at] == ids, codes[at], -1)

    def __getitem__(self, goroutine_id: int) -> tuple[Location, ...]:
        known, codes = self._sorted()
        at = int(np.searchsorted(known, goroutine_id))
        if at < len(known) and known[at] == goroutine_id:
            return self.stacks[codes[at]]
        raise KeyError(goroutine_id)

    def __iter__(self) -> Iterator[int]:
        return iter(self._sorted()[0].tolist())

    def __len__(self) -> int:
        return len(self._sorted()[0])


class ColumnWaitRows(WaitRows):
    """WaitRows held as columns: the ids (sorted), each one's code into the
    distinct rows. A million waits are two arrays and a few rows."""

    __slots__ = ("_ids", "_codes", "_distinct")

    def __init__(self, ids: np.ndarray, codes: np.ndarray, distinct: Sequence[WaitRow]) -> None:
        order = np.argsort(ids, kind="stable")
        self._ids = np.asarray(ids, dtype=np.int64)[order]
        self._codes = np.asarray(codes, dtype=np.int32)[order]
        self._distinct = tuple(distinct)
        self._rows = None

    def _code(self, goroutine) -> int:
        if not isinstance(goroutine, (int, np.integer)):
            return -1
        at = int(np.searchsorted(self._ids, goroutine))
        if at < len(self._ids) and self._ids[at] == goroutine:
            return int(self._codes[at])
        return -1

    def __getitem__(self, goroutine: int) -> Wait:
        code = self._code(goroutine)
        if code < 0:
            raise KeyError(goroutine)
        return Wait(goroutine, *self._distinct[code])

    def __iter__(self):
        return iter(self._ids.tolist())

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, goroutine: object) -> bool:
        return self._code(goroutine) >= 0

    def kind(self, goroutine: int) -> str | None:
        row = self.row(goroutine)
        return row.kind if row is not None else None

    def row(self, goroutine: int) -> WaitRow | None:
        code = self._code(goroutine)
        return self._distinct[code] if code >= 0 else None

    def rows(self):
        distinct = self._distinct
        return ((goroutine, distinct[code]) for goroutine, code in zip(self._ids.tolist(), self._codes.tolist()))

    def distinct(self) -> list[WaitRow]:
        return list(self._distinct)

    def ids_where(self, wanted) -> list[int]:
        chosen = np.fromiter((bool(wanted(row)) for row in self._distinct), dtype=bool, count=len(self._distinct))
        if not len(chosen):
            return []
        return self._ids[chosen[self._codes]].tolist()

    def codes(self, ids: np.ndarray) -> np.ndarray:
        """Each id's code into distinct_rows (-1: it waits on nothing)."""
        ids = np.asarray(ids, dtype=np.int64)
        if not len(self._ids):
            return np.full(len(ids), -1, dtype=np.int64)
        at = np.searchsorted(self._ids, ids)
        at[at >= len(self._ids)] = 0
        return np.where(self._ids[at] == ids, self._codes[at], -1)

    @property
    def distinct_rows(self) -> tuple[WaitRow, ...]:
        return self._distinct


def factorize(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(code of each key, the distinct keys in order): equal keys get one
    code. Non-negative int64 keys in a small range are numbered through a
    lookup table (no sort); others by np.unique."""
    if keys.dtype.kind == "b":
        keys = keys.view(np.int8)
    if len(keys) and keys.dtype.kind in "iu":
        low, high = int(keys.min()), int(keys.max())
        if low >= 0 and high < _DENSE:
            seen = np.zeros(high + 1, dtype=bool)
            seen[keys] = True
            distinct = np.flatnonzero(seen)
            numbers = np.zeros(high + 1, dtype=np.int32)
            numbers[distinct] = np.arange(len(distinct))
            return numbers[keys].astype(np.int64), distinct
    distinct, inverse = np.unique(keys, return_inverse=True)
    return inverse.reshape(-1), distinct


# factorize() looks keys below this up in a table.
_DENSE = 1 << 22


def numbered(*columns: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """(a code for each row, the first row of each code): rows equal in
    every column share a code; codes are numbered in order of first
    appearance."""
    count = len(columns[0]) if columns else 0
    key = np.zeros(count, dtype=np.int64)
    span = 1  # key < span
    for column in columns:
        column = np.asarray(column)
        if column.dtype.kind == "b":
            column = column.view(np.int8)
        if count and column.dtype.kind in "iu":
            low, high = int(column.min()), int(column.max())
            # Small integers (codes, flags) go into the key as they are: one
            # factorize at the end instead of one a column.
            if high < 1 << 62 and span * (high - low + 1) < 1 << 62:
                key = key * (high - low + 1) + (column.astype(np.int64) - low)
                span *= high - low + 1
                continue
        codes, distinct = factorize(column)
        key, distinct_keys = factorize(key * len(distinct) + codes)
        span = len(distinct_keys)
    if not count:
        return key, []
    key, _ = factorize(key)
    first = np.full(int(key.max()) + 1, len(key), dtype=np.int64)
    np.minimum.at(first, key, np.arange(len(key)))
    order = np.argsort(first, kind="stable")
    renumber = np.empty(len(order), dtype=np.int64)
    renumber[order] = np.arange(len(order))
    return renumber[key], first[order].tolist()
