"""The runtime's own heap statistics, read from the core: what
runtime.ReadMemStats would have said at the crash.

ReadMemStats (mstats.go, readmemstats_m) flushes every P's mcache, then
sums memstats.heapStats (a consistentHeapStats: three generations of
heapStatsDelta, all of which hold counts not yet folded): HeapObjects is
the allocations minus the frees of small (per size class) and large
objects, HeapAlloc the same in bytes (small classes at their size), and
HeapInuse the bytes of in-use spans (inHeap). A core was not flushed: the
spans still cached in an mcache count in heapStats only up to when they
were cached (allocCountBeforeCache); the flush would add allocCount minus
that, which is added here the same way.

Also: gcController.heapLive (bytes the GC counts live: marked at the last
GC plus allocated since, whole cached spans included), heapMarked (bytes
marked by the last GC) and memstats.numgc. Each figure is None when this
Go release lays it out otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..dwarf import Layouts, Type
from ..elfimage import ElfImage
from ..errors import BadRead, Unsupported
from ..memory import Memory
from .fields import optional_field


@dataclass(frozen=True, slots=True)
class RuntimeHeapStats:
    heap_alloc: int | None  # ReadMemStats.HeapAlloc
    heap_objects: int | None  # ReadMemStats.HeapObjects
    heap_inuse: int | None  # ReadMemStats.HeapInuse
    heap_live: int | None  # gcController.heapLive
    heap_marked: int | None  # gcController.heapMarked: bytes marked live by the last GC
    num_gc: int | None
    notes: tuple[str, ...] = ()
    memory_limit: int | None = None  # gcController.memoryLimit (GOMEMLIMIT; math.MaxInt64 when unset)


def read_heap_stats(memory: Memory, layouts: Layouts, exe: ElfImage, bias: int) -> RuntimeHeapStats:
    symbols = exe.symbols("runtime.memstats", "runtime.gcController", "runtime.class_to_size",
                          "internal/runtime/gc.SizeClassToSize", "runtime.allp", "runtime.emptymspan")
    notes: list[str] = []
    heap_alloc = heap_objects = heap_inuse = heap_live = heap_marked = num_gc = memory_limit = None
    try:
        memstats = symbols.get("runtime.memstats")
        if memstats is None:
            raise Unsupported("no runtime.memstats symbol")
        at = memstats[0] + bias
        mstats = layouts.type("runtime.mstats")
        if mstats.has("numgc"):
            offset, ftype = mstats.field("numgc")
            num_gc = memory.uint(at + offset, ftype.size)
        heap_alloc, heap_objects, heap_inuse = _consistent(memory, layouts, symbols, bias, at, mstats, notes)
    except (Unsupported, BadRead) as err:
        notes.append(f"runtime.memstats unread: {err}")
    try:
        controller = symbols.get("runtime.gcController")
        if controller is not None:
            state = layouts.type("runtime.gcControllerState")
            for name in ("heapLive", "heapMarked", "memoryLimit"):
                found = optional_field(state, name)
                if found is not None:
                    value = memory.uint(controller[0] + bias + found[0], found[1])
                    if name == "heapLive":
                        heap_live = value
                    elif name == "heapMarked":
                        heap_marked = value
                    else:
                        memory_limit = value
    except (Unsupported, BadRead) as err:
        notes.append(f"runtime.gcController unread: {err}")
    return RuntimeHeapStats(heap_alloc, heap_objects, heap_inuse, heap_live, heap_marked, num_gc, tuple(notes),
                            memory_limit)


def _consistent(memory: Memory, layouts: Layouts, symbols: dict, bias: int, at: int, mstats: Type,
                notes: list[str]) -> tuple[int | None, int | None, int | None]:
    if not mstats.has("heapStats.stats"):
        notes.append("memstats.heapStats has no stats (an older layout): HeapAlloc and HeapObjects not read")
        return None, None, None
    offset, stats = mstats.field("heapStats.stats")
    delta = stats.elem
    if stats.kind != "array" or delta is None or stats.count != 3:
        raise Unsupported("memstats.heapStats.stats is not three heapStatsDelta")
    raw = np.frombuffer(memory.read(at + offset, stats.size), dtype=np.uint8).reshape(3, delta.size)

    def total(name: str) -> np.ndarray:
        field_offset, ftype = delta.field(name)
        count = ftype.count if ftype.kind == "array" else 1
        values = raw[:, field_offset:field_offset + 8 * count].copy().view("<i8").reshape(3, count)
        return values.sum(axis=0)

    sizes_symbol = symbols.get("internal/runtime/gc.SizeClassToSize") or symbols.get("runtime.class_to_size")
    if sizes_symbol is None:
        raise Unsupported("no size class table (runtime.class_to_size)")
    classes = sizes_symbol[1] // 2
    sizes = np.frombuffer(memory.read(sizes_symbol[0] + bias, 2 * classes), dtype="<u2").astype(np.int64)
    small_alloc, small_free = total("smallAllocCount"), total("smallFreeCount")
    if len(small_alloc) != classes:
        raise Unsupported(f"{len(small_alloc)} size classes in heapStatsDelta, {classes} in the size table")
    small_alloc = small_alloc + _cached(memory, layouts, symbols, bias, classes, notes)
    objects = int((small_alloc - small_free).sum() + total("largeAllocCount")[0] - total("largeFreeCount")[0])
    alloc = int(((small_alloc - small_free) * sizes).sum() + total("largeAlloc")[0] - total("largeFree")[0])
    inuse = int(total("inHeap")[0]) if delta.has("inHeap") else None
    return alloc, objects, inuse


def _cached(memory: Memory, layouts: Layouts, symbols: dict, bias: int, classes: int, notes: list[str]) -> np.ndarray:
    """Per size class: what the spans cached in each P's mcache allocated
    since they were cached (mcache.releaseAll would add it)."""
    out = np.zeros(classes, dtype=np.int64)
    allp, empty = symbols.get("runtime.allp"), symbols.get("runtime.emptymspan")
    mspan = layouts.type("runtime.mspan")
    before = optional_field(mspan, "allocCountBeforeCache")
    if allp is None or before is None:
        notes.append("no allocCountBeforeCache: the objects of cached spans counted as the runtime last flushed them")
        return out
    count_at = optional_field(mspan, "allocCount")
    class_at = mspan.field("spanclass")[0]
    mcache_at = layouts.type("runtime.p").field("mcache")[0]
    alloc_at, alloc_type = layouts.type("runtime.mcache").field("alloc")
    empty_at = empty[0] + bias if empty else 0
    pointer, count = memory.words(allp[0] + bias, 2)
    for p in memory.words(pointer, min(count, 1 << 16)) if count else ():
        cache = memory.u64(p + mcache_at) if p else 0
        if not cache:
            continue
        for span in memory.words(cache + alloc_at, alloc_type.count):
            if span and span != empty_at:
                spanclass = memory.uint(span + class_at, 1)
                used = memory.uint(span + count_at[0], count_at[1]) - memory.uint(span + before[0], before[1])
                out[(spanclass >> 1) % classes] += used
    return out
