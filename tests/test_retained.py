"""What keeps the heap alive, on real cores of both toolchains: retained
sizes, roots named as Go names them, the dominator tree and leak suspects,
held against tests/fixtures/heap_retained, whose retained sizes are known
by construction (see its main.go), and the dominator tree itself against
the definition on small graphs."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from tui.analysis.heapview import describe_suspect
from tui.corefile.heap import read_heap_of
from tui.corefile.heap.dominators import dominator_tree

ENTRIES, ITEMS, RING, CHAIN, BLOBS = 400, 100, 10, 200_000, 5_000


@functools.cache
def _reading(exe: str, core: str):
    return read_heap_of(exe, core)


@pytest.fixture(scope="module")
def heap(fixture_core):
    core = fixture_core("heap_retained")
    return _reading(str(core.exe), str(core.core))


def root(reading, label: str):
    found = [r for r in reading.roots if r.label == label]
    assert found, f"no root {label!r} among {[r.label for r in reading.roots[:20]]}"
    return found[0]


def row(reading, name: str):
    return reading.types[reading.row_of(name)]


def node_of(reading, address: int) -> int:
    return int(np.searchsorted(reading.address, np.uint64(address)))


def subtree(reading, start: int) -> list[int]:
    """Every node the dominator tree holds under start (start included)."""
    children: dict[int, list[int]] = {}
    for node, parent in enumerate(reading.idom.tolist()):
        children.setdefault(parent, []).append(node)
    out, todo = [], [start]
    while todo:
        node = todo.pop()
        out.append(node)
        todo += children.get(node, [])
    return out


@pytest.mark.e2e
def test_a_global_map_retains_its_entries_and_its_own_memory(heap):
    entries = row(heap, "main.Entry")
    assert entries.count == ENTRIES
    buffers = ENTRIES * 112  # make([]byte, 100): the 112-byte size class
    registry = root(heap, "main.registry")
    assert (registry.kind, registry.variable, registry.type) == ("global", "main.registry", "map[int64]*main.Entry")
    held = [node for node in subtree(heap, registry.node) if node < heap.objects]
    names = [heap.types[heap.row[node]].name for node in held]
    assert names.count("main.Entry") == ENTRIES and names.count("[]uint8") == ENTRIES
    # the rest is the map's own memory: its header, groups or buckets, tables, and before Go 1.24 its mapextra
    assert all(name in ("main.Entry", "[]uint8", "runtime.mapextra") or "]*main.Entry" in name for name in names), \
        sorted(set(names))
    map_bytes = sum(int(heap.size[node]) for node, name in zip(held, names) if name not in ("main.Entry", "[]uint8"))
    assert map_bytes == sum(t.bytes for t in heap.types if "]*main.Entry" in t.name) + \
        sum(int(heap.size[node]) for node, name in zip(held, names) if name == "runtime.mapextra")
    assert registry.retained == entries.bytes + buffers + map_bytes
    assert entries.retained == entries.bytes + buffers


@pytest.mark.e2e
def test_a_slice_only_a_goroutine_holds_is_retained_by_that_goroutine(heap):
    batch = [r for r in heap.roots if r.function == "main.holder" and r.variable == "batch"]
    assert batch, [r.label for r in heap.roots if r.kind == "goroutine"][:20]
    variable = batch[0]
    assert variable.label == f"goroutine {variable.goroutine} main.holder: batch"
    items = row(heap, "main.Item")
    expected = row(heap, "[]*main.Item").bytes + items.bytes
    assert items.count == ITEMS
    goroutine = root(heap, f"goroutine {variable.goroutine}")
    assert goroutine.whole_goroutine and goroutine.retained == expected
    # The variable alone holds them all but what a compiler's temporary in
    # the same frame still points to (the last item made, on -N -l builds).
    assert expected - items.bytes // ITEMS <= variable.retained <= expected
    # the goroutine's row sums its frames: the variable's node hangs under it
    assert heap.idom[variable.node] == goroutine.node


@pytest.mark.e2e
def test_two_roots_sharing_a_subgraph_dominate_none_of_it(heap):
    holders = row(heap, "main.Holder")
    assert holders.count == 2
    left, right = root(heap, "main.left"), root(heap, "main.right")
    assert left.retained == right.retained == holders.bytes // 2
    address, size, _ = heap.instances(heap.row_of("main.Shared"), 1)[0]
    shared = node_of(heap, address)
    assert heap.idom[shared] == heap.root_node  # their common dominator: the roots' node
    assert heap.retained[shared] == size + 64 * 1024


@pytest.mark.e2e
def test_a_cycle_is_retained_by_its_one_root(heap):
    rings = row(heap, "main.Ring")
    assert rings.count == RING
    ring = root(heap, "main.ring")
    assert ring.retained == rings.bytes == rings.retained
    members = [node_of(heap, a) for a, _, _ in heap.instances(heap.row_of("main.Ring"), RING)]
    held_by_root = [m for m in members if heap.idom[m] == ring.node]
    assert len(held_by_root) == 1  # the ring's first: each other one is dominated by the one before it
    assert all(heap.idom[m] in members for m in members if m not in held_by_root)


@pytest.mark.e2e
def test_a_long_linked_list_is_retained_by_its_head_and_found_as_a_list(heap):
    links = row(heap, "main.Link")
    assert links.count == CHAIN
    chain = root(heap, "main.chain")
    assert chain.retained == links.bytes == links.retained
    suspect = next(s for s in heap.suspects if s.label == "main.chain")
    assert (suspect.accumulation.kind, suspect.accumulation.count, suspect.accumulation.element) == \
        ("linked list", CHAIN, "main.Link")


@pytest.mark.e2e
def test_the_leak_suspect_names_the_root_and_the_collection(heap):
    suspect = heap.suspects[0]
    blobs = row(heap, "main.Blob")
    assert blobs.count == BLOBS
    assert suspect.label == "main.cache" and suspect.share >= 0.5
    accumulation = suspect.accumulation
    assert (accumulation.kind, accumulation.type, accumulation.element) == ("map", "map[string]*main.Blob", "main.Blob")
    # every blob is the map's alone (no dead stack slot of main's frame holds one)
    inside = set(subtree(heap, suspect.node))
    outside = [node for node in np.flatnonzero(heap.row == heap.row_of("main.Blob")).tolist() if node not in inside]
    assert not outside, [heap.root_of_node(int(heap.parent[node])) for node in outside]
    assert accumulation.count == BLOBS
    assert accumulation.element_retained >= accumulation.count * blobs.bytes // BLOBS
    # each Blob holds its bytes through .data, its 2 KiB buffer
    assert accumulation.through == ".data"
    each = accumulation.element_retained / accumulation.count
    assert 2048 < each <= 2048 + 48 + 32  # its buffer and itself (and its key, when not in a shared tiny block)
    assert describe_suspect(suspect) == (
        f"main.cache retains {suspect.retained / 1e6:,.1f} MB ({suspect.share:.0%}): a map[string]*main.Blob with "
        f"{accumulation.count:,} main.Blob ({accumulation.element_retained / 1e6:,.1f} MB), "
        f"each holding {each / 1e3:,.1f} kB through .data")


@pytest.mark.e2e
def test_everything_reachable_is_retained_by_the_roots_and_nothing_else(heap):
    assert heap.retained[heap.root_node] == heap.reachable_bytes
    objects = heap.objects
    reached = heap.reachable
    assert (heap.retained[:objects][~reached] == 0).all()
    assert (heap.idom[:objects][reached] >= 0).all()
    assert (heap.parent[:objects][reached] >= 0).all()


# The algorithm against the definition (toolchain independent)


def _dominators_by_definition(nodes: int, edges: list[tuple[int, int]], root: int) -> tuple[list[set[int]], set[int]]:
    """(Dom(v): the nodes every path from root to v passes through, the
    fixpoint of the textbook equations over the reachable nodes; those nodes)."""
    reached, todo = {root}, [root]
    while todo:
        a = todo.pop()
        for x, b in edges:
            if x == a and b not in reached:
                reached.add(b)
                todo.append(b)
    preds = [[a for a, b in edges if b == v and a in reached] for v in range(nodes)]
    dom = [set(reached) for _ in range(nodes)]
    dom[root] = {root}
    changed = True
    while changed:
        changed = False
        for v in reached - {root}:
            new = {v} | set.intersection(*(dom[p] for p in preds[v]))
            if new != dom[v]:
                dom[v], changed = new, True
    return dom, reached


@pytest.mark.toolchain_independent
@pytest.mark.parametrize("seed", range(40))
def test_semi_nca_agrees_with_the_definition_on_random_graphs(seed):
    rng = np.random.default_rng(seed)
    nodes = int(rng.integers(2, 40))
    root = nodes - 1
    edges = {(int(a), int(b)) for a, b in rng.integers(0, nodes, size=(int(rng.integers(1, nodes * 3)), 2))}
    edges |= {(root, int(b)) for b in rng.integers(0, nodes - 1, size=2)}
    ordered = sorted(edges)
    indptr = np.zeros(nodes + 1, dtype=np.int32)
    for a, _ in ordered:
        indptr[a + 1] += 1
    indptr = np.cumsum(indptr).astype(np.int32)
    indices = np.asarray([b for _, b in ordered], dtype=np.int32)
    tree = dominator_tree(indptr, indices, root)
    dom, reached = _dominators_by_definition(nodes, ordered, root)
    for v in range(nodes):
        if v == root or v not in reached:
            assert tree.idom[v] == -1
        else:
            strict = dom[v] - {v}
            # the immediate dominator: the strict dominator every other strict dominator dominates
            idom = next(d for d in strict if all(o in dom[d] for o in strict))
            assert tree.idom[v] == idom, (seed, v)
    own = np.ones(nodes, dtype=np.int64)
    retained = tree.retained(own)
    for v in reached:
        assert retained[v] == sum(1 for u in reached if v in dom[u])


@pytest.mark.e2e
def test_the_shortest_path_from_a_root_reads_as_go(fixture_core, heap):
    import re

    from tui.corefile.heap.paths import PathNamer
    from tui.corefile.native import NativeCore

    core = fixture_core("heap_retained")
    native = NativeCore.open(str(core.exe), str(core.core))
    try:
        namer = PathNamer(native.memory, native.layouts, heap)

        def path(type_name: str) -> str:
            address, _, _ = heap.instances(heap.row_of(type_name), 1)[0]
            return namer.text(node_of(heap, address))

        assert re.fullmatch(r'main\.cache → map\[string\]\*main\.Blob → \["blob-\d+"\] main\.Blob \(48 B\)',
                            path("main.Blob")), path("main.Blob")
        assert re.fullmatch(r"main\.registry → map\[int64\]\*main\.Entry → \[\d+\] main\.Entry \(32 B\)",
                            path("main.Entry")), path("main.Entry")
        assert re.fullmatch(r"goroutine \d+ main\.holder: batch → \[\]\*main\.Item → \[\d+\] main\.Item \(64 B\)",
                            path("main.Item")), path("main.Item")
        assert re.fullmatch(r"main\.(left|right) → main\.Holder → \.shared main\.Shared \(24 B\)",
                            path("main.Shared")), path("main.Shared")
    finally:
        native.close()
