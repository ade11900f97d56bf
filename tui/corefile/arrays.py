"""The dumped address space as numpy arrays: many reads in one call.

Memory (memory.py) answers one read at a time; a heap of ten million
objects, or a million g structs, needs the same reads done for a whole
array of addresses at once. CoreArrays maps each address to its piece of
the address space (searchsorted over the pieces' starts) and reads through
numpy views of the mmapped core and executable: nothing is copied but what
is asked for, and no Python code runs per address.

    arrays = CoreArrays(memory)
    words = arrays.u64(addresses)               # one uint64 per address
    records = arrays.gather(addresses, 160)     # (n, 160) uint8, one row per record
    view = arrays.view(start, nbytes)           # zero-copy, None across pieces

An address outside the core and the executable raises BadRead for the
first such address, unless the caller asks for a mask of the readable ones
(readable()).
"""

from __future__ import annotations

import numpy as np

from .errors import BadRead
from .memory import Memory

U64 = np.dtype("<u8")


class CoreArrays:
    """Vectorised reads of one Memory."""

    def __init__(self, memory: Memory) -> None:
        self.memory = memory
        starts, ends, bufs, deltas = memory.segments()
        self.starts = np.asarray(starts, dtype=np.uint64)
        self.ends = np.asarray(ends, dtype=np.uint64)
        # One flat byte view per distinct buffer (the core, the executable).
        self._views: list[np.ndarray] = []
        owners: dict[int, int] = {}
        which = []
        for buf in bufs:
            key = id(buf)
            if key not in owners:
                owners[key] = len(self._views)
                self._views.append(np.frombuffer(buf, dtype=np.uint8))
            which.append(owners[key])
        self.buffer_of = np.asarray(which, dtype=np.int32)
        # File offset of an address: address - delta.
        self.deltas = np.asarray([d % (1 << 64) for d in deltas], dtype=np.uint64)
        # Where every piece maps 8-aligned addresses to 8-aligned offsets,
        # words are read from uint64 views.
        self._aligned = all(d % 8 == 0 for d in deltas)
        self._words = [v[:len(v) // 8 * 8].view(U64) for v in self._views]

    def _one_piece(self, addresses: np.ndarray, size: int) -> int | None:
        """The piece holding every [a, a+size), when one does (the usual
        case: a batch of heap addresses in the heap's one segment)."""
        lo, hi = int(addresses.min()), int(addresses.max())
        index = int(np.searchsorted(self.starts, np.uint64(lo), side="right")) - 1
        if index >= 0 and hi + size <= int(self.ends[index]):
            return index
        return None

    def _pieces(self, addresses: np.ndarray, size: int) -> np.ndarray:
        """The index of the piece holding [a, a+size) for every address; -1 where none does."""
        one = self._one_piece(addresses, size)
        if one is not None:
            return np.full(len(addresses), one, dtype=np.int64)
        index = np.searchsorted(self.starts, addresses, side="right").astype(np.int64) - 1
        ok = index >= 0
        clipped = np.where(ok, index, 0)
        ok &= addresses + np.uint64(size) <= self.ends[clipped]
        ok &= addresses >= self.starts[clipped]
        return np.where(ok, index, -1)

    def readable(self, addresses: np.ndarray, size: int = 8) -> np.ndarray:
        """A bool mask: [a, a+size) lies in one piece of the address space."""
        addresses = np.asarray(addresses, dtype=np.uint64)
        if not len(addresses):
            return np.zeros(0, dtype=bool)
        if self._one_piece(addresses, size) is not None:
            return np.ones(len(addresses), dtype=bool)
        return self._pieces(addresses, size) >= 0

    def _offsets(self, addresses: np.ndarray, size: int) -> list[tuple[int, np.ndarray, np.ndarray]]:
        """(buffer index, positions in addresses, file offsets) per buffer."""
        one = self._one_piece(addresses, size)
        if one is not None:
            offsets = (addresses - self.deltas[one]).view(np.int64)
            return [(int(self.buffer_of[one]), slice(None), offsets)]
        pieces = self._pieces(addresses, size)
        bad = np.flatnonzero(pieces < 0)
        if len(bad):
            raise BadRead(int(addresses[bad[0]]), size)
        buffers = self.buffer_of[pieces]
        offsets = (addresses - self.deltas[pieces]).astype(np.int64)
        if len(self._views) == 1:
            return [(0, np.arange(len(addresses)), offsets)]
        out = []
        for b in range(len(self._views)):
            at = np.flatnonzero(buffers == b)
            if len(at):
                out.append((b, at, offsets[at]))
        return out

    def gather(self, addresses, size: int, out: np.ndarray | None = None) -> np.ndarray:
        """(n, size) uint8: the size bytes at each address (a copy, into out if given)."""
        addresses = np.asarray(addresses, dtype=np.uint64)
        if out is None:
            out = np.empty((len(addresses), size), dtype=np.uint8)
        if not len(addresses):
            return out
        for b, at, offsets in self._offsets(addresses, size):
            # Every byte offset as the start of a size-byte record: numpy
            # copies each record whole (a (n, size) byte view copies byte by byte).
            view = self._views[b]
            records = np.ndarray(shape=(max(len(view) - size + 1, 0),), dtype=np.dtype(("V", size)), buffer=view,
                                 strides=(1,))
            out[at] = records[offsets].view(np.uint8).reshape(-1, size)
        return out

    def u64(self, addresses) -> np.ndarray:
        """The little-endian uint64 at each address."""
        addresses = np.asarray(addresses, dtype=np.uint64)
        if not len(addresses):
            return np.zeros(0, dtype=np.uint64)
        if not (addresses & np.uint64(7)).any() and self._aligned:
            # Aligned words: one take from a uint64 view of each buffer.
            out = np.empty(len(addresses), dtype=np.uint64)
            for b, at, offsets in self._offsets(addresses, 8):
                out[at] = self._words[b][offsets >> 3]
            return out
        return self.gather(addresses, 8).view(U64).reshape(-1)

    def u64_where(self, addresses) -> tuple[np.ndarray, np.ndarray]:
        """(the uint64 at each address, 0 where the core does not hold it;
        a mask of those it holds): pieces found once."""
        addresses = np.asarray(addresses, dtype=np.uint64)
        if not len(addresses) or self._one_piece(addresses, 8) is not None:
            return self.u64(addresses), np.ones(len(addresses), dtype=bool)
        ok = self._pieces(addresses, 8) >= 0
        out = np.zeros(len(addresses), dtype=np.uint64)
        if ok.any():
            out[ok] = self.u64(addresses[ok])
        return out, ok

    def u64_or_zero(self, addresses) -> np.ndarray:
        """Like u64, with 0 for an address the core does not hold."""
        addresses = np.asarray(addresses, dtype=np.uint64)
        if not len(addresses):
            return np.zeros(0, dtype=np.uint64)
        if self._one_piece(addresses, 8) is not None:
            return self.u64(addresses)
        ok = self.readable(addresses, 8)
        out = np.zeros(len(addresses), dtype=np.uint64)
        if ok.any():
            out[ok] = self.u64(addresses[ok])
        return out

    def field(self, records: np.ndarray, offset: int, size: int, signed: bool = False) -> np.ndarray:
        """One integer field of gathered records, as int64 / uint64."""
        dtype = np.dtype(f"<{'i' if signed else 'u'}{size}")
        column = np.ascontiguousarray(records[:, offset:offset + size]).view(dtype).reshape(-1)
        return column.astype(np.int64 if signed else np.uint64)

    def view(self, address: int, nbytes: int) -> np.ndarray | None:
        """A zero-copy uint8 view of [address, address+nbytes), or None
        when that range is not one piece (then use gather)."""
        found = self._pieces(np.asarray([address], dtype=np.uint64), nbytes)[0]
        if found < 0:
            return None
        view = self._views[self.buffer_of[found]]
        offset = (address - int(self.deltas[found])) % (1 << 64)
        return view[offset:offset + nbytes]

    def words(self, address: int, count: int) -> np.ndarray:
        """count uint64 words from address: a view where possible, else a copy."""
        view = self.view(address, 8 * count)
        if view is not None and address % 8 == 0:
            return view.view(U64)
        return self.u64(np.uint64(address) + np.arange(count, dtype=np.uint64) * np.uint64(8))

    def segments(self) -> list[tuple[int, int]]:
        """(start, end) of every piece, in address order."""
        return list(zip(self.starts.tolist(), self.ends.tolist()))
