"""Go's own traceback rules (runtime/traceback.go), for every stack shown.

A Go program that dies with GOTRACEBACK=crash prints every goroutine's
stack; what gocore-tui shows must read the same. Two rules decide it:

- The line of a frame (and the inlined calls expanded in it) is looked up
  at pc-1, inside the CALL the return address follows, except at a
  function's entry and for a frame a trap stopped: the innermost frame of
  a traceback from a signal context, and the caller of an injected call
  (runtime.sigpanic; since Go 1.21 also asyncPreempt and debugCallV2),
  whose pc is the faulting or interrupted instruction itself (unwinder.symPC;
  Go 1.19's gentraceback: tracepc, waspanic).
- Where a goroutine's stack starts: from g.syscallpc/syscallsp while it is
  in a system call or C (g.syscallsp != 0); from g.sched when parked; the
  dying goroutine from the caller of fatalpanic / fatalthrow (gopanic,
  throw); a goroutine a signal interrupted from the signal's context; one
  whose stack overflowed from what morestack saved.

Delve breaks the first rule both ways (it looks a parked goroutine's
innermost frame up at its pc, and an interrupted frame at pc-1) and
starts a goroutine on a thread from the thread's registers, through the
runtime's own dying frames and the signal handler. go_frames() turns
Delve's frames into Go's: the same frames (Delve's numbering is what its
`frame N` commands address), with Go's lines, and the frames that are the
thread's rather than the goroutine's counted apart (Backtrace.own_from).
Pure: the symbolizer is passed in.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Sequence

from ..model import Frame, Location

# Injected calls: their caller stopped at a trap, not at a call.
_INJECTED = frozenset({"runtime.sigpanic", "runtime.asyncPreempt", "runtime.debugCallV2"})
_INJECTED_BEFORE_1_21 = frozenset({"runtime.sigpanic"})
# Frames of a thread's stack after which (outwards) the goroutine's own
# stack begins at a call: Go prints the dying goroutine from the caller of
# fatalpanic / fatalthrow, and an overflowing one from what morestack saved.
DYING_FRAMES = frozenset({"runtime.fatalpanic", "runtime.fatalthrow", "runtime.morestack", "runtime.newstack"})
# The signal handler's frames: the frame under them was stopped by the signal (a trap).
SIGNAL_FRAMES = frozenset({"runtime.sigtrampgo", "runtime.sigtramp", "runtime.sigreturn__sigaction",
                           "runtime.sigreturn", "runtime.cgoSigtramp"})

# symbolize(pc, trap): the Locations of the physical frame at runtime pc,
# inlined calls expanded, innermost first, at Go's symPC; None when not
# known; one Location without a function when only the innermost frame's
# place is known.
Symbolize = Callable[[int, bool], "tuple[Location, ...] | None"]


def injected_calls(go_version: str) -> frozenset[str]:
    """The functions whose caller Go looks up at pc itself, for a target of this Go ("go1.19.8")."""
    return _INJECTED_BEFORE_1_21 if _older_than(go_version, 21) else _INJECTED


def _older_than(go_version: str, minor: int) -> bool:
    parts = go_version.removeprefix("go").split(".")
    try:
        return int(parts[0]) == 1 and int(parts[1]) < minor
    except (IndexError, ValueError):
        return False  # a devel or unknown version: the newest rules


def sym_pc(pc: int, entry: int, trap: bool) -> int:
    """The pc whose line Go prints for a frame at pc of a function starting at entry."""
    return pc if trap or pc <= entry else pc - 1


@dataclass(frozen=True)
class StackStart:
    """What the goroutine's g says of where Go starts its stack.

    syscall_pc: g.syscallpc when g.syscallsp != 0 (a system call, or C
    code through cgo), else 0. on_thread: Delve unwound the goroutine from
    its thread's registers (it ran on a thread at the crash), not from
    g.sched."""

    syscall_pc: int = 0
    on_thread: bool = False


def _groups(frames: Sequence[Frame]) -> list[list[int]]:
    """Positions of frames grouped by physical frame: Delve repeats a
    physical frame's pc for each inlined call expanded in it."""
    groups: list[list[int]] = []
    for position, frame in enumerate(frames):
        if groups and frame.pc and frames[groups[-1][-1]].pc == frame.pc and not frame.error:
            groups[-1].append(position)
        else:
            groups.append([position])
    return groups


@dataclass(frozen=True)
class GoFrame:
    """One physical frame of a stack as Go prints it: its pc and its
    Locations (inlined calls expanded, innermost first)."""

    pc: int
    locations: tuple[Location, ...]


def dying_prefix(functions: Sequence[str]) -> int:
    """How many of the first physical frames of a stack unwound from
    g.sched are the runtime's own dying: a goroutine whose thread threw or
    panicked on the system stack saved g.sched in systemstack's switch, in
    fatalthrow or fatalpanic, and Go prints it from their caller."""
    if tuple(functions[:1]) == ("runtime.systemstack_switch",) and len(functions) > 1 \
            and functions[1] in ("runtime.fatalthrow", "runtime.fatalpanic"):
        return 2
    return 0


def go_frames(frames: Sequence[Frame], start: StackStart, symbolize: Symbolize, go_version: str,
              go_stack: Sequence[GoFrame] | None = None) -> tuple[tuple[Frame, ...], int]:
    """(Delve's frames with Go's functions and lines, how many of the first
    are the thread's rather than the goroutine's). Delve's frames keep their
    number and order (and pcs); a physical frame whose expansion at Go's pc
    has another number of inlined calls than Delve's is corrected from its
    outermost call inwards, as far as the two go together.

    go_stack: the goroutine's stack as Go prints it, where it is known
    without Delve (from g.sched or g.syscallpc): where it is the end of
    Delve's (pc for pc, the innermost frame of a system call by its
    function), the goroutine's own frames are those; else they are found
    by the runtime frames Delve shows above them (the dying runtime, the
    signal handler)."""
    frames = list(frames)
    groups = _groups(frames)
    if not groups:
        return tuple(frames), 0
    known = _aligned(frames, groups, go_stack, bool(start.syscall_pc)) if go_stack else None
    if known is not None:
        first, trap, syscall_locations = known, False, None
        given = {first + i: frame.locations for i, frame in enumerate(go_stack)}
    else:
        first, trap, syscall_locations = _own_start(frames, groups, start, symbolize)
        given = {}
    injected = injected_calls(go_version)
    own_from = groups[first][0] if first < len(groups) else len(frames)
    for number in range(first, len(groups)):
        group = groups[number]
        if number in given:
            locations = given[number]
        elif number == first and syscall_locations is not None:
            locations = syscall_locations
        else:
            if number > first:
                callee = frames[groups[number - 1][-1]].function
                trap = callee in injected
            pc = frames[group[0]].pc
            locations = symbolize(pc, trap) if pc and not frames[group[0]].error else None
        if not locations:
            continue
        if not locations[0].function:  # a place only: the innermost frame's
            frame = frames[group[0]]
            frames[group[0]] = replace(frame, file=locations[0].file, line=locations[0].line)
            continue
        if number == first and len(locations) < len(group):
            # The thread stands in calls inlined in the goroutine's own frame.
            own_from = group[len(group) - len(locations)]
        for position, location in zip(reversed(group), reversed(locations)):
            frame = frames[position]
            if (frame.function, frame.file, frame.line) != (location.function, location.file, location.line):
                frames[position] = replace(frame, function=location.function, file=location.file, line=location.line)
    return tuple(frames), own_from


def ends_with(frames: Sequence[Frame], go_stack: Sequence[GoFrame], loose_top: bool) -> bool:
    """Whether go_stack is the end of Delve's frames, pc for pc (Delve's
    frames past Go's last, which Delve could not name, left aside)."""
    frames = list(frames)
    return _aligned(frames, _groups(frames), go_stack, loose_top) is not None


def _aligned(frames: list[Frame], groups: list[list[int]], go_stack: Sequence[GoFrame], loose_top: bool) -> int | None:
    """The group go_stack starts at when it is the end of Delve's stack
    (Delve's frames past Go's last, which Delve could not name, left
    aside); loose_top: its innermost frame is matched by its function only
    (a system call's: the thread went on into it)."""
    end = len(groups)
    while end and (frames[groups[end - 1][0]].error or not frames[groups[end - 1][0]].pc
                   or frames[groups[end - 1][-1]].function == "???"):
        end -= 1
    first = end - len(go_stack)
    if first < 0 or not go_stack:
        return None
    for i, go in enumerate(go_stack):
        group = groups[first + i]
        if i == 0 and loose_top:
            if frames[group[-1]].function != go.locations[-1].function:
                return None
        elif frames[group[0]].pc != go.pc:
            return None
    return first


def _own_start(frames: list[Frame], groups: list[list[int]], start: StackStart,
               symbolize: Symbolize) -> tuple[int, bool, tuple[Location, ...] | None]:
    """(the group the goroutine's own stack starts at, whether its pc is a
    trap, its Locations when they are not the group's own pc's)."""
    if start.syscall_pc:
        found = symbolize(start.syscall_pc, False)
        if found and found[-1].function:
            physical = found[-1].function
            for number, group in enumerate(groups):
                if frames[group[-1]].function == physical:
                    return number, False, found
    if not start.on_thread:
        return 0, False, None  # from g.sched: a return address
    for number in range(len(groups) - 1, -1, -1):
        function = frames[groups[number][-1]].function
        if function in DYING_FRAMES:
            return number + 1, False, None
        if function in SIGNAL_FRAMES:
            return number + 1, True, None
    return 0, True, None  # the thread's own registers: where it stopped
