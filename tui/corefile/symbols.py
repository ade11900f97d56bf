"""PCs of the running process named as Delve and Go name them: Locations, shared.

Each distinct PC is symbolized once; equal (file, line, function) triples
are one Location object, so 100k goroutines standing in a few hundred
places hold a few hundred Locations.

Delve's conventions (pkg/proc/stack.go, variables.go), followed exactly:
- a frame's line is looked up at its PC for the innermost frame, at PC-1
  for the frames below it (a return address follows its CALL), except at a
  function's entry and in runtime.mstart / runtime.systemstack_switch;
- inlined calls are expanded at the same PC (innermost first), and the
  physical function's line is the call site of its outermost inlined call;
- a location without expansion (the goroutine list's User/Go locations)
  has the physical function's name and the innermost line.
go_frame() follows Go's traceback instead (traceback.py): every frame at
pc-1 but where a trap stopped it.
"""

from __future__ import annotations

from ..model import Location
from ..parse.names import print_name
from .pclntab import Func, Pclntab
from .traceback import sym_pc

UNKNOWN_FUNCTION = "???"
NO_CALL_ADJUST = frozenset({"runtime.mstart", "runtime.systemstack_switch"})


class Symbolizer:
    def __init__(self, pclntab: Pclntab, bias: int) -> None:
        self.pclntab = pclntab
        self.bias = bias
        self._places: dict[tuple[str, int, str], Location] = {}
        self._funcs: dict[int, Func | None] = {}
        self._frames: dict[tuple[int, bool, bool], tuple[Location, ...]] = {}
        self._flat: dict[tuple[int, bool], Location] = {}
        self._go_frames: dict[tuple[int, bool], tuple[Location, ...]] = {}
        self.unknown = self.place("", 0, UNKNOWN_FUNCTION)

    def place(self, file: str, line: int, function: str) -> Location:
        key = (file, line, function)
        location = self._places.get(key)
        if location is None:
            location = self._places[key] = Location(file, line, print_name(function))
        return location

    @property
    def places(self) -> int:
        return len(self._places)

    def func(self, pc: int) -> Func | None:
        """The function holding a runtime pc (None outside Go's text)."""
        try:
            return self._funcs[pc]
        except KeyError:
            func = self._funcs[pc] = self.pclntab.find(pc - self.bias)
            return func

    def line_pc(self, func: Func, pc: int, top: bool) -> int:
        """The static pc whose line Delve shows for a frame at runtime pc."""
        static = pc - self.bias
        if top or static == func.entry or func.name in NO_CALL_ADJUST:
            return static
        return static - 1

    def frame(self, pc: int, top: bool, first: bool) -> tuple[Location, ...]:
        """The Locations of one physical frame, inlined calls expanded,
        innermost first. top: the stack's innermost frame; first: no frame
        was emitted before it (Delve looks inlines up at pc-1 otherwise)."""
        key = (pc, top, first)
        found = self._frames.get(key)
        if found is not None:
            return found
        func = self.func(pc)
        if func is None:
            frames = (self.place("?", -1, UNKNOWN_FUNCTION),)
        else:
            line_pc = self.line_pc(func, pc, top)
            inline_pc = pc - self.bias if first else pc - self.bias - 1
            if line_pc == inline_pc:
                frames = tuple(self.place(file, line, name)
                               for name, file, line in self.pclntab.inline_stack(func, line_pc))
            else:
                file, line = self.pclntab.file_line(func, line_pc)
                frames = (self.place(file, line, func.name),)
        self._frames[key] = frames
        return frames

    def go_frame(self, pc: int, trap: bool) -> tuple[Location, ...]:
        """The Locations of one physical frame as Go's traceback prints it:
        its line and inlined calls at pc-1 (inside the CALL a return address
        follows), or at pc itself for a frame a trap stopped (trap) or at
        its function's entry; innermost first."""
        key = (pc, trap)
        found = self._go_frames.get(key)
        if found is not None:
            return found
        func = self.func(pc)
        if func is None:
            found = (self.place("?", -1, UNKNOWN_FUNCTION),)
        else:
            at = sym_pc(pc - self.bias, func.entry, trap)
            found = tuple(self.place(file, line, name) for name, file, line in self.pclntab.inline_stack(func, at))
        self._go_frames[key] = found
        return found

    def flat(self, pc: int, top: bool) -> Location:
        """A frame's location without inline expansion: physical name, innermost line."""
        key = (pc, top)
        found = self._flat.get(key)
        if found is not None:
            return found
        func = self.func(pc)
        if func is None:
            location = self.unknown
        else:
            file, line = self.pclntab.file_line(func, self.line_pc(func, pc, top))
            location = self.place(file, line, func.name)
        self._flat[key] = location
        return location

    def go_statement(self, gopc: int) -> Location:
        """Delve's G.Go(): the line of the CALL before gopc (unless gopc is an entry)."""
        func = self.func(gopc)
        if func is None:
            return self.unknown
        static = gopc - self.bias
        file, line = self.pclntab.file_line(func, static - 1 if static > func.entry else static)
        return self.place(file, line, func.name)

    def entry(self, func: Func) -> Location:
        file, line = self.pclntab.file_line(func, func.entry)
        return self.place(file, line, func.name)
