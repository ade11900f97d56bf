"""GDB-vs-Delve verdicts from two parsed backtraces. Pure: no I/O.

Rows are aligned by PC (by function and line where gdb printed no PC, as
it does for a frame that sits at the start of a line), with a longest-
common-subsequence match so the same frame lands on the same row even when
one side has frames the other lacks.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Mapping

from ..model import Crash, Frame, GdbRun, GdbStack, Goroutine, Location, Variable, is_runtime_function
from ..parse.gdb import SIGNAL_HANDLER

# Every goroutine's stack ends here (newproc puts it under the first frame):
# a stack that does not was cut short.
OUTERMOST = "runtime.goexit"


class RowMark(str, Enum):
    SAME = "same"
    WRONG_LINE = "gdb: other line"
    OTHER_FUNCTION = "gdb: other function"
    GDB_UNKNOWN = "gdb: ??"
    GDB_MISSING = "gdb: missing"
    GDB_ONLY = "gdb only"
    SIGNAL_HANDLER = "signal handler"


@dataclass(frozen=True)
class Row:
    delve: Frame | None
    gdb: Frame | None
    mark: RowMark

    @property
    def is_user(self) -> bool:
        frame = self.delve or self.gdb
        return frame is not None and not is_runtime_function(frame.function) and frame.function != SIGNAL_HANDLER


@dataclass(frozen=True)
class Score:
    """One debugger's numbers on this core."""

    frames: int
    frames_resolved: int
    reached_user_frame: bool
    goroutines_visible: int
    user_locations: int
    panic_value: bool
    seconds: float
    # Goroutines whose whole stack the debugger printed; the faulting
    # frame's args and locals it printed as Go values; goroutines it gave a
    # wait reason.
    goroutine_stacks: int = 0
    values_read: int = 0
    wait_reasons: int = 0

    @property
    def resolved_share(self) -> float:
        """Frames resolved out of frames printed: extra garbage frames past the
        end of a stack must not count as a win."""
        return self.frames_resolved / self.frames if self.frames else 0.0


@dataclass(frozen=True)
class ValueRow:
    """One variable of the faulting frame as each debugger printed it ("" when
    it did not print it); read says it printed a Go value. gdb_problem is why
    gdb's is not one ("raw interface", "optimized out", "error", "not printed")."""

    name: str
    kind: str
    delve: str
    gdb: str
    delve_read: bool
    gdb_read: bool
    gdb_problem: str = ""


@dataclass(frozen=True)
class GoroutineStacks:
    """One goroutine's stack as each debugger printed it. delve is Delve's
    whole stack (() until read); gdb the backtrace gdb printed for it: the
    one of the OS thread it runs on (`thread apply all bt`), else its
    `goroutine N bt` (frames, or the error gdb printed), None when gdb
    printed nothing for it. gdb_whole: gdb's holds all of Delve's frames."""

    id: int
    state: str
    crashing: bool
    delve: tuple[Location, ...]
    gdb: GdbStack | None
    gdb_whole: bool
    listed_by_gdb: bool

    @property
    def delve_whole(self) -> bool:
        return _whole(self.delve)


@dataclass(frozen=True)
class Comparison:
    rows: tuple[Row, ...]
    delve: Score
    gdb: Score
    verdict: str
    user_frame: str
    # The faulting frame's variables side by side, and why gdb printed none
    # ("" when it printed them).
    values: tuple[ValueRow, ...] = ()
    values_note: str = ""
    # Every goroutine Delve listed, its two stacks.
    goroutines: tuple[GoroutineStacks, ...] = ()


def _matches(delve: Frame, gdb: Frame) -> bool:
    if gdb.pc and delve.pc:
        return gdb.pc == delve.pc
    # No PC printed (the frame sits at a line start, or was interrupted by
    # a signal): the function decides, and a line difference is marked.
    return gdb.function == delve.function


def align(delve: tuple[Frame, ...], gdb: tuple[Frame, ...]) -> tuple[Row, ...]:
    n, m = len(delve), len(gdb)
    # lcs[i][j]: best number of matched pairs in delve[i:], gdb[j:]
    lcs = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            if _matches(delve[i], gdb[j]):
                lcs[i][j] = lcs[i + 1][j + 1] + 1
            else:
                lcs[i][j] = max(lcs[i + 1][j], lcs[i][j + 1])
    rows: list[Row] = []
    i = j = 0
    while i < n or j < m:
        if i < n and j < m and _matches(delve[i], gdb[j]) and lcs[i][j] == lcs[i + 1][j + 1] + 1:
            rows.append(Row(delve[i], gdb[j], _pair_mark(delve[i], gdb[j])))
            i, j = i + 1, j + 1
        elif j < m and (i == n or lcs[i][j + 1] >= lcs[i + 1][j]):
            rows.append(Row(None, gdb[j], _gdb_only_mark(gdb[j])))
            j += 1
        else:
            rows.append(Row(delve[i], None, RowMark.GDB_MISSING))
            i += 1
    return tuple(rows)


def _pair_mark(delve: Frame, gdb: Frame) -> RowMark:
    if gdb.function != delve.function:
        return RowMark.GDB_UNKNOWN if gdb.function == "???" else RowMark.OTHER_FUNCTION
    return RowMark.SAME if gdb.line == delve.line else RowMark.WRONG_LINE


def _gdb_only_mark(gdb: Frame) -> RowMark:
    if gdb.function == SIGNAL_HANDLER:
        return RowMark.SIGNAL_HANDLER
    return RowMark.GDB_UNKNOWN if gdb.function == "???" else RowMark.GDB_ONLY


def _resolved(frames: tuple[Frame, ...]) -> int:
    return sum(1 for f in frames if f.function not in ("???", SIGNAL_HANDLER) and f.line > 0)


def _reached(frames: tuple[Frame, ...], target: Frame | None) -> bool:
    return target is not None and any(f.function == target.function and f.line == target.line for f in frames)


def _whole(stack: tuple[Location | None, ...]) -> bool:
    return bool(stack) and all(place is not None and place.function != "???" for place in stack) \
        and stack[-1].function == OUTERMOST


def _holds(stack: tuple[Location, ...], frames: tuple[Frame, ...]) -> bool:
    """gdb's frames hold every frame of Delve's whole stack, in order (gdb
    may print more: the signal handler's frames, `??` past the end)."""
    if not _whole(stack):
        return False
    functions = iter(frame.function for frame in frames)
    return all(any(function == place.function for function in functions) for place in stack)


def _goroutine_stacks(goroutines: tuple[Goroutine, ...], stacks: Mapping[int, tuple[Location, ...]],
                      crashing: int | None, gdb: GdbRun) -> tuple[GoroutineStacks, ...]:
    listed = {g.id for g in gdb.goroutines}
    tried = {stack.goroutine_id: stack for stack in gdb.goroutine_stacks}
    on_thread = {stack.lwp: stack for stack in gdb.thread_stacks if stack.lwp is not None}
    pairs = []
    for goroutine in goroutines:
        if goroutine.id is None:
            continue
        delve = tuple(stacks.get(goroutine.id, ()))
        candidates = [stack for stack in (on_thread.get(goroutine.thread), tried.get(goroutine.id)) if stack is not None]
        whole = next((stack for stack in candidates if _holds(delve, stack.frames)), None)
        pairs.append(GoroutineStacks(goroutine.id, goroutine.state, goroutine.id == crashing, delve,
                                     whole or (candidates[0] if candidates else None), whole is not None,
                                     goroutine.id in listed))
    return tuple(pairs)


def _bare(name: str) -> str:
    """gdb names a variable that escaped to the heap `&x`; Delve `x`."""
    return name[1:] if name.startswith("&") else name


def _value_rows(delve: tuple[Variable, ...], gdb: GdbRun) -> tuple[ValueRow, ...]:
    printed = gdb.values
    gdb_values = {_bare(v.name): v for v in (printed.args + printed.locals)} if printed else {}
    rows = []
    for variable in delve:
        theirs = gdb_values.pop(variable.name, None)
        rows.append(ValueRow(variable.name, variable.kind, variable.value, theirs.value if theirs else "",
                             not variable.unreadable and "(unreadable" not in variable.value,
                             theirs is not None and not theirs.problem,
                             theirs.problem if theirs else "not printed"))
    for name, theirs in gdb_values.items():
        rows.append(ValueRow(name, theirs.kind, "", theirs.value, False, not theirs.problem, theirs.problem))
    return tuple(rows)


def compare(crash: Crash, delve_crash_frames: tuple[Frame, ...], delve_focus_frames: tuple[Frame, ...],
            goroutines: tuple[Goroutine, ...], gdb: GdbRun, delve_seconds: float,
            delve_stacks: Mapping[int, tuple[Location, ...]] | None = None,
            delve_values: tuple[Variable, ...] = ()) -> Comparison:
    """Score both debuggers on the same core.

    delve_crash_frames is Delve's stack of the crashing thread (what gdb's
    `bt` walks); delve_focus_frames the stack holding the faulting user frame
    (the same one unless the crash ran on a system stack). delve_stacks is
    Delve's whole stack of each goroutine read so far; delve_values the
    faulting frame's args and locals as Delve printed them.
    """
    target = crash.frame
    gdb_user = {f.function for f in gdb.frames if not is_runtime_function(f.function) and f.function != SIGNAL_HANDLER}
    pairs = _goroutine_stacks(goroutines, delve_stacks or {}, crash.goroutine_id, gdb)
    values = _value_rows(delve_values, gdb)
    delve_score = Score(
        frames=len(delve_crash_frames),
        frames_resolved=_resolved(delve_crash_frames),
        reached_user_frame=_reached(delve_focus_frames, target),
        goroutines_visible=len(goroutines),
        user_locations=sum(1 for g in goroutines if not g.is_runtime),
        panic_value=bool(crash.message),
        seconds=delve_seconds,
        goroutine_stacks=sum(1 for pair in pairs if pair.delve_whole),
        values_read=sum(1 for row in values if row.delve_read),
        wait_reasons=sum(1 for g in goroutines if g.wait_reason),
    )
    gdb_score = Score(
        frames=len(gdb.frames),
        frames_resolved=_resolved(gdb.frames),
        reached_user_frame=_reached(gdb.frames, target),
        goroutines_visible=max(gdb.threads, len(gdb.goroutines)),
        user_locations=sum(1 for g in gdb.goroutines if not is_runtime_function(g.function)) or (1 if gdb_user else 0),
        # Not the second run's output: `frame N` prints the faulting source
        # line, which may spell the panic's message out (`panic("PANIC")`).
        panic_value=bool(crash.message) and crash.message in (gdb.plain_output + gdb.go_output),
        seconds=gdb.seconds,
        goroutine_stacks=sum(1 for pair in pairs if pair.gdb_whole),
        values_read=sum(1 for row in values if row.gdb_read),
        wait_reasons=sum(1 for g in gdb.goroutines if g.wait_reason),
    )
    user_frame = f"{target.function} at {target.location.short()}" if target else "the faulting frame"
    note = gdb.values.error if gdb.values is not None else ("gdb was not asked for them" if values else "")
    return Comparison(align(delve_crash_frames, gdb.frames), delve_score, gdb_score,
                      verdict(delve_score, gdb_score, user_frame, len(values)), user_frame,
                      values, note, pairs)


def verdict(delve: Score, gdb: Score, user_frame: str, variables: int = 0) -> str:
    """One sentence, built from the numbers only. variables: how many args
    and locals the faulting frame has (Delve's and gdb's together)."""
    def yes(value: bool) -> str:
        return "yes" if value else "no"

    measures = [
        ("reached " + user_frame, delve.reached_user_frame, gdb.reached_user_frame, yes),
        ("goroutines visible", delve.goroutines_visible, gdb.goroutines_visible, str),
        ("goroutines with a user location", delve.user_locations, gdb.user_locations, str),
        ("goroutines with their whole stack", delve.goroutine_stacks, gdb.goroutine_stacks, str),
        ("variables of the faulting frame read as Go values", delve.values_read, gdb.values_read,
         lambda v: f"{v}/{variables}"),
        ("goroutines with a wait reason", delve.wait_reasons, gdb.wait_reasons, str),
        ("panic value recovered", delve.panic_value, gdb.panic_value, yes),
        ("frames resolved to a function and line", delve.resolved_share, gdb.resolved_share, None),
    ]
    delve_wins = [m for m in measures if m[1] > m[2]]
    gdb_wins = [m for m in measures if m[2] > m[1]]

    def describe(items) -> str:
        def pair(name, d, g, show) -> str:
            if show is None:  # the resolved share: show the counts behind it
                return f"{name} ({delve.frames_resolved}/{delve.frames} vs {gdb.frames_resolved}/{gdb.frames})"
            return f"{name} ({show(d)} vs {show(g)})"
        return ", ".join(pair(*item) for item in items)

    if len(delve_wins) > len(gdb_wins):
        sentence = f"Delve wins {len(delve_wins)} of {len(measures)} measures: {describe(delve_wins)}"
        if gdb_wins:
            sentence += f"; gdb does better on {describe(gdb_wins)}"
    elif len(gdb_wins) > len(delve_wins):
        sentence = f"gdb wins {len(gdb_wins)} of {len(measures)} measures on this core: {describe(gdb_wins)}"
        if delve_wins:
            sentence += f"; Delve does better on {describe(delve_wins)}"
    elif delve_wins:
        sentence = f"A draw: Delve does better on {describe(delve_wins)}; gdb on {describe(gdb_wins)}"
    else:
        sentence = "Delve and gdb tell the same story on this core"
    return sentence + " (Delve vs gdb)."
