"""Delve's backtraces as Go printed them: each goroutine's own stack from
where Go starts it, with Go's lines, and the thread's frames above it
counted apart (tui/corefile/traceback.py has the rules).

What the rules need of a goroutine (its g.syscallpc, whether it ran on a
thread) and the symbolization at Go's pc are read from the core file
(tui/corefile) when it can be read so; else asked of Delve, which then
gives the innermost line of a frame only (`list *PC`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ..corefile.errors import BadRead, Unsupported
from ..corefile.native import NativeCore
from ..corefile.gostack import ShownFrame
from ..corefile.traceback import GoFrame, StackStart, Symbolize, ends_with, go_frames
from ..debugger.delve import Delve
from ..debugger.session import SessionError
from ..model import Backtrace, Frame, Location
from ..parse import ParseError


class GoStacks:
    """Go's rules for the backtraces of one Delve session's core."""

    def __init__(self, delve: Delve) -> None:
        self.delve = delve
        self._native: NativeCore | None | bool = None  # False: the core cannot be read natively
        self._g: dict[int, int | None] = {}  # goroutine id -> its g, as found
        self._slots: dict[int, int] = {}  # goroutine id -> its index in allgs, where known
        self._on_thread: set[int] = set()
        self._creator: dict[int, Location | None] = {}  # goroutine id -> its go statement
        self._parent: dict[int, int | None] = {}

    def close(self) -> None:
        if isinstance(self._native, NativeCore):
            self._native.close()
        self._native = False

    def _core(self) -> NativeCore | None:
        if self._native is None:
            target = self.delve.target
            try:
                native = NativeCore.open(target.executable, target.core)
                self._on_thread = set(native.thread_goroutines()[0])
                self._native = native
            except (Unsupported, OSError):
                self._native = False
        return self._native or None

    def apply(self, backtrace: Backtrace, slot: int | None = None) -> Backtrace:
        """The backtrace with Go's lines, its thread's frames counted apart
        (own_from) and the goroutine's creator; as it was where neither the
        core nor Delve says enough. slot: the goroutine's index in allgs,
        when the listing said (its g is read straight from there)."""
        goroutine_id = backtrace.goroutine_id
        if goroutine_id is not None and slot is not None:
            self._slots.setdefault(goroutine_id, slot)
        if goroutine_id is None or backtrace.simple or not backtrace.frames or not backtrace.indexed:
            return backtrace
        native = self._core()
        go_stack = None
        try:
            if native is not None and goroutine_id in self._on_thread:
                read = self._from_thread(native, goroutine_id, backtrace)
                if read is not None:
                    return read
            if native is not None:
                start, symbolize, version, go_stack = self._native_rules(native, goroutine_id)
                if go_stack and not ends_with(backtrace.frames, go_stack, bool(start.syscall_pc)):
                    # Delve's stack is not Go's (it skips the caller of a
                    # function a preemption signal stopped): the core's is.
                    return self._as_go_shows(backtrace, (), go_stack)
            else:
                start, symbolize, version = self._delve_rules(goroutine_id, backtrace.frames[0].pc)
            frames, own_from = go_frames(backtrace.frames, start, symbolize, version, go_stack)
        except (BadRead, Unsupported, ParseError, SessionError):
            return backtrace  # Delve's, as it printed it
        return replace(backtrace, frames=frames, own_from=own_from, created_by=self._creator.get(goroutine_id),
                       creator=self._parent.get(goroutine_id))

    def _from_thread(self, native: NativeCore, goroutine_id: int, backtrace: Backtrace) -> Backtrace | None:
        """A goroutine on a thread, read from the core file: its thread's
        stack from the registers (through the signal handler, the system
        stack and C code that Delve may not cross), the goroutine's own
        frames as Go printed them; each frame numbered as shown, with the
        number of Delve's frame for the same pc where Delve has one."""
        address = self._address(native, goroutine_id)
        thread = native.thread_goroutines()[0].get(goroutine_id)
        if address is None or thread is None:
            return None
        stack = native.goroutine_stack(address, thread[0])
        if stack is None or not stack.own:
            return None
        self._creation(native, goroutine_id, native.read_g(address))
        return self._as_go_shows(backtrace, stack.thread, stack.own)

    def _as_go_shows(self, backtrace: Backtrace, thread: Sequence[ShownFrame | GoFrame],
                     own: Sequence[ShownFrame | GoFrame]) -> Backtrace:
        """The stack read from the core file, each frame numbered as shown,
        with the number of Delve's frame for the same pc where Delve has one
        (its variables are Delve's to read)."""
        goroutine_id = backtrace.goroutine_id
        delve_groups = _pc_groups(backtrace)
        frames: list[Frame] = []
        signals: list[tuple[int, int, int, int]] = []
        at = 0  # Delve's frames are matched in order
        for number, shown in enumerate((*thread, *own)):
            signal = getattr(shown, "signal", None)
            if signal is not None:
                signals.append((len(frames), signal.signo, signal.code, signal.address))
            loose = number == len(thread) and bool(thread)  # a system call's frame: the thread went on in it
            found = next((i for i in range(at, len(delve_groups)) if delve_groups[i][0] == shown.pc
                          or (loose and delve_groups[i][1] == shown.locations[-1].function)), None)
            positions: list[int] = []
            if found is not None:
                positions = delve_groups[found][2]
                at = found + 1
            paired = dict(zip(range(len(shown.locations) - 1, -1, -1), reversed(positions)))
            for i, location in enumerate(shown.locations):
                frames.append(Frame(len(frames), shown.pc, location.function, location.file,
                                    location.line, delve_index=paired.get(i)))
        own_from = sum(len(shown.locations) for shown in thread)
        return replace(backtrace, frames=tuple(frames), own_from=own_from, indexed=False, truncated=False,
                       created_by=self._creator.get(goroutine_id), creator=self._parent.get(goroutine_id),
                       signals=tuple(signals))

    def _creation(self, native: NativeCore, goroutine_id: int, g) -> None:
        if goroutine_id not in self._creator:
            go = native.names.go_statement(g.gopc) if g.gopc and goroutine_id != 1 else None
            self._creator[goroutine_id] = go if go is not None and go.is_known else None
            self._parent[goroutine_id] = g.parent_id or None

    def _address(self, native: NativeCore, goroutine_id: int) -> int | None:
        """The goroutine's g, found once (the first screen's goroutine is
        among the first of allgs or on a thread: no pass over a million gs)."""
        if goroutine_id not in self._g:
            self._g[goroutine_id] = native.find_g(goroutine_id, self._slots.get(goroutine_id))
        return self._g[goroutine_id]

    def _native_rules(self, native: NativeCore, goroutine_id: int):
        address = self._address(native, goroutine_id)
        if address is None:
            raise Unsupported(f"goroutine {goroutine_id} is not in allgs")
        g = native.read_g(address)
        on_thread = goroutine_id in self._on_thread
        start = StackStart(g.syscall_pc if g.syscall_sp else 0, on_thread)
        self._creation(native, goroutine_id, g)
        return start, native.names.go_frame, native.go_version(), native.go_stack(g, on_thread)

    def _delve_rules(self, goroutine_id: int, top_pc: int) -> tuple[StackStart, Symbolize, str]:
        delve = self.delve
        syscall_sp = delve.evaluate_int(goroutine_id, None, "runtime.curg.syscallsp")
        syscall_pc = delve.evaluate_int(goroutine_id, None, "runtime.curg.syscallpc") if syscall_sp else 0
        on_thread = delve.evaluate_int(goroutine_id, None, "runtime.curg.m.procid") is not None

        def symbolize(pc: int, trap: bool) -> tuple[Location, ...] | None:
            # Delve gives a place, not the inlined calls: the innermost line
            # only, asked where Delve's own choice (pc for its innermost
            # frame, pc-1 for the others) is not Go's.
            if (pc == top_pc) != trap:
                return None
            try:
                file, line = delve.place_of(pc if trap else pc - 1)
            except ParseError:
                return None
            return (Location(file, line, ""),) if line else None

        return StackStart(syscall_pc or 0, on_thread), symbolize, delve.target.go_version


def _pc_groups(backtrace: Backtrace) -> list[tuple[int, str, list[int]]]:
    """Delve's frames by physical frame: (pc, physical function, frame numbers)."""
    groups: list[tuple[int, str, list[int]]] = []
    for frame in backtrace.frames:
        if groups and frame.pc and groups[-1][0] == frame.pc and not frame.error:
            groups[-1][2].append(frame.index)
            groups[-1] = (frame.pc, frame.function, groups[-1][2])
        else:
            groups.append((frame.pc, frame.function, [frame.index]))
    return groups
