"""A goroutine's stack walked from its saved registers, as Go's traceback
walks one (by the pcsp tables alone).

    walker = StackWalker(memory, symbolizer, pclntab)
    pcs, why = walker.unwind(pc, sp, bp, lo, hi, depth)
    for sp, cfa, function in walker.extents(sp, pcs): ...

Physical frames only: each PC once (symbols.py expands inlined calls).
Where Delve would switch stacks or read a signal context, or meets code
outside Go, the walk stops and says why: the caller leaves that goroutine
to Delve. Never a guess.
"""

from __future__ import annotations

import struct

from .errors import BadRead
from .pclntab import Pclntab
from .symbols import Symbolizer

# Delve's (*G).UserCurrent looks this many frames down for a user frame.
USER_DEPTH = 30
# A stack deeper than this many physical frames is corrupt (Go stacks top
# out at 1 GB; a loop in saved frame data must not hang us).
MAX_FRAMES = 100_000

# Bottom-of-stack functions (Delve's amd64SwitchStack on a goroutine stack).
BOTTOM = frozenset({"runtime.goexit", "runtime.rt0_go", "runtime.mcall"})
# Frames after which a stack goes on on another stack (a signal context, C
# code): a goroutine standing on one of these is not read from g.sched.
# (runtime.cgocallback is not one: on a goroutine's stack it returns into
# the goroutine's own cgocall, or, on a thread C made, to runtime.goexit.)
SWITCHES = frozenset({"runtime.sigtrampgo", "runtime.sigreturn", "runtime.sigreturn__sigaction", "runtime.sigtramp",
                      "crosscall2"})

# PcInfo kinds (bits): a frame after which the stack goes on elsewhere, a bottom frame.
SWITCH, END = 1, 2
_MISSING = object()
_U64 = struct.Struct("<Q").unpack_from


class StackWalker:
    """Walks the stacks of one core. memory: the core's Memory; names: its
    Symbolizer (runtime pc -> Func); pclntab: for the SP deltas."""

    def __init__(self, memory, names: Symbolizer, pclntab: Pclntab) -> None:
        self.memory = memory
        self.names = names
        self.pclntab = pclntab
        self.bias = names.bias
        self._info_of: dict[int, tuple[int, int, str] | None] = {}

    def info(self, pc: int) -> tuple[int, int, str] | None:
        """(sp delta, kind bits (SWITCH, END), function name) of a runtime
        pc, cached; None outside Go's text."""
        try:
            return self._info_of[pc]
        except KeyError:
            func = self.names.func(pc)
            info = None
            if func is not None:
                kind = (SWITCH if func.name in SWITCHES else 0) | (END if func.name in BOTTOM else 0)
                info = (self.pclntab.sp_delta(func, pc - self.bias), kind, func.name)
            self._info_of[pc] = info
            return info

    def unwind(self, pc: int, sp: int, bp: int, lo: int, hi: int,
               depth: int | None) -> tuple[tuple[int, ...] | None, str]:
        """Walk a stack from its saved pc/sp as Go's traceback walks it:
        each frame's CFA is SP + the pcsp table's delta at its pc + 8, the
        return address at CFA-8; stopping at runtime.goexit (or mcall,
        rt0_go) or a zero return address. (Delve switches to frame pointers
        once a frame shows one; past a leaf that keeps none, such as a
        function an async preemption stopped, that skips its caller. bp is
        not needed.)

        Physical frames only, at least depth+1 and USER_DEPTH of them (the
        stack and the user location need no more; depth None: all of them).
        A return address outside Go's code ends the stack, as it ends Go's
        traceback. Raises BadRead; returns (None, why) where Delve would
        switch stacks or read a signal context, or the first pc is outside
        Go's code."""
        if not (lo <= sp <= hi) or hi - lo > 1 << 31:
            return None, f"saved SP {sp:#x} outside its stack [{lo:#x}, {hi:#x})"
        memory = self.memory
        start, end, buf, delta = memory.span(sp)
        unpack = _U64
        info_of, infos = self.info, self._info_of
        pcs: list[int] = []
        limit = max(depth + 1, USER_DEPTH) if depth is not None else MAX_FRAMES
        for _ in range(MAX_FRAMES):
            info = infos.get(pc, _MISSING)
            if info is _MISSING:
                info = info_of(pc)
            if info is None:
                if pcs:  # Go's traceback, too, stops at a return address outside Go's code
                    return tuple(pcs), ""
                return None, f"frame pc {pc:#x} outside Go code"
            spdelta, kind, name = info
            if kind & SWITCH:
                return None, f"stack passes through {name}"
            if spdelta < 0:
                return None, f"no SP delta for pc {pc:#x} in {name}"
            cfa = sp + spdelta + 8
            at = cfa - 8
            ret = unpack(buf, at - delta)[0] if start <= at and cfa <= end else memory.u64(at)
            pcs.append(pc)
            if kind & END or ret == 0 or len(pcs) >= limit:
                break
            pc, sp = ret, cfa
        else:
            return None, f"more than {MAX_FRAMES} frames"
        return tuple(pcs), ""

    def extents(self, sp: int, pcs: tuple[int, ...]) -> list[tuple[int, int, str]]:
        """(sp, cfa, physical function) of each physical frame of a stack
        unwound from saved SP sp: each frame's CFA is its SP plus the pcsp
        table's delta plus the return address (the unwinder's rule; where it
        took frame pointers, BP+16 is the same CFA). Stops at the first frame
        whose delta is unknown or whose return address disagrees with pcs."""
        out = []
        for index, pc in enumerate(pcs):
            func = self.names.func(pc)
            if func is None:
                break
            delta = self.pclntab.sp_delta(func, pc - self.bias)
            if delta < 0:
                break
            cfa = sp + delta + 8
            out.append((sp, cfa, func.name))
            if index + 1 < len(pcs):
                try:
                    if self.memory.u64(cfa - 8) != pcs[index + 1]:
                        break
                except BadRead:
                    break
            sp = cfa
        return out
