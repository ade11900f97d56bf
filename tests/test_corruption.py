"""A corruption campaign: real fixture cores damaged in seeded ways
(tests/corruption.py), each opened by gocore-tui as a user would.

Every case must end cleanly: `--report json --no-gdb` exits 0, 1 or 2; when
it is not 0, stderr is one line that names the core, without a traceback;
it ends within CASE_TIMEOUT; and it leaves no process behind (dlv, its
telemetry sidecar, zombies included: tests/leftovers.py). A header that
claims absurd sizes must be called corrupt, a real cut-off truncated. A
subset runs through the TUI itself (Pilot, in process, real dlv): the
first screen or the error screen, and q leaves nothing behind.

GOCORE_CORRUPTION_SEED picks another seed (the default is fixed, so that a
failure repeats); a failing case's name says how to make it again.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

import corruption
import leftovers
from corecache import FixtureCore, go_version, make_core
from tui.corefile.native import NativeCore
from waiting import HANG

pytestmark = pytest.mark.e2e

SEED = int(os.environ.get("GOCORE_CORRUPTION_SEED", "20240612"))
# Cases per fixture and family. The costly ones (those that reach dlv: notes,
# data, and some headers) are kept a minority: the campaign adds about a
# minute to each leg of `make test` on two CPUs.
COUNTS = {
    "goroutine_panic": {"header": 32, "phdr": 32, "note": 12, "data": 10, "cut": 36, "heap": 8},
    "many_goroutines": {"header": 18, "phdr": 18, "note": 6, "data": 14, "cut": 22, "heap": 8},
}
TUI_CASES = 10  # of the cases above, through the TUI
CASE_TIMEOUT = 30.0  # a case running longer hangs
WORKERS = 2
# The gocore-tui processes the campaign runs right now: our own children, so
# their zombies (between exit and wait) are not leftovers of the other case.
_running: set[int] = set()


@dataclass
class Outcome:
    case: corruption.Case
    core: Path
    returncode: int | None = None
    stderr: str = ""
    seconds: float = 0.0
    report: dict | None = None
    left: list = field(default_factory=list)

    @property
    def hung(self) -> bool:
        return self.returncode is None

    @property
    def traceback(self) -> bool:
        return "Traceback (most recent call last)" in self.stderr

    @property
    def misnamed(self) -> bool:
        """Expected "corrupt" or "truncated", and told something else."""
        expect = self.case.expect
        other = "corrupt" if expect == "truncated" else "truncated"
        return expect in ("corrupt", "truncated") and not self.hung and not (
            self.returncode == 2 and expect in self.stderr and other not in self.stderr)

    def problems(self) -> list[str]:
        found = []
        name = self.case.name
        if self.hung:
            found.append(f"{name}: no answer within {CASE_TIMEOUT:g}s")
        elif self.traceback:
            found.append(f"{name}: a traceback:\n{self.stderr[-3000:]}")
        elif self.returncode not in (0, 1, 2):
            found.append(f"{name}: exit {self.returncode}: {self.stderr[-500:]}")
        elif self.returncode == 0 and self.report is None:
            found.append(f"{name}: exit 0 without a JSON report")
        elif self.returncode:
            lines = self.stderr.strip().splitlines()
            if len(lines) != 1:
                found.append(f"{name}: {len(lines)} lines on stderr, not one:\n{self.stderr[-2000:]}")
            elif str(self.core) not in lines[0]:
                found.append(f"{name}: the error does not name {self.core}: {lines[0]}")
        if self.misnamed:
            found.append(f"{name}: expected a one-line '{self.case.expect}' error, got exit {self.returncode}: "
                         f"{self.stderr.strip()[:400]}")
        if self.left:
            found.append(f"{name}: left behind: " + "; ".join(map(str, self.left)))
        return found


@dataclass(frozen=True)
class Target:
    fixture: FixtureCore
    layout: corruption.Layout


def _read_words(f, layout: corruption.Layout, vaddr: int, count: int) -> tuple[int, ...]:
    offset = layout.file_offset(vaddr)
    if offset is None:
        return ()
    f.seek(offset)
    data = f.read(8 * count)
    return struct.unpack(f"<{len(data) // 8}Q", data)


def target(fixture: FixtureCore) -> Target:
    """The fixture's core layout, with where allgs and its g structs are."""
    with open(fixture.core, "rb") as f:
        head = f.read(1 << 16)
        head += f.read(max(0, corruption.notes_end(head) - len(head)))
        layout = corruption.read_layout(head, fixture.core.stat().st_size)
        layout = replace(layout, symbols=corruption.symbols(fixture.exe.read_bytes(),
                                                             ("runtime.allgs", "runtime.allglen")))
        words = []
        allgs = layout.symbol("runtime.allgs")
        if allgs is not None:
            header = _read_words(f, layout, allgs, 3)
            words.append((allgs, header))
            if len(header) == 3:
                words.append((header[0], _read_words(f, layout, header[0], min(header[1], 4096))))
    return Target(fixture, replace(layout, words=tuple(words), **_heap_spans(fixture)))


# The mspan fields the heap family damages (tests/corruption.py's heap_cases).
SPAN_FIELDS = ("startAddr", "npages", "nelems", "elemsize", "freeindex", "allocBits", "spanclass", "state",
               "largeType")


def _heap_spans(fixture: FixtureCore) -> dict:
    """Where the core's mspans are, read by the heap reader's own decoder."""
    from tui.corefile.arrays import CoreArrays
    from tui.corefile.runtime.fields import optional_field
    from tui.corefile.runtime.mheap import MHeap

    with NativeCore.open(str(fixture.exe), str(fixture.core)) as native:
        heap = MHeap(native.memory, CoreArrays(native.memory), native.layouts, native.exe, native.bias)
        spans = heap.spans()
        fields = tuple((name, *found) for name in SPAN_FIELDS
                       if (found := optional_field(heap.mspan, name)) is not None)
        step = max(1, len(spans) // 64)
        return {"spans": tuple(int(a) for a in spans.address[::step]), "span_fields": fields}


def write_case(case: corruption.Case, source: Path, destination: Path) -> None:
    """The damaged copy, written without holding the whole core in memory."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    with open(source, "rb") as src, open(destination, "wb") as dst:
        length = os.fstat(src.fileno()).st_size if case.cut is None else case.cut
        copied = 0
        while copied < length:
            copied += os.sendfile(dst.fileno(), src.fileno(), copied, length - copied)
        for offset, patch in case.patches:
            if offset < length:
                dst.seek(offset)
                dst.write(patch[:length - offset])


def run_case(case: corruption.Case, fixture: FixtureCore, folder: Path) -> Outcome:
    core = folder / "core"
    write_case(case, fixture.core, core)
    tag = leftovers.new_tag()
    command = [sys.executable, "-m", "tui", "--dlv", fixture.dlv, "--report", "json", "--no-gdb",
               str(fixture.exe), str(core)]
    outcome = Outcome(case, core)
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=leftovers.tagged_env(tag), errors="replace")
    _running.add(process.pid)
    try:
        stdout, outcome.stderr = process.communicate(timeout=CASE_TIMEOUT)
        outcome.returncode = process.returncode
    except subprocess.TimeoutExpired:
        process.terminate()
        try:
            process.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
        stdout = ""
    finally:
        _running.discard(process.pid)
    outcome.seconds = time.monotonic() - started
    if outcome.returncode == 0:
        try:
            outcome.report = json.loads(stdout)
        except ValueError:
            pass
    # Right after the exit: nothing of this case may still be there.
    outcome.left = leftovers.scan((core,), tag, ignore=tuple(_running))
    leftovers.kill(outcome.left)
    if outcome.returncode is not None:
        core.unlink()
    return outcome


@pytest.fixture(scope="module")
def targets(toolchain) -> dict[str, Target]:
    version = go_version(toolchain.go)
    return {name: target(make_core(name, version, toolchain)) for name in COUNTS}


@pytest.fixture(scope="module")
def cases(targets) -> list[tuple[corruption.Case, Target]]:
    made = []
    for name, counts in COUNTS.items():
        made += [(case, targets[name]) for case in corruption.campaign(targets[name].layout, name, SEED, counts)]
    return made


def summary(outcomes: list[Outcome], adopted: list = ()) -> str:
    by_family = Counter(o.case.family for o in outcomes)
    # Two cases run at once: a zombie re-parented to us can show in both scans.
    left = {left.pid for o in outcomes for left in o.left} | {left.pid for left in adopted}
    return (f"{len(outcomes)} cases ({', '.join(f'{k} {v}' for k, v in sorted(by_family.items()))}): "
            f"exit {dict(sorted(Counter(o.returncode for o in outcomes).items(), key=str))}, "
            f"{sum(o.traceback for o in outcomes)} tracebacks, {sum(o.hung for o in outcomes)} hangs, "
            f"{len(left)} processes left, {sum(o.misnamed for o in outcomes)} misnamed (corrupt/truncated), "
            f"{sum(o.case.reaches_dlv for o in outcomes)} meant to reach dlv, "
            f"{sum(o.seconds for o in outcomes):.0f}s of work")


def test_every_damaged_core_ends_in_a_report_or_one_line(cases, tmp_path):
    assert len(cases) >= 200
    with leftovers.adopting():
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            outcomes = list(pool.map(lambda n: run_case(cases[n][0], cases[n][1].fixture, tmp_path / f"{n:03d}"),
                                     range(len(cases))))
        # Orphans re-parented to us belong to no one case (several ran at once).
        adopted = leftovers.scan_adopted()
        leftovers.reap(adopted)
    print(summary(outcomes, adopted))
    slowest = sorted(outcomes, key=lambda o: -o.seconds)[:5]
    print("slowest: " + ", ".join(f"{o.case.name} {o.seconds:.1f}s" for o in slowest))
    problems = [p for o in outcomes for p in o.problems()]
    problems += [f"an orphan nobody reaped: {left}" for left in adopted]
    assert not problems, f"{summary(outcomes, adopted)}\n{len(problems)} problems:\n" + "\n".join(problems)


# -- the same damage, through the TUI ----------------------------------------------

async def _tui_case(case: corruption.Case, fixture: FixtureCore, core: Path, tag: str,
                    screens: Counter) -> list[str]:
    from textual.app import ScreenStackError

    from tui.app import GocoreApp
    from tui.core.backend import DelveBackend
    from tui.debugger.delve import Delve
    from tui.screens.error import ErrorScreen

    app = GocoreApp(lambda: DelveBackend(Delve.open(str(fixture.exe), str(core), dlv=fixture.dlv)),
                    title_paths=(str(fixture.exe), str(core)), compare_with_gdb=False)
    problems = []
    async with app.run_test(size=(160, 45)) as pilot:
        deadline = time.monotonic() + CASE_TIMEOUT
        while not (app.first_screen_ready or isinstance(app.screen, ErrorScreen)):
            if time.monotonic() > deadline:
                problems.append(f"{case.name} (TUI): neither a first screen nor the error screen "
                                f"in {CASE_TIMEOUT:g}s")
                break
            await pilot.pause(0.05)
        screens["error screen" if isinstance(app.screen, ErrorScreen) else
                "first screen" if app.first_screen_ready else "none"] += 1
        if isinstance(app.screen, ErrorScreen):
            message = app.screen.message
            if "Traceback" in message or str(core) not in message:
                problems.append(f"{case.name} (TUI): the error screen says {message!r}")
        try:
            await pilot.press("q")
        except ScreenStackError:
            pass
        quit_by = time.monotonic() + HANG
        while app.is_running and time.monotonic() < quit_by:
            await pilot.pause(0.05)
        if app.is_running:
            problems.append(f"{case.name} (TUI): q did not quit")
    problems += [f"{case.name} (TUI): {failure}" for failure in app.failures if "Traceback" in failure]
    left = leftovers.scan((core,), tag)
    if left:
        problems.append(f"{case.name} (TUI): left behind: " + "; ".join(map(str, left)))
        leftovers.kill(left)
    return problems


def tui_subset(cases) -> list[tuple[corruption.Case, Target]]:
    """Mostly cores that reach dlv (what the screens must survive), and a
    few that stop at the header checks (the error screen)."""
    reaching = [item for item in cases if item[0].reaches_dlv]
    stopped = [item for item in cases if item[0].expect != "clean"]
    step = max(1, len(reaching) // (TUI_CASES - 2))
    return reaching[::step][:TUI_CASES - 2] + stopped[:1] + stopped[-1:]


async def test_the_tui_shows_a_screen_or_the_error_and_q_leaves_nothing(cases, tmp_path, monkeypatch):
    problems = []
    screens: Counter = Counter()
    with leftovers.adopting():
        for n, (case, tgt) in enumerate(tui_subset(cases)):
            core = tmp_path / f"{n:02d}" / "core"
            write_case(case, tgt.fixture.core, core)
            tag = leftovers.new_tag()
            monkeypatch.setenv(leftovers.TAG_VARIABLE, tag)  # the dlvs this case starts carry it
            problems += await _tui_case(case, tgt.fixture, core, tag, screens)
            core.unlink()
    print(f"TUI: {sum(screens.values())} cases: {dict(screens)}")
    assert not problems, "\n".join(problems)


@pytest.mark.toolchain_independent
def test_the_campaign_is_deterministic_and_mostly_cheap():
    """On a made-up layout (no core needed): same seed, same cases; enough
    of them; the costly ones a minority."""
    segments = [corruption.Segment(0, corruption.PT_NOTE, 0x698, 0, 0x400, 0)]
    offset = 0x1000
    for i in range(1, 12):
        segments.append(corruption.Segment(i, corruption.PT_LOAD, offset, 0x400000 + i * 0x10000, 0x4000, 0x4000))
        offset += 0x4000
    notes = tuple(corruption.Note(0x698 + 0x100 * k, b"CORE", n_type, 0x6AC + 0x100 * k, 0x80)
                  for k, n_type in enumerate((corruption.NT_PRSTATUS, corruption.NT_PRPSINFO,
                                              corruption.NT_SIGINFO, corruption.NT_FILE)))
    layout = corruption.Layout(offset, len(segments), tuple(segments), notes)
    made = [corruption.campaign(layout, name, SEED, counts) for name, counts in COUNTS.items()]
    again = [corruption.campaign(layout, name, SEED, counts) for name, counts in COUNTS.items()]
    assert made == again
    every = [case for batch in made for case in batch]
    assert len(every) >= 200
    assert len({case.name for case in every}) == len(every)
    assert sum(case.reaches_dlv for case in every) < 0.4 * len(every)
    assert {case.family for case in every} == set(corruption.FAMILIES)
    assert corruption.campaign(layout, "x", SEED + 1, {"phdr": 20}) != corruption.campaign(layout, "x", SEED,
                                                                                            {"phdr": 20})
