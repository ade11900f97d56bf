"""Leak suspects, as Eclipse MAT finds them: the roots (or objects shared
by several roots) that alone keep a big share of the heap alive, and for
each, where that memory piles up.

    find_suspects(...) -> (Suspect, ...)     # biggest first

From a suspect, the dominator tree is followed down its heavy path (the
child that retains most of its parent's bytes) to the accumulation point:
the node whose retained bytes are spread over many children. Its
children, grouped by type, name the elements (through a map's or a
slice's own runtime arrays: a swiss map's tables and groups are looked
through to the values they hold); the nearest collection on the path (a
map header, a slice's array, a channel's buffer) names the collection.
A child of the same type holding most of its parent is a linked list: its
length is the count of that type under its head. Elements are counted in
the accumulation point's whole subtree (dominators.subtree_of_type), so
those a collection keeps deeper (a bucket's overflow) count too.
"""

from __future__ import annotations

import numpy as np

from ...model.heap import Accumulation, RootRow, Suspect, TypeRow
from .dominators import subtree_of_type

SUSPECT_SHARE = 0.10  # of the reachable bytes
HEAVY = 0.8  # a child holding this share of its parent's retained bytes is followed down
MAX_SUSPECTS = 5
MAX_STEPS = 64
LOOK_THROUGH = 3  # levels of a collection's own runtime arrays looked through to its elements
_INTERNAL = ("map.group[", "[]map.group[", "map.table[", "[]*map.table[", "map.bucket[", "[]map.bucket[",
             "internal/runtime/maps.", "[]*internal/runtime/maps.", "map.groups[")


def _internal(name: str) -> bool:
    return name.startswith(_INTERNAL)


def find_suspects(root: int, first: np.ndarray, kids: np.ndarray, retained: np.ndarray, row_of_node: np.ndarray,
                  rows: tuple[TypeRow, ...], roots: tuple[RootRow, ...], reachable_bytes: int,
                  address: np.ndarray) -> tuple[Suspect, ...]:
    if reachable_bytes <= 0:
        return ()
    by_node = {r.node: r for r in roots}
    threshold = SUSPECT_SHARE * reachable_bytes
    top = kids[first[root]:first[root + 1]]
    big = top[retained[top] >= threshold]
    found = []
    for node in big[np.argsort(-retained[big], kind="stable")][:MAX_SUSPECTS].tolist():
        # Through the roots' own nodes (a goroutine, then its frame) while one holds most.
        while node in by_node:
            children = kids[first[node]:first[node + 1]]
            if not len(children):
                break
            heaviest = int(children[np.argmax(retained[children])])
            if heaviest not in by_node or retained[heaviest] < HEAVY * retained[node]:
                break
            node = heaviest
        label = by_node[node].label if node in by_node else \
            f"{_name(rows, row_of_node, node)} at {int(address[node]):#x}"
        found.append(Suspect(label, node, int(retained[node]), float(retained[node]) / reachable_bytes,
                             _accumulation(node, first, kids, retained, row_of_node, rows, by_node)))
    return tuple(found)


def _name(rows: tuple[TypeRow, ...], row_of_node: np.ndarray, node: int) -> str:
    row = row_of_node[node]
    return rows[row].name if row >= 0 else "?"


def _accumulation(start: int, first, kids, retained, row_of_node, rows, by_node) -> Accumulation | None:
    path = [start]
    node = start
    for _ in range(MAX_STEPS):
        children = kids[first[node]:first[node + 1]]
        if not len(children):
            break
        heaviest = int(children[np.argmax(retained[children])])
        if retained[heaviest] < HEAVY * retained[node]:
            break
        if node not in by_node and row_of_node[heaviest] == row_of_node[node] >= 0:
            row = int(row_of_node[node])
            length, _ = subtree_of_type(first, kids, node, row_of_node, row, retained)
            return Accumulation("linked list", rows[row].name, length, rows[row].name, int(retained[node]), node)
        node = heaviest
        path.append(node)
    if node in by_node:
        return None
    # The elements: the children by type, looking through a collection's own arrays.
    level = kids[first[node]:first[node + 1]]
    element_row, elements = -1, level[:0]
    for _ in range(LOOK_THROUGH + 1):
        if not len(level):
            break
        typed = level[row_of_node[level] >= 0]
        if not len(typed):
            break
        weights = np.bincount(row_of_node[typed], weights=retained[typed].astype(np.float64))
        element_row = int(np.argmax(weights))
        elements = typed[row_of_node[typed] == element_row]
        if not _internal(rows[element_row].name):
            break
        # one level down: every child of these
        starts, ends = first[elements], first[elements + 1]
        counts = (ends - starts).astype(np.int64)
        if not counts.sum():
            break
        ramp = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
        level = kids[np.repeat(starts, counts) + ramp]
    if element_row < 0 or not len(elements):
        return None
    holder = next((n for n in reversed(path) if row_of_node[n] >= 0 and _collection(rows[row_of_node[n]].name)),
                  node)
    name = _name(rows, row_of_node, holder)
    count, total = subtree_of_type(first, kids, holder, row_of_node, element_row, retained)
    return Accumulation(_kind(name), name, count, rows[element_row].name, int(total), holder)


def _collection(name: str) -> bool:
    return name.startswith(("map[", "[]", "chan ")) and not _internal(name)


def _kind(name: str) -> str:
    if name.startswith("map["):
        return "map"
    if name.startswith("chan ") and name.endswith("(buffer)"):
        return "channel buffer"
    if name.startswith("[]"):
        return "slice"
    return "object"
