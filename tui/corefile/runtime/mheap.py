"""The Go heap's own bookkeeping: runtime.mheap_, its heapArenas and every
mspan, decoded as arrays (one row per span).

    heap = MHeap.open(memory, arrays, layouts, exe, bias)
    spans = heap.spans()              # every span in use, as numpy columns
    spans.base, spans.elemsize, spans.nelems, spans.freeindex ...
    heap.alloc_bits(spans)            # (total slots,) bool: which slots hold an object
    heap.arenas                       # arena base -> heapArena address

Spans come from mheap_.allspans (every span the heap ever made, in use or
free), kept when their state is mSpanInUse (DWARF's runtime.mSpanInUse).
A slot of a span holds an object when its index is below freeindex or its
bit of allocBits is set (mallocgc's nextFreeFast and the sweeper keep it
so). Every offset, size and constant comes from DWARF; arenaBaseOffset,
which DWARF does not record, is derived from the core (an arena's index
in mheap_.arenas against the addresses of the spans it holds) and checked
on every arena.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..arrays import CoreArrays
from ..dwarf import Layouts
from ..elfimage import ElfImage
from ..errors import BadRead, Unsupported
from ..memory import Memory
from .fields import optional_field, scalar_field

MAX_SPANS = 1 << 26
MAX_SPAN_OBJECTS = 1 << 16
MAX_SPAN_PAGES = 1 << 30  # 8 TB of 8 KiB pages: more is a corrupt span


@dataclass(frozen=True, slots=True)
class HeapGeometry:
    """The heap's constants for this Go release (DWARF's, never assumed)."""

    page_size: int
    arena_bytes: int
    pages_per_arena: int
    # Pointer bits: "arena2" (Go 1.19: heapArena.bitmap, 2 bits a word),
    # "arena1" (1.20-1.21: 1 bit a word and noMorePtrs), "span" (1.22+:
    # heap bits at the end of small spans, malloc headers, largeType).
    bitmap: str
    min_size_for_malloc_header: int  # 0 before Go 1.22
    malloc_header_size: int
    # Go 1.26's Green Tea: bytes of spanInlineMarkBits at the end of the
    # spans heapArena.pageUseSpanInlineMarkBits marks (0: none).
    inline_mark_bits: int
    tiny_size: int


@dataclass(frozen=True, eq=False)
class Spans:
    """Every span in use, one row each, sorted by base address."""

    address: np.ndarray  # the mspan itself
    base: np.ndarray  # startAddr
    npages: np.ndarray
    elemsize: np.ndarray
    nelems: np.ndarray
    freeindex: np.ndarray
    alloc_bits: np.ndarray  # address of allocBits
    alloc_count: np.ndarray  # the runtime's own count of objects in the span
    alloc_count_before_cache: np.ndarray
    spanclass: np.ndarray
    large_type: np.ndarray  # mspan.largeType (Go 1.22+), else 0
    specials: np.ndarray  # mspan.specials: the head of the span's list of specials (specials.py), 0 for none
    end: np.ndarray  # base + npages * page size

    def __len__(self) -> int:
        return len(self.base)

    @property
    def noscan(self) -> np.ndarray:
        return (self.spanclass & 1).astype(bool)

    @property
    def sizeclass(self) -> np.ndarray:
        return self.spanclass >> 1



class MHeap:
    """runtime.mheap_ of one core."""

    def __init__(self, memory: Memory, arrays: CoreArrays, layouts: Layouts, exe: ElfImage, bias: int) -> None:
        self.memory, self.arrays, self.layouts = memory, arrays, layouts
        symbol = exe.symbol("runtime.mheap_")
        if symbol is None:
            raise Unsupported(f"{exe.path}: no runtime.mheap_ symbol")
        self.address = symbol[0] + bias
        self.mheap = layouts.type("runtime.mheap")
        self.mspan = layouts.type("runtime.mspan")
        self.heap_arena = layouts.type("runtime.heapArena")
        self.geometry = self._geometry()
        self._arenas: dict[int, int] | None = None
        self.arena_base_offset: int | None = None

    @classmethod
    def open(cls, memory: Memory, arrays: CoreArrays, layouts: Layouts, exe: ElfImage, bias: int) -> "MHeap":
        return cls(memory, arrays, layouts, exe, bias)

    # Constants

    def _constant(self, *names: str, default: int | None = None) -> int:
        for name in names:
            if self.layouts.has_constant(name):
                return self.layouts.constant(name)
        if default is not None:
            return default
        raise Unsupported(f"DWARF has none of the constants {', '.join(names)}")

    def _geometry(self) -> HeapGeometry:
        page = self._constant("runtime.pageSize", "internal/runtime/gc.PageSize")
        arena = self._constant("runtime.heapArenaBytes")
        per_arena = self._constant("runtime.pagesPerArena", default=arena // page)
        header_min = self._constant("internal/runtime/gc.MinSizeForMallocHeader", "runtime.minSizeForMallocHeader",
                                    default=0)
        header = self._constant("internal/runtime/gc.MallocHeaderSize", "runtime.mallocHeaderSize", default=0)
        tiny = self._constant("internal/runtime/gc.TinySize", "runtime._TinySize", "runtime.maxTinySize",
                              default=16)
        if self.mspan.has("largeType") and header_min:
            bitmap = "span"
        elif self.heap_arena.has("bitmap") and self.heap_arena.has("noMorePtrs"):
            bitmap = "arena1"
        elif self.heap_arena.has("bitmap"):
            if self._constant("runtime.wordsPerBitmapByte", default=0) != 4:
                raise Unsupported("heapArena.bitmap of an unknown layout (no runtime.wordsPerBitmapByte = 4)")
            bitmap = "arena2"
        else:
            raise Unsupported("the heap's pointer bits are in no place this reader knows (no heapArena.bitmap, "
                              "no mspan.largeType)")
        # Go 1.25 has the Green Tea bitmap with the experiment off (then no
        # span sets it, and DWARF has no spanInlineMarkBits); a span marked
        # while the size is unknown is refused when it is met (objects.py).
        inline = 0
        if self.heap_arena.has("pageUseSpanInlineMarkBits") and self.layouts.has("runtime.spanInlineMarkBits"):
            inline = self.layouts.type("runtime.spanInlineMarkBits").size
        if page <= 0 or arena % page or per_arena * page != arena:
            raise Unsupported(f"heap constants do not make sense (page {page}, arena {arena})")
        return HeapGeometry(page, arena, per_arena, bitmap, header_min, header, inline, tiny)

    # Spans

    def _slice(self, struct_address: int, struct, path: str) -> tuple[int, int]:
        offset, _ = struct.field(path)
        pointer, length = self.memory.words(struct_address + offset, 2)
        return pointer, length

    def spans(self) -> Spans:
        """Every span in use (state mSpanInUse), sorted by base."""
        try:
            pointer, count = self._slice(self.address, self.mheap, "allspans")
        except BadRead as err:
            raise Unsupported(f"runtime.mheap_.allspans unreadable: {err}") from None
        if count > MAX_SPANS:
            raise Unsupported(f"runtime.mheap_.allspans holds {count} spans: not a sane heap")
        try:
            addresses = self.arrays.u64(np.uint64(pointer) + np.arange(count, dtype=np.uint64) * np.uint64(8))
        except BadRead as err:
            raise Unsupported(f"runtime.mheap_.allspans unreadable: {err}") from None
        addresses = addresses[addresses != 0]
        ok = self.arrays.readable(addresses, self.mspan.size)
        if not ok.all():
            raise Unsupported(f"{int((~ok).sum())} of the heap's mspans are not in the core "
                              f"(first {int(addresses[~ok][0]):#x})")
        records = self.arrays.gather(addresses, self.mspan.size)
        span = self.mspan

        def column(*paths: str, required: bool = True) -> np.ndarray:
            found = scalar_field(span, *paths) if required else optional_field(span, *paths)
            if found is None:
                return np.zeros(len(addresses), dtype=np.uint64)
            return self.arrays.field(records, found[0], found[1])

        state = column("state")
        in_use = self._constant("runtime.mSpanInUse")
        keep = state == np.uint64(in_use)
        rows = {
            "address": addresses, "base": column("startAddr"), "npages": column("npages"),
            "elemsize": column("elemsize"), "nelems": column("nelems"), "freeindex": column("freeindex"),
            "alloc_bits": column("allocBits"), "alloc_count": column("allocCount"),
            "alloc_count_before_cache": column("allocCountBeforeCache", required=False),
            "spanclass": column("spanclass"), "large_type": column("largeType", required=False),
            "specials": column("specials"),
        }
        rows["end"] = rows["base"] + np.minimum(rows["npages"], MAX_SPAN_PAGES) * np.uint64(self.geometry.page_size)
        order = np.argsort(rows["base"][keep], kind="stable")
        made = Spans(**{name: values[keep][order] for name, values in rows.items()})
        self._check(made)
        return made

    def _check(self, spans: Spans) -> None:
        """A span whose numbers cannot be is reported, never read on."""
        page = np.uint64(self.geometry.page_size)
        too_big = spans.npages > np.uint64(MAX_SPAN_PAGES)
        size = np.where(too_big, 0, spans.npages) * page
        bad = (too_big | (spans.elemsize == 0) | (spans.nelems == 0) | (spans.nelems > MAX_SPAN_OBJECTS)
               | (spans.elemsize * spans.nelems > size) | (spans.freeindex > spans.nelems)
               | (spans.base % page != 0) | (spans.npages == 0) | (spans.alloc_count > spans.nelems))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise Unsupported(f"corrupt span at {int(spans.address[i]):#x}: base {int(spans.base[i]):#x}, "
                              f"{int(spans.npages[i])} pages, {int(spans.nelems[i])} objects of "
                              f"{int(spans.elemsize[i])} B, freeindex {int(spans.freeindex[i])} "
                              f"({int(bad.sum())} such spans)")
        overlap = spans.base[1:] < spans.end[:-1]
        if overlap.any():
            i = int(np.flatnonzero(overlap)[0])
            raise Unsupported(f"corrupt spans: {int(spans.base[i]):#x} and {int(spans.base[i + 1]):#x} overlap")

    def alloc_bits(self, spans: Spans) -> np.ndarray:
        """(sum of nelems,) bool, span after span: slot i of a span holds an
        object (i < freeindex, or its allocBits bit is set)."""
        cached = self.__dict__.get("_alloc")
        if cached is not None and cached[0] is spans:
            return cached[1]
        out = self._alloc_bits(spans)
        self._alloc = (spans, out)
        return out

    def forget_alloc_bits(self) -> None:
        self._alloc = None

    def _alloc_bits(self, spans: Spans) -> np.ndarray:
        nelems = spans.nelems.astype(np.int64)
        total = int(nelems.sum())
        out = np.zeros(total, dtype=bool)
        starts = np.concatenate(([0], np.cumsum(nelems)[:-1]))
        # allocBits are whole uint64s (newAllocBits): read them in groups of equal length.
        nwords = (nelems + 63) // 64
        for words in np.unique(nwords):
            which = np.flatnonzero(nwords == words)
            try:
                raw = self.arrays.gather(spans.alloc_bits[which], int(words) * 8)
            except BadRead as err:
                raise Unsupported(f"a span's allocBits are not in the core: {err}") from None
            bits = np.unpackbits(raw, axis=1, bitorder="little").astype(bool)
            for_span = nelems[which]
            # Scatter each span's first nelems bits into its place.
            width = bits.shape[1]
            mask = np.arange(width)[None, :] < for_span[:, None]
            positions = (starts[which][:, None] + np.arange(width)[None, :])[mask]
            out[positions] = bits[mask]
        # Below freeindex, every slot holds an object: a run at each span's start.
        free = spans.freeindex.astype(np.int64)
        runs = np.repeat(starts, free) + (np.arange(int(free.sum()), dtype=np.int64)
                                          - np.repeat(np.cumsum(free) - free, free))
        out[runs] = True
        return out

    # Arenas

    @property
    def arenas(self) -> dict[int, int]:
        """arena base address -> its heapArena."""
        if self._arenas is None:
            self._arenas = self._read_arenas()
        return self._arenas

    def _read_arenas(self) -> dict[int, int]:
        mheap, memory = self.mheap, self.memory
        path = "heapArenas" if mheap.has("heapArenas") else "allArenas"
        try:
            pointer, count = self._slice(self.address, mheap, path)
            if count > 1 << 22:
                raise Unsupported(f"runtime.mheap_.{path} holds {count} arenas")
            indices = memory.words(pointer, count) if count else ()
            l1_at, l1_type = mheap.field("arenas")
            if l1_type.kind != "array" or l1_type.count != 1:
                raise Unsupported("runtime.mheap_.arenas has more than one L1 entry (not amd64 Linux)")
            l2 = memory.u64(self.address + l1_at)
            found: dict[int, int] = {}
            spans_at = self.heap_arena.field("spans")[0]
            arena = self.geometry.arena_bytes
            offset = None
            for index in indices:
                index &= 0xFFFFFFFF  # arenaIdx is uint (amd64: the L2 index)
                heap_arena = memory.u64(l2 + 8 * index)
                if not heap_arena:
                    raise Unsupported(f"heap arena {index} is listed but has no heapArena")
                # A span that starts in this arena says where the arena is
                # (its first pages may belong to a span from the arena before).
                spans = np.frombuffer(memory.read(heap_arena + spans_at, 8 * self.geometry.pages_per_arena),
                                      dtype="<u8")
                used = np.flatnonzero(spans)
                if not len(used):
                    continue
                starts = self.arrays.u64(spans[used] + np.uint64(self.mspan.field("startAddr")[0]))
                page = np.uint64(self.geometry.page_size)
                here = np.flatnonzero((starts % np.uint64(arena)) // page == used.astype(np.uint64))
                if not len(here):
                    continue
                base = int(starts[here[0]]) - int(used[here[0]]) * self.geometry.page_size
                derived = (base - index * arena) % (1 << 64)
                if offset is None:
                    offset = derived
                elif derived != offset:
                    raise Unsupported(f"heap arena {index} at {base:#x} does not fit arenaBaseOffset {offset:#x}")
                found[base] = heap_arena
            self.arena_base_offset = offset
            return found
        except BadRead as err:
            raise Unsupported(f"the heap's arenas are unreadable: {err}") from None

    def arena_field(self, name: str) -> int:
        return self.heap_arena.field(name)[0]
