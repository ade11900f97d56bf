"""GDB-vs-Delve verdicts from two parsed backtraces. Pure: no I/O.

Rows are aligned by PC (by function and line where gdb printed no PC, as
it does for a frame that sits at the start of a line), with a longest-
common-subsequence match so the same frame lands on the same row even when
one side has frames the other lacks.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from ..model import Crash, Frame, GdbRun, Goroutine, is_runtime_function
from ..parse.gdb import SIGNAL_HANDLER


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

    @property
    def resolved_share(self) -> float:
        """Frames resolved out of frames printed: extra garbage frames past the
        end of a stack must not count as a win."""
        return self.frames_resolved / self.frames if self.frames else 0.0


@dataclass(frozen=True)
class Comparison:
    rows: tuple[Row, ...]
    delve: Score
    gdb: Score
    verdict: str
    user_frame: str


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


def compare(crash: Crash, delve_crash_frames: tuple[Frame, ...], delve_focus_frames: tuple[Frame, ...],
            goroutines: tuple[Goroutine, ...], gdb: GdbRun, delve_seconds: float) -> Comparison:
    """Score both debuggers on the same core.

    delve_crash_frames is Delve's stack of the crashing thread (what gdb's
    `bt` walks); delve_focus_frames the stack holding the faulting user frame
    (the same one unless the crash ran on a system stack).
    """
    target = crash.frame
    gdb_user = {f.function for f in gdb.frames if not is_runtime_function(f.function) and f.function != SIGNAL_HANDLER}
    delve_score = Score(
        frames=len(delve_crash_frames),
        frames_resolved=_resolved(delve_crash_frames),
        reached_user_frame=_reached(delve_focus_frames, target),
        goroutines_visible=len(goroutines),
        user_locations=sum(1 for g in goroutines if not g.is_runtime),
        panic_value=bool(crash.message),
        seconds=delve_seconds,
    )
    gdb_score = Score(
        frames=len(gdb.frames),
        frames_resolved=_resolved(gdb.frames),
        reached_user_frame=_reached(gdb.frames, target),
        goroutines_visible=max(gdb.threads, len(gdb.goroutines)),
        user_locations=sum(1 for g in gdb.goroutines if not is_runtime_function(g.function)) or (1 if gdb_user else 0),
        panic_value=bool(crash.message) and crash.message in (gdb.plain_output + gdb.go_output),
        seconds=gdb.seconds,
    )
    user_frame = f"{target.function} at {target.location.short()}" if target else "the faulting frame"
    return Comparison(align(delve_crash_frames, gdb.frames), delve_score, gdb_score,
                      verdict(delve_score, gdb_score, user_frame), user_frame)


def verdict(delve: Score, gdb: Score, user_frame: str) -> str:
    """One sentence, built from the numbers only."""
    measures = [
        ("reached " + user_frame, delve.reached_user_frame, gdb.reached_user_frame, lambda v: "yes" if v else "no"),
        ("goroutines visible", delve.goroutines_visible, gdb.goroutines_visible, str),
        ("goroutines with a user location", delve.user_locations, gdb.user_locations, str),
        ("panic value recovered", delve.panic_value, gdb.panic_value, lambda v: "yes" if v else "no"),
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
