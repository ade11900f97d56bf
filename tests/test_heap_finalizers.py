"""Finalizers and cleanups as roots, on real cores of both toolchains, held
against tests/fixtures/heap_finalizers, whose retained sizes are known by
construction (see its main.go): a finalizer keeps what its object points
to, not the object (runtime.gcScanFinalizer), and its funcval; a cleanup
keeps its funcval and argument."""

from __future__ import annotations

import functools
import re

import numpy as np
import pytest

from tui.analysis.heapreport import heap_section
from tui.analysis.heapview import root_cells
from tui.corefile.arrays import CoreArrays
from tui.corefile.heap import read_heap_of
from tui.corefile.native import NativeCore

CONNS, CONN_BUF, PAYLOAD, CLEANUP_ARG = 20, 4096, 8192, 16384
LABEL = re.compile(r"^(finalizer|cleanup) of (\*[\w.]+) \((0x[0-9a-f]+)\): (.+)$")


@functools.cache
def _reading(exe: str, core: str):
    return read_heap_of(exe, core)


@pytest.fixture(scope="module")
def core(fixture_core):
    return fixture_core("heap_finalizers")


@pytest.fixture(scope="module")
def heap(core):
    return _reading(str(core.exe), str(core.core))


def node_of(reading, address: int) -> int:
    node = int(np.searchsorted(reading.address, np.uint64(address)))
    assert reading.address[node] == address, f"no object at {address:#x}"
    return node


def dominated(reading, node: int) -> list[int]:
    return np.flatnonzero(reading.idom == node).tolist()


def specials(reading, what: str, type_name: str) -> list[tuple]:
    """(root, object address) of each finalizer or cleanup of a *type_name."""
    out = []
    for root in reading.roots:
        match = LABEL.match(root.label)
        if root.kind == "finalizer" and match and match[1] == what and match[2] == type_name:
            out.append((root, int(match[3], 16)))
    return out


@pytest.fixture(scope="module")
def word(core):
    """A reader of the core's words."""
    native = NativeCore.open(str(core.exe), str(core.core))
    yield native.memory.u64
    native.close()


@pytest.mark.e2e
def test_finalizers_are_roots_named_as_go_names_them(heap):
    conns = specials(heap, "finalizer", "*main.Conn")
    assert len(conns) == CONNS + 1  # the garbage ones and kept's
    for root, address in conns:
        assert root.function == "main.(*Conn).close" and root.type == "*main.Conn"
        assert root.label == f"finalizer of *main.Conn ({address:#x}): main.(*Conn).close"
    # the roots table says what each calls where a narrow column cuts the label
    assert root_cells(conns[0][0], heap.reachable_bytes)[1] == "finalizer main.(*Conn).close"
    # os.Stdin, Stdout and Stderr have the runtime's own finalizers
    assert len(specials(heap, "finalizer", "*os.file")) == 3
    section = heap_section(heap)
    kinds = {r["root"]: r["kind"] for r in section["roots"]}
    assert all(kinds[root.label] == "finalizer" for root, _ in conns if root.retained)


@pytest.mark.e2e
def test_a_finalizer_keeps_what_its_object_points_to_but_not_the_object(heap, word):
    kept = next(r for r in heap.roots if r.label == "main.kept")
    conns = specials(heap, "finalizer", "*main.Conn")
    kept_conn, = [node_of(heap, a) for _, a in conns if heap.reachable[node_of(heap, a)]]

    retaining = 0
    for root, address in conns:
        conn, buffer = node_of(heap, address), node_of(heap, word(address + 8))  # Conn.buf's array
        assert int(heap.size[buffer]) == CONN_BUF
        if conn == kept_conn:
            # the global holds the Conn; the buffer is held by both (the roots' node dominates it)
            assert root.retained == 0 and heap.idom[buffer] == heap.root_node
            assert kept.retained == int(heap.size[conn])
            continue
        assert not heap.reachable[conn], f"{root.label}: a finalizer does not keep its own object"
        assert root.retained == CONN_BUF and dominated(heap, root.node) == [buffer], root.label
        retaining += 1
    # no dead stack slot holds a buffer too (arm's goroutine has ended;
    # Go 1.19's bgsweep keeps a swept span's base in a slot its map calls dead)
    assert retaining == CONNS


@pytest.mark.e2e
def test_a_closure_finalizer_retains_the_closure_and_what_it_captured(heap):
    (root, address), = specials(heap, "finalizer", "*main.Temp")
    assert root.function == "main.arm.func1"
    closure, = dominated(heap, root.node)
    payload, = dominated(heap, closure)
    assert int(heap.size[payload]) == PAYLOAD
    assert root.retained == int(heap.size[closure]) + PAYLOAD
    assert not heap.reachable[node_of(heap, address)]


@pytest.mark.e2e
def test_a_cleanup_retains_its_argument_where_go_has_cleanups(heap, toolchain):
    cleanups = specials(heap, "cleanup", "*main.Guarded")
    if not toolchain.is_latest:
        assert cleanups == []  # AddCleanup is Go 1.24's
        return
    (root, address), = cleanups
    assert root.label == f"cleanup of *main.Guarded ({address:#x}): main.armCleanup.func1"
    guarded = next(r for r in heap.roots if r.label == "main.guarded")
    assert heap.reachable[node_of(heap, address)] and guarded.retained == int(heap.size[node_of(heap, address)])
    held = [node for node in np.flatnonzero(heap.idom >= 0).tolist() if node < heap.objects
            and _under(heap, node, root.node)]
    assert CLEANUP_ARG in [int(heap.size[node]) for node in held]
    assert root.retained == sum(int(heap.size[node]) for node in held)
    assert CLEANUP_ARG < root.retained <= CLEANUP_ARG + 64  # the argument, its box and the closure


def _under(reading, node: int, top: int) -> bool:
    while node >= 0 and node != reading.root_node:
        if node == top:
            return True
        node = int(reading.idom[node])
    return False


# -- a damaged specials list: that span's finalizers go, with a note; the rest stays

def _conn_span_list(core, heap) -> tuple[int, int, dict[str, tuple[int, int]]]:
    """(where the Conns' span keeps its specials list's head, the first
    special, runtime.special's fields: name -> (offset, size))."""
    from tui.corefile.runtime.mheap import MHeap

    (_, address), *_ = specials(heap, "finalizer", "*main.Conn")
    native = NativeCore.open(str(core.exe), str(core.core))
    try:
        mheap = MHeap(native.memory, CoreArrays(native.memory), native.layouts, native.exe, native.bias)
        spans = mheap.spans()
        span = int(np.searchsorted(spans.base, np.uint64(address), side="right")) - 1
        special = native.layouts.type("runtime.special")
        fields = {name: (special.field(name)[0], special.field(name)[1].size) for name in ("next", "offset", "kind")}
        return int(spans.address[span]) + mheap.mspan.field("specials")[0], int(spans.specials[span]), fields
    finally:
        native.close()


@pytest.mark.e2e
@pytest.mark.parametrize("damage", ["loop", "offset", "head"])
def test_a_damaged_specials_list_costs_its_span_s_finalizers_and_says_so(core, heap, damage, tmp_path):
    import shutil

    import corruption

    head_at, first, fields = _conn_span_list(core, heap)
    at, value, size = {"loop": (first + fields["next"][0], first, fields["next"][1]),
                       "offset": (first + fields["offset"][0], (1 << 8 * fields["offset"][1]) - 1, fields["offset"][1]),
                       "head": (head_at, 0xDEAD0000, 8)}[damage]
    with open(core.core, "rb") as f:
        head = f.read(1 << 16)
        head += f.read(max(0, corruption.notes_end(head) - len(head)))
    layout = corruption.read_layout(head, core.core.stat().st_size)
    damaged = tmp_path / "core"
    shutil.copyfile(core.core, damaged)
    with open(damaged, "r+b") as f:
        f.seek(layout.file_offset(at))
        f.write(value.to_bytes(size, "little"))
    reading = read_heap_of(str(core.exe), str(damaged))
    notes = [n for n in reading.notes if "specials list" in n]
    assert len(notes) == 1 and "\n" not in notes[0], reading.notes
    assert notes[0].startswith("the specials list of 1 span (first mspan 0x") and \
        notes[0].endswith("is damaged: its finalizers and cleanups are not roots")
    assert specials(reading, "finalizer", "*main.Conn") == []
    # the other spans' finalizers, and the whole heap besides, are as before
    assert len(specials(reading, "finalizer", "*main.Temp")) == 1
    assert (reading.objects, reading.bytes) == (heap.objects, heap.bytes)
    assert {r.label for r in reading.roots if r.kind == "global"} == {r.label for r in heap.roots if r.kind == "global"}


@pytest.mark.toolchain_independent
def test_a_graph_the_dominator_loops_cannot_trust_is_refused_in_one_line():
    from tui.corefile.errors import Unsupported
    from tui.corefile.heap.dominators import dominator_tree

    indptr = np.asarray([0, 1, 2, 2], dtype=np.int32)
    for indices, root, says in ((np.asarray([1, 7], dtype=np.int32), 0, "an edge points past its 3 nodes"),
                                (np.asarray([1, -2], dtype=np.int32), 0, "an edge points past"),
                                (np.asarray([1, 2], dtype=np.int32), 5, "its root 5 is not one of its 3 nodes")):
        with pytest.raises(Unsupported, match=says) as raised:
            dominator_tree(indptr, indices, root)
        assert "\n" not in str(raised.value)
    with pytest.raises(Unsupported, match="its rows do not cover its 1 edges"):
        dominator_tree(np.asarray([0, 2, 1, 1], dtype=np.int32), np.asarray([1], dtype=np.int32), 0)
    assert dominator_tree(indptr, np.asarray([1, 2], dtype=np.int32), 0).idom.tolist() == [-1, 0, 1]
