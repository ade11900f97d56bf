"""tui/corefile against a real dlv on every fixture core, and its pure parts
on synthetic inputs.

The differential test reads each core twice: natively, and through Delve's
own API (tests/data/corefile/truth.star, unabridged). Every goroutine the
native reader answers for must agree with Delve in id, status, wait reason,
thread, User/Go/Start locations and whole stack (pc, function, file, line
per frame, inlined calls expanded), where Delve follows Go's own rules:
- a g Go's traceback never prints (the dead g of a cgo extra M) is not
  listed, though Delve lists it;
- a goroutine in a system call or C code starts at g.syscallpc (Delve: at
  its thread's registers): only the frames below the system call's are
  Delve's;
- a parked goroutine's innermost frame is at pc-1 as Go prints it (Delve:
  at pc): its function is Delve's, its line Go's (tests/test_go_goroutines.py
  holds every line against Go's own dump);
- Go's words for a status (copystack, preempted), a wait reason only for a
  waiting goroutine, a generic function's type arguments as `[...]`.
A goroutine on a thread is read from its thread's stack (gostack.py) and
held against Go's own dump only: Delve's stack of it is not Go's. Where
a stack of ours is not Delve's otherwise, Go's dump decides (Delve skips
the caller of a function a preemption signal stopped).
"""

from __future__ import annotations

import struct
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from corecache import fixture_names
from corefile_truth import Place, Truth, TruthGoroutine, read_truth
from goroutine_oracle import Expected, expected, place
from elfbuild import (ET_CORE, ET_DYN, PT_LOAD, PT_NOTE, GoFunc, InlinedCall, Sec, Seg, auxv, build_elf, file_note,
                      pclntab, pcvalue, prstatus, symtab, uvarint)
from tui.corefile import batch
from tui.corefile.arrays import CoreArrays
from tui.corefile.batch import PcTable, unwind_all
from tui.corefile.dwarf import Field, Type
from tui.corefile.elfimage import ElfImage
from tui.corefile.errors import BadRead, Unsupported
from tui.corefile.memory import Memory
from tui.corefile.native import NativeCore
from tui.corefile.pclntab import Pclntab, decode_pcvalue, read_varint
from tui.corefile.runtime.g import is_dead
from tui.debugger.delve import Delve
from tui.analysis.groups import GoroutineIndex
from tui.model import STATUS_SCAN, STATUSES_WITH_REASON, Location, status_word
from tui.parse.names import print_name

FIXTURES = fixture_names()
# How deep truth.star reads Delve's stacks.
TRUTH_DEPTH = 64


def _location(place: Place | None) -> Location | None:
    if place is None or place.pc == 0:
        return None
    return Location(place.file, place.line, print_name(place.function))


def _physical(frames: list[Place]) -> list[list[Place]]:
    """Frames grouped by physical frame (inlined calls repeat its pc)."""
    groups: list[list[Place]] = []
    for frame in frames:
        if groups and groups[-1][0].pc == frame.pc:
            groups[-1].append(frame)
        else:
            groups.append([frame])
    return groups


def stack_problem(mine: list[Place], theirs: list[Place], from_syscall: bool, cut: bool) -> str:
    """How a native stack differs from Delve's where Delve follows Go's
    rules ("" when it does not): see the module's doc. cut: Delve's stack
    was cut at its depth."""
    ours, delve = _physical(mine), _physical(theirs)
    if from_syscall and any(frame.function == "???" for frame in theirs):
        return ""  # Delve does not unwind the C code the thread is in (no frame pointers): Go's dump decides
    if from_syscall:
        # Delve starts at the thread, inside the system call: it must end
        # with our stack below the system call's own frame.
        if not ours or len(delve) < len(ours) or delve[-len(ours)][-1].function != ours[0][-1].function:
            return "the system call's frame is not in Delve's stack"
        delve = delve[len(delve) - len(ours):]
        ours, delve = ours[1:], delve[1:]
    elif ours and delve:
        # The innermost frame: the same function and pc, Go's line.
        if [(f.pc, f.function) for f in ours[0]] != [(f.pc, f.function) for f in delve[0]]:
            return "innermost frame differs"
        ours, delve = ours[1:], delve[1:]
    if cut:
        ours = ours[:len(delve)]
        if ours and len(ours[-1]) != len(delve[-1]):
            ours, delve = ours[:-1], delve[:-1]
    return "" if ours == delve else "stack differs"


def compare(native: NativeCore, truth: Truth, depth: int = TRUTH_DEPTH,
            go: dict[int, Expected] | None = None) -> dict:
    """Every difference between the native reading and Delve's, as text;
    and the counts of what was compared. go: the goroutines as Go printed
    them (its dump beside the core), which decides where a stack of ours
    is not Delve's (Delve skips the caller of a function a preemption
    signal stopped)."""
    listing = native.listing()
    by_id = {g.id: g for g in truth.goroutines if g.status & ~STATUS_SCAN not in (6, 11)}
    problems: list[str] = []
    reasons = truth.wait_reasons
    if native.wait_reasons() != reasons:
        problems.append(f"wait reasons differ: {native.wait_reasons()} vs Delve's {reasons}")
    if listing.selected != truth.selected:
        problems.append(f"selected goroutine {listing.selected}, Delve {truth.selected}")

    labelled: list[int] = []
    go_decided: list[int] = []  # a stack Delve has otherwise, ours as Go printed it

    def check_common(g) -> TruthGoroutine | None:
        t = by_id.get(g.id)
        if t is None:
            problems.append(f"goroutine {g.id}: Delve does not list it")
            return None
        if g.status != status_word(t.status):
            problems.append(f"goroutine {g.id}: status {g.status!r}, Delve {t.status}")
        expected = ""
        if t.status & ~STATUS_SCAN in STATUSES_WITH_REASON and t.wait_reason > 0:
            expected = reasons[t.wait_reason] if t.wait_reason < len(reasons) else f"wait reason {t.wait_reason}"
        if g.wait_reason != expected:
            problems.append(f"goroutine {g.id}: wait reason {g.wait_reason!r}, Delve {expected!r}")
        if (g.wait_since or 0) != t.wait_since:
            problems.append(f"goroutine {g.id}: wait since {g.wait_since}, Delve {t.wait_since}")
        for kind in ("go", "start"):
            if getattr(g, kind) != _location(getattr(t, kind)):
                problems.append(f"goroutine {g.id}: {kind} {getattr(g, kind)}, Delve {getattr(t, kind)}")
        labels = listing.labels.get(g.id, {})
        shown = "map[" + " ".join(f"{k}:{v}" for k, v in sorted(labels.items())) + "]" if labels is not None else None
        if shown != t.labels:
            problems.append(f"goroutine {g.id}: labels {shown}, Delve {t.labels}")
        if labels:
            labelled.append(g.id)
        return t

    readable = [g for g in listing.goroutines if g.id is not None]
    unreadable = [g for g in listing.goroutines if g.id is None]
    if len(unreadable) != len(truth.unreadable):
        problems.append(f"{len(unreadable)} unreadable goroutines, Delve {len(truth.unreadable)}")
    stacks = dict(listing.stacks)
    records = {r.id: r for r in native.records() if not isinstance(r, BadRead)}
    frames_compared = 0
    on_thread_read = 0
    tops: dict[int, int] = {}
    for g in readable:
        t = check_common(g)
        if t is None:
            continue
        if (g.thread or 0) != t.thread:
            problems.append(f"goroutine {g.id}: thread {g.thread}, Delve {t.thread}")
        record = records[g.id]
        from_syscall = bool(record.syscall_sp)
        if g.thread and not from_syscall:
            # Read from its thread's stack (gostack.py): Delve starts there too
            # but does not cross all the core file does (C code without frame
            # pointers, a frame it skips at a trap): Go's own dump decides
            # (tests/test_go_goroutines.py). Here: the listing is that stack.
            thread = next(th for th in native.memory.threads if th.tid == g.thread)
            shown = native.goroutine_stack(record.address, thread)
            if shown is None or stacks.get(g.id) != shown.own_locations():
                problems.append(f"goroutine {g.id}: listing's stack is not its thread's goroutine part")
            on_thread_read += 1
            continue
        pcs, why = native.unwind(record, None)
        if pcs:
            tops[g.id] = pcs[0]
        user = _location(t.user)
        if user is not None and pcs and g.pc == pcs[0] and g.location is not None:
            user = replace(user, line=g.location.line)  # the innermost frame: Go's line (pc-1), not Delve's
        if not from_syscall and (g.location != user or g.pc != t.user.pc):
            problems.append(f"goroutine {g.id}: user location {g.location} ({g.pc:#x}), Delve {t.user}")
        mine = [Place(pc, loc.file, loc.line, loc.function) for pc, loc in native.stack_frames(pcs, None)]
        theirs = [replace(place, function=print_name(place.function)) for place, _ in t.frames]
        errors = [err for _, err in t.frames if err]
        problem = stack_problem(mine, theirs, from_syscall and g.thread is not None, len(theirs) > depth)
        if problem and go is not None and g.id in go and not go[g.id].cut \
                and go[g.id].frames == tuple(place(p.function, p.file, p.line) for p in mine):
            go_decided.append(g.id)
            problem = ""
        if problem or errors:
            problems.append(f"goroutine {g.id}: {problem} (Delve errors {errors})\n  native "
                            + "\n         ".join(map(str, mine)) + "\n  delve  " + "\n         ".join(map(str, theirs)))
        if stacks.get(g.id) != tuple(Location(p.file, p.line, p.function) for p in mine):
            problems.append(f"goroutine {g.id}: listing's stack is not stack_frames'")
        frames_compared += len(theirs)
    on_thread = off_thread = 0
    for g in listing.needs_dlv:
        t = check_common(g)
        if t is None:
            continue
        if t.thread:
            on_thread += 1
            if g.thread != t.thread:
                problems.append(f"goroutine {g.id}: thread {g.thread}, Delve {t.thread}")
        else:
            off_thread += 1
            problems.append(f"goroutine {g.id}: left to Delve though on no thread: {listing.why[g.id]}")
    seen = {g.id for g in readable} | {g.id for g in listing.needs_dlv}
    missing = set(by_id) - seen
    if missing:
        problems.append(f"Delve lists goroutines the native reader does not: {sorted(missing)}")
    return {"problems": problems, "goroutines": len(readable), "frames": frames_compared,
            "needs_dlv": on_thread + off_thread, "delve": len(by_id), "labelled": len(labelled),
            "from_threads": sum(1 for g in readable if g.thread), "tops": tops, "on_thread_read": on_thread_read,
            "go_decided": go_decided}


@pytest.mark.e2e
@pytest.mark.parametrize("name", FIXTURES)
def test_native_listing_agrees_with_delve(fixture_core, name):
    fixture = fixture_core(name)
    delve = Delve.open(str(fixture.exe), str(fixture.core), dlv=fixture.dlv)
    try:
        truth = read_truth(delve)
        listed = {g.id: g for page in delve.goroutine_pages() for g in page}
    finally:
        delve.close()
    with NativeCore.open(str(fixture.exe), str(fixture.core)) as native:
        printed = fixture.stderr.read_text()  # empty: a gcore dump, nothing Go printed
        result = compare(native, truth, go=expected(printed) if printed else None)
        listing = native.listing()
    assert not result["problems"], "\n".join(result["problems"])
    # The very Goroutine values the TUI's dlv listing makes (parse_goroutine_page),
    # but for wait_since and the creator's id, which that listing leaves out,
    # and the place of a goroutine in a system call (Delve's: where its thread is).
    for goroutine in listing.goroutines:
        if goroutine.id is not None:
            theirs = listed[goroutine.id]
            if goroutine.status == "syscall" or goroutine.thread is not None \
                    or goroutine.pc == result["tops"].get(goroutine.id):
                # Delve's user location of a goroutine with no frame of its own
                # is its innermost frame, at Delve's line (pc), not Go's (pc-1);
                # of one on a thread, where Delve's stack of it is not Go's.
                theirs = replace(theirs, location=goroutine.location, pc=goroutine.pc)
            assert replace(goroutine, wait_since=None, slot=None, parent=None) == theirs
    # Something was compared: every fixture has parked goroutines (at least
    # the runtime's own), and only the few on a thread go to Delve.
    assert result["goroutines"] >= 2 and result["frames"] > result["goroutines"]
    assert result["goroutines"] + result["needs_dlv"] == result["delve"]
    # Every goroutine is read from the core file, those on a thread too.
    assert result["needs_dlv"] == 0
    if name == "waits":
        assert result["labelled"] == 1  # pprof.Do's goroutine, labels read from its g
        assert result["from_threads"] == 2  # the one in read(2), from g.syscallpc; the crashing one, from its thread


@pytest.mark.e2e
@pytest.mark.parametrize("name", FIXTURES)
def test_every_stack_walked_at_once_is_the_one_walked_alone(fixture_core, name):
    """The batch walk (every goroutine a depth at a time) gives each
    goroutine the physical frames StackWalker.unwind gives it alone, or
    hands it over to that walk, where it stops with a reason."""
    fixture = fixture_core(name)
    with NativeCore.open(str(fixture.exe), str(fixture.core)) as native:
        records = [r for r in native.records() if not isinstance(r, BadRead) and not is_dead(r.status)]
        start = [(r.syscall_pc, r.syscall_sp) if r.syscall_sp else (r.pc, r.sp) for r in records]
        column = lambda values: np.asarray(values, dtype=np.uint64)  # noqa: E731
        number, stacks = unwind_all(PcTable(native.walker), CoreArrays(native.memory),
                                    column([pc for pc, _ in start]), column([sp for _, sp in start]),
                                    column([r.stack_lo for r in records]), column([r.stack_hi for r in records]))
        walked = handed = 0
        for record, found in zip(records, number.tolist()):
            alone = native.unwind(record, None)
            if found >= 0:
                walked += 1
                assert (stacks[found], "") == alone, f"goroutine {record.id}"
            else:
                handed += 1
                # A stop on a rule, or among the last few of a deep walk (a stack overflow's).
                assert alone[1] or len(alone[0]) > batch.TAIL_DEPTH, \
                    f"goroutine {record.id} was handed over, yet walks alone without a stop"
    assert walked > handed


@pytest.mark.e2e
def test_goroutines_the_batch_hands_over_read_the_same(fixture_core, monkeypatch):
    """Past a depth the last few goroutines still unwinding are walked one
    by one: with that depth 1, the listing (a 108-frame recursion
    included) is the batch's own, and the batch says how many it handed over."""
    fixture = fixture_core("waits")
    with NativeCore.open(str(fixture.exe), str(fixture.core)) as native:
        batched = native.listing()
        assert native.batch.counts.alone == 0
        monkeypatch.setattr(batch, "TAIL_DEPTH", 1)
        monkeypatch.setattr(batch, "TAIL", 1 << 20)
        alone = native.listing()
        assert native.batch.counts.alone > 0
    assert alone.goroutines == batched.goroutines and alone.stacks == batched.stacks
    assert max(len(stack) for _, stack in batched.stacks) > 100


@pytest.mark.e2e
def test_native_listing_feeds_the_goroutine_index(fixture_core):
    """The native listing drops into GoroutineIndex as the dlv listing does,
    and groups split_stacks' 30 parked goroutines by their two call paths."""
    fixture = fixture_core("split_stacks")
    with NativeCore.open(str(fixture.exe), str(fixture.core)) as native:
        listing = native.listing()
    index = GoroutineIndex()
    index.add(listing.goroutines)
    index.add_stacks(listing.stacks)
    parked = [b for b in index.buckets() if b.location and b.location.function == "main.park"]
    assert sorted(b.count for b in parked) == [10, 20]
    assert {b.via for b in parked} == {"main.viaLeft", "main.viaRight"}


# The pure parts, on synthetic inputs (tests/elfbuild.py).

independent = pytest.mark.toolchain_independent


@independent
@pytest.mark.parametrize(("raw", "value", "end"), [
    (b"\x00", 0, 1), (b"\x7f", 127, 1), (b"\x80\x01", 128, 2), (b"\xe5\x8e\x26", 624485, 3),
    (b"\xff\xff\xff\xff\x0f", 0xFFFFFFFF, 5),
])
def test_read_varint(raw, value, end):
    assert read_varint(raw + b"\x99", 0) == (value, end)


@independent
def test_read_varint_refuses_endless_and_truncated_varints():
    with pytest.raises(Unsupported):
        read_varint(b"\x80" * 8 + b"\x01", 0)
    with pytest.raises(IndexError):  # the table reader turns this into Unsupported
        read_varint(b"\x80\x80", 0)


@independent
@given(st.integers(0, 2**32 - 1))
def test_read_varint_reads_what_leb128_wrote(value):
    assert read_varint(uvarint(value), 0) == (value, len(uvarint(value)))


def _runs(draw_runs):
    """Adjacent runs of equal value are one run in a real table."""
    merged = []
    for value, length in draw_runs:
        if merged and merged[-1][0] == value:
            merged[-1] = (value, merged[-1][1] + length)
        else:
            merged.append((value, length))
    return merged


@independent
@given(st.lists(st.tuples(st.integers(-1, 100_000), st.integers(1, 5000)), min_size=1, max_size=40).map(_runs),
       st.sampled_from([1, 2, 4]))
def test_decode_pcvalue_inverts_the_linkers_encoding(runs, quantum):
    runs = [(value, length * quantum) for value, length in runs]
    table = pcvalue(runs, quantum)
    expected, pc = [], 0x1000
    for value, length in runs:
        expected.append((pc, pc + length, value))
        pc += length
    assert list(decode_pcvalue(table, 0, 0x1000, quantum)) == expected


@independent
def test_decode_pcvalue_first_step_may_keep_minus_one():
    # A zero value delta ends a table, except in its first step.
    assert list(decode_pcvalue(b"\x00\x10\x02\x04\x00", 0, 0, 1)) == [(0, 16, -1), (16, 20, 0)]


TEXT = 0x401000
GOFUNC = 0x500000
FILES = ["/src/main.go", "/src/util.go"]


def _functions():
    # main.outer at [0x0, 0x60): lines 10..; pcs [0x20, 0x30) run main.inner
    # inlined (tree index 0, called from outer at 0x18), and [0x24, 0x28)
    # main.leaf inlined into inner (index 1, called from inner's 0x22).
    outer = GoFunc("main.outer", 0x0, 0x60, files=[(0, 0x20), (1, 0x10), (0, 0x30)],
                   lines=[(10, 0x18), (11, 0x8), (40, 0x4), (50, 0x4), (41, 0x8), (12, 0x30)],
                   sp=[(0, 0x4), (0x28, 0x54), (0, 0x8)],
                   inline_index=[(-1, 0x20), (0, 0x4), (1, 0x4), (0, 0x8), (-1, 0x30)],
                   inlined=[InlinedCall("main.inner", 0x18, 0, 11), InlinedCall("main.leaf", 0x22, 1, 40, 0)])
    other = GoFunc("main.other", 0x60, 0x20, files=[(0, 0x20)], lines=[(70, 0x20)], sp=[(0, 0x20)])
    generic = GoFunc("main.wait[...]", 0x80, 0x10, files=[(0, 0x10)], lines=[(80, 0x10)], sp=[(8, 0x10)])
    return [outer, other, generic]


def _exe(version: str = "1.20", table: bytes | None = None, machine: int = 62, e_type: int = 3) -> bytes:
    made, gofunc = pclntab(_functions(), FILES, version)
    table = made if table is None else table
    sym, strs = symtab({"runtime.text": (TEXT, 0), "go:func.*": (GOFUNC, len(gofunc)),
                        "main.wait[go.shape.int]": (TEXT + 0x80, 0x10)})
    sections = [Sec(".gopclntab", 1, table, addr=0x480000), sym, strs]
    sym.link = 3  # .strtab's index: null, .gopclntab, .symtab, .strtab
    return build_elf(e_type, [Seg(PT_LOAD, 0x400000, b"\x7fELF" + b"\0" * 0xFFC),
                              Seg(PT_LOAD, GOFUNC, gofunc or b"\0")], sections, entry=0x400100, machine=machine)


def _pclntab(tmp_path, version="1.20", table=None) -> Pclntab:
    path = tmp_path / f"exe-{version}"
    path.write_bytes(_exe(version, table))
    return Pclntab(ElfImage(path, "executable"), TEXT, GOFUNC)


@independent
@pytest.mark.parametrize("version", ["1.20", "1.18"])
def test_pclntab_finds_functions_lines_and_inlined_calls(tmp_path, version):
    table = _pclntab(tmp_path, version)
    assert table.version == version and table.nfunc == 3
    outer = table.find(TEXT + 0x10)
    assert (outer.name, outer.entry, outer.end) == ("main.outer", TEXT, TEXT + 0x60)
    assert table.find(TEXT + 0x60).name == "main.other"
    assert table.find(TEXT - 1) is None and table.find(TEXT + 0x90) is None
    assert table.file_line(outer, TEXT + 0x19) == ("/src/main.go", 11)
    assert table.sp_delta(outer, TEXT + 0x2) == 0 and table.sp_delta(outer, TEXT + 0x10) == 0x28
    # Not inlined, inlined once, inlined twice: innermost first, the
    # physical function last at the outermost call site.
    assert table.inline_stack(outer, TEXT + 0x10) == [("main.outer", "/src/main.go", 10)]
    assert table.inline_stack(outer, TEXT + 0x20) == [("main.inner", "/src/util.go", 40),
                                                      ("main.outer", "/src/main.go", 11)]
    assert table.inline_stack(outer, TEXT + 0x25) == [("main.leaf", "/src/util.go", 50),
                                                      ("main.inner", "/src/util.go", 40),
                                                      ("main.outer", "/src/main.go", 11)]
    # Go 1.18-1.19 shorten type arguments: the ELF symbol has them.
    assert table.find(TEXT + 0x84).name == "main.wait[go.shape.int]"


@independent
@pytest.mark.parametrize("table", [
    b"", b"\xfb\xff\xff\xff\0\0\x01\x08" + b"\0" * 64,  # Go 1.2's magic
    b"\xf1\xff\xff\xff\0\0\x01\x04" + b"\0" * 64,  # 32-bit
    b"\xf1\xff\xff\xff\0\0\x01\x08" + struct.pack("<8Q", 10**9, 1, 0, 72, 72, 72, 72, 72),  # too many functions
])
def test_pclntab_refuses_unknown_or_impossible_headers(tmp_path, table):
    with pytest.raises(Unsupported):
        _pclntab(tmp_path, table=table)


@independent
@settings(max_examples=150, deadline=None)
@given(st.data())
def test_pclntab_corrupted_anywhere_raises_only_unsupported(tmp_path_factory, data):
    good, _ = pclntab(_functions(), FILES, data.draw(st.sampled_from(["1.20", "1.18"])))
    table = bytearray(good)
    for _ in range(data.draw(st.integers(1, 12))):
        table[data.draw(st.integers(0, len(table) - 1))] = data.draw(st.integers(0, 255))
    try:
        parsed = _pclntab(tmp_path_factory.mktemp("fuzz"), table=bytes(table))
        for pc in (TEXT, TEXT + 0x20, TEXT + 0x25, TEXT + 0x61, TEXT + 0x84):
            func = parsed.find(pc)
            if func is not None:
                parsed.file_line(func, pc)
                parsed.sp_delta(func, pc)
                parsed.inline_stack(func, pc)
    except Unsupported:
        pass


# Memory: a PIE's core. The executable's text at 0x0 (static) is mapped at
# BIAS; the core keeps its first page only (filesz < memsz), a heap segment
# in full, and a data page that shadows the executable's.
BIAS = 0x555555554000
HEAP = 0x7F0000000000


def _memory_files(tmp_path, notes: bytes | None = None, machine: int = 62, core_segments=None):
    text = bytes(range(256)) * 32  # 8 KiB, every byte known
    exe = build_elf(ET_DYN, [Seg(PT_LOAD, 0x0, text)], entry=0x100, machine=machine)
    if notes is None:
        notes = (prstatus(101, rip=BIAS + 0x10, rsp=HEAP + 0x100, rbp=HEAP + 0x180, fs_base=HEAP + 0x800)
                 + prstatus(102) + auxv({9: BIAS + 0x100})
                 + file_note([(BIAS, BIAS + 0x2000, 0x1000, "/bin/exe")]))
    heap = struct.pack("<4Q", 1, 2, 3, HEAP + 0x10) + b"\xab" * (0x1000 - 32)
    segments = core_segments if core_segments is not None else [
        Seg(PT_NOTE, 0, notes),
        Seg(PT_LOAD, BIAS, b"H" * 0x1000, memsz=0x2000),  # first page only
        Seg(PT_LOAD, HEAP, heap),
    ]
    core = build_elf(ET_CORE, segments, machine=machine)
    (tmp_path / "exe").write_bytes(exe)
    (tmp_path / "core").write_bytes(core)
    return tmp_path / "exe", tmp_path / "core", text


def _memory(tmp_path, **kwargs) -> tuple[Memory, bytes]:
    exe, core, text = _memory_files(tmp_path, **kwargs)
    return Memory(ElfImage(core, "core"), ElfImage(exe, "executable")), text


@independent
def test_memory_layers_the_core_over_the_executable(tmp_path):
    memory, text = _memory(tmp_path)
    assert memory.bias == BIAS
    assert memory.read(BIAS + 0x10, 4) == b"HHHH"  # the core's copy wins
    assert memory.read(BIAS + 0x1000, 4) == text[0x1000:0x1004]  # not dumped: the executable's
    assert memory.read(BIAS + 0xFFE, 4) == b"HH" + text[0x1000:0x1002]  # across the two
    assert memory.words(HEAP, 4) == (1, 2, 3, HEAP + 0x10)
    assert memory.u64(HEAP + 24) == HEAP + 0x10 and memory.uint(HEAP + 8, 4) == 2
    assert memory.sint(HEAP + 32, 1) == -0x55
    assert [(t.tid, t.rip, t.fs_base) for t in memory.threads] == [(101, BIAS + 0x10, HEAP + 0x800), (102, 0, 0)]
    assert [source for *_, source in memory.pieces()] == ["core", "exe", "core"]


@independent
@pytest.mark.parametrize("address", [0, BIAS - 8, BIAS + 0x1FFC, HEAP + 0xFFC, 2**64 - 4])
def test_memory_reads_outside_raise_bad_read(tmp_path, address):
    memory, _ = _memory(tmp_path)
    with pytest.raises(BadRead):
        memory.read(address, 8)
    with pytest.raises(BadRead):
        memory.u64(address)


@independent
def test_memory_finds_a_pie_bias_without_auxv_from_nt_file(tmp_path):
    # The synthetic executable's text is at file offset 0x1000.
    memory, text = _memory(tmp_path, notes=prstatus(1) + file_note([(BIAS, BIAS + 0x2000, 0x1000, "/bin/exe")]))
    assert memory.bias == BIAS and memory.read(BIAS + 0x1000, 2) == text[0x1000:0x1002]


@independent
@pytest.mark.parametrize("case", ["no bias", "arm64", "not a core", "truncated", "not elf"])
def test_memory_refuses_what_it_cannot_place(tmp_path, case):
    if case == "no bias":
        exe, core, _ = _memory_files(tmp_path, notes=prstatus(1))
    elif case == "arm64":
        exe, core, _ = _memory_files(tmp_path, machine=183)
    else:
        exe, core, _ = _memory_files(tmp_path)
        if case == "not a core":
            core = exe
        elif case == "truncated":
            core.write_bytes(core.read_bytes()[:-0x800])
        else:
            core.write_bytes(b"gzip" + core.read_bytes()[4:])
    with pytest.raises(Unsupported):
        Memory(ElfImage(core, "core"), ElfImage(exe, "executable"))


@independent
@settings(max_examples=200, deadline=None)
@given(st.data())
def test_memory_on_a_corrupted_core_raises_only_unsupported(tmp_path_factory, data):
    exe, core, _ = _memory_files(tmp_path_factory.mktemp("mem"))
    raw = bytearray(core.read_bytes())
    for _ in range(data.draw(st.integers(1, 8))):
        # Mostly the headers and notes, where a flipped byte changes meaning.
        limit = data.draw(st.sampled_from([0x300, len(raw)]))
        raw[data.draw(st.integers(0, limit - 1))] = data.draw(st.integers(0, 255))
    core.write_bytes(bytes(raw))
    try:
        memory = Memory(ElfImage(core, "core"), ElfImage(exe, "executable"))
        for address in (BIAS, BIAS + 0x1000, HEAP, HEAP + 0xFF8):
            memory.read(address, 8)
    except Unsupported:
        pass


@independent
def test_type_paths_and_missing_fields():
    u64 = Type("uint64", "uint64", 8)
    gobuf = Type("runtime.gobuf", "struct", 16, fields=(Field("sp", 0, u64), Field("pc", 8, u64)))
    g = Type("runtime.g", "struct", 64, fields=(Field("goid", 0, u64), Field("sched", 16, gobuf)))
    assert g.field("sched.pc") == (24, u64)
    assert g.has("goid") and not g.has("sched.bp")
    with pytest.raises(Unsupported):
        g.field("sched.bp")


# Damaged and mismatched real cores: Unsupported or per-goroutine marks,
# never a raw exception.


@pytest.mark.e2e
def test_a_core_of_another_executable_is_unsupported(fixture_core):
    exe, core = fixture_core("goroutine_panic").exe, fixture_core("nil_deref").core
    with pytest.raises(Unsupported, match="not dumped by"):
        NativeCore.open(str(exe), str(core))


@pytest.mark.e2e
def test_a_truncated_core_is_unsupported(fixture_core, tmp_path):
    fixture = fixture_core("goroutine_panic")
    cut = tmp_path / "core"
    with open(fixture.core, "rb") as src, open(cut, "wb") as dst:
        dst.write(src.read(fixture.core.stat().st_size // 2))
    with pytest.raises(Unsupported, match="truncated"):
        NativeCore.open(str(fixture.exe), str(cut))


def _patched_copy(fixture, tmp_path, patch) -> str:
    """A copy of a fixture's core, patch(native, data) writing into its bytes."""
    copy = tmp_path / "core"
    copy.write_bytes(fixture.core.read_bytes())
    with NativeCore.open(str(fixture.exe), str(fixture.core)) as native:
        data = bytearray(copy.read_bytes())
        patch(native, data)
    copy.write_bytes(bytes(data))
    return str(copy)


def _file_offset(native: NativeCore, address: int) -> int:
    buffer, offset = native.memory.locate(address, 8)
    assert buffer is native.core.data
    return offset


@pytest.mark.e2e
def test_garbage_in_allgs_and_in_saved_registers_stays_per_goroutine(fixture_core, tmp_path):
    fixture = fixture_core("split_stacks")
    with NativeCore.open(str(fixture.exe), str(fixture.core)) as native:
        clean = native.listing()
        pointers = native.allgs()
        victims = [r for r in native.records() if not isinstance(r, BadRead) and r.id in dict(clean.stacks)][-3:]

    def patch(native, data):
        allgs = native.memory.u64(native.symbols["runtime.allgs"][0])
        for i in (1, 2):  # two g pointers into nowhere
            struct.pack_into("<Q", data, _file_offset(native, allgs + 8 * i), 0xDEAD0000 + i)
        sp_at = native.g.offset("sp")
        pc_at = native.g.offset("pc")
        struct.pack_into("<Q", data, _file_offset(native, victims[0].address + sp_at), 8)  # sp off its stack
        struct.pack_into("<Q", data, _file_offset(native, victims[1].address + pc_at), 0x10)  # pc outside Go
        struct.pack_into("<Q", data, _file_offset(native, victims[2].address + sp_at), victims[2].stack_hi - 8)

    damaged = _patched_copy(fixture, tmp_path, patch)
    with NativeCore.open(str(fixture.exe), damaged) as native:
        listing = native.listing()
    unreadable = [g for g in listing.goroutines if g.id is None]
    assert len(unreadable) == 2 and all("could not read G" in g.unreadable for g in unreadable)
    assert {victims[0].id, victims[1].id} <= set(listing.why)
    assert "outside its stack" in listing.why[victims[0].id] and "outside Go" in listing.why[victims[1].id]
    # Every other goroutine reads as before.
    assert len(listing.goroutines) + len(listing.needs_dlv) == len(clean.goroutines) + len(clean.needs_dlv)
    assert len(pointers) >= len(clean.goroutines)


@pytest.mark.e2e
def test_layouts_come_from_the_cache_the_second_time(fixture_core, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    fixture = fixture_core("many_goroutines")
    with NativeCore.open(str(fixture.exe), str(fixture.core)) as first:
        assert not first.layouts.from_cache
        cold = first.listing()
    cached = list((tmp_path / "gocore-tui" / "layouts").glob("*.json"))
    assert len(cached) == 1
    with NativeCore.open(str(fixture.exe), str(fixture.core)) as second:
        assert second.layouts.from_cache
        assert second.listing().goroutines == cold.goroutines
    cached[0].write_text("{not json")
    with NativeCore.open(str(fixture.exe), str(fixture.core)) as third:
        assert not third.layouts.from_cache and third.listing().stacks == cold.stacks


def _pointer(value) -> int:
    """A pointer field that newer runtimes wrap (maybeTraceableChan{maybeTraceablePtr{vp, vu}})."""
    while isinstance(value, dict):
        inner = [v for v in value.values() if v]
        value = inner[0] if inner else 0
    return value


@pytest.mark.e2e
def test_generic_field_access_follows_a_receiver_to_its_channel(fixture_core):
    """g.waiting -> sudog -> hchan, by DWARF layouts alone: each goroutine
    parked in a channel receive is queued on its channel's recvq."""
    fixture = fixture_core("waits")
    with NativeCore.open(str(fixture.exe), str(fixture.core)) as native:
        listing = native.listing()
        receiving = {g.id for g in listing.goroutines if g.wait_reason == "chan receive"}
        values = native.values
        checked = 0
        for record in native.records():
            if isinstance(record, BadRead) or record.id not in receiving or not record.waiting:
                continue
            sudog = record.waiting
            assert values.field(sudog, "runtime.sudog", "g") == record.address
            channel = _pointer(values.field(sudog, "runtime.sudog", "c", depth=3))
            hchan = values.read(channel, values.type("runtime.hchan"), depth=2)
            assert hchan["closed"] == 0 and hchan["qcount"] == 0 and hchan["elemtype"]
            queued, at = [], _pointer(hchan["recvq"]["first"])
            while at and len(queued) < 100:
                queued.append(at)
                at = _pointer(values.field(at, "runtime.sudog", "next", depth=3))
            assert sudog in queued
            checked += 1
        clocks = native.clocks()
    assert checked >= 5
    assert clocks["runtime_init"] > 0 and (clocks["last_poll"] == 0 or clocks["last_poll"] > clocks["runtime_init"])


@pytest.mark.e2e
def test_runtime_layouts_come_from_dwarf(fixture_core):
    fixture = fixture_core("waits")
    with NativeCore.open(str(fixture.exe), str(fixture.core)) as native:
        layouts = native.layouts
        g = layouts.type("runtime.g")
        for path in ("goid", "atomicstatus", "waitreason", "waitsince", "sched.sp", "sched.pc", "sched.bp",
                     "sched.lr", "syscallsp", "syscallpc", "stack.lo", "stack.hi", "gopc", "startpc", "m", "labels",
                     "waiting"):
            offset, ftype = g.field(path)
            assert 0 <= offset < g.size and ftype.size in (1, 4, 8), path
        version = native.go_version()
        assert version.startswith("go1.")
        assert g.has("parentGoid") == (int(version.split(".")[1]) >= 21)  # a field since Go 1.21
        for name, fields in (("runtime.m", ("procid", "curg")),
                             ("runtime.sudog", ("g", "elem", "c", "next", "waitlink", "isSelect")),
                             ("runtime.hchan", ("qcount", "dataqsiz", "elemtype", "closed", "recvq", "sendq")),
                             ("runtime._panic", ("arg", "link", "recovered", "goexit"))):
            layout = layouts.type(name)
            assert all(layout.has(f) for f in fields), name
        # m.procid is the thread Delve finds each goroutine on.
        listing = native.listing()
        records = {r.id: r for r in native.records() if not isinstance(r, BadRead)}
        on_threads = [g for g in listing.goroutines + listing.needs_dlv if g.thread]
        assert on_threads and all(native.m_thread(records[g.id].m) == g.thread for g in on_threads)
