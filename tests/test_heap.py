"""What fills the heap (tui/corefile/heap) on real cores of both toolchains
(GOCORE_TOOLCHAIN=latest: Go 1.26, Green Tea spans, malloc headers, swiss
maps; debian: Go 1.19, the 2-bit heapArena bitmap, bucket maps), held
against what tests/fixtures/heap_types built (exact counts and bytes of
its struct types), against runtime.ReadMemStats as the program printed it
just before it crashed, and against the runtime's own books in the core.
Also: the report's heap section, the pprof profile read by `go tool pprof`,
and damaged spans and layouts this reader does not model, told in one line.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import struct
import subprocess
import sys

import numpy as np
import pytest

from tui.analysis.pprof import heap_profile
from tui.corefile.arrays import CoreArrays
from tui.corefile.dwarf import Type
from tui.corefile.errors import Unsupported
from tui.corefile.heap import HeapProgress, read_heap
from tui.corefile.heap.gotypes import go_name
from tui.corefile.native import NativeCore
from tui.corefile.runtime.mheap import MHeap
from tui.corefile.runtime.types import RuntimeTypes

pytestmark = pytest.mark.e2e

# What main.go built, by Go type: (count, size of one object's slot).
# The sizes are the size classes the structs land in on amd64 (Session is
# 72 bytes: the 80-byte class), the same on Go 1.19 and 1.26.
EXPECTED = {
    "main.Session": (1000, 80),
    "main.Child": (1000, 48),
    "main.Token": (50, 32),
    "main.Item": (10, 16),
    "main.Leaf": (250, 16),
    "main.Boxed": (30, 16),
    "[16384]*main.Leaf": (1, 131072),
    "[]main.Pair": (1, None),
}
GARBAGE = 500  # *Garbage (32 B) allocated after the last runtime.GC()
# ReadMemStats ran just before the program printed and panicked: the
# print and the panic allocate a few objects more.
SLACK_OBJECTS = 16


@functools.cache
def _reading(exe: str, core: str):
    native = NativeCore.open(exe, core)
    stages = []
    reading = read_heap(native, progress=stages.append)
    return native, reading, tuple(stages)


@pytest.fixture(scope="module")
def heap(fixture_core):
    core = fixture_core("heap_types")
    native, reading, stages = _reading(str(core.exe), str(core.core))
    return core, native, reading, stages


def _memstats(stderr: str) -> dict[str, dict[str, int]]:
    found = {}
    for when, objects, alloc, inuse in re.findall(r"memstats (\S+): objects=(\d+) alloc=(\d+) inuse=(\d+)", stderr):
        found[when] = {"objects": int(objects), "alloc": int(alloc), "inuse": int(inuse)}
    return found


def test_struct_types_are_counted_exactly(heap):
    _, _, reading, _ = heap
    rows = {row.name: row for row in reading.types}
    for name, (count, size) in EXPECTED.items():
        assert name in rows, f"no {name} among {[r.name for r in reading.types[:30]]}"
        assert rows[name].count == count, (name, rows[name])
        if size is not None:
            assert rows[name].bytes == count * size, (name, rows[name])
        assert rows[name].garbage_count == 0, (name, rows[name])


def test_map_values_and_channel_buffers_are_typed(heap):
    _, _, reading, _ = heap
    samples = reading.samples()

    def reached(type_name: str, through: str) -> int:
        return sum(count for stack, count, _ in samples if stack[0] == type_name and through in stack)

    # The tokens are only in the map: typed through its buckets / groups.
    assert reached("main.Token", "main.tokens") == 50
    assert any(name.startswith(("map.bucket[string]*main.Token", "[]map.group[string]*main.Token"))
               for stack, _, _ in samples if stack[0] == "main.Token" for name in stack)
    # The items are only in the channel's buffer.
    assert reached("main.Item", "chan *main.Item (buffer)") == 10
    assert "chan *main.Item" in {row.name for row in reading.types}


def test_every_element_of_an_array_of_structs_is_followed(heap):
    """[]Pair (2400 B: a malloc header on Go 1.22+) holds 200 Leafs that
    nothing else references: every element's two pointers, not the first's."""
    _, _, reading, _ = heap
    through = sum(count for stack, count, _ in reading.samples() if stack[0] == "main.Leaf" and "[]main.Pair" in stack)
    assert through == 200
    through_table = sum(count for stack, count, _ in reading.samples()
                        if stack[0] == "main.Leaf" and "[16384]*main.Leaf" in stack)
    assert through_table == 50


def test_garbage_after_the_last_gc_is_unreachable(heap):
    _, _, reading, _ = heap
    rows = {row.name: row for row in reading.types}
    # litter()'s frame is gone, and the frames the panic pushed over it
    # hold its pointers only in slots their stack maps call dead.
    assert rows["(untyped, 32 B)"].garbage_count >= GARBAGE
    assert reading.unreachable_objects >= GARBAGE
    assert reading.unreachable_objects == sum(row.garbage_count for row in reading.types)
    assert reading.objects == reading.reachable_objects + reading.unreachable_objects
    assert reading.bytes == reading.reachable_bytes + reading.unreachable_bytes


def test_the_runtime_books_agree(heap):
    """Our count of every allocated object and byte is the runtime's own
    (ReadMemStats' arithmetic on the core's heapStats, and each span's allocCount)."""
    _, _, reading, _ = heap
    assert not reading.mismatches, [c.describe() for c in reading.mismatches]
    assert {c.what for c in reading.checks if c.agree} == {"objects", "bytes", "span bytes in use",
                                                           "objects by the spans' own counts"}
    assert reading.runtime.num_gc >= 2


def test_read_mem_stats_printed_by_the_program_agrees(heap):
    core, _, reading, _ = heap
    printed = _memstats(core.stderr.read_text())
    assert set(printed) == {"after-gc", "at-crash"}, core.stderr.read_text()[:300]
    at_crash, after_gc = printed["at-crash"], printed["after-gc"]
    assert 0 <= reading.objects - at_crash["objects"] <= SLACK_OBJECTS
    assert 0 <= reading.bytes - at_crash["alloc"] <= 64 * SLACK_OBJECTS * 16
    assert reading.runtime.heap_inuse == reading.runtime.heap_inuse  # read at all
    # What survived the last GC is what we find reachable (the garbage came after).
    assert abs(reading.reachable_objects - after_gc["objects"]) <= SLACK_OBJECTS
    assert abs(reading.reachable_bytes - after_gc["alloc"]) <= 64 * SLACK_OBJECTS * 16


def test_typed_share_is_measured_and_high(heap):
    _, _, reading, _ = heap
    assert 0.85 <= reading.typed_share <= 1.0
    assert reading.typed_bytes <= reading.reachable_bytes
    untyped = [row for row in reading.types if not row.typed]
    assert all(row.name.startswith(("(untyped, ", "(tiny blocks, ")) for row in untyped)


def test_progress_and_instances(heap):
    _, _, reading, stages = heap
    assert stages[-1] == HeapProgress("done", reading.objects, reading.objects)
    assert [s.stage for s in stages][0] == "spans"
    assert {"pointers", "roots", "reachability", "types"} <= {s.stage for s in stages}
    row = reading.row_of("main.Session")
    instances = reading.instances(row, limit=5)
    assert len(instances) == 5 and all(size == 80 and live for _, size, live in instances)
    assert reading.stack(reading.path[np.searchsorted(reading.address, instances[0][0])])[0] == "main.Session"


def test_an_instance_reads_as_a_go_value(heap):
    """What the Memory screen will do with an instance: its row's DWARF
    type, read by the values reader at the instance's address."""
    _, native, reading, _ = heap
    row = reading.types[reading.row_of("main.Token")]
    address, size, _ = reading.instances(reading.row_of("main.Token"), limit=1)[0]
    value = native.values.read(address, native.layouts.type_at(row.die))
    assert set(value) == {"id", "owner", "scope"} and 0 <= value["id"] < 50 and value["owner"]
    pairs = reading.types[reading.row_of("[]main.Pair")]
    assert native.layouts.type_at(pairs.die).name == "main.Pair"


def test_the_type_decoder_names_runtime_types(heap):
    """runtime/types.py: the descriptors the heap's interfaces and headers point to."""
    _, native, _, _ = heap
    types = RuntimeTypes(native.memory, native.layouts, native.exe, native.bias)
    symbol = native.exe.symbol("main.boxes")
    pointer = native.memory.u64(symbol[0] + native.bias)
    rtype = native.memory.u64(pointer)  # boxes[0]'s type word
    decoded = types.at(rtype)
    assert (decoded.name, decoded.kind, decoded.size, decoded.direct_iface) == ("*main.Boxed", "ptr", 8, True)
    boxed = types.at(decoded.elem)
    assert boxed.name == "main.Boxed" and [f.name for f in boxed.fields] == ["n", "self"]
    assert list(types.gc_mask(boxed.address)) == [False, True]
    assert list(types.structural_mask(boxed.address)) == [False, True]


# The report, the profile


def test_report_json_and_markdown_carry_the_heap(heap, dlv_path):
    core, _, reading, _ = heap
    command = [sys.executable, "-m", "tui", "--dlv", str(dlv_path), "--no-gdb", str(core.exe), str(core.core)]
    done = subprocess.run(command + ["--report", "json"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["schema"] == "gocore-tui/report/4"
    section = report["heap"]
    assert section["objects"] == reading.objects and section["reachable_bytes"] == reading.reachable_bytes
    assert section["runtime"]["heap_objects"] == reading.objects
    assert section["types"][0]["bytes"] >= section["types"][1]["bytes"]
    assert {"type": "main.Token", "count": 50, "bytes": 1600, "garbage_count": 0, "garbage_bytes": 0,
            "typed": True, "retained_bytes": 1600} in section["types"]
    tokens = next(r for r in section["roots"] if r["root"] == "main.tokens")
    assert (tokens["kind"], tokens["variable"], tokens["type"]) == ("global", "main.tokens", "map[string]*main.Token")
    assert tokens["retained_bytes"] > 1600 and section["roots"][0]["retained_bytes"] >= tokens["retained_bytes"]
    suspect = section["suspects"][0]
    assert suspect["root"] == "main.table" and suspect["accumulation"]["path"].startswith("main.table → ")
    assert section["mismatches"] == []
    done = subprocess.run(command + ["--report", "md"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    memory = done.stdout.split("## Memory", 1)[1].split("\n## ", 1)[0]
    assert "| `main.Session` | 1,000 | 80.0 kB | 80 B |" in memory
    types = memory.split("| type |", 1)[1].split("\n\n", 1)[0]
    assert len([line for line in types.splitlines() if line.startswith("| `")]) == 10
    assert "| root | retains |" in memory and "| `main.table` | 131.9 kB |" in memory
    assert "**Leak suspects:**" in memory and "- main.table retains 132 kB (" in memory


def test_heap_pprof_is_read_by_go_tool_pprof(heap, toolchain, tmp_path):
    core, _, _, _ = heap
    profile = tmp_path / "heap.pb.gz"
    done = subprocess.run([sys.executable, "-m", "tui", str(core.exe), str(core.core), "--heap-pprof", str(profile)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith(f"gocore-tui: wrote {profile}:")
    go = shutil.which("go") or toolchain.go
    top = subprocess.run([go, "tool", "pprof", "-top", "-sample_index=inuse_objects", str(profile)],
                         capture_output=True, text=True, timeout=120)
    assert top.returncode == 0, top.stderr
    lines = {line.split()[-1]: int(line.split()[0]) for line in top.stdout.splitlines()
             if re.match(r"\s*\d+\s", line)}
    assert lines.get("main.Session") == 1000 and lines.get("main.Token") == 50
    space = subprocess.run([go, "tool", "pprof", "-top", "-sample_index=inuse_space", str(profile)],
                           capture_output=True, text=True, timeout=120)
    assert "main.Child" in space.stdout
    # the stacks are the dominator tree: a root's cumulative objects are all it retains
    # (main.table: its array and the 50 leaves only it holds)
    cum = subprocess.run([go, "tool", "pprof", "-top", "-cum", "-sample_index=inuse_objects", str(profile)],
                         capture_output=True, text=True, timeout=120)
    rows = {line.split()[-1]: int(line.split()[3]) for line in cum.stdout.splitlines() if re.match(r"\s*\d+\s", line)}
    assert rows.get("main.table") == 51, cum.stdout


@pytest.mark.toolchain_independent
def test_pprof_encoding_round_trips_through_its_own_fields():
    """The encoder alone: gzip, then the string table holds every name once."""
    import gzip

    data = gzip.decompress(heap_profile([(("main.T", "main.root"), 3, 96), (("main.U", "main.root"), 1, 16)]))
    assert data.count(b"main.root") == 1 and b"inuse_space" in data and b"inuse_objects" in data


@pytest.mark.toolchain_independent
def test_synthesized_dwarf_names_read_as_go():
    assert go_name("hash<string,map[int]string>") == "map[string]map[int]string"
    assert go_name("bucket<int64,*main.Session>") == "map.bucket[int64]*main.Session"
    assert go_name("noalg.map.group[int64]*main.Session") == "map.group[int64]*main.Session"
    assert go_name("table<string,func(int) (int, error)>") == "map.table[string]func(int) (int, error)"
    assert go_name("hchan<chan<- int>") == "chan chan<- int"
    assert go_name("hash<chan<- int,int>") == "map[chan<- int]int"
    assert go_name("main.Session") == "main.Session"


# What cannot be read


def _patched_core(core, tmp_path, patches: list[tuple[int, bytes]]):
    copy = tmp_path / "core"
    shutil.copyfile(core.core, copy)
    with open(copy, "r+b") as f:
        for offset, data in patches:
            f.seek(offset)
            f.write(data)
    return copy


def test_a_corrupt_span_is_one_line_and_the_report_goes_on(heap, tmp_path, dlv_path):
    core, native, _, _ = heap
    arrays = CoreArrays(native.memory)
    mheap = MHeap(native.memory, arrays, native.layouts, native.exe, native.bias)
    spans = mheap.spans()
    victim = int(spans.address[len(spans) // 2])
    nelems_at, nelems_type = mheap.mspan.field("nelems")
    buf, offset = native.memory.locate(victim + nelems_at, nelems_type.size)
    assert buf is native.core.data
    copy = _patched_core(core, tmp_path, [(offset, (0xFFFF).to_bytes(nelems_type.size, "little"))])
    broken = NativeCore.open(str(core.exe), str(copy))
    with pytest.raises(Unsupported) as caught:
        read_heap(broken)
    assert f"corrupt span at {victim:#x}" in str(caught.value) and "\n" not in str(caught.value)
    broken.close()
    done = subprocess.run([sys.executable, "-m", "tui", "--dlv", str(dlv_path), "--no-gdb", "--report", "json",
                           str(core.exe), str(copy)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert "corrupt span" in report["heap"]["error"] and report["goroutines"]["total"] > 0


class _WithoutFields:
    """A Layouts whose runtime.mspan and runtime.heapArena lack some fields:
    a heap laid out in a way this reader does not model."""

    def __init__(self, layouts, drop: dict[str, set[str]]) -> None:
        self._layouts, self._drop = layouts, drop

    def type(self, name: str) -> Type:
        found = self._layouts.type(name)
        if name in self._drop:
            from dataclasses import replace

            return replace(found, fields=tuple(f for f in found.fields if f.name not in self._drop[name]))
        return found

    def __getattr__(self, name):
        return getattr(self._layouts, name)


def test_an_unmodelled_layout_is_reported_not_guessed(heap):
    _, native, _, _ = heap
    layouts = _WithoutFields(native.layouts, {"runtime.mspan": {"largeType"}, "runtime.heapArena": {"bitmap"}})
    with pytest.raises(Unsupported) as caught:
        MHeap(native.memory, CoreArrays(native.memory), layouts, native.exe, native.bias)
    assert "pointer bits are in no place this reader knows" in str(caught.value)
