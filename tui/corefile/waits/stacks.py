"""The top of a parked goroutine's stack, for the wait readers that look
there: which sync function parked it (semaphores), which words its frames
hold (a Cond, a pollDesc), what called into a system call.

The native listing's whole stacks are reused when given; a goroutine it
did not unwind is unwound here to its first PARK_DEPTH frames, once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterable, NamedTuple

import numpy as np

from ...model.table import StacksById
from ..errors import BadRead

if TYPE_CHECKING:
    from ...model import Location
    from ..native import Listing, NativeCore

# How many frames from the top the parking sync or poll function may be.
PARK_DEPTH = 12
# The most stack words handed to a search (a frame of 64 KiB).
MAX_WORDS = 1 << 16


class Parked(NamedTuple):
    """One parked (or in-syscall) g, as the single pass over allgs read it."""

    address: int
    id: int
    status: int
    reason: int
    since: int
    waiting: int
    labels: int
    parent: int


class ParkedStacks:
    """Stacks of the goroutines of one core, by id. g_address: every live
    goroutine's g (the reader fills it as it passes over allgs)."""

    def __init__(self, native: "NativeCore", listing: "Listing | None", g_address: dict[int, int]) -> None:
        self.native = native
        self.listing = listing
        self.g_address = g_address
        self._stack_of: StacksById | None = None
        self._functions: dict[int, tuple[str, ...]] = {}
        self._unwound: dict[int, tuple["Location", ...] | None] = {}
        self._by_pcs: dict[tuple[int, ...], tuple["Location", ...]] = {}

    def _listed(self, gid: int) -> tuple["Location", ...] | None:
        if self.listing is None:
            return None
        return self._listed_stacks().get(gid)

    def _listed_stacks(self) -> StacksById:
        if self._stack_of is None:
            self._stack_of = StacksById.of(self.listing.stacks)
        return self._stack_of

    def keys(self, ids: np.ndarray, addresses: np.ndarray) -> tuple[np.ndarray, Callable[[int], tuple | None]]:
        """(a number for each goroutine's stack: equal for equal stacks, -1
        for none; the stack of a number): the listing's, else each unwound
        here (stack())."""
        listed = self._listed_stacks().codes(ids) if self.listing is not None else np.full(len(ids), -1)
        known = list(self._listed_stacks().stacks) if self.listing is not None else []
        numbers: dict[int, int] = {}
        for row in np.flatnonzero(listed < 0).tolist():
            stack = self.stack(Parked(int(addresses[row]), int(ids[row]), 0, 0, 0, 0, 0, 0))
            if stack is not None:
                if id(stack) not in numbers:
                    numbers[id(stack)] = len(known)
                    known.append(stack)
                listed[row] = numbers[id(stack)]
        return listed, lambda number: known[number] if number >= 0 else None

    def stack(self, g: Parked) -> tuple["Location", ...] | None:
        """The goroutine's whole stack: the listing's when given, else unwound here."""
        if self.listing is not None:
            found = self._listed(g.id)
            if found is not None:
                return found
            if g.id in self._unwound:
                return self._unwound[g.id]
        try:
            record = self.native.read_g(g.address)
        except BadRead:
            return None
        pcs, _ = self.native.unwind(record, PARK_DEPTH)
        found = None
        if pcs is not None:
            found = self._by_pcs.get(pcs)
            if found is None:
                found = self._by_pcs[pcs] = tuple(loc for _, loc in self.native.stack_frames(pcs, PARK_DEPTH))
        self._unwound[g.id] = found
        return found

    def key(self, gid: int) -> object:
        """Equal for goroutines with equal stacks (the listing shares one
        tuple per stack; unwound here, the PCs)."""
        found = self._listed(gid)
        if found is not None:
            return id(found)
        address = self.g_address.get(gid)
        if address is None:
            return None
        try:
            return self.native.unwind(self.native.read_g(address), PARK_DEPTH)[0]
        except BadRead:
            return None

    def functions(self, g: Parked) -> tuple[str, ...]:
        """The function names of the top frames of the goroutine's stack (cached per stack)."""
        stack = self.stack(g)
        if stack is None:
            return ()
        key = id(stack)
        found = self._functions.get(key)
        if found is None:
            found = self._functions[key] = tuple(location.function for location in stack[:PARK_DEPTH])
        return found

    def top_words(self, g: Parked, *last: str) -> Iterable[int]:
        """The words of a parked goroutine's stack from its saved SP up to
        the end of the frame of the first function named `last` (or the
        first PARK_DEPTH frames)."""
        native = self.native
        try:
            record = native.read_g(g.address)
        except BadRead:
            return ()
        pcs, _ = native.unwind(record, PARK_DEPTH)
        if not pcs:
            return ()
        top = record.sp
        for _, cfa, function in native.walker.extents(record.sp, pcs):
            top = cfa
            if function in last:
                break
        count = max(0, min(top - record.sp, MAX_WORDS)) // 8
        try:
            return native.memory.words(record.sp, count)
        except BadRead:
            return ()
