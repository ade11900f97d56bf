"""Every allocated object of the heap, and every pointer between them.

    found = HeapObjects.read(mheap, spans)     # base, size, span of each object
    edges = PointerScan(...).edges()           # (source object, target object) arrays

Objects: slot i of an in-use span holds an object when allocBits or
freeindex say so (runtime/mheap.py). Noscan objects of 16 bytes or less
may be tiny-allocator blocks: several noscan values under 16 B share one
block, and nothing in the core says where one ends; they are counted as
blocks (HeapObjects.tiny), never split.

Pointers: which words of an object the GC treats as pointers, per Go
release (the table of tui/corefile/runtime/mheap.py's HeapGeometry.bitmap):
- "arena2" (Go 1.19): heapArena.bitmap, a byte per 4 words: the low
  nibble the pointer bits, the high nibble the scan bits; the first word
  of an object whose scan bit is 0 ends its pointers (scanobject's rule);
- "arena1" (Go 1.20-1.21): heapArena.bitmap, a bit per word (written for
  the whole object, zeros included);
- "span" (Go 1.22+): objects of at most minSizeForMallocHeader bytes have
  a bit per word at the end of their span (before Go 1.26's 128-byte
  spanInlineMarkBits where heapArena.pageUseSpanInlineMarkBits marks the
  span); bigger small objects start with an 8-byte header, the *_type of
  their elements, whose GC mask repeats every Size_ bytes over the whole
  object; a large object's type is mspan.largeType, repeated the same way.
A pointer word is an edge when its value lands inside an allocated object.

Everything is numpy over groups of spans and objects: no Python runs per
object or per word; the loops are over groups (spans of one page count,
objects of one header type) and large spans of the arena layouts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..arrays import CoreArrays
from ..errors import BadRead, Stopped, Unsupported
from ..runtime.mheap import MHeap, Spans
from ..runtime.types import RuntimeTypes

# Spans handled in one numpy batch (a page each: 1024 words).
SPAN_CHUNK = 2048
# Pointer words gathered in one batch.
WORD_CHUNK = 1 << 22
# Spans of more pages than this (arena layouts) are read one by one.
GROUP_PAGES = 16


@dataclass(frozen=True, eq=False)
class HeapObjects:
    """Every allocated object, sorted by address."""

    base: np.ndarray  # uint64
    size: np.ndarray  # uint64: the slot's size (elemsize)
    span: np.ndarray  # int32: row in Spans
    header: np.ndarray  # uint64: the malloc header's or largeType's *_type (Go 1.22+), else 0
    tiny: np.ndarray  # bool: a noscan object of at most TinySize bytes (maybe a tiny-allocator block)
    noscan: np.ndarray  # bool

    def __len__(self) -> int:
        return len(self.base)

    @property
    def end(self) -> np.ndarray:
        return self.base + self.size

    def find(self, addresses: np.ndarray) -> np.ndarray:
        """The object holding each address (int64; -1 for none)."""
        addresses = np.asarray(addresses, dtype=np.uint64)
        index = np.searchsorted(self.base, addresses, side="right").astype(np.int64) - 1
        ok = index >= 0
        clipped = np.where(ok, index, 0)
        ok &= addresses < self.base[clipped] + self.size[clipped]
        return np.where(ok, index, -1)

    @classmethod
    def read(cls, heap: MHeap, spans: Spans, arrays: CoreArrays) -> "HeapObjects":
        allocated = heap.alloc_bits(spans)
        nelems = spans.nelems.astype(np.int64)
        span_of_slot = np.repeat(np.arange(len(spans), dtype=np.int32), nelems)
        starts = np.concatenate(([0], np.cumsum(nelems)[:-1]))
        slot = np.arange(len(allocated), dtype=np.int64) - np.repeat(starts, nelems)
        span = span_of_slot[allocated]
        del span_of_slot
        slot = slot[allocated]
        elemsize = spans.elemsize[span]
        base = spans.base[span] + slot.astype(np.uint64) * elemsize
        del slot
        geometry = heap.geometry
        noscan = spans.noscan[span]
        header = np.zeros(len(base), dtype=np.uint64)
        if geometry.bitmap == "span":
            small = spans.sizeclass[span] != 0
            with_header = ~noscan & small & (elemsize > np.uint64(geometry.min_size_for_malloc_header))
            if with_header.any():
                try:
                    header[with_header] = arrays.u64(base[with_header])
                except BadRead as err:
                    raise Unsupported(f"malloc headers unreadable: {err}") from None
            large = ~noscan & ~small
            header[large] = spans.large_type[span[large]]
        tiny = noscan & (elemsize <= np.uint64(geometry.tiny_size))
        return cls(base, elemsize, span, header, tiny, noscan)


@dataclass(frozen=True, eq=False)
class Edges:
    """Pointers from object to object: source and target rows of HeapObjects,
    sorted by source (the scan goes in address order)."""

    source: np.ndarray  # int32
    target: np.ndarray  # int32
    words: int  # pointer words seen (nil and outside the heap included)


class PointerScan:
    """Finds every pointer word of every object (see the module's doc)."""

    def __init__(self, heap: MHeap, spans: Spans, objects: HeapObjects, arrays: CoreArrays, types: RuntimeTypes,
                 progress: Callable[[int, int], None] | None = None, stop: Callable[[], bool] | None = None) -> None:
        self.heap, self.spans, self.objects, self.arrays, self.types = heap, spans, objects, arrays, types
        self.geometry = heap.geometry
        self.progress = progress or (lambda done, total: None)
        self.stop = stop or (lambda: False)
        self._sources: list[np.ndarray] = []
        self._targets: list[np.ndarray] = []
        self._words = 0
        self._done = 0
        self.notes: list[str] = []
        nelems = spans.nelems.astype(np.int64)
        self._slot_start = np.concatenate(([0], np.cumsum(nelems)[:-1]))
        # First object of each span (objects are sorted like spans).
        self._first_object = np.searchsorted(objects.base, spans.base).astype(np.int64)
        self._heap_lo = int(objects.base[0]) if len(objects) else 0
        self._heap_hi = int(objects.end[-1]) if len(objects) else 0

    def edges(self) -> Edges:
        kind = self.geometry.bitmap
        scan = ~self.spans.noscan
        if kind == "span":
            small = scan & (self.spans.sizeclass != 0) & (self.spans.elemsize <= np.uint64(
                self.geometry.min_size_for_malloc_header))
            self._bitmap_spans(np.flatnonzero(small), self._span_bits)
            self._typed_objects()
        else:
            self._bitmap_spans(np.flatnonzero(scan), self._arena_bits)
        if self._sources:
            source = np.concatenate(self._sources)
            target = np.concatenate(self._targets)
        else:
            source = target = np.zeros(0, dtype=np.int32)
        order = np.argsort(source, kind="stable")
        return Edges(source[order], target[order], self._words)

    # Emitting

    def _tick(self, objects: int) -> None:
        if self.stop():
            raise Stopped()
        self._done += objects
        self.progress(self._done, len(self.objects))

    def _emit(self, addresses: np.ndarray) -> None:
        """Pointer words at these addresses (inside allocated objects)."""
        for at in range(0, len(addresses), WORD_CHUNK):
            chunk = addresses[at:at + WORD_CHUNK]
            self._words += len(chunk)
            try:
                values = self.arrays.u64(chunk)
            except BadRead as err:
                raise Unsupported(f"a heap word is not in the core: {err}") from None
            inside = (values >= np.uint64(self._heap_lo)) & (values < np.uint64(self._heap_hi))
            if not inside.any():
                continue
            target = self.objects.find(values[inside])
            hit = target >= 0
            source = self.objects.find(chunk[inside][hit])
            self._sources.append(source.astype(np.int32))
            self._targets.append(target[hit].astype(np.int32))

    # Bitmaps (one bit or two per word), span group by span group

    def _bitmap_spans(self, rows: np.ndarray, bits_of: Callable) -> None:
        spans = self.spans
        npages = spans.npages[rows]
        for pages in np.unique(npages):
            group = rows[npages == pages]
            if pages > GROUP_PAGES:
                for row in group:
                    self._bitmap_chunk(np.asarray([row]), int(pages), bits_of)
                continue
            for at in range(0, len(group), SPAN_CHUNK):
                self._bitmap_chunk(group[at:at + SPAN_CHUNK], int(pages), bits_of)

    def _bitmap_chunk(self, rows: np.ndarray, pages: int, bits_of: Callable) -> None:
        spans = self.spans
        words = pages * self.geometry.page_size // 8
        pointer, scan = bits_of(rows, pages)  # (n, words) bool each; scan None when unused
        elem = spans.elemsize[rows].astype(np.int64)
        nelems = spans.nelems[rows].astype(np.int64)
        word = np.arange(words, dtype=np.int64)
        slot = (word[None, :] * 8) // elem[:, None]
        valid = slot < nelems[:, None]
        global_slot = np.where(valid, self._slot_start[rows][:, None] + slot, 0)
        allocated = self.heap_allocated()[global_slot] & valid
        del global_slot
        live = pointer & allocated
        if scan is not None:
            # Go 1.19: an object's pointers end at its first word whose scan bit is 0.
            dead = (~scan & allocated).astype(np.int32)
            seen = np.cumsum(dead, axis=1, dtype=np.int32)
            before = np.concatenate((np.zeros((len(rows), 1), dtype=np.int32), seen[:, :-1]), axis=1)
            start_word = np.minimum((slot * elem[:, None]) // 8, words - 1)
            at_start = np.take_along_axis(before, start_word, axis=1)
            live &= seen == at_start
        r, w = np.nonzero(live)
        addresses = spans.base[rows][r] + w.astype(np.uint64) * np.uint64(8)
        self._emit(addresses)
        self._tick(int(allocated.sum() and self._objects_in(rows)))

    def _objects_in(self, rows: np.ndarray) -> int:
        first = self._first_object[rows]
        ends = np.searchsorted(self.objects.base, self.spans.end[rows])
        return int((ends - first).sum())

    _allocated: np.ndarray | None = None

    def heap_allocated(self) -> np.ndarray:
        if self._allocated is None:
            self._allocated = self.heap.alloc_bits(self.spans)
        return self._allocated

    def _span_bits(self, rows: np.ndarray, pages: int) -> tuple[np.ndarray, None]:
        """Go 1.22+: a bit per word at the end of the span."""
        geometry = self.geometry
        size = pages * geometry.page_size
        nbytes = size // 64
        ends = self.spans.base[rows] + np.uint64(size) - np.uint64(nbytes)
        if geometry.inline_mark_bits:
            ends = ends - self._inline_marks(rows) * np.uint64(geometry.inline_mark_bits)
        try:
            raw = self.arrays.gather(ends, nbytes)
        except BadRead as err:
            raise Unsupported(f"a span's heap bits are not in the core: {err}") from None
        return np.unpackbits(raw, axis=1, bitorder="little").astype(bool), None

    def _inline_marks(self, rows: np.ndarray) -> np.ndarray:
        """1 where heapArena.pageUseSpanInlineMarkBits marks the span's page, else 0."""
        geometry = self.geometry
        base = self.spans.base[rows]
        arena_bytes = np.uint64(geometry.arena_bytes)
        arena_base = base - base % arena_bytes
        page = ((base % arena_bytes) // np.uint64(geometry.page_size)).astype(np.int64)
        lookup = self.heap.arenas
        arenas = np.unique(arena_base)
        heap_arena = np.zeros(len(base), dtype=np.uint64)
        for a in arenas:
            found = lookup.get(int(a))
            if found is None:
                raise Unsupported(f"no heapArena for the arena at {int(a):#x}")
            heap_arena[arena_base == a] = found
        at = heap_arena + np.uint64(self.heap.arena_field("pageUseSpanInlineMarkBits")) + (page // 8).astype(np.uint64)
        try:
            flags = self.arrays.gather(at, 1)[:, 0]
        except BadRead as err:
            raise Unsupported(f"heapArena.pageUseSpanInlineMarkBits unreadable: {err}") from None
        return ((flags >> (page % 8).astype(np.uint8)) & 1).astype(np.uint64)

    def _arena_bits(self, rows: np.ndarray, pages: int) -> tuple[np.ndarray, np.ndarray | None]:
        """Go 1.19-1.21: the heapArena bitmap of the span's words."""
        geometry = self.geometry
        words = pages * geometry.page_size // 8
        two = geometry.bitmap == "arena2"
        per_byte = 4 if two else 8
        base = self.spans.base[rows]
        arena_bytes = geometry.arena_bytes
        bitmap_at = self.heap.arena_field("bitmap")
        pointer = np.zeros((len(rows), words), dtype=bool)
        scan = np.zeros((len(rows), words), dtype=bool) if two else None
        # A span may cross arenas: read each arena's part of its words.
        first_word = np.zeros(len(rows), dtype=np.int64)
        while True:
            todo = first_word < words
            if not todo.any():
                break
            start = base + first_word.astype(np.uint64) * np.uint64(8)
            arena_base = start - start % np.uint64(arena_bytes)
            in_arena = ((arena_base + np.uint64(arena_bytes) - start) // np.uint64(8)).astype(np.int64)
            count = np.minimum(in_arena, words - first_word)
            # Equal counts are read together (nearly always all of them).
            for n in np.unique(count[todo]):
                which = np.flatnonzero(todo & (count == n))
                heap_arena = np.asarray([self._heap_arena(int(a)) for a in arena_base[which]], dtype=np.uint64)
                word_in_arena = ((start[which] % np.uint64(arena_bytes)) // np.uint64(8))
                at = heap_arena + np.uint64(bitmap_at) + word_in_arena // np.uint64(per_byte)
                nbytes = -(-int(n) // per_byte)
                try:
                    raw = self.arrays.gather(at, nbytes)
                except BadRead as err:
                    raise Unsupported(f"heapArena.bitmap unreadable: {err}") from None
                bits = np.unpackbits(raw, axis=1, bitorder="little").astype(bool)
                if two:
                    bits = bits.reshape(len(which), nbytes, 2, 4)
                    ptr = bits[:, :, 0, :].reshape(len(which), -1)[:, :n]
                    sc = bits[:, :, 1, :].reshape(len(which), -1)[:, :n]
                else:
                    ptr, sc = bits[:, :n], None
                offset = first_word[which]
                columns = offset[:, None] + np.arange(int(n))[None, :]
                pointer[which[:, None], columns] = ptr
                if two:
                    scan[which[:, None], columns] = sc
            first_word = first_word + np.where(todo, count, 0)
        return pointer, scan

    def _heap_arena(self, arena_base: int) -> int:
        found = self.heap.arenas.get(arena_base)
        if found is None:
            raise Unsupported(f"no heapArena for the arena at {arena_base:#x}")
        return found

    # Go 1.22+: objects that carry their type (malloc header, largeType)

    def _typed_objects(self) -> None:
        objects = self.objects
        carrying = np.flatnonzero(~objects.noscan & (objects.header != 0))
        large_nil = int((~objects.noscan & (objects.header == 0) & (objects.size > np.uint64(
            self.geometry.min_size_for_malloc_header))).sum())
        if large_nil:
            self.notes.append(f"{large_nil} objects with pointers have no type recorded yet (allocated, not "
                              "yet typed by the runtime): read as holding no pointers, as the GC would")
        headers = objects.header[carrying]
        small = self.spans.sizeclass[objects.span[carrying]] != 0
        for type_address in np.unique(headers):
            which = carrying[headers == type_address]
            try:
                mask = self.types.gc_mask(int(type_address))
                size = self.types.size_of(int(type_address))
            except (Unsupported, BadRead) as err:
                raise Unsupported(f"the type of {len(which)} heap objects (at {int(type_address):#x}) is "
                                  f"unreadable: {err}") from None
            if size == 0 or size % 8:
                raise Unsupported(f"a heap object's type at {int(type_address):#x} has size {size}")
            period = np.zeros(size // 8, dtype=bool)
            period[:len(mask)] = mask
            offset = np.where(small[headers == type_address], self.geometry.malloc_header_size, 0)
            sizes = objects.size[which]
            for object_size in np.unique(sizes):
                same = sizes == object_size
                for skip in np.unique(offset[same]):
                    rows = which[same & (offset == skip)]
                    data_words = (int(object_size) - int(skip)) // 8
                    positions = np.flatnonzero(np.resize(period, data_words)).astype(np.uint64) * np.uint64(8)
                    self._emit_tiled(objects.base[rows] + np.uint64(skip), positions)
                    self._tick(len(rows))

    def _emit_tiled(self, bases: np.ndarray, positions: np.ndarray) -> None:
        if not len(positions) or not len(bases):
            return
        per = max(1, WORD_CHUNK // len(positions))
        for at in range(0, len(bases), per):
            chunk = bases[at:at + per]
            self._emit((chunk[:, None] + positions[None, :]).reshape(-1))
