"""Types for heap objects, propagated from typed roots.

A root is a global or a frame's variable with its DWARF type. Reading a
value of type T at an address (a root, or an object of type T tiled every
T.size bytes) gives, for each of T's slots (gotypes.py), the object each
reference lands in and the type it must have there. The first typed path
to reach an object types it; the queue is breadth-first, so that is a
shortest one. Objects whose malloc header or largeType records their type
(Go 1.22+) keep it; they are visited like the others, and those no typed
path reaches are visited last, from their own type.

Work goes batch by batch: one batch is every object newly typed T along
one path, and each slot of T is read for the whole batch at once (numpy).
Self-referencing types (a list node's next, a tree's children) would take
one batch per element; for them the closure over those pointers is one
breadth-first search in C (scipy.sparse.csgraph) over the candidates of
the batch's size class.

Each object ends with a type id (TypeTable) or -1, and a path id: the
chain of types from its root, for the pprof stacks (Paths).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order

from ..arrays import CoreArrays
from ..errors import BadRead, Stopped, Unsupported
from ..runtime.types import RuntimeTypes
from .gotypes import CHANBUF, EFACE, FUNC, IFACE, NONE, PTR, SLICE, STRING, SWISS, TypeTable
from .objects import HeapObjects
from .roots import TypedRoot

MAX_PATH = 24
CLOSURE_CHUNK = 1 << 20
TILE_CHUNK = 1 << 20
ROOT_LABEL_HEADER = "(type from the allocation)"


@dataclass
class Paths:
    """Type paths from roots: path id -> (parent path or -1, type id, root label or "")."""

    parent: list[int] = field(default_factory=list)
    type: list[int] = field(default_factory=list)
    root: list[str] = field(default_factory=list)
    depth: list[int] = field(default_factory=list)
    _ids: dict[tuple, int] = field(default_factory=dict)

    def new_root(self, label: str, tid: int) -> int:
        return self._intern((-1, tid, label), -1, tid, label, 0)

    def extend(self, path: int, tid: int) -> int:
        if self.type[path] == tid or self.depth[path] >= MAX_PATH:
            return path
        return self._intern((path, tid, ""), path, tid, "", self.depth[path] + 1)

    def _intern(self, key, parent, tid, label, depth) -> int:
        found = self._ids.get(key)
        if found is None:
            found = self._ids[key] = len(self.parent)
            self.parent.append(parent)
            self.type.append(tid)
            self.root.append(label)
            self.depth.append(depth)
        return found

    def chain(self, path: int) -> tuple[list[int], str]:
        """(type ids innermost first, root label)."""
        types = []
        while path >= 0:
            types.append(self.type[path])
            label = self.root[path]
            path = self.parent[path]
        return types, label

    def __len__(self) -> int:
        return len(self.parent)


class Typer:
    def __init__(self, objects: HeapObjects, arrays: CoreArrays, table: TypeTable, types: RuntimeTypes,
                 function_name: Callable[[int], str | None], header_size: int, stop: Callable[[], bool] | None = None,
                 progress: Callable[[int], None] | None = None) -> None:
        self.objects, self.arrays, self.table, self.types = objects, arrays, table, types
        self.function_name = function_name
        self.stop = stop or (lambda: False)
        self.progress = progress or (lambda typed: None)
        n = len(objects)
        self.type_of = np.full(n, -1, dtype=np.int32)
        self.path_of = np.full(n, -1, dtype=np.int32)
        self.visited = np.zeros(n, dtype=bool)
        # Where a header-typed object's elements start (0 or 8 bytes in).
        self.skip = np.zeros(n, dtype=np.uint8)
        self.skip[objects.carriers[objects.carrier_header]] = header_size
        self.paths = Paths()
        self.queue: deque = deque()
        self.notes: list[str] = []
        self._header_tids: dict[int, int] = {}
        self.batches = 0
        self.typed = 0
        self._claim = np.zeros(n, dtype=np.int32)
        self._closure_done: set[tuple[int, int]] = set()
        carrying, carried = objects.carriers, objects.carried
        for address in np.unique(carried[carried != 0]):
            tid = self._type_from_header(int(address))
            rows = carrying[carried == address]
            if tid >= 0:
                # Room for several elements: an array of them (make([]T, n)).
                tiles = (objects.size[rows] - self.skip[rows].astype(np.uint64)) // np.uint64(max(types.size_of(int(address)), 1))
                self.type_of[rows] = np.where(tiles >= 2, table.array_of(tid), tid)

    def _type_from_header(self, address: int) -> int:
        found = self._header_tids.get(address)
        if found is None:
            try:
                found = self.table.from_runtime(address) if self.types.in_module(address) else -1
            except (Unsupported, BadRead) as err:
                self.notes.append(f"a malloc header's type at {address:#x} unreadable: {err}")
                found = -1
            self._header_tids[address] = found
        return found

    # Running

    def run(self, roots: tuple[TypedRoot, ...]) -> None:
        for root in roots:
            try:
                tid = self.table.from_die(root.die)
            except Unsupported as err:
                self.notes.append(f"{root.label}: type unreadable ({err})")
                continue
            if not self.table[tid].has_slots:
                continue
            path = self.paths.new_root(root.label, tid)
            self.queue.append((tid, path, np.asarray([root.address], dtype=np.uint64), None))
        self._drain()
        # Objects whose allocation recorded a type, that no typed path reached.
        pending = np.flatnonzero(~self.visited & (self.type_of >= 0))
        for tid in np.unique(self.type_of[pending]):
            rows = pending[self.type_of[pending] == tid]
            path = self.paths.new_root(ROOT_LABEL_HEADER, int(tid))
            self.visited[rows] = True
            self.path_of[rows] = path
            self.typed += len(rows)
            self.queue.append((int(tid), path, None, rows))
        self._drain()

    def finish(self) -> None:
        """Drop what only the typing needed (the result keeps type_of and path_of)."""
        self._claim = self.visited = self.skip = None
        self.queue.clear()

    def _drain(self) -> None:
        while self.queue:
            if self.stop():
                raise Stopped()
            tid, path, addresses, rows = self.queue.popleft()
            self.batches += 1
            self._batch(tid, path, addresses, rows)
            if self.batches % 64 == 0:
                self.progress(self.typed)
            # Each batch reads its objects wherever they are: drop the
            # core's pages it touched from our resident set.
            self.arrays.memory.release()

    # One batch

    def _tiles(self, tid: int, addresses: np.ndarray | None, rows: np.ndarray | None) -> np.ndarray:
        """The start of every element of type tid in the batch."""
        size = self.table[tid].size
        if rows is None:
            return addresses
        starts = self.objects.base[rows] + self.skip[rows].astype(np.uint64)
        count = ((self.objects.sizes(rows) - self.skip[rows].astype(np.uint64)) // np.uint64(size)).astype(np.int64)
        count = np.maximum(count, 1)
        if (count == 1).all():
            return starts
        ramp = np.arange(int(count.sum()), dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
        return np.repeat(starts, count) + ramp.astype(np.uint64) * np.uint64(size)

    def _batch(self, tid: int, path: int, addresses: np.ndarray | None, rows: np.ndarray | None) -> None:
        info = self.table[tid]
        if not info.slots:
            return
        if rows is not None and (PTR, tid) in info.slots:
            rows = self._closure(tid, path, rows, info.slots[(PTR, tid)])
        tiles = self._tiles(tid, addresses, rows)
        found_rows: list[np.ndarray] = []
        found_types: list[np.ndarray] = []
        for at in range(0, len(tiles), TILE_CHUNK):
            chunk = tiles[at:at + TILE_CHUNK]
            for (kind, target), offsets in info.slots.items():
                where = (chunk[:, None] + offsets.astype(np.uint64)[None, :]).reshape(-1)
                values = self.arrays.u64_or_zero(where)
                self._slot(kind, target, where, values, info, found_rows, found_types)
                if len(where) > 1 << 16:
                    self.arrays.memory.release()
        if found_rows:
            self._settle(path, np.concatenate(found_rows), np.concatenate(found_types))

    def _slot(self, kind: int, target: int, where: np.ndarray, values: np.ndarray, info, rows: list, types: list) -> None:
        nonzero = values != 0
        if not nonzero.any():
            return
        if kind in (PTR, SLICE, STRING, CHANBUF):
            self._land(values[nonzero], target, rows, types, exact=kind == CHANBUF)
        elif kind == FUNC:
            self._closures(values[nonzero], rows, types)
        elif kind in (EFACE, IFACE):
            self._interfaces(kind, where[nonzero], values[nonzero], rows, types)
        elif kind == SWISS and info.swiss is not None:
            delta, group, directory = info.swiss
            lengths = self.arrays.u64_or_zero(where[nonzero] + np.uint64(delta))
            pointers = values[nonzero]
            if group != NONE:
                self._land(pointers[lengths == 0], group, rows, types)
            self._land(pointers[lengths != 0], directory, rows, types)

    def _land(self, values: np.ndarray, target: int, rows: list, types: list, exact: bool = False) -> None:
        """References to a value of type target: the objects they land in."""
        if not len(values) or target == NONE:
            return
        index = self.objects.find(values)
        ok = index >= 0
        index = index[ok]
        offset = values[ok] - self.objects.base[index] - self.skip[index].astype(np.uint64)
        size = np.uint64(max(self.table[target].size, 1))
        good = (offset == 0) if exact else ((offset % size) == 0) & (offset < self.objects.sizes(index))
        # An object that already holds another type keeps it (the header's, or the first path's).
        rows.append(index[good].astype(np.int32))
        types.append(np.full(int(good.sum()), target, dtype=np.int32))

    def _closures(self, values: np.ndarray, rows: list, types: list) -> None:
        index = self.objects.find(values)
        index = index[index >= 0]
        if not len(index):
            return
        fns = self.arrays.u64_or_zero(self.objects.base[index])
        for fn in np.unique(fns):
            name = self.function_name(int(fn)) if fn else None
            if name is None:
                continue
            which = index[fns == fn]
            rows.append(which)
            types.append(np.full(len(which), self.table.closure(name), dtype=np.int32))

    def _interfaces(self, kind: int, where: np.ndarray, words: np.ndarray, rows: list, types: list) -> None:
        data = self.arrays.u64_or_zero(where + np.uint64(8))
        keep = data != 0
        where, words, data = where[keep], words[keep], data[keep]
        if not len(words):
            return
        if kind == IFACE:
            unique = np.unique(words)
            resolved = {}
            for itab in unique:
                try:
                    resolved[int(itab)] = self.types.itab_type(int(itab))
                except BadRead:
                    resolved[int(itab)] = 0
            words = np.asarray([resolved[int(w)] for w in unique], dtype=np.uint64)[np.searchsorted(unique, words)]
        for rtype in np.unique(words):
            if not rtype or not self.types.in_module(int(rtype)):
                continue
            try:
                rt = self.types.at(int(rtype))
                tid = self.table.from_runtime(int(rtype))
            except (Unsupported, BadRead):
                continue
            pointers = data[words == rtype]
            if rt.direct_iface:
                # The data word is the value: a pointer-shaped type's one slot at offset 0.
                for (slot_kind, target), offsets in self.table[tid].slots.items():
                    if len(offsets) and offsets[0] == 0 and slot_kind in (PTR, FUNC):
                        if slot_kind == PTR:
                            self._land(pointers, target, rows, types)
                        else:
                            self._closures(pointers, rows, types)
                        break
            elif rt.ptrdata or rt.size:
                self._land(pointers, tid, rows, types)

    def _settle(self, path: int, rows: np.ndarray, types: np.ndarray) -> None:
        """Type what these references reached (first come, first served) and queue it."""
        fresh = ~self.visited[rows]
        rows, types = rows[fresh], types[fresh]
        if not len(rows):
            return
        # One entry per object, without sorting: each row claims its slot
        # of a scratch array, and the entries that hold their claim stay.
        order = np.arange(len(rows), dtype=np.int32)
        self._claim[rows] = order
        keep = self._claim[rows] == order
        rows, types = rows[keep], types[keep]
        # An object with a recorded type keeps it.
        recorded = self.type_of[rows]
        types = np.where(recorded >= 0, recorded, types)
        self.type_of[rows] = types
        self.visited[rows] = True
        self.typed += len(rows)
        for tid in np.unique(types):
            which = rows[types == tid]
            child = self.paths.extend(path, int(tid))
            self.path_of[which] = child
            if self.table[int(tid)].has_slots:
                self.queue.append((int(tid), child, None, which))

    # Self-referencing types

    def _closure(self, tid: int, path: int, rows: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """rows, plus every object reached from them through tid's
        pointers to tid (a linked list's next), in one BFS."""
        objects = self.objects
        sizes = np.unique(objects.sizes(rows))
        spans = np.isin(objects.span_elemsize, sizes) & ~objects.span_noscan
        candidates = np.flatnonzero(spans[objects.span] & ~self.visited
                                    & ((self.type_of == -1) | (self.type_of == tid)))
        if not len(candidates):
            return rows
        member = np.zeros(len(objects), dtype=bool)
        member[candidates] = True
        member[rows] = True
        del candidates
        nodes = np.flatnonzero(member).astype(np.int32)
        del member
        node_of = np.full(len(objects), -1, dtype=np.int32)
        node_of[nodes] = np.arange(len(nodes), dtype=np.int32)
        # node -> node through each offset; nodes are read a slice at a
        # time, and the core's pages let go after each.
        sources, targets = [], []
        for offset in offsets:
            for at in range(0, len(nodes), CLOSURE_CHUNK):
                part = nodes[at:at + CLOSURE_CHUNK]
                starts = objects.base[part] + self.skip[part].astype(np.uint64)
                values = self.arrays.u64_or_zero(starts + np.uint64(int(offset)))
                del starts
                index = objects.find(values)
                ok = index >= 0
                ok[ok] &= values[ok] == objects.base[index[ok]] + self.skip[index[ok]].astype(np.uint64)
                position = node_of[index[ok]]
                inside = position >= 0
                sources.append((np.flatnonzero(ok)[inside] + at).astype(np.int32))
                targets.append(position[inside])
                self.arrays.memory.release()
        n = len(nodes)
        start = node_of[rows]
        del node_of
        source = np.concatenate(sources)
        if not len(source):
            return rows
        target = np.concatenate(targets)
        del sources, targets
        if len(offsets) > 1:
            order = np.argsort(source, kind="stable")
            source, target = source[order], target[order]
        # Rows by source; node n, a super-source, points at the batch.
        counts = np.bincount(source, minlength=n + 1)
        counts[n] = len(start)
        indptr = np.zeros(n + 2, dtype=np.int64 if len(source) + len(start) >= 2**31 else np.int32)
        np.cumsum(counts, out=indptr[1:])
        indices = np.concatenate((target, start.astype(np.int32)))
        del source, target, counts
        ones = np.broadcast_to(np.float64(1), (len(indices),))
        graph = csr_matrix((ones, indices, indptr), shape=(n + 1, n + 1))
        order = breadth_first_order(graph, n, directed=True, return_predecessors=False)
        reached = nodes[order[order < n]]
        new = reached[~self.visited[reached] & ~np.isin(reached, rows)]
        if len(new):
            self.type_of[new] = tid
            self.visited[new] = True
            self.path_of[new] = path
            self.typed += len(new)
        return np.concatenate((rows, new))
