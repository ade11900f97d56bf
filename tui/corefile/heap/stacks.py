"""Which words of each goroutine's stack are roots: the slots its frames'
stack maps say hold live pointers at their PCs, as the GC scans them
(runtime.scanframeworker and stkframe.getStackMap), so that a pointer a
dead temporary left behind (a returned callee's frame, a slot the
compiler no longer reads) keeps nothing alive.

A frame, from its SP and the pcsp table's delta there: fp = SP + delta +
8 (the return address), varp = fp - 8, less the saved frame pointer when
the frame has one; argp = fp. At its PC (backed up to the call, but at
the function's entry) PCDATA_StackMapIndex picks a bitmap in
FUNCDATA_LocalsPointerMaps (words below varp) and in
FUNCDATA_ArgsPointerMaps (words from argp); FUNCDATA_StackObjects lists
the address-taken variables (each taken whole here, where the GC takes
those a live pointer reaches: a superset).

Where the runtime has no map to go by, the frame is scanned whole, as the
GC does: a frame a signal stopped at any instruction (the innermost frame
under a signal handler, the caller of runtime.asyncPreempt, of
debugCallV2 or of sigpanic), the register-saving frame itself, a frame
without the map it needs, and a goroutine whose frames cannot be walked
(from its SP to the top of its stack).

    stacks = GoroutineStacks(native, arrays).scan(goid, pc, sp, lo, hi, in_syscall, on_thread, typed=2000)
    stacks.words      # the address of every root word, with .owner its goroutine id
    stacks.frames     # StackFrame (goroutine, depth, sp, cfa, function, lookup pc) of the first `typed`
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..arrays import CoreArrays
from ..batch import PcTable, unwind_all
from ..errors import BadRead, Unsupported
from ..pclntab import ARGS_SIZE_UNKNOWN, Func
from ..stack import BOTTOM

if TYPE_CHECKING:
    from ..memory import Thread
    from ..native import NativeCore

FUNCDATA_ARGS_POINTER_MAPS = 0
FUNCDATA_LOCALS_POINTER_MAPS = 1
FUNCDATA_STACK_OBJECTS = 2
PCDATA_STACK_MAP_INDEX = 1
# Functions that save an interrupted frame's registers in their own frame:
# scanned whole, and so is their caller (stopped at any instruction).
REGISTER_SAVERS = frozenset({"runtime.asyncPreempt", "runtime.debugCallV2"})
# A call to it stands for a faulting instruction of its caller. The GC
# counts that caller dead unless it has deferred calls to run; scanned
# whole here, what a person reading the crash would call held.
FAULTS = frozenset({"runtime.sigpanic"})
# Goroutines walked together (their stacks' pages released after).
WALK = 1 << 13
_STACKMAP = struct.Struct("<ii")
_OBJECT = struct.Struct("<iiiI")
_NO_WORDS = np.zeros(0, dtype=np.int64)


@dataclass(frozen=True, slots=True)
class FrameWords:
    """A frame's extent and root words, as byte offsets from its SP."""

    cfa: int  # the caller's SP: SP + delta + 8
    words: np.ndarray  # int64 offsets from SP of its root words (8-byte aligned)
    precise: bool  # by the stack maps (False: every word of its frame and arguments)


class FrameMaps:
    """Each PC's frame words, read once a (PC, whole?) pair."""

    def __init__(self, native: "NativeCore") -> None:
        self.names, self.pclntab, self.exe = native.names, native.pclntab, native.exe
        self.bias = native.bias
        self._cache: dict[tuple[int, bool], FrameWords | None] = {}
        self.notes: list[str] = []

    def function(self, pc: int) -> str:
        func = self.names.func(pc)
        return func.name if func is not None else ""

    def frame(self, pc: int, whole: bool) -> FrameWords | None:
        """The frame at runtime pc (a return address but for a frame a
        signal stopped); whole: scan every word. None outside Go's code or
        without an SP delta (the walk cannot go on)."""
        key = (pc, whole)
        try:
            return self._cache[key]
        except KeyError:
            pass
        func = self.names.func(pc)
        found = None
        if func is not None:
            try:
                found = self._frame(func, pc - self.bias, whole or func.name in REGISTER_SAVERS)
            except (BadRead, Unsupported, struct.error, IndexError, ValueError) as err:
                self.notes.append(f"stack maps of {func.name} unread ({err}): its frames scanned whole")
                try:
                    found = self._frame(func, pc - self.bias, True)
                except (BadRead, Unsupported, struct.error, IndexError, ValueError):
                    found = None
        self._cache[key] = found
        return found

    def _frame(self, func: Func, pc: int, whole: bool) -> FrameWords | None:
        delta = self.pclntab.sp_delta(func, pc)
        if delta < 0:
            return None
        varp = delta - 8 if delta > 0 else delta  # below the saved frame pointer
        argp = delta + 8
        args = 0 if func.args == ARGS_SIZE_UNKNOWN else max(func.args, 0)
        if whole or func.args == ARGS_SIZE_UNKNOWN:
            return FrameWords(argp, np.concatenate((_span(0, delta), _span(argp, argp + args))), False)
        index = -1
        if pc != func.entry:
            index = self.pclntab.value(self.pclntab.pcdata_offset(func, PCDATA_STACK_MAP_INDEX), func, pc - 1)
        index = max(index, 0)  # the prologue: the entry's map
        parts = []
        precise = True
        if varp > 0:
            bits = self._bitmap(func, FUNCDATA_LOCALS_POINTER_MAPS, index)
            if bits is None:
                parts.append(_span(0, varp))
                precise = False
            elif len(bits):
                parts.append(varp - 8 * len(bits) + 8 * np.flatnonzero(bits))
        if args:
            bits = self._bitmap(func, FUNCDATA_ARGS_POINTER_MAPS, index)
            if bits is None:
                parts.append(_span(argp, argp + args))
                precise = False
            elif len(bits):
                parts.append(argp + 8 * np.flatnonzero(bits))
        parts += self._objects(func, varp, argp)
        words = np.unique(np.concatenate(parts)) if parts else _NO_WORDS
        return FrameWords(argp, words[words >= 0].astype(np.int64), precise)

    def _read(self, address: int, size: int) -> bytes:
        offset = self.exe.file_offset(address, size)
        return bytes(self.exe.data[offset:offset + size])

    def _bitmap(self, func: Func, which: int, index: int) -> np.ndarray | None:
        """The live-pointer bits of a stack map at index (empty: none);
        None when the function has no such map or the index is past it."""
        at = self.pclntab.funcdata_address(func, which)
        if at is None:
            return None
        count, nbit = _STACKMAP.unpack(self._read(at, 8))
        if nbit <= 0:
            return np.zeros(0, dtype=bool)
        if not 0 <= index < count:
            return None
        width = (nbit + 7) // 8
        raw = np.frombuffer(self._read(at + 8 + index * width, width), dtype=np.uint8)
        return np.unpackbits(raw, bitorder="little")[:nbit].astype(bool)

    def _objects(self, func: Func, varp: int, argp: int) -> list[np.ndarray]:
        """The pointer-holding words of the frame's stack objects (each
        from its offset over its pointer bytes)."""
        at = self.pclntab.funcdata_address(func, FUNCDATA_STACK_OBJECTS)
        if at is None:
            return []
        count = struct.unpack("<Q", self._read(at, 8))[0]
        if count > 1 << 16:
            raise Unsupported(f"{count} stack objects")
        out = []
        for off, _size, pointer_bytes, _gcdata in _OBJECT.iter_unpack(self._read(at + 8, count * _OBJECT.size)):
            start = (varp if off < 0 else argp) + off
            if start >= 0 and pointer_bytes:
                out.append(_span(start, start + abs(pointer_bytes)))
        return out


def _span(start: int, end: int) -> np.ndarray:
    return np.arange(start, end, 8, dtype=np.int64)


@dataclass(frozen=True, slots=True)
class StackFrame:
    goroutine: int
    depth: int
    sp: int
    cfa: int
    function: str
    lookup_pc: int  # the runtime pc whose variables are live: the call's, or a trapped frame's own


@dataclass(frozen=True, eq=False)
class ScannedStacks:
    words: np.ndarray  # uint64 addresses of root words
    owner: np.ndarray  # uint64 goroutine id of each
    frames: tuple[StackFrame, ...]
    whole: int  # goroutines scanned whole (their frames not walked)
    notes: tuple[str, ...] = ()  # functions whose stack maps could not be read


class GoroutineStacks:
    """The root words of every live goroutine's stack in one open core."""

    def __init__(self, native: "NativeCore", arrays: CoreArrays) -> None:
        self.native, self.arrays = native, arrays
        self.maps = FrameMaps(native)
        self._table = PcTable(native.walker)

    def scan(self, goid: np.ndarray, pc: np.ndarray, sp: np.ndarray, lo: np.ndarray, hi: np.ndarray,
             in_syscall: np.ndarray, on_thread: dict[int, tuple["Thread", bool]], typed: int) -> ScannedStacks:
        """goid..hi: the live goroutines' ids, where Go starts their stacks
        (g.syscallpc/sp in a system call or C, else g.sched) and their
        stacks' bounds; on_thread: goroutine id -> (its thread, direct),
        walked from their threads' registers but in a system call; the
        frames of the first `typed` goroutines are kept."""
        words: list[np.ndarray] = []
        owners: list[np.ndarray] = []
        frames: list[StackFrame] = []
        kept = goid[:typed]
        keep_frames = set(kept.tolist())
        whole = 0
        n = len(goid)
        from_thread = np.zeros(n, dtype=bool)
        threads = {}
        for row in np.flatnonzero(np.isin(goid, np.fromiter(on_thread, dtype=np.uint64, count=len(on_thread)))).tolist():
            if not in_syscall[row]:
                from_thread[row] = True
                threads[row] = on_thread[int(goid[row])][0]
        batch = np.flatnonzero(~from_thread)
        alone: list[int] = []
        for start in range(0, len(batch), WALK):
            rows = batch[start:start + WALK]
            number, stacks = unwind_all(self._table, self.arrays, pc[rows], sp[rows], lo[rows], hi[rows])
            laid = [self._stack(pcs) for pcs in stacks]
            walked = number >= 0
            alone += rows[~walked].tolist()
            rows, number = rows[walked], number[walked]
            if len(rows):
                sizes = np.asarray([len(offsets) for offsets, _ in laid], dtype=np.int64)
                flat = np.concatenate([offsets for offsets, _ in laid]) if laid else _NO_WORDS
                firsts = np.cumsum(sizes) - sizes
                count = sizes[number]
                inner = np.arange(int(count.sum()), dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
                taken = flat[np.repeat(firsts[number], count) + inner]
                words.append(np.repeat(sp[rows], count) + taken.astype(np.uint64))
                owners.append(np.repeat(goid[rows], count))
                typed_rows = np.flatnonzero(np.isin(goid[rows], kept))
                for row, which in zip(rows[typed_rows].tolist(), number[typed_rows].tolist()):
                    frames += _placed(int(goid[row]), int(sp[row]), laid[which][1])
            self.arrays.memory.release()
        for row in alone:
            try:
                pcs, _why = self.native.walker.unwind(int(pc[row]), int(sp[row]), 0, int(lo[row]), int(hi[row]), None)
            except BadRead:
                pcs = None
            if pcs:
                offsets, laid = self._stack(pcs)
                base = int(sp[row])
                self._add(words, owners, base + offsets, int(goid[row]))
                if int(goid[row]) in keep_frames:
                    frames += _placed(int(goid[row]), base, laid)
            else:
                whole += 1
                self._add(words, owners, _whole(int(sp[row]), int(lo[row]), int(hi[row])), int(goid[row]))
        for row, thread in threads.items():
            gid = int(goid[row])
            found = self._thread(thread, int(lo[row]), int(hi[row]))
            if found is None:
                whole += 1
                rsp = thread.rsp if lo[row] <= thread.rsp < hi[row] else int(lo[row])
                self._add(words, owners, _whole(rsp, int(lo[row]), int(hi[row])), gid)
                continue
            at, laid = found
            self._add(words, owners, at, gid)
            if gid in keep_frames:
                frames += _placed(gid, 0, laid)
        empty = np.zeros(0, dtype=np.uint64)
        return ScannedStacks(np.concatenate(words) if words else empty, np.concatenate(owners) if owners else empty,
                             tuple(frames), whole, tuple(dict.fromkeys(self.maps.notes)))

    @staticmethod
    def _add(words: list, owners: list, at: np.ndarray, gid: int) -> None:
        at = np.asarray(at, dtype=np.uint64)
        words.append(at)
        owners.append(np.full(len(at), gid, dtype=np.uint64))

    def _stack(self, pcs: tuple[int, ...]) -> tuple[np.ndarray, list[tuple[int, int, str, int]]]:
        """A stack walked from its first SP: its root words as offsets from
        that SP, and each frame's (sp, cfa) offsets, function and lookup pc."""
        parts, laid = [], []
        at = 0
        callee = ""
        for depth, pc in enumerate(pcs):
            name = self.maps.function(pc)
            frame = self.maps.frame(pc, callee in REGISTER_SAVERS or callee in FAULTS)
            if frame is None:
                break
            parts.append(at + frame.words)
            laid.append((at, at + frame.cfa, name, pc if depth == 0 else pc - 1))
            at += frame.cfa
            callee = name
        offsets = np.unique(np.concatenate(parts)) if parts else _NO_WORDS
        return offsets, laid

    def _thread(self, thread: "Thread", lo: int, hi: int) -> tuple[np.ndarray, list[tuple[int, int, str, int]]] | None:
        """The root words of a goroutine running on a thread, from the
        frames its thread's walk finds on the goroutine's stack (signal
        frames crossed); None when the walk never reaches them."""
        walked = self.native.thread_walker().walk(thread)
        own = [frame for frame in walked if frame.goroutine and not frame.c and lo <= frame.sp < hi]
        if not own:
            return None
        parts, laid = [], []
        callee = ""
        for frame in walked:
            if not (frame.goroutine and not frame.c and lo <= frame.sp < hi):
                callee = frame.function
                continue
            whole = frame.trap or callee in REGISTER_SAVERS or callee in FAULTS
            found = self.maps.frame(frame.pc, whole)
            callee = frame.function
            if found is None:
                break
            parts.append(np.uint64(frame.sp) + found.words.astype(np.uint64))
            laid.append((frame.sp, frame.sp + found.cfa, frame.function, frame.pc if frame.trap else frame.pc - 1))
        if not laid or laid[-1][2] not in BOTTOM:
            # The walk stopped short of the stack's first frame: the rest
            # of the stack, every word, so that nothing it holds is lost.
            parts.append(_whole(laid[-1][1] if laid else own[0].sp, lo, hi))
        return np.unique(np.concatenate(parts)), laid


def _placed(gid: int, base: int, laid: list[tuple[int, int, str, int]]) -> list[StackFrame]:
    """A goroutine's frames, their (sp, cfa) offsets from base made addresses."""
    return [StackFrame(gid, depth, base + at, base + cfa, name, lookup)
            for depth, (at, cfa, name, lookup) in enumerate(laid)]


def _whole(sp: int, lo: int, hi: int) -> np.ndarray:
    """Every word of a stack from sp (or its bottom, when sp is outside it) to its top."""
    start = sp if lo <= sp <= hi else lo
    start = (start + 7) & ~7
    return np.arange(start, hi, 8, dtype=np.uint64)
