"""tui/corefile against a real dlv on every fixture core, and its pure parts
on synthetic inputs.

The differential test reads each core twice: natively, and through Delve's
own API (tests/data/corefile/truth.star, unabridged). Every goroutine the
native reader answers for must agree with Delve in id, status, wait reason,
thread, User/Go/Start locations and whole stack (pc, function, file, line
per frame, inlined calls expanded). Goroutines it hands back as "needs dlv"
are left out of the comparison and counted: they must be exactly the ones
Delve finds on a thread.
"""

from __future__ import annotations

import struct
from dataclasses import replace

import pytest
from hypothesis import given, settings, strategies as st

from corecache import fixture_names
from corefile_truth import Place, Truth, TruthGoroutine, read_truth
from tui.corefile.errors import BadRead, Unsupported
from tui.corefile.native import API_STATUS, STACK_DEPTH, NativeCore
from tui.corefile.pclntab import decode_pcvalue, read_varint
from tui.delve import Delve
from tui.groups import GoroutineIndex
from tui.model import Location

FIXTURES = fixture_names()


def _location(place: Place | None) -> Location | None:
    if place is None or place.pc == 0:
        return None
    return Location(place.file, place.line, place.function)


def compare(native: NativeCore, truth: Truth, depth: int = STACK_DEPTH) -> dict:
    """Every difference between the native reading and Delve's, as text;
    and the counts of what was compared."""
    listing = native.listing(depth)
    by_id = {g.id: g for g in truth.goroutines}
    problems: list[str] = []
    reasons = truth.wait_reasons
    if native.wait_reasons() != reasons:
        problems.append(f"wait reasons differ: {native.wait_reasons()} vs Delve's {reasons}")
    if listing.selected != truth.selected:
        problems.append(f"selected goroutine {listing.selected}, Delve {truth.selected}")

    def check_common(g) -> TruthGoroutine | None:
        t = by_id.get(g.id)
        if t is None:
            problems.append(f"goroutine {g.id}: Delve does not list it")
            return None
        if g.status != API_STATUS.get(t.status, ""):
            problems.append(f"goroutine {g.id}: status {g.status!r}, Delve {t.status}")
        expected = ""
        if t.status in (3, 4) and t.wait_reason > 0:
            expected = reasons[t.wait_reason] if t.wait_reason < len(reasons) else f"wait reason {t.wait_reason}"
        if g.wait_reason != expected:
            problems.append(f"goroutine {g.id}: wait reason {g.wait_reason!r}, Delve {expected!r}")
        if (g.wait_since or 0) != t.wait_since:
            problems.append(f"goroutine {g.id}: wait since {g.wait_since}, Delve {t.wait_since}")
        for kind in ("go", "start"):
            if getattr(g, kind) != _location(getattr(t, kind)):
                problems.append(f"goroutine {g.id}: {kind} {getattr(g, kind)}, Delve {getattr(t, kind)}")
        return t

    readable = [g for g in listing.goroutines if g.id is not None]
    unreadable = [g for g in listing.goroutines if g.id is None]
    if len(unreadable) != len(truth.unreadable):
        problems.append(f"{len(unreadable)} unreadable goroutines, Delve {len(truth.unreadable)}")
    stacks = dict(listing.stacks)
    records = {r.id: r for r in native.records() if not isinstance(r, BadRead)}
    frames_compared = 0
    for g in readable:
        t = check_common(g)
        if t is None:
            continue
        if t.thread:
            problems.append(f"goroutine {g.id}: read natively, but Delve has it on thread {t.thread}")
        if g.location != _location(t.user) or g.pc != t.user.pc:
            problems.append(f"goroutine {g.id}: user location {g.location} ({g.pc:#x}), Delve {t.user}")
        pcs, why = native.unwind(records[g.id], depth)
        mine = [Place(pc, loc.file, loc.line, loc.function) for pc, loc in native.stack_frames(pcs, depth)]
        theirs = [place for place, _ in t.frames]
        errors = [err for _, err in t.frames if err]
        if mine != theirs or errors:
            problems.append(f"goroutine {g.id}: stack differs (Delve errors {errors})\n  native "
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
            "needs_dlv": on_thread + off_thread, "delve": len(truth.goroutines)}


@pytest.mark.e2e
@pytest.mark.parametrize("name", FIXTURES)
def test_native_listing_agrees_with_delve(fixture_core, name):
    fixture = fixture_core(name)
    delve = Delve.open(str(fixture.exe), str(fixture.core), dlv=fixture.dlv)
    try:
        truth = read_truth(delve)
    finally:
        delve.close()
    with NativeCore.open(str(fixture.exe), str(fixture.core)) as native:
        result = compare(native, truth)
    assert not result["problems"], "\n".join(result["problems"])
    # Something was compared: every fixture has parked goroutines (at least
    # the runtime's own), and only the few on a thread go to Delve.
    assert result["goroutines"] >= 2 and result["frames"] > result["goroutines"]
    assert result["goroutines"] + result["needs_dlv"] == result["delve"]
    assert result["needs_dlv"] <= 2


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
