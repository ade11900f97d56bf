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
WORD_CHUNK = 1 << 20
# Spans of more pages than this (arena layouts) are read one by one.
GROUP_PAGES = 16
# Drop the core's pages from our resident set after reading this much
# (they stay in the page cache): the scan of a multi-GB core keeps a small RSS.
RELEASE_EVERY = 64 << 20


@dataclass(frozen=True, eq=False)
class HeapObjects:
    """Every allocated object, sorted by address."""

    base: np.ndarray  # uint64
    span: np.ndarray  # int32: row in Spans
    # Go 1.22+: the objects whose malloc header or span's largeType records
    # their type (rows, ascending) and that *_type.
    carriers: np.ndarray
    carried: np.ndarray
    carrier_header: np.ndarray  # bool: the type is in an 8-byte header at the object's start
    tiny_size: int
    span_noscan: np.ndarray  # bool per span
    # For find(): the spans (a few hundred thousand: searched in cache),
    # and for every slot of every span its object (-1 for a free slot).
    span_base: np.ndarray = None
    span_end: np.ndarray = None
    span_elemsize: np.ndarray = None
    span_nelems: np.ndarray = None
    slot_start: np.ndarray = None  # int64: the span's first slot
    slot_object: np.ndarray = None  # int32
    # The span of every page of the heap's range (-1: none), when the range is not sparse.
    page_span: np.ndarray | None = None
    page_lo: int = 0
    page_shift: int = 13

    def __len__(self) -> int:
        return len(self.base)

    # Per object, from its span (computed when asked: not kept per object).

    @property
    def size(self) -> np.ndarray:
        """uint64: every object's slot size (elemsize)."""
        return self.span_elemsize[self.span]

    def sizes(self, rows: np.ndarray) -> np.ndarray:
        return self.span_elemsize[self.span[rows]]

    @property
    def noscan(self) -> np.ndarray:
        return self.span_noscan[self.span]

    @property
    def tiny(self) -> np.ndarray:
        """A noscan object of at most TinySize bytes: maybe a tiny-allocator block."""
        return self.span_noscan[self.span] & (self.span_elemsize[self.span] <= np.uint64(self.tiny_size))

    @property
    def end(self) -> np.ndarray:
        return self.base + self.size

    def find(self, addresses: np.ndarray) -> np.ndarray:
        """The object holding each address (int64; -1 for none): its span
        by binary search over the spans, its slot by division."""
        addresses = np.asarray(addresses, dtype=np.uint64)
        if self.page_span is not None:
            # Page -> span from a table over the heap's address range.
            page = (addresses - np.uint64(self.page_lo)) >> np.uint64(self.page_shift)
            ok = (addresses >= np.uint64(self.page_lo)) & (page < np.uint64(len(self.page_span)))
            span = self.page_span[np.where(ok, page, 0)]
            ok &= span >= 0
            span = np.where(ok, span, 0)
        else:
            span = np.searchsorted(self.span_base, addresses, side="right").astype(np.int64) - 1
            ok = span >= 0
            span[~ok] = 0
            ok &= addresses < self.span_end[span]
        slot = (addresses - self.span_base[span]) // self.span_elemsize[span]
        ok &= slot < self.span_nelems[span]
        index = self.slot_object[np.where(ok, self.slot_start[span] + slot.astype(np.int64), 0)].astype(np.int64)
        return np.where(ok, index, -1)

    @classmethod
    def read(cls, heap: MHeap, spans: Spans, arrays: CoreArrays) -> "HeapObjects":
        allocated = heap.alloc_bits(spans)
        nelems = spans.nelems.astype(np.int64)
        starts = np.concatenate(([0], np.cumsum(nelems)[:-1])).astype(np.int64)
        # Span by span group: the per-slot temporaries stay small.
        bases, owners = [], []
        for lo in range(0, len(spans), SPAN_CHUNK * 8):
            hi = min(lo + SPAN_CHUNK * 8, len(spans))
            count = nelems[lo:hi]
            first, last = int(starts[lo]), int(starts[hi - 1] + count[-1])
            taken = allocated[first:last]
            owner = np.repeat(np.arange(lo, hi, dtype=np.int32), count)[taken]
            slot = (np.arange(last - first, dtype=np.int64) - np.repeat(starts[lo:hi] - first, count))[taken]
            bases.append(spans.base[owner] + slot.astype(np.uint64) * spans.elemsize[owner])
            owners.append(owner)
        base = np.concatenate(bases) if bases else np.zeros(0, dtype=np.uint64)
        span = np.concatenate(owners) if owners else np.zeros(0, dtype=np.int32)
        del bases, owners
        geometry = heap.geometry
        noscan = spans.noscan[span]
        carriers = np.zeros(0, dtype=np.int64)
        carried = np.zeros(0, dtype=np.uint64)
        in_header = np.zeros(0, dtype=bool)
        if geometry.bitmap == "span":
            small = spans.sizeclass[span] != 0
            big = spans.elemsize[span] > np.uint64(geometry.min_size_for_malloc_header)
            carriers = np.flatnonzero(~noscan & ((small & big) | ~small))
            del big
            in_header = small[carriers]
            carried = np.zeros(len(carriers), dtype=np.uint64)
            try:
                carried[in_header] = arrays.u64(base[carriers[in_header]])
            except BadRead as err:
                raise Unsupported(f"malloc headers unreadable: {err}") from None
            carried[~in_header] = spans.large_type[span[carriers[~in_header]]]
            del small
        slot_object = np.full(len(allocated), -1, dtype=np.int32)
        slot_object[allocated] = np.arange(int(allocated.sum()), dtype=np.int32)
        heap.forget_alloc_bits()
        page_span, lo = _page_table(spans, geometry.page_size)
        return cls(base, span, carriers, carried, in_header, geometry.tiny_size, spans.noscan, spans.base, spans.end,
                   spans.elemsize, spans.nelems, starts.astype(np.int64), slot_object, page_span, lo,
                   geometry.page_size.bit_length() - 1)


MAX_PAGE_TABLE = 1 << 26  # pages (512 GB of address range at 8 KiB)


def _page_table(spans: Spans, page_size: int) -> tuple[np.ndarray | None, int]:
    """int32 span row per page of [first span, last span end), or None when that range is too sparse."""
    if not len(spans) or page_size & (page_size - 1):
        return None, 0
    lo, hi = int(spans.base[0]), int(spans.end.max())
    pages = (hi - lo) // page_size
    if pages > MAX_PAGE_TABLE:
        return None, 0
    table = np.full(pages, -1, dtype=np.int32)
    first = ((spans.base - np.uint64(lo)) // np.uint64(page_size)).astype(np.int64)
    count = spans.npages.astype(np.int64)
    ramp = np.arange(int(count.sum()), dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
    table[np.repeat(first, count) + ramp] = np.repeat(np.arange(len(spans), dtype=np.int32), count)
    return table, lo


@dataclass(frozen=True, eq=False)
class Edges:
    """Pointers from object to object: source and target rows of HeapObjects."""

    sources: list[np.ndarray]  # int32 chunks (not concatenated: the graph is built from them)
    targets: list[np.ndarray]
    words: int  # pointer words seen (nil and outside the heap included)

    def __len__(self) -> int:
        return sum(len(chunk) for chunk in self.sources)


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
        self._read_bytes = 0
        self.notes: list[str] = []
        nelems = spans.nelems.astype(np.int64)
        self._slot_start = np.concatenate(([0], np.cumsum(nelems)[:-1]))
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
        edges = Edges(self._sources, self._targets, self._words)
        self._sources, self._targets = [], []
        return edges

    # Emitting

    def _tick(self, objects: int) -> None:
        if self.stop():
            raise Stopped()
        self._done += objects
        self.progress(self._done, len(self.objects))

    def _emit(self, addresses: np.ndarray, sources: np.ndarray) -> None:
        """Pointer words at these addresses, in these objects."""
        for at in range(0, len(addresses), WORD_CHUNK):
            chunk = addresses[at:at + WORD_CHUNK]
            self._words += len(chunk)
            try:
                values = self.arrays.u64(chunk)
            except BadRead as err:
                raise Unsupported(f"a heap word is not in the core: {err}") from None
            inside = np.flatnonzero((values >= np.uint64(self._heap_lo)) & (values < np.uint64(self._heap_hi)))
            if not len(inside):
                continue
            target = self.objects.find(values[inside])
            hit = target >= 0
            self._sources.append(sources[at:at + WORD_CHUNK][inside[hit]].astype(np.int32))
            self._targets.append(target[hit].astype(np.int32))

    def _touched(self, nbytes: int) -> None:
        self._read_bytes += nbytes
        if self._read_bytes > RELEASE_EVERY:
            self.arrays.memory.release()
            self._read_bytes = 0

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
        allocated = (self.objects.slot_object[global_slot] >= 0) & valid
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
        self._touched(pages * self.geometry.page_size * len(rows))
        r, w = np.nonzero(live)
        addresses = spans.base[rows][r] + w.astype(np.uint64) * np.uint64(8)
        objects = self.objects.slot_object[self._slot_start[rows][r] + slot[r, w]]
        self._emit(addresses, objects)
        self._tick(int(spans.alloc_count[rows].sum()))


    def _span_bits(self, rows: np.ndarray, pages: int) -> tuple[np.ndarray, None]:
        """Go 1.22+: a bit per word at the end of the span."""
        geometry = self.geometry
        size = pages * geometry.page_size
        nbytes = size // 64
        ends = self.spans.base[rows] + np.uint64(size) - np.uint64(nbytes)
        if geometry.inline_mark_bits:
            ends = ends - self._inline_marks(rows) * np.uint64(geometry.inline_mark_bits)
        elif self.heap.heap_arena.has("pageUseSpanInlineMarkBits") and self._inline_marks(rows).any():
            raise Unsupported("spans with Green Tea inline mark bits, and no runtime.spanInlineMarkBits in DWARF "
                              "to say their size")
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
        known = objects.carried != 0
        carrying = objects.carriers[known]
        large_nil = int((~known).sum())
        if large_nil:
            self.notes.append(f"{large_nil} objects with pointers have no type recorded yet (allocated, not "
                              "yet typed by the runtime): read as holding no pointers, as the GC would")
        headers = objects.carried[known]
        small = objects.carrier_header[known]
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
            sizes = objects.sizes(which)
            for object_size in np.unique(sizes):
                same = sizes == object_size
                for skip in np.unique(offset[same]):
                    rows = which[same & (offset == skip)]
                    data_words = (int(object_size) - int(skip)) // 8
                    positions = np.flatnonzero(np.resize(period, data_words)).astype(np.uint64) * np.uint64(8)
                    self._emit_tiled(rows, objects.base[rows] + np.uint64(skip), positions)
                    self._touched(int(object_size) * len(rows))
                    self._tick(len(rows))

    def _emit_tiled(self, rows: np.ndarray, bases: np.ndarray, positions: np.ndarray) -> None:
        if not len(positions) or not len(bases):
            return
        per = max(1, WORD_CHUNK // len(positions))
        for at in range(0, len(bases), per):
            chunk = bases[at:at + per]
            self._emit((chunk[:, None] + positions[None, :]).reshape(-1),
                       np.repeat(rows[at:at + per], len(positions)))
