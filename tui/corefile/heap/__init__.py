"""What fills the heap of a Go core, by type, reconciled with the runtime's
own counts. Pure: the core file and the executable, no debugger.

    native = NativeCore.open("main", "core")
    reading = read_heap(native, progress=on_progress, stop=asked_to_stop)
    reading.types[:10], reading.checks, reading.instances(0)

read_heap runs for seconds on a big heap: call it on a worker thread
(Textual: `@work(thread=True)`, with stop=lambda: worker.is_cancelled and
progress posting a message: the Memory screen's progress bar is
HeapProgress.done / total while stage is "pointers" or "types"). It
calls progress(HeapProgress) between steps and every few thousand spans
(stage, done, total: objects read / objects in the heap while scanning,
objects typed while typing), and stop() as often; stop() returning True
ends it with Stopped. It raises Unsupported (one line: what, and why) for
a heap this reader does not model or a corrupt span, never a guess; what
it could read but not fully (a type it could not decode, a stack not in
the core) is in reading.notes.

How (each step numpy over whole arrays, the traversals in C):
1. spans and objects (runtime/mheap.py, objects.py);
2. pointer words per Go release, to an edge list (objects.py);
3. roots: module bitmaps, stacks, tiny blocks, typed globals and locals (roots.py);
4. reachability: one breadth-first search (scipy.sparse.csgraph) from all
   roots (a node per global, goroutine and frame), and the dominator tree
   with every object's retained size (dominators.py);
5. types from typed roots and allocation headers (typing.py, gotypes.py);
6. the runtime's own figures (runtime/memstats.py), checked against ours.
"""

from __future__ import annotations

import struct
import time
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from ...model.heap import Check, HeapProgress, HeapReading, RootRow, RuntimeFigures, TypeRow
from ...parse.names import go_name
from ..arrays import CoreArrays
from ..errors import BadRead, Stopped, Unsupported
from ..native import NativeCore
from ..runtime.memstats import read_heap_stats
from ..runtime.mheap import MHeap
from ..runtime.types import RuntimeTypes
from .gotypes import TypeTable
from .dominators import DominatorTree, dominator_paths, dominator_tree, type_retained
from .graph import ObjectGraph
from .objects import HeapObjects, PointerScan
from .roots import RootReader, RootSource
from .paths import PathNamer
from .suspects import find_suspects
from .typing import Typer

__all__ = ["HeapProgress", "read_heap", "read_heap_of", "Stopped", "Unsupported"]

# What a corrupt core can make numpy or Python raise below our own checks.
_CORRUPT = (struct.error, IndexError, KeyError, ValueError, OverflowError,
            ZeroDivisionError, MemoryError)


def read_heap(native: NativeCore, progress: Callable[[HeapProgress], None] | None = None,
              stop: Callable[[], bool] | None = None, typed_roots: bool = True) -> HeapReading:
    """The whole heap of an open core (see the module's doc)."""
    try:
        return _read(native, progress or (lambda p: None), stop or (lambda: False), typed_roots)
    except BadRead as err:
        raise Unsupported(f"heap unreadable: {err}") from None
    except _CORRUPT as err:
        raise Unsupported(f"heap unreadable: {type(err).__name__}: {err}") from None


def read_heap_of(executable: str, core: str, progress: Callable[[HeapProgress], None] | None = None,
                 stop: Callable[[], bool] | None = None) -> HeapReading:
    """read_heap on a core opened for the purpose (and closed after)."""
    native = NativeCore.open(executable, core)
    try:
        return read_heap(native, progress, stop)
    finally:
        native.close()


def _read(native: NativeCore, progress, stop, typed_roots: bool) -> HeapReading:
    started = time.perf_counter()
    stages: list[tuple[str, float]] = []
    clock = [started]

    def lap(stage: str) -> None:
        now = time.perf_counter()
        stages.append((stage, now - clock[0]))
        clock[0] = now
        if stop():
            raise Stopped()

    notes: list[str] = []
    arrays = CoreArrays(native.memory)
    heap = MHeap(native.memory, arrays, native.layouts, native.exe, native.bias)
    progress(HeapProgress("spans", 0, 0))
    spans = heap.spans()
    objects = HeapObjects.read(heap, spans, arrays)
    total = len(objects)
    lap("spans")
    types = RuntimeTypes(native.memory, native.layouts, native.exe, native.bias)
    scan = PointerScan(heap, spans, objects, arrays, types,
                       progress=lambda done, n: progress(HeapProgress("pointers", done, n)), stop=stop)
    progress(HeapProgress("roots", 0, total))
    heap_range = (int(spans.base[0]), int(spans.end.max())) if len(spans) else (0, 0)
    roots = RootReader(native, arrays).read(typed=typed_roots, heap_range=heap_range)
    notes += roots.notes
    lap("roots")
    # The edges live only inside _graph: its rows take their place, and
    # go once the dominator tree is built.
    held = _graph(objects, scan.edges(), roots, lambda: lap("pointers"),
                  lambda: progress(HeapProgress("reachability", 0, total)))
    notes += scan.notes
    lap("reachability")
    table = TypeTable(native.layouts, types)

    def function_name(pc: int) -> str | None:
        func = native.names.func(pc)
        return go_name(func.name) if func is not None else None

    typer = Typer(objects, arrays, table, types, function_name, heap.geometry.malloc_header_size, stop=stop,
                  progress=lambda typed: progress(HeapProgress("types", typed, total)))
    typer.run(roots.typed)
    typer.finish()
    notes += typer.notes + table.notes
    lap("types")
    stats = read_heap_stats(native.memory, native.layouts, native.exe, native.bias)
    notes += stats.notes
    reading = _assemble(objects, spans, held, typer, table, stats, notes, started, stages)
    geometry = heap.geometry
    if geometry.bitmap == "span":
        reading = replace(reading, malloc_header=(geometry.malloc_header_size, geometry.min_size_for_malloc_header))
    namer = PathNamer(native.memory, native.layouts, reading)
    reading = replace(reading, suspects=tuple(
        replace(s, path=namer.describe(s.accumulation.node if s.accumulation else s.node)) for s in reading.suspects))
    progress(HeapProgress("done", total, total))
    native.memory.release()
    return reading


@dataclass(eq=False)
class Held:
    """What keeps the heap alive: reachability, the shortest-path tree and
    the dominator tree over the object graph, and the roots' own nodes."""

    reachable: np.ndarray  # bool per object
    parent: np.ndarray  # int32 per node
    tree: DominatorTree
    retained: np.ndarray  # int64 per node
    roots: list[tuple[RootSource, int]]  # (source, node); goroutines' own nodes too


def _graph(objects: HeapObjects, edges, roots, scanned, searching) -> Held:
    """The object graph with a node per root source, a node per goroutine
    over its frames' sources, and one over all roots (the last)."""
    scanned()
    searching()
    n = len(objects)
    seeds = objects.find(roots.words)
    keep = (seeds >= 0) & (roots.word_source >= 0)
    pairs = np.unique(roots.word_source[keep].astype(np.int64) * np.int64(n) + seeds[keep])
    source_of, target = np.divmod(pairs, np.int64(n))
    del pairs, seeds, keep
    sources = roots.sources
    cut = np.searchsorted(source_of, np.arange(len(sources) + 1))
    rows = [target[cut[i]:cut[i + 1]].astype(np.int32) for i in range(len(sources))]
    goroutines: dict[int, list[int]] = {}
    top: list[int] = []
    for number, source in enumerate(sources):
        if source.kind == "goroutine" and source.goroutine is not None:
            goroutines.setdefault(source.goroutine, []).append(n + number)
        else:
            top.append(n + number)
    named = [(source, n + number) for number, source in enumerate(sources)]
    for number, (gid, members) in enumerate(goroutines.items()):
        node = n + len(sources) + number
        rows.append(np.asarray(members, dtype=np.int32))
        top.append(node)
        named.append((RootSource(f"goroutine {gid}", "goroutine", gid), node))
    rows.append(np.asarray(top, dtype=np.int32))
    graph = ObjectGraph.build(edges.sources, edges.targets, n, rows)
    del edges, rows
    reachable, parent = graph.search()
    tree = dominator_tree(graph.indptr, graph.indices, graph.root)
    del graph
    own = np.zeros(len(tree.idom), dtype=np.int64)
    own[:n] = objects.size
    return Held(reachable, parent, tree, tree.retained(own), named)


def _assemble(objects: HeapObjects, spans, held: Held, typer: Typer, table: TypeTable, stats,
              notes: list[str], started: float, stages) -> HeapReading:
    reachable = held.reachable
    type_of = typer.type_of
    typer.type_of = None
    # Objects without a type are named by their size class (tiny blocks apart).
    untyped = type_of < 0
    names = table.names()
    if untyped.any():
        sizes = objects.sizes(np.flatnonzero(untyped)).astype(np.int64)
        keys = np.where(objects.tiny[untyped], -1, 1) * sizes
        unique, inverse = np.unique(keys, return_inverse=True)
        ids = []
        for key in unique.tolist():
            ids.append(len(names))
            names.append(f"(tiny blocks, {-key} B)" if key < 0 else f"(untyped, {key} B)")
        type_of[untyped] = np.asarray(ids, dtype=np.int32)[inverse]
        del sizes, keys, inverse
    # One row per name: the same Go type met through DWARF and a runtime descriptor.
    by_name: dict[str, int] = {}
    remap = np.asarray([by_name.setdefault(name, i) for i, name in enumerate(names)], dtype=np.int32)
    # A merged row reads its instances with the type of the ids its objects had
    # (a slice's backing array and a slice header share the name []T).
    element = {}
    for tid in np.unique(type_of).tolist():
        if tid < len(table):
            element.setdefault(int(remap[tid]), table.element_die(tid))
    type_of = remap[type_of]
    count_all = len(names)
    # Bytes per type without a weight per object: objects of a span share
    # its size, so count (type, size) pairs and multiply.
    size_values, size_of_span = np.unique(spans.elemsize, return_inverse=True)
    size_index = size_of_span.astype(np.int64)[objects.span]
    counts = {}
    for live in (True, False):
        mask = reachable if live else ~reachable
        key = type_of[mask].astype(np.int64) * len(size_values) + size_index[mask]
        pairs = np.bincount(key, minlength=count_all * len(size_values)).reshape(count_all, len(size_values))
        counts[live] = (pairs.sum(axis=1), pairs @ size_values.astype(np.float64))
        del key, pairs
    del size_index
    live_count, live_bytes = counts[True]
    dead_count, dead_bytes = counts[False]
    used = np.flatnonzero((live_count + dead_count) > 0)
    order = used[np.lexsort((-dead_bytes[used], -live_bytes[used]))]
    typed_ids = len(table)
    row_of_type = np.full(count_all, -1, dtype=np.int32)
    row_of_type[order] = np.arange(len(order), dtype=np.int32)
    row = row_of_type[type_of]
    # What each type's instances retain together, and who holds the most.
    tree = held.tree
    first, kids = tree.children()
    row_of_node = np.full(len(tree.idom), -1, dtype=np.int32)
    row_of_node[:len(row)] = row
    by_row = type_retained(tree, first, kids, row_of_node, held.retained, len(order))
    rows = tuple(TypeRow(names[i], int(live_count[i]), int(live_bytes[i]), int(dead_count[i]), int(dead_bytes[i]),
                         i < typed_ids, element.get(i), int(by_row[r])) for r, i in enumerate(order.tolist()))
    root_rows = tuple(RootRow(source.label, source.kind, node, int(held.retained[node]), source.goroutine,
                              source.function, source.variable, source.type) for source, node in held.roots)
    root_rows = tuple(sorted(root_rows, key=lambda r: (-r.retained, r.label)))
    suspects = find_suspects(tree.root, first, kids, held.retained, row_of_node, rows, root_rows,
                             int(live_bytes.sum()), objects.base)
    is_root = np.zeros(len(tree.idom), dtype=np.bool_)
    is_root[len(row):] = True
    dpath_of, dpath_parent, dpath_label = dominator_paths(tree, first, kids, row_of_node, is_root)
    del first, kids, row_of_node, is_root
    labels = {node: source.label for source, node in held.roots}
    dpaths = tuple((int(parent), rows[label].name if label >= 0 else
                    "(held by several roots)" if label == -1 else labels.get(-2 - label, "(roots)"))
                   for parent, label in zip(dpath_parent.tolist(), dpath_label.tolist()))
    paths = typer.paths
    path_rows = tuple((paths.parent[p], names[paths.type[p]] if paths.type[p] >= 0 else "?", paths.root[p])
                      for p in range(len(paths)))
    typed = ~untyped & reachable
    size = objects.size
    total_bytes = int(size.sum())
    figures = RuntimeFigures(stats.heap_alloc, stats.heap_objects, stats.heap_inuse, stats.heap_live,
                             stats.heap_marked, stats.num_gc, int(spans.alloc_count.sum()), _limit(stats.memory_limit))
    in_use = int((spans.end - spans.base).sum())
    checks = (
        Check("objects", len(objects), stats.heap_objects, _agree(len(objects), stats.heap_objects)),
        Check("bytes", total_bytes, stats.heap_alloc, _agree(total_bytes, stats.heap_alloc)),
        Check("span bytes in use", in_use, stats.heap_inuse, _agree(in_use, stats.heap_inuse)),
        Check("objects by the spans' own counts", len(objects), figures.span_objects,
              _agree(len(objects), figures.span_objects)),
    )
    elapsed = time.perf_counter() - started
    return HeapReading(
        runtime=figures, objects=len(objects), bytes=total_bytes,
        reachable_objects=int(reachable.sum()), reachable_bytes=int(live_bytes.sum()),
        unreachable_objects=int((~reachable).sum()), unreachable_bytes=int(dead_bytes.sum()),
        typed_objects=int(typed.sum()), typed_bytes=int(size[typed].sum()),
        tiny_blocks=int(objects.tiny.sum()), spans=len(spans), types=rows, checks=checks,
        notes=tuple(dict.fromkeys(notes)), elapsed_s=elapsed, stages=tuple(stages),
        address=objects.base, size=size, row=row, reachable=reachable,
        path=typer.path_of, paths=path_rows, idom=tree.idom, retained=held.retained, parent=held.parent,
        roots=root_rows, suspects=suspects, dominator_path=dpath_of[:len(row)], dominator_paths=dpaths)


def _limit(value: int | None) -> int | None:
    """GOMEMLIMIT, None when unset (the runtime holds math.MaxInt64)."""
    return None if value is None or value >= (1 << 63) - 1 else value


def _agree(ours: int, theirs: int | None) -> bool | None:
    return None if theirs is None else ours == theirs
