"""What fills a Go heap: the result of reading it from a core
(tui/corefile/heap), frozen, for the report, the pprof profile and the
Memory screen.

    reading.types[0]          -> TypeRow("main.Session", count=2_000_000, bytes=192_000_000, ...)
    reading.instances(0, 20)  -> the 20 biggest objects of that type, (address, size, reachable)
    reading.checks            -> each of our figures beside the runtime's own, and whether they agree
    reading.samples()         -> (stack of names from type to root, objects, bytes), for pprof

Counts are objects as the runtime allocates them: a slot of a span. Tiny
blocks (several noscan values under 16 B in one block) count as one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np


@dataclass(frozen=True, slots=True)
class RuntimeFigures:
    """What the runtime's own books say (None where not read)."""

    heap_alloc: int | None  # bytes of allocated objects (ReadMemStats.HeapAlloc at the crash)
    heap_objects: int | None  # ReadMemStats.HeapObjects
    heap_inuse: int | None  # bytes of in-use spans (HeapInuse)
    heap_live: int | None  # gcController.heapLive
    heap_marked: int | None  # bytes the last GC marked live
    num_gc: int | None
    span_objects: int | None = None  # the sum of every in-use span's allocCount (None: spans not read yet)
    memory_limit: int | None = None  # GOMEMLIMIT as the runtime holds it (None: not read or not set)


@dataclass(frozen=True, slots=True)
class HeapProgress:
    """How far a heap read got: objects read (or typed) of those in the heap."""

    stage: str  # "spans", "pointers", "roots", "reachability", "types", "done"
    done: int
    total: int

    @property
    def fraction(self) -> float | None:
        """0..1 while objects are counted (None: a stage without a count)."""
        return min(1.0, self.done / self.total) if self.total and self.stage in COUNTED_STAGES else None


# The stages whose done / total are objects (the progress bar's).
COUNTED_STAGES = ("pointers", "types", "done")


@dataclass(frozen=True, slots=True)
class Check:
    """One of our figures beside the runtime's."""

    what: str
    ours: int
    runtime: int | None
    agree: bool | None  # None: nothing to compare with

    @property
    def difference(self) -> int | None:
        return None if self.runtime is None else self.ours - self.runtime

    def describe(self) -> str:
        if self.runtime is None:
            return f"{self.what}: {self.ours:,} (the runtime's figure is not in this core)"
        if self.agree:
            return f"{self.what}: {self.ours:,}, as the runtime says"
        return f"{self.what}: {self.ours:,} counted, the runtime says {self.runtime:,} ({self.difference:+,})"


@dataclass(frozen=True, slots=True)
class TypeRow:
    name: str
    count: int  # reachable objects
    bytes: int
    garbage_count: int  # allocated, unreachable
    garbage_bytes: int
    typed: bool  # False: the size class of objects no typed path reached
    # The DWARF type of one element (a DIE offset: Layouts.type_at reads an
    # instance as a Go value with it); None for runtime-only and synthetic rows.
    die: int | None = None
    # What all its instances retain together (an instance inside another's
    # retained set counts once): bytes freed if no instance were referenced.
    retained: int = 0

    @property
    def average(self) -> float:
        return self.bytes / self.count if self.count else 0.0


@dataclass(frozen=True, slots=True)
class RootRow:
    """Where the heap is held from, and what it alone keeps alive."""

    label: str  # "main.registry", "goroutine 18", "goroutine 18 main.(*Batcher).run: pending", "(runtime)"
    kind: str  # "global" | "goroutine" | "runtime"
    node: int  # its node in HeapReading's per-node arrays
    retained: int  # bytes only it keeps alive
    goroutine: int | None = None
    function: str = ""  # a frame's function ("" for a goroutine's row itself, a global)
    variable: str = ""  # a global's or a frame's variable
    type: str = ""  # the variable's Go type, where known

    @property
    def whole_goroutine(self) -> bool:
        """The row of a goroutine itself (its frames' rows sum into it)."""
        return self.kind == "goroutine" and not self.function and self.label == f"goroutine {self.goroutine}"


@dataclass(frozen=True, slots=True)
class Accumulation:
    """Where a suspect's memory piles up: the collection whose elements hold most of it."""

    kind: str  # "map", "slice", "channel buffer", "linked list", "object"
    type: str  # the collection's type
    count: int  # its elements (a list's length)
    element: str  # the elements' type
    element_retained: int  # what the elements retain together
    node: int  # the collection's node (a list's head)


@dataclass(frozen=True, slots=True)
class Suspect:
    """A root or object that alone keeps a big share of the heap alive."""

    label: str  # the root's label, or the object's type and address
    node: int
    retained: int
    share: float  # of the reachable bytes
    accumulation: Accumulation | None
    path: tuple[str, ...] = ()  # from the root to the collection, hop by hop (paths.py)


@dataclass(frozen=True, eq=False)
class HeapReading:
    runtime: RuntimeFigures
    objects: int
    bytes: int
    reachable_objects: int
    reachable_bytes: int
    unreachable_objects: int
    unreachable_bytes: int
    typed_objects: int  # reachable, with a type
    typed_bytes: int
    tiny_blocks: int
    spans: int
    types: tuple[TypeRow, ...]  # every type with an object; by reachable bytes, biggest first
    checks: tuple[Check, ...]
    notes: tuple[str, ...]
    elapsed_s: float
    stages: tuple[tuple[str, float], ...]  # seconds per stage
    # Per object, sorted by address: for instances and samples.
    address: np.ndarray = field(repr=False, default=None)
    size: np.ndarray = field(repr=False, default=None)
    row: np.ndarray = field(repr=False, default=None)  # index into types
    reachable: np.ndarray = field(repr=False, default=None)
    path: np.ndarray = field(repr=False, default=None)  # type path id, -1 for none
    # Type paths: (parent path or -1, type name, root label or "")
    paths: tuple[tuple[int, str, str], ...] = field(repr=False, default=())
    # Per node of the object graph: the objects (0 .. objects-1, as above),
    # then the roots' nodes (roots[i].node), the root of all last.
    idom: np.ndarray = field(repr=False, default=None)  # int32: immediate dominator (-1: unreached, the root)
    retained: np.ndarray = field(repr=False, default=None)  # int64: own bytes and all it dominates
    parent: np.ndarray = field(repr=False, default=None)  # int32: on a shortest path from the roots (-1: none)
    roots: tuple[RootRow, ...] = ()
    suspects: tuple[Suspect, ...] = ()
    # Per object, its path of types down the dominator tree from its root
    # (the --heap-pprof stacks): an id into dominator_paths, (parent or -1, name).
    dominator_path: np.ndarray = field(repr=False, default=None)
    dominator_paths: tuple[tuple[int, str], ...] = field(repr=False, default=())
    # (bytes of a malloc header, the size above which small objects with
    # pointers have one): (8, 512) on Go 1.22+, (0, 0) before.
    malloc_header: tuple[int, int] = (0, 0)

    @property
    def mismatches(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.agree is False)

    @property
    def typed_share(self) -> float:
        return self.typed_bytes / self.reachable_bytes if self.reachable_bytes else 0.0

    @property
    def object_nodes(self) -> int:
        """Nodes below this are objects (the per-object arrays' length); the roots' nodes follow."""
        return len(self.address) if self.address is not None else 0

    @property
    def root_node(self) -> int:
        """The node standing for all roots (the dominator tree's root)."""
        return len(self.idom) - 1 if self.idom is not None else -1

    def root_of_node(self, node: int) -> RootRow | None:
        if node < self.object_nodes:
            return None
        return next((root for root in self.roots if root.node == node), None)

    def row_of(self, name: str) -> int | None:
        return next((i for i, row in enumerate(self.types) if row.name == name), None)

    def instances(self, row: int, limit: int = 50, garbage: bool | None = None) -> list[tuple[int, int, bool]]:
        """(address, size, reachable) of the biggest objects of types[row]."""
        mask = self.row == row
        if garbage is not None:
            mask &= ~self.reachable if garbage else self.reachable
        which = np.flatnonzero(mask)
        sizes = self.size[which].astype(np.int64)
        if len(which) > limit:  # the biggest `limit`, without sorting them all
            top = np.argpartition(-sizes, limit - 1)[:limit]
            which, sizes = which[top], sizes[top]
        which = which[np.lexsort((which, -sizes))[:limit]]
        return [(int(a), int(s), bool(r)) for a, s, r in zip(self.address[which], self.size[which],
                                                            self.reachable[which])]

    def stack(self, path: int) -> tuple[str, ...]:
        """Type names from an object's type to its root, the root label last."""
        names: list[str] = []
        label = ""
        while path >= 0:
            parent, name, root = self.paths[path]
            if not names or names[-1] != name:
                names.append(name)
            label = root or label
            path = parent
        return tuple(names) + ((label,) if label else ())

    def samples(self, reachable_only: bool = True) -> list[tuple[tuple[str, ...], int, int]]:
        """(stack, objects, bytes) per type and path, biggest first: the
        stack is the object's type, the types that led to it, its root."""
        mask = self.reachable if reachable_only else np.ones(len(self.row), dtype=bool)
        rows = self.row[mask].astype(np.int64)
        paths = self.path[mask].astype(np.int64)
        key = rows * (len(self.paths) + 1) + (paths + 1)
        unique, inverse = np.unique(key, return_inverse=True)
        counts = np.bincount(inverse)
        sizes = np.bincount(inverse, weights=self.size[mask].astype(np.float64))
        out = []
        for k, count, total in zip(unique.tolist(), counts.tolist(), sizes.tolist()):
            row, path = divmod(k, len(self.paths) + 1)
            path -= 1
            if path >= 0:
                stack = self.stack(path)
                if not stack or stack[0] != self.types[row].name:
                    stack = (self.types[row].name,) + stack
            else:
                stack = (self.types[row].name,)
            out.append((stack, count, int(total)))
        out.sort(key=lambda item: -item[2])
        return out

    def dominator_samples(self) -> list[tuple[tuple[str, ...], int, int]]:
        """(stack, objects, bytes) per type and path down the dominator tree,
        biggest first: the stack is the object's type, the types that
        dominate it, its root; a frame's cumulative bytes are what that path
        retains."""
        paths = self.dominator_paths
        mask = np.asarray(self.reachable)
        ids = np.asarray(self.dominator_path)[mask].astype(np.int64)
        unique, inverse = np.unique(ids, return_inverse=True)
        counts = np.bincount(inverse)
        sizes = np.bincount(inverse, weights=np.asarray(self.size)[mask].astype(np.float64))
        out = []
        for path, count, total in zip(unique.tolist(), counts.tolist(), sizes.tolist()):
            stack = []
            while path >= 0:
                parent, name = paths[path]
                stack.append(name)
                path = parent
            out.append((tuple(stack) or ("(roots)",), count, int(total)))
        out.sort(key=lambda item: -item[2])
        return out

    def summary(self) -> dict[str, Any]:
        return {"objects": self.objects, "bytes": self.bytes, "reachable_objects": self.reachable_objects,
                "reachable_bytes": self.reachable_bytes, "typed_bytes": self.typed_bytes}


class HeapState(str, Enum):
    NOT_READ = "not read"  # not started (a recording, no core file: never)
    READING = "reading"
    READ = "read"
    STOPPED = "stopped"  # the user stopped it
    FAILED = "failed"  # the heap could not be read: `failure` says why


@dataclass(frozen=True)
class HeapStatus:
    """Where the heap stands, for the summary line and the Memory screen:
    the runtime's own figures (read at once), how far our read got, and
    the reading once done."""

    state: HeapState = HeapState.NOT_READ
    figures: RuntimeFigures | None = None
    progress: HeapProgress | None = None
    reading: HeapReading | None = None
    failure: str = ""
    available: bool = True  # False: no core file to read (a recording)
