"""A goroutine's stack as Go printed it, and where its thread stands above
it, read from the core file alone.

    stack = goroutine_stack(native, walker, g, thread)
    stack.own      # the frames Go printed for the goroutine (traceback.py's rules)
    stack.thread   # the thread's frames above them: inside a system call or
                   # C code, or the runtime dying on the system stack

Go starts a goroutine's stack (runtime/traceback.go):
- in a system call or C code (g.syscallsp != 0): at g.syscallpc/syscallsp;
- parked (on no thread): at g.sched;
- on a thread: where the thread's stack (threads.py) reaches the
  goroutine's own stack, past the runtime's dying frames (fatalpanic,
  fatalthrow: Go prints from their caller) and morestack (Go prints the
  goroutine from what morestack saved); a frame a signal interrupted is a
  trap, its line at its pc.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model import Location
from .memory import Thread
from .runtime.g import GRecord
from .threads import SignalInfo, ThreadFrame, ThreadWalker
from .traceback import DYING_FRAMES

C_PREFIX = "C."


@dataclass(frozen=True)
class ShownFrame:
    """One physical frame: its pc, its Locations (inlined calls expanded,
    innermost first), and whether it is C code (its function is `C.name`)."""

    pc: int
    locations: tuple[Location, ...]
    c: bool = False
    signal: SignalInfo | None = None  # the signal that stopped it


@dataclass(frozen=True)
class GoroutineStack:
    thread: tuple[ShownFrame, ...]
    own: tuple[ShownFrame, ...]

    def own_locations(self) -> tuple[Location, ...]:
        return tuple(location for frame in self.own for location in frame.locations)


def own_start(frames: list[ThreadFrame]) -> int | None:
    """Where the goroutine's own stack starts in its thread's frames: after
    the outermost of the runtime's dying frames on the goroutine's stack,
    else at the first frame on it; None when the walk never reached it."""
    on = [i for i, frame in enumerate(frames) if frame.goroutine]
    if not on:
        return None
    for i in reversed(on):
        if frames[i].function in DYING_FRAMES:
            return i + 1 if i + 1 < len(frames) else None
    return on[0]


def goroutine_stack(native, walker: ThreadWalker | None, g: GRecord, thread: Thread | None) -> GoroutineStack | None:
    """The goroutine's stack (None: not readable from the core alone)."""
    if thread is None or walker is None:
        frames = native.go_stack(g, False)
        if frames is None:
            return None
        return GoroutineStack((), tuple(ShownFrame(f.pc, f.locations) for f in frames))
    walked = walker.walk(thread)
    if g.syscall_sp:
        own = native.go_stack(g, True)
        if own is None:
            return None
        above = []
        for frame in walked:
            if frame.goroutine and frame.sp >= g.syscall_sp:
                break
            above.append(frame)
        return GoroutineStack(tuple(_shown(native, walker, above)), tuple(ShownFrame(f.pc, f.locations) for f in own))
    start = own_start(walked)
    if start is None:
        return None
    injected = native.injected_calls()
    own = []
    for i, frame in enumerate(walked[start:]):
        if frame.c:
            break  # C under the goroutine's own frames: not Go's stack
        trap = frame.trap if i == 0 else walked[start + i - 1].function in injected
        own.append(ShownFrame(frame.pc, native.names.go_frame(frame.pc, trap), False, frame.signal))
    return GoroutineStack(tuple(_shown(native, walker, walked[:start])), tuple(own))


def _shown(native, walker: ThreadWalker, frames: list[ThreadFrame]) -> list[ShownFrame]:
    out = []
    for i, frame in enumerate(frames):
        if frame.c:
            location = walker.modules.location(frame.pc, frame.trap)
            if location is None:
                location = Location("", 0, "???")
            elif not location.function.startswith(C_PREFIX):
                location = Location(location.file, location.line, C_PREFIX + location.function)
            out.append(ShownFrame(frame.pc, (location,), True, frame.signal))
        else:
            trap = frame.trap or (i > 0 and frames[i - 1].function in native.injected_calls())
            out.append(ShownFrame(frame.pc, native.names.go_frame(frame.pc, trap), False, frame.signal))
    return out
