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
from ..model.table import COLUMNS, NONE, ColumnWaitRows, GoroutineTable, Interner, numbered
from ..model.waits import wait_row

_DTYPES = {"id": np.int64, "slot": np.int64, "status": np.int32, "wait_reason": np.int32, "wait_since": np.int64,
           "thread": np.int64, "parent": np.int64, "pc": np.uint64, "location": np.int32, "go": np.int32,
           "start": np.int32, "stack": np.int32, "unreadable_text": np.int32}


class Columns:
    """Every readable goroutine of an index, one row each in listing order."""

    def __init__(self) -> None:
        self.n = 0
        self._data = {name: np.empty(0, dtype=_DTYPES[name]) for name in COLUMNS}
        self.places = Interner()
        self.texts = Interner([""])
        self.stacks = Interner()  # whole stacks: tuple[Location, ...] -> stack number
        self.selected: int | None = None
        self._sorted_ids = np.zeros(0, dtype=np.int64)
        self._sorted_rows = np.zeros(0, dtype=np.int64)
        self._pending: dict[int, int] = {}  # stacks of goroutines not listed yet: id -> stack number
        self.generation = 0  # grows with every change: what is derived from the rows is kept until it does
        self._derived: dict[str, tuple[int, object]] = {}

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
        start = self.n
        self._grow(start + len(keep))
        for name in COLUMNS:
            self._data[name][start:start + len(keep)] = values[name]
        self.n = start + len(keep)
        if table.selected is not None:
            self.selected = table.selected
        self._index_rows(values["id"], start)
        self.generation += 1
        return values["id"]

    def _grow(self, size: int) -> None:
        capacity = len(self._data["id"])
        if size <= capacity:
            return
        capacity = max(size, 2 * capacity, 1024)
        for name in COLUMNS:
            column = np.empty(capacity, dtype=_DTYPES[name])
            column[:self.n] = self._data[name][:self.n]
            self._data[name] = column

    def _index_rows(self, ids: np.ndarray, start: int) -> None:
        order = np.argsort(ids, kind="stable")
        new_ids = ids[order]
        at = np.searchsorted(self._sorted_ids, new_ids)
        self._sorted_ids = np.insert(self._sorted_ids, at, new_ids)
        self._sorted_rows = np.insert(self._sorted_rows, at, order + start)

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
        for goroutine_id, number in zip(ids[~listed].tolist(), numbers[~listed].tolist()):
            self._pending[goroutine_id] = number
        self.generation += 1

    # Finding

    def rows(self, ids: np.ndarray) -> np.ndarray:
        """The row of each id, -1 for an id not listed."""
        ids = np.asarray(ids, dtype=np.int64)
        if not len(self._sorted_ids):
            return np.full(len(ids), -1, dtype=np.int64)
        at = np.searchsorted(self._sorted_ids, ids)
        at[at >= len(self._sorted_ids)] = 0
        return np.where(self._sorted_ids[at] == ids, self._sorted_rows[at], -1)

    def row(self, goroutine_id: int) -> int | None:
        at = int(np.searchsorted(self._sorted_ids, goroutine_id))
        if at < len(self._sorted_ids) and self._sorted_ids[at] == goroutine_id:
            return int(self._sorted_rows[at])
        return None

    def ids_in_order(self) -> np.ndarray:
        """Every id, smallest first."""
        return self._sorted_ids

    def rows_in_id_order(self) -> np.ndarray:
        return self._sorted_rows

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

    # Derived columns, kept until the rows change

    def derived(self, name, make):
        found = self._derived.get(name)
        if found is None or found[0] != self.generation:
            found = self._derived[name] = (self.generation, make())
        return found[1]

    def signatures(self) -> tuple[np.ndarray, list[int]]:
        """(each row's signature number, the first row of each signature):
        Goroutine.signature() (place, go statement, start, wait reason) as codes."""
        def make():
            return numbered(self["location"], self["go"], self["start"], self["wait_reason"])
        return self.derived("signatures", make)

    def states(self) -> tuple[np.ndarray, list[str]]:
        """(each row's Goroutine.state as a code, the states)."""
        def make():
            codes, firsts = numbered(self["unreadable_text"], self["wait_reason"], self["status"], self["thread"] != 0)
            return codes, [self.goroutine(row).state for row in firsts]
        return self.derived("states", make)

    def runtime_rows(self) -> np.ndarray:
        """A mask of the goroutines that are only in the runtime (Goroutine.is_runtime)."""
        def make():
            runtime = np.fromiter((is_runtime_function(p.function) for p in self.places.values), dtype=bool,
                                  count=len(self.places))
            location = self["location"]
            return (location == NONE) | runtime[np.maximum(location, 0)] if len(runtime) else location == NONE
        return self.derived("runtime", make)


    def stack_parts(self) -> tuple[np.ndarray, list[int], list[list[tuple[int, np.ndarray]]]]:
        """(each row's signature number, each signature's first row, and its
        parts by whole stack: [(stack number or -1, rows)], biggest first,
        ties in order of first appearance)."""
        signature, first = self.signatures()
        stack = self["stack"].astype(np.int64)
        pair, pair_first = numbered(signature, stack)
        order = np.argsort(pair, kind="stable")
        bounds = np.searchsorted(pair[order], np.arange(len(pair_first) + 1))
        by_signature: list[list[tuple[int, np.ndarray]]] = [[] for _ in first]
        for number, first_row in enumerate(pair_first):
            by_signature[int(signature[first_row])].append((int(stack[first_row]),
                                                            order[bounds[number]:bounds[number + 1]]))
        for members in by_signature:
            members.sort(key=lambda item: -len(item[1]))  # stable
        return signature, first, by_signature

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


def _remap(values: tuple, interner: Interner) -> np.ndarray:
    return np.fromiter((interner.code(value) for value in values), dtype=np.int32, count=len(values))


def _place(places: list[Location], code) -> Location | None:
    return None if code == NONE else places[code]
