"""Every goroutine as Go printed it, against what gocore-tui shows.

A program crashed with GOTRACEBACK=crash prints every goroutine on
stderr before the kernel writes its core (tests/corecache.py keeps that
stderr beside the core). expected() turns the dump into one Expected per
goroutine Go printed; disagreements() lists, goroutine by goroutine, where
what gocore-tui shows (Shown) differs: a goroutine Go printed that is
missing, one Go skipped that is listed, the state (and `, N minutes`),
the whole stack (function and file:line of every frame, in order) and
the creator.

Go's own rules, read off runtime/traceback.go, decide what the dump holds:
- a goroutine running on another thread prints "stack unavailable" in the
  main dump; its stack comes in that thread's SIGQUIT dump (`-----`);
- a stack deeper than 100 frames is printed as its innermost 50 and
  outermost 50 (Go 1.21+), or its first 100 (Go 1.19): the frames Go
  printed must be ours, at both ends;
- `panic` is runtime.gopanic; names are compared as Go writes them once
  unescaped (`gopkg.in/yaml.v3`, not `%2e`);
- goroutine 0 is an M's g0 (a thread's system stack), not a goroutine.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from tui.parse.gotraceback import GoroutineBlock, GoTraceback, parse_traceback
from tui.parse.names import go_name

# Go prints this many frames of each end of a deep stack (Go 1.21+
# traceback.go: tracebackInnerFrames, tracebackOuterFrames).
INNER_FRAMES, OUTER_FRAMES = 50, 50
# Go 1.19 walks this many physical frames of a stack and stops. It says
# "...additional frames elided..." only when the frames it printed (inlined
# ones counted) are exactly that many, so a stack cut after an inlined call
# ends with no word of the cut.
GO119_FRAMES = 100

Place = tuple[str, str, int]  # (function, file, line)


@dataclass(frozen=True)
class Expected:
    """One goroutine as Go printed it."""

    id: int
    state: str
    minutes: int | None  # `, N minutes`; None when Go printed none
    frames: tuple[Place, ...]  # as printed, innermost first
    cut: str  # "" whole; "middle" (Go 1.21+: 50 + 50 printed); "tail" (Go 1.19: the first 100)
    created_by: tuple[str, str, int, int | None] | None  # (function, file, line, goroutine)
    unavailable: bool = False  # Go printed no stack for it (running on a thread that did not dump)


@dataclass
class Shown:
    """One goroutine as gocore-tui shows it."""

    id: int
    state: str
    minutes: int | None
    frames: tuple[Place, ...]
    created_by: tuple[str, str, int, int | None] | None


def place(function: str, file: str, line: int) -> Place:
    """A frame as compared: `panic` is runtime.gopanic, a name decoded,
    a path Delve printed relative to the working directory made whole."""
    function = go_name(function)
    if file.startswith("./"):
        file = os.path.abspath(file)
    return ("runtime.gopanic" if function == "panic" else function, file, line)


def _cut(block: GoroutineBlock) -> str:
    if block.elided:
        return "middle" if block.elided_frames else "tail"
    if sum(not frame.inlined for frame in block.frames) >= GO119_FRAMES:
        return "tail"  # maybe cut silently (Go 1.19); maybe whole
    return ""


def expected(text: str) -> dict[int, Expected]:
    """The goroutines Go printed, by id (stacks of goroutines running on
    other threads taken from those threads' dumps)."""
    dump: GoTraceback = parse_traceback(text)
    from_threads: dict[int, GoroutineBlock] = {}
    for thread in dump.threads:
        for block in thread.goroutines:
            if block.id and block.frames:
                from_threads.setdefault(block.id, block)
    out: dict[int, Expected] = {}
    for block in dump.goroutines:
        if block.id == 0 or block.id in out:
            continue
        frames_block = block
        if block.stack_unavailable and block.id in from_threads:
            frames_block = from_threads[block.id]
        cut = _cut(frames_block)
        created = block.created_by or frames_block.created_by
        out[block.id] = Expected(
            block.id, block.state + "".join(f" ({flag})" for flag in block.flags), block.wait_minutes,
            tuple(place(f.function, f.file, f.line) for f in frames_block.frames), cut,
            (go_name(created.function), created.file, created.line, created.goroutine) if created else None,
            unavailable=block.stack_unavailable and block.id not in from_threads)
    # A goroutine only a thread's dump shows (it began running after the
    # main dump passed it by): Go printed it all the same.
    for gid, block in from_threads.items():
        if gid not in out:
            created = block.created_by
            out[gid] = Expected(gid, block.state, block.wait_minutes,
                                tuple(place(f.function, f.file, f.line) for f in block.frames),
                                _cut(block),
                                (go_name(created.function), created.file, created.line, created.goroutine)
                                if created else None)
    return out


@dataclass
class Verdict:
    """What disagreed, goroutine by goroutine."""

    agree: list[int] = field(default_factory=list)
    problems: dict[int, list[str]] = field(default_factory=dict)  # id -> what differs
    extra: list[int] = field(default_factory=list)  # listed, but Go skipped them

    @property
    def total(self) -> int:
        return len(self.agree) + len(self.problems)

    def lines(self) -> list[str]:
        out = [f"goroutine {gid}: {problem}" for gid, problems in sorted(self.problems.items())
               for problem in problems]
        out += [f"goroutine {gid}: listed, but Go never printed it" for gid in self.extra]
        return out


def _frames_problem(go: Expected, ours: tuple[Place, ...]) -> str:
    printed = go.frames
    if go.cut == "middle":
        if len(ours) < len(printed) or ours[:INNER_FRAMES] != printed[:INNER_FRAMES] \
                or ours[-OUTER_FRAMES:] != printed[-OUTER_FRAMES:]:
            return _stack_diff(printed, ours, "(Go elided the middle)")
        return ""
    if go.cut == "tail":
        if ours[:len(printed)] != printed:
            return _stack_diff(printed, ours, "(Go printed the first frames only)")
        return ""
    return _stack_diff(printed, ours, "") if ours != printed else ""


def _stack_diff(go: tuple[Place, ...], ours: tuple[Place, ...], note: str) -> str:
    at = next((i for i, (a, b) in enumerate(zip(go, ours)) if a != b), min(len(go), len(ours)))
    show = lambda p: f"{p[0]} {p[1].rsplit('/', 1)[-1]}:{p[2]}" if p else "(none)"
    return (f"stack differs at frame {at} {note}: Go {show(go[at] if at < len(go) else None)}, "
            f"ours {show(ours[at] if at < len(ours) else None)} ({len(go)} vs {len(ours)} frames)")


def disagreements(go: dict[int, Expected], shown: dict[int, Shown]) -> Verdict:
    verdict = Verdict()
    for gid, expect in sorted(go.items()):
        ours = shown.get(gid)
        if ours is None:
            verdict.problems[gid] = ["Go printed it; not listed"]
            continue
        problems = []
        if ours.state != expect.state:
            problems.append(f"state {ours.state!r}, Go {expect.state!r}")
        if (ours.minutes if ours.minutes and ours.minutes >= 1 else None) != expect.minutes:
            problems.append(f"{ours.minutes} minutes, Go {expect.minutes}")
        if not expect.unavailable:
            problem = _frames_problem(expect, ours.frames)
            if problem:
                problems.append(problem)
        if expect.created_by != ours.created_by:
            problems.append(f"created by {ours.created_by}, Go {expect.created_by}")
        if problems:
            verdict.problems[gid] = problems
        else:
            verdict.agree.append(gid)
    verdict.extra = sorted(set(shown) - set(go))
    return verdict


def shown_from_inventory(backend, inventory) -> dict[int, Shown]:
    """What the goroutine list, the groups and the report show: each
    listed goroutine's state, Go's minutes (from the waits), its whole
    stack and its creator."""
    index = inventory.index
    reading = index.waits.reading if index.waits is not None else None
    out: dict[int, Shown] = {}
    for goroutine in inventory.goroutines:
        if goroutine.id is None:
            continue
        stack = index.stack_of(goroutine.id) or ()
        creator = goroutine.created_by
        out[goroutine.id] = Shown(
            goroutine.id, goroutine.state, reading.minutes(goroutine.id) if reading is not None else None,
            tuple(place(loc.function, loc.file, loc.line) for loc in stack),
            (creator.function, creator.file, creator.line, goroutine.parent) if creator is not None else None)
    return out
