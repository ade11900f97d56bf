"""The heap's stack roots are the GC's: each goroutine's frames walked as
Go walked them (the sp and fp of every frame Go printed at
GOTRACEBACK=crash are a frame of ours), and only the slots their stack
maps call live are roots (tui/corefile/heap/stacks.py)."""

from __future__ import annotations

import numpy as np
import pytest
from corecache import crashed_fixture_names

from tui.corefile.arrays import CoreArrays
from tui.corefile.heap.roots import RootReader
from tui.corefile.heap.stacks import FrameMaps
from tui.corefile.native import NativeCore
from tui.parse.gotraceback import parse_traceback

pytestmark = pytest.mark.e2e

# Every crash of tests/fixtures (Go printed its goroutines with fp= and
# sp=): panics, faults, throws, blocked and preempted goroutines, cgo,
# PIE, optimized and trimmed builds, signals from outside.
FIXTURES = tuple(crashed_fixture_names())


def _walked(core) -> dict[int, set[tuple[int, int]]]:
    native = NativeCore.open(str(core.exe), str(core.core))
    reader = RootReader(native, CoreArrays(native.memory))
    frames = reader.stacks(1 << 20)[5]
    ours: dict[int, set[tuple[int, int]]] = {}
    for frame in frames:
        ours.setdefault(frame.goroutine, set()).add((frame.sp, frame.cfa))
    return ours


@pytest.mark.parametrize("name", FIXTURES)
def test_every_frame_go_printed_is_a_frame_whose_slots_are_scanned(fixture_core, name):
    core = fixture_core(name)
    dump = parse_traceback(core.stderr.read_text())
    ours = _walked(core)
    checked = 0
    for block in dump.goroutines:
        printed = {(frame.sp, frame.fp) for frame in block.frames
                   if frame.sp is not None and frame.fp is not None and not frame.inlined}
        if block.stack_unavailable or not printed or block.id == 0:  # goroutine 0: an M's system stack
            continue
        missing = printed - ours.get(block.id, set())
        assert not missing, (block.id, block.state, sorted(missing), sorted(ours.get(block.id, ())))
        checked += len(printed)
    assert checked >= 4, dump.goroutines[:2]


def test_a_frame_s_roots_are_its_live_slots_only(fixture_core):
    """main.main of heap_types at its panic: its stack maps name fewer
    slots than its frame has words, and the walk of the goroutine reads
    only those, not the words a returned callee left below it."""
    core = fixture_core("heap_types")
    native = NativeCore.open(str(core.exe), str(core.core))
    maps = FrameMaps(native)
    reader = RootReader(native, CoreArrays(native.memory))
    places, _values, owners, _live, _gs, frames = reader.stacks(1 << 20)
    main = next(frame for frame in frames if frame.function == "main.main")
    exact = maps.frame(main.lookup_pc + 1, whole=False)
    whole = maps.frame(main.lookup_pc + 1, whole=True)
    assert exact.precise and not whole.precise and exact.cfa == whole.cfa == main.cfa - main.sp
    assert len(exact.words) < len(whole.words)
    ones = places[owners == np.uint64(main.goroutine)]
    assert len(ones) == len(np.unique(ones))
    # Below main.main's frame only the panic's own frames' live slots: far
    # fewer words than the stack holds from the innermost frame up.
    innermost = min(frame.sp for frame in frames if frame.goroutine == main.goroutine)
    below = ones[(ones >= np.uint64(innermost)) & (ones < np.uint64(main.sp))]
    assert len(below) < (main.sp - innermost) // 8 // 2
