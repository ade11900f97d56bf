"""The goroutine index's storage: every goroutine as growing numpy columns.

Pages (GoroutineTable, tui/model/table.py) are appended with their codes
moved into the index's own places, texts and stacks; a goroutine id finds
its row by binary search over a sorted copy of the ids. A Goroutine object
is made only for a row someone looks at.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

from ..model import Goroutine, Location, is_runtime_function
from ..model.table import COLUMNS, NONE, ColumnWaitRows, GoroutineTable, Ids, Interner, numbered
from ..model.waits import wait_row

# GoroutineTable's columns, then the codes kept beside them.
_DTYPES = {"id": np.int64, "slot": np.int32, "status": np.int16, "wait_reason": np.int16, "wait_since": np.int64,
           "thread": np.int32, "parent": np.int64, "pc": np.uint64, "location": np.int32, "go": np.int32,
           "start": np.int32, "stack": np.int32, "unreadable_text": np.int16,
           "signature": np.int32, "state": np.int16, "part": np.int32}


class Columns:
    """Every readable goroutine of an index, one row each in listing order.

    Beside Goroutine's fields, three codes are kept per row as pages come
    (a page's few distinct values interned, never a loop over its rows):
    its signature (Goroutine.signature(): place, go statement, start, wait
    reason), its state (Goroutine.state) and its part, the signature and
    whole stack together. Grouping a million goroutines is then counting
    codes."""

    def __init__(self) -> None:
        self.n = 0
        self._data = {name: np.empty(0, dtype=dtype) for name, dtype in _DTYPES.items()}
        self.places = Interner()
        self.texts = Interner([""])
        self.stacks = Interner()  # whole stacks: tuple[Location, ...] -> stack number
        self.selected: int | None = None
        # The codes' meanings, and the first row of each.
        self._signatures, self._signature_first = Interner(), []
        self._states, self._state_names = Interner(), []
        self._parts, self._part_first = Interner(), []
        self._runtime: list[bool] = []  # by place: only the runtime's (is_runtime_function)
        # The ids sorted, in runs (ids, rows): a page is a run of its own,
        # and runs of like size merge, so that adding a page never moves
        # every id before it, and a lookup searches a few runs.
        self._runs: list[tuple[np.ndarray, np.ndarray]] = []
        self._pending: dict[int, int] = {}  # stacks of goroutines not listed yet: id -> stack number
        self.generation = 0  # grows with every change: what is derived from the rows is kept until it does
        self._derived: dict[object, tuple[int, object]] = {}

    def __getitem__(self, name: str) -> np.ndarray:
        """A column, as long as the rows."""
        return self._data[name][:self.n]

    # Filling

    def append(self, table: GoroutineTable) -> np.ndarray:
        """Add a page's rows not seen before; returns their ids."""
        if not len(table):
            return np.zeros(0, dtype=np.int64)
        ids = table.id
        fresh = self.rows(ids) < 0
        _, first = np.unique(ids, return_index=True)
        once = np.zeros(len(ids), dtype=bool)
        once[first] = True
        keep = np.flatnonzero(fresh & once)
        if not len(keep):
            return np.zeros(0, dtype=np.int64)
        places = _remap(table.places, self.places)
        texts = _remap(table.texts, self.texts)
        stacks = _remap(table.stacks, self.stacks)
        values = {name: getattr(table, name)[keep] for name in COLUMNS}
        for name, remap in (("location", places), ("go", places), ("start", places), ("status", texts),
                            ("wait_reason", texts), ("unreadable_text", texts), ("stack", stacks)):
            codes = values[name]
            values[name] = np.where(codes >= 0, remap[np.maximum(codes, 0)], NONE).astype(np.int32) if len(remap) \
                else np.full(len(codes), NONE if name in ("location", "go", "start", "stack") else 0, dtype=np.int32)
        if self._pending:
            waiting = np.fromiter(self._pending, dtype=np.int64)
            for row in np.flatnonzero(np.isin(values["id"], waiting)).tolist():
                values["stack"][row] = self._pending.pop(int(values["id"][row]))
        self._runtime += [is_runtime_function(place.function) for place in self.places.values[len(self._runtime):]]
        start = self.n
        self._grow(start + len(keep))
        for name in COLUMNS:
            self._data[name][start:start + len(keep)] = values[name]
        self.n = start + len(keep)
        rows = np.arange(start, self.n)
        self._data["signature"][rows] = _interned(
            self._signatures, self._signature_first, rows,
            values["location"], values["go"], values["start"], values["wait_reason"])
        self._data["state"][rows] = self._state_codes(rows, values)
        self._data["part"][rows] = self._part_codes(rows)
        if table.selected is not None:
            self.selected = table.selected
        self._index_rows(values["id"], start)
        self.generation += 1
        return values["id"]

    def _state_codes(self, rows: np.ndarray, values: dict[str, np.ndarray]) -> np.ndarray:
        firsts: list[int] = []
        codes = _interned(self._states, firsts, rows, values["unreadable_text"], values["wait_reason"],
                          values["status"], values["thread"] != 0)
        self._state_names += [self.goroutine(row).state for row in firsts]
        return codes

    def _part_codes(self, rows: np.ndarray) -> np.ndarray:
        return _interned(self._parts, self._part_first, rows, self._data["signature"][rows], self._data["stack"][rows])

    def _grow(self, size: int) -> None:
        capacity = len(self._data["id"])
        if size <= capacity:
            return
        capacity = max(size, 2 * capacity, 1024)
        for name, dtype in _DTYPES.items():
            column = np.empty(capacity, dtype=dtype)
            column[:self.n] = self._data[name][:self.n]
            self._data[name] = column

    def _index_rows(self, ids: np.ndarray, start: int) -> None:
        order = np.argsort(ids, kind="stable")
        runs = self._runs
        runs.append((ids[order], order + start))
        while len(runs) > 1 and len(runs[-2][0]) <= 2 * len(runs[-1][0]):
            second, first = runs.pop(), runs.pop()
            runs.append(_merged(first, second))

    def _sorted(self) -> tuple[np.ndarray, np.ndarray]:
        """Every id, smallest first, and its row: the runs merged into one."""
        while len(self._runs) > 1:
            second, first = self._runs.pop(), self._runs.pop()
            self._runs.append(_merged(first, second))
        return self._runs[0] if self._runs else (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))

    def set_stacks(self, stacks: Iterable[tuple[int, tuple[Location, ...]]]) -> None:
        """Whole stacks by goroutine id; those of goroutines not listed yet wait for them."""
        pairs = [(goroutine_id, self.stacks.code(stack)) for goroutine_id, stack in stacks]
        if not pairs:
            return
        ids = np.fromiter((goroutine_id for goroutine_id, _ in pairs), dtype=np.int64, count=len(pairs))
        numbers = np.fromiter((number for _, number in pairs), dtype=np.int32, count=len(pairs))
        rows = self.rows(ids)
        listed = rows >= 0
        self._data["stack"][rows[listed]] = numbers[listed]
        changed = np.unique(rows[listed])
        self._data["part"][changed] = self._part_codes(changed)
        for goroutine_id, number in zip(ids[~listed].tolist(), numbers[~listed].tolist()):
            self._pending[goroutine_id] = number
        self.generation += 1

    # Finding

    def rows(self, ids: np.ndarray) -> np.ndarray:
        """The row of each id, -1 for an id not listed."""
        ids = np.asarray(ids, dtype=np.int64)
        found = np.full(len(ids), -1, dtype=np.int64)
        for run_ids, run_rows in self._runs:
            at = np.searchsorted(run_ids, ids)
            at[at >= len(run_ids)] = 0
            hit = run_ids[at] == ids
            found[hit] = run_rows[at[hit]]
        return found

    def row(self, goroutine_id: int) -> int | None:
        for run_ids, run_rows in self._runs:
            at = int(np.searchsorted(run_ids, goroutine_id))
            if at < len(run_ids) and run_ids[at] == goroutine_id:
                return int(run_rows[at])
        return None

    def rows_in_id_order(self) -> np.ndarray:
        """Every row, its goroutine's id smallest first."""
        return self._sorted()[1]

    def goroutine(self, row: int) -> Goroutine:
        data, places, texts = self._data, self.places.values, self.texts.values
        goroutine_id = int(data["id"][row])
        slot = int(data["slot"][row])
        return Goroutine(goroutine_id, _place(places, data["location"][row]), int(data["pc"][row]),
                         texts[data["wait_reason"][row]], int(data["wait_since"][row]) or None,
                         int(data["thread"][row]) or None, goroutine_id == self.selected,
                         texts[data["unreadable_text"][row]], _place(places, data["go"][row]),
                         _place(places, data["start"][row]), texts[data["status"][row]],
                         None if slot == NONE else slot, int(data["parent"][row]) or None)

    def stack(self, row: int) -> tuple[Location, ...] | None:
        number = int(self._data["stack"][row])
        return None if number == NONE else self.stacks.values[number]

    @property
    def pending_stacks(self) -> int:
        return len(self._pending)

    # What is derived from the rows, kept until they change

    def derived(self, name, make):
        found = self._derived.get(name)
        if found is None or found[0] != self.generation:
            found = self._derived[name] = (self.generation, make())
        return found[1]

    def signatures(self) -> tuple[np.ndarray, list[int]]:
        """(each row's signature number, the first row of each signature):
        Goroutine.signature() (place, go statement, start, wait reason) as
        codes, numbered in order of first appearance."""
        return self["signature"], self._signature_first

    def states(self) -> tuple[np.ndarray, list[str]]:
        """(each row's Goroutine.state as a code, the states)."""
        return self["state"], self._state_names

    def runtime_rows(self) -> np.ndarray:
        """A mask of the goroutines that are only in the runtime (Goroutine.is_runtime)."""
        def make():
            runtime = np.asarray(self._runtime, dtype=bool)
            location = self["location"]
            return (location == NONE) | runtime[location.clip(0)] if len(runtime) else location == NONE
        return self.derived("runtime", make)

    def stack_parts(self) -> tuple[np.ndarray, list[int], list[list[tuple[int, np.ndarray]]]]:
        """(each row's signature number, each signature's first row, and its
        parts by whole stack: [(stack number or -1, rows)], biggest first,
        ties in order of first appearance)."""
        def make():
            signature, first = self.signatures()
            part = self["part"]
            count = len(self._parts)
            order = np.argsort(part.astype(np.int16) if count < 1 << 15 else part, kind="stable")
            bounds = np.searchsorted(part[order], np.arange(count + 1))
            by_signature: list[list[tuple[int, np.ndarray]]] = [[] for _ in first]
            for code, (signature_code, stack) in enumerate(self._parts.values):
                if bounds[code + 1] > bounds[code]:
                    by_signature[signature_code].append((stack, order[bounds[code]:bounds[code + 1]]))
            for members in by_signature:
                members.sort(key=lambda item: -len(item[1]))  # stable: ties in order of first appearance
            return signature, first, by_signature
        return self.derived("parts", make)

    @staticmethod
    def numbered(*columns) -> tuple[np.ndarray, list[int]]:
        """model.table.numbered, for the index (which imports no numpy)."""
        return numbered(*columns)

    def wait_codes(self, waits) -> np.ndarray:
        """What each goroutine waits on (a WaitRows), as a code; -1: nothing."""
        ids = self["id"]
        if isinstance(waits, ColumnWaitRows):
            return waits.codes(ids)
        rows: dict = {}
        return np.fromiter((rows.setdefault(wait_row(waits, gid), len(rows)) for gid in ids.tolist()),
                           dtype=np.int64, count=len(ids))

    def label_codes(self, labels) -> np.ndarray:
        """Each goroutine's labels (id -> mapping, the goroutines that have
        some) as a code: goroutines inherit their creator's, one map for
        many; 0 for none."""
        codes = np.zeros(self.n, dtype=np.int64)
        maps: dict[int, int] = {}
        rows = self.rows(np.fromiter(labels, dtype=np.int64, count=len(labels)))
        for row, mapping in zip(rows.tolist(), labels.values()):
            if row >= 0 and mapping:
                codes[row] = maps.setdefault(id(mapping), len(maps) + 1)
        return codes

    @staticmethod
    def firsts(codes: np.ndarray) -> np.ndarray:
        """The position of the first of each distinct code."""
        return np.unique(codes, return_index=True)[1]

    def ids_of(self, rows: np.ndarray) -> Ids:
        """The ids of some rows, smallest first."""
        members = self["id"][rows]
        members.sort()
        return Ids(members)

    # Masks over the rows, for the index's filters (which import no numpy)

    def mask(self, value: bool) -> np.ndarray:
        return np.full(self.n, value, dtype=bool)

    @staticmethod
    def flags(values, predicate) -> np.ndarray:
        """predicate(v) for each of a small table's values (places, states, stacks)."""
        values = list(values)
        return np.fromiter((bool(predicate(value)) for value in values), dtype=bool, count=len(values))

    def coded(self, name: str, flags: np.ndarray) -> np.ndarray:
        """A mask of the rows whose code in column `name` is flagged (NONE never is)."""
        codes = self[name]
        if not len(flags):
            return self.mask(False)
        return (codes >= 0) & flags[codes.clip(0)]

    def ids_containing(self, digits: str) -> np.ndarray:
        """A mask of the rows whose id, written out, contains the digits."""
        return np.char.find(self["id"].astype(str), digits) >= 0

    def listed_rows(self, ids) -> np.ndarray:
        """The rows of those ids that are listed, each once, in row order."""
        rows = self.rows(np.fromiter(ids, dtype=np.int64))
        return np.unique(rows[rows >= 0])

    @staticmethod
    def rows_by_code(codes: np.ndarray, count: int) -> dict[int, np.ndarray]:
        """Positions in codes by code (those present)."""
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(count + 1))
        return {code: order[bounds[code]:bounds[code + 1]] for code in range(count) if bounds[code + 1] > bounds[code]}


def _interned(interner: Interner, firsts: list[int], rows: np.ndarray, *columns: np.ndarray) -> np.ndarray:
    """The code of each row's values (a tuple of the columns' values) in
    interner, a new tuple's first row appended to firsts: the page's
    distinct tuples (numbered) interned one by one."""
    local, first = numbered(*columns)
    codes = np.empty(len(first), dtype=np.int32)
    for number, at in enumerate(first):
        key = tuple(int(column[at]) for column in columns)
        known = len(interner)
        codes[number] = interner.code(key)
        if codes[number] == known:
            firsts.append(int(rows[at]))
    return codes[local]


def _merged(first: tuple[np.ndarray, np.ndarray], second: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, ...]:
    """Two sorted runs of (ids, rows) as one, in one pass (no sort)."""
    (ids_a, rows_a), (ids_b, rows_b) = first, second
    at = np.searchsorted(ids_a, ids_b, side="right") + np.arange(len(ids_b))
    size = len(ids_a) + len(ids_b)
    ids, rows = np.empty(size, dtype=ids_a.dtype), np.empty(size, dtype=rows_a.dtype)
    others = np.ones(len(ids), dtype=bool)
    others[at] = False
    ids[at], rows[at] = ids_b, rows_b
    ids[others], rows[others] = ids_a, rows_a
    return ids, rows


def _remap(values: tuple, interner: Interner) -> np.ndarray:
    return np.fromiter((interner.code(value) for value in values), dtype=np.int32, count=len(values))


def _place(places: list[Location], code) -> Location | None:
    return None if code == NONE else places[code]
