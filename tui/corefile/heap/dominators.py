"""The dominator tree of the object graph, and what each object retains.

    tree = dominator_tree(indptr, indices, root)   # the graph's CSR rows, from its root node
    tree.idom[i]                            # the node that immediately dominates node i
    retained = tree.retained(own)           # bytes freed if node i went: its own and all it dominates
    first, kids = tree.children()           # the tree's rows: kids[first[i]:first[i + 1]]
    by_type = type_retained(tree, first, kids, type_of, retained, types)

An object d dominates o when every path from the roots to o goes through
d; its immediate dominator is the closest such d. The retained size of
an object is its own size plus that of every object it dominates: what
the GC would free if nothing referenced it any more (Eclipse MAT's
"retained heap").

The tree is Semi-NCA (Georgiadis, Tarjan, Werneck: "Finding dominators in
practice", 2006; what LLVM builds its dominator trees with): a depth-first
search, semidominators by path-compressed link-eval over the reverse
graph in reverse preorder, then each immediate dominator as the nearest
common ancestor of the parent and the semidominator. The loops are
compiled by numba (LLVM) over the CSR arrays: no Python runs per object or
per edge, and nothing recurses, so a linked list of millions costs what
its edges cost. The README says why numba and not a graph library.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit, types
from numba.typed import Dict

UNREACHED = -1


@njit(cache=True, nogil=True)
def _preorder(indptr, indices, root, nodes):
    """Depth-first preorder from root: (order: preorder -> node, number:
    node -> preorder or -1, parent: preorder of each one's DFS parent)."""
    number = np.full(nodes, -1, dtype=np.int32)
    order = np.empty(nodes, dtype=np.int32)
    parent = np.empty(nodes, dtype=np.int32)
    stack_node = np.empty(nodes, dtype=np.int32)
    stack_edge = np.empty(nodes, dtype=np.int64)
    count = 0
    number[root] = 0
    order[0] = root
    parent[0] = 0
    count = 1
    top = 0
    stack_node[0] = root
    stack_edge[0] = indptr[root]
    while top >= 0:
        node = stack_node[top]
        edge = stack_edge[top]
        end = indptr[node + 1]
        while edge < end and number[indices[edge]] >= 0:
            edge += 1
        if edge >= end:
            top -= 1
            continue
        stack_edge[top] = edge + 1
        child = indices[edge]
        number[child] = count
        order[count] = child
        parent[count] = number[node]
        count += 1
        top += 1
        stack_node[top] = child
        stack_edge[top] = indptr[child]
    return order[:count].copy(), number, parent[:count].copy()


@njit(cache=True, nogil=True)
def _reverse(indptr, indices, number, count):
    """The reverse graph over preorder numbers, reached nodes only (CSR)."""
    nodes = len(number)
    degree = np.zeros(count + 1, dtype=np.int64)
    for source in range(nodes):
        s = number[source]
        if s < 0:
            continue
        for edge in range(indptr[source], indptr[source + 1]):
            t = number[indices[edge]]
            degree[t + 1] += 1
    for i in range(count):
        degree[i + 1] += degree[i]
    fill = degree[:-1].copy()
    preds = np.empty(degree[count], dtype=np.int32)
    for source in range(nodes):
        s = number[source]
        if s < 0:
            continue
        for edge in range(indptr[source], indptr[source + 1]):
            t = number[indices[edge]]
            preds[fill[t]] = s
            fill[t] += 1
    return degree, preds


@njit(cache=True, nogil=True)
def _semi_nca(parent, pred_ptr, preds):
    """Immediate dominators in preorder numbers (0: the root)."""
    count = len(parent)
    semi = np.arange(count, dtype=np.int32)
    label = np.arange(count, dtype=np.int32)
    ancestor = parent.copy()  # the link-eval forest, compressed as it is walked
    idom = parent.copy()
    path = np.empty(count, dtype=np.int32)
    for w in range(count - 1, 0, -1):
        best = parent[w]
        for edge in range(pred_ptr[w], pred_ptr[w + 1]):
            v = preds[edge]
            # eval(v): the vertex of least semidominator on v's path in the
            # forest of the vertices already done (numbered above w).
            if ancestor[v] <= w:
                found = label[v]
            else:
                depth = 0
                u = v
                while ancestor[u] > w:
                    path[depth] = u
                    depth += 1
                    u = ancestor[u]
                top = u
                top_label = label[top]
                for k in range(depth - 1, -1, -1):
                    x = path[k]
                    ancestor[x] = ancestor[top]
                    if semi[top_label] < semi[label[x]]:
                        label[x] = top_label
                    else:
                        top_label = label[x]
                    top = x
                found = label[v]
            if semi[found] < best:
                best = semi[found]
        semi[w] = best
    for w in range(1, count):
        candidate = idom[w]
        target = semi[w]
        while candidate > target:
            candidate = idom[candidate]
        idom[w] = candidate
    return idom


@njit(cache=True, nogil=True)
def _children(idom, root):
    """The dominator tree's rows: (first, kids), node i's children kids[first[i]:first[i + 1]]."""
    nodes = len(idom)
    first = np.zeros(nodes + 1, dtype=np.int64)
    for node in range(nodes):
        parent = idom[node]
        if parent >= 0 and node != root:
            first[parent + 1] += 1
    for node in range(nodes):
        first[node + 1] += first[node]
    fill = first[:-1].copy()
    kids = np.empty(first[nodes], dtype=np.int32)
    for node in range(nodes):
        parent = idom[node]
        if parent >= 0 and node != root:
            kids[fill[parent]] = node
            fill[parent] += 1
    return first, kids


@njit(cache=True, nogil=True)
def _type_retained(first, kids, root, type_of, retained, types):
    """Per type: the retained bytes of its instances that no other instance
    of it dominates (a linked list counts once, at its head), by one walk of
    the tree that counts, per type, its instances on the path from the root."""
    out = np.zeros(types, dtype=np.int64)
    on_path = np.zeros(types, dtype=np.int32)
    nodes = len(type_of)
    stack = np.empty(nodes + 1, dtype=np.int32)
    edge = np.empty(nodes + 1, dtype=np.int64)
    top = 0
    stack[0] = root
    edge[0] = first[root]
    while top >= 0:
        node = stack[top]
        if edge[top] < first[node + 1]:
            child = kids[edge[top]]
            edge[top] += 1
            t = type_of[child]
            if t >= 0:
                if on_path[t] == 0:
                    out[t] += retained[child]
                on_path[t] += 1
            top += 1
            stack[top] = child
            edge[top] = first[child]
        else:
            t = type_of[node] if node != root else -1
            if t >= 0:
                on_path[t] -= 1
            top -= 1
    return out


@njit(cache=True, nogil=True)
def subtree_of_type(first, kids, start, row_of_node, row, retained):
    """(how many nodes of type row the tree holds under start, start
    included; what those not under another of them retain together)."""
    count = 0
    total = 0
    stack = [(start, 0)]
    while len(stack):
        node, inside = stack.pop()
        if row_of_node[node] == row:
            count += 1
            if inside == 0:
                total += retained[node]
            inside = 1
        for edge in range(first[node], first[node + 1]):
            stack.append((kids[edge], inside))
    return count, total


@njit(cache=True, nogil=True)
def _dominator_paths(first, kids, root, row_of_node, is_root, max_depth):
    """Per node, its path of types down the dominator tree from its root
    (interned: (parent path, row) pairs; a root's node enters as -2 - node;
    a type repeating its parent's, a list's next, stays on its parent's
    path; deeper than max_depth stays too)."""
    nodes = len(row_of_node)
    path_of = np.full(nodes, -1, dtype=np.int32)
    # Path 0: objects no single root holds (the roots' node dominates them).
    parents = [-1]
    rows = [-1]
    depths = [0]
    ids = Dict.empty(key_type=types.int64, value_type=types.int64)
    stack = np.empty(nodes + 1, dtype=np.int32)
    top = 0
    stack[0] = root
    while top >= 0:
        node = stack[top]
        top -= 1
        for edge in range(first[node], first[node + 1]):
            child = kids[edge]
            label = -2 - child if is_root[child] else row_of_node[child]
            here = path_of[node] if node != root else (-1 if is_root[child] else 0)
            if here >= 0 and (rows[here] == label or depths[here] >= max_depth):
                path_of[child] = here
            else:
                key = np.int64(here) * (np.int64(1) << 33) + np.int64(label) + (np.int64(1) << 32)
                found = ids.get(key, -1)
                if found < 0:
                    found = len(parents)
                    ids[key] = found
                    parents.append(here)
                    rows.append(label)
                    depths.append(0 if here < 0 else depths[here] + 1)
                path_of[child] = found
            top += 1
            stack[top] = child
    return path_of, np.asarray(parents, dtype=np.int32), np.asarray(rows, dtype=np.int64)


def dominator_paths(tree: DominatorTree, first: np.ndarray, kids: np.ndarray, row_of_node: np.ndarray,
                    is_root: np.ndarray, max_depth: int = 24) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(path per node, each path's parent, each path's label: a type's row,
    -2 - node for a root's node, -1 for path 0: held by several roots)."""
    return _dominator_paths(first, kids, tree.root, row_of_node, is_root, max_depth)


@njit(cache=True, nogil=True)
def _retained(order, idom_pre, own):
    """Own plus dominated sizes, in preorder (children come after their dominator)."""
    count = len(order)
    retained = np.empty(count, dtype=np.int64)
    for i in range(count):
        retained[i] = own[order[i]]
    for i in range(count - 1, 0, -1):
        retained[idom_pre[i]] += retained[i]
    return retained


@dataclass(frozen=True, eq=False)
class DominatorTree:
    """idom: per node of the graph (objects, then the roots' node), the node
    that immediately dominates it; the roots' node for objects only roots
    dominate, UNREACHED (-1) for objects no root reaches and for the
    roots' node itself."""

    idom: np.ndarray  # int32
    order: np.ndarray  # int32: the reached nodes in depth-first preorder, the roots' node first
    root: int

    def retained(self, own: np.ndarray) -> np.ndarray:
        """int64 per node: its own size (own, per node) and that of every node
        it dominates (0 for the unreached; the root: everything reachable)."""
        own = np.asarray(own, dtype=np.int64)
        number = np.full(len(self.idom), -1, dtype=np.int32)
        number[self.order] = np.arange(len(self.order), dtype=np.int32)
        idom_pre = np.zeros(len(self.order), dtype=np.int32)
        idom_pre[1:] = number[self.idom[self.order[1:]]]
        del number
        by_pre = _retained(self.order, idom_pre, own)
        out = np.zeros(len(self.idom), dtype=np.int64)
        out[self.order] = by_pre
        return out

    def children(self) -> tuple[np.ndarray, np.ndarray]:
        """(first, kids): node i's children in the tree are kids[first[i]:first[i + 1]]."""
        return _children(self.idom, self.root)


def type_retained(tree: DominatorTree, first: np.ndarray, kids: np.ndarray, type_of: np.ndarray,
                  retained: np.ndarray, types: int) -> np.ndarray:
    """int64 per type: what all its instances retain together (type_of: per
    node, -1 for the roots' nodes)."""
    return _type_retained(first, kids, tree.root, type_of, retained, types)


def dominator_tree(indptr: np.ndarray, indices: np.ndarray, root: int) -> DominatorTree:
    """The dominator tree of the graph in CSR rows (indptr, indices), from root."""
    nodes = len(indptr) - 1
    order, number, parent = _preorder(indptr, indices, root, nodes)
    pred_ptr, preds = _reverse(indptr, indices, number, len(order))
    del number
    idom_pre = _semi_nca(parent, pred_ptr, preds)
    del pred_ptr, preds, parent
    idom = np.full(nodes, UNREACHED, dtype=np.int32)
    idom[order[1:]] = order[idom_pre[1:]]
    return DominatorTree(idom, order, root)
