"""The object graph as compressed sparse rows, and what the roots reach.

    graph = ObjectGraph.build(sources, targets, objects_count, root_rows)
    reachable, parent = graph.search()     # bool per object; the shortest-path tree from the roots

Node i is object i; then come the roots' own nodes, each with its row
(root_rows: a global, a goroutine, a goroutine's frame, the runtime's
roots: each points at the objects its words hold, or at other root
nodes); the last of them, graph.root, stands for all roots. The rows are built by
a counting sort over source ranges (a few passes over the edge arrays,
each sorting only a slice), so the edges are never sorted whole; the
search is scipy.sparse.csgraph's breadth-first order, in C: a linked list
of a million nodes costs nothing more than a million edges. The weights
csgraph insists on are one broadcast 1.0 (no memory per edge).

The dominator tree (dominators.py) is built over the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order

# Edges sorted per pass: bounds the temporary index arrays.
EDGES_PER_PASS = 1 << 22


@dataclass(frozen=True, eq=False)
class ObjectGraph:
    indptr: np.ndarray  # int32 or int64, one entry per node and one more
    indices: np.ndarray  # int32 targets, row by row
    objects: int

    @property
    def nodes(self) -> int:
        return len(self.indptr) - 1

    @property
    def root(self) -> int:
        return self.nodes - 1

    @classmethod
    def build(cls, sources: list[np.ndarray], targets: list[np.ndarray], objects: int,
              root_rows: list[np.ndarray]) -> "ObjectGraph":
        """From edge chunks (sources[i] -> targets[i]; the chunks are emptied
        as they are used) and the rows of the root nodes (the last: all roots)."""
        nodes = objects + len(root_rows)
        counts = np.zeros(nodes, dtype=np.int64)
        for chunk in sources:
            counts += np.bincount(chunk, minlength=nodes)
        counts[objects:] += np.asarray([len(row) for row in root_rows], dtype=np.int64)
        total = int(counts.sum())
        index_type = np.int32 if total < 2**31 else np.int64
        indptr = np.zeros(nodes + 1, dtype=index_type)
        np.cumsum(counts, out=indptr[1:])
        del counts
        indices = np.empty(total, dtype=np.int32)
        # Source ranges of about EDGES_PER_PASS edges each.
        cuts = np.searchsorted(indptr, np.arange(0, total + EDGES_PER_PASS, EDGES_PER_PASS), side="left")
        cuts = np.unique(np.clip(cuts, 0, objects))
        bounds = list(cuts.tolist())
        if bounds[0] != 0:
            bounds.insert(0, 0)
        if bounds[-1] != objects:
            bounds.append(objects)
        for lo, hi in zip(bounds[:-1], bounds[1:]):
            if indptr[hi] == indptr[lo]:
                continue
            part_sources, part_targets = [], []
            for source, target in zip(sources, targets):
                which = np.flatnonzero((source >= lo) & (source < hi))
                part_sources.append(source[which])
                part_targets.append(target[which])
            source = np.concatenate(part_sources)
            order = np.argsort(source, kind="stable")
            indices[indptr[lo]:indptr[hi]] = np.concatenate(part_targets)[order]
        sources.clear()
        targets.clear()
        for node, row in enumerate(root_rows, start=objects):
            indices[indptr[node]:indptr[node + 1]] = row
        return cls(indptr, indices, objects)

    def matrix(self) -> csr_matrix:
        ones = np.broadcast_to(np.float64(1), (len(self.indices),))
        return csr_matrix((ones, self.indices, self.indptr), shape=(self.nodes, self.nodes))

    def search(self) -> tuple[np.ndarray, np.ndarray]:
        """(bool per object: some root reaches it; int32 per node: its parent
        on a shortest path from the roots, -1 for the unreached and the root)."""
        out = np.zeros(self.objects, dtype=bool)
        if self.indptr[-1] == self.indptr[-2]:
            return out, np.full(self.nodes, -1, dtype=np.int32)
        order, parent = breadth_first_order(self.matrix(), self.root, directed=True, return_predecessors=True)
        out[order[order < self.objects]] = True
        parent = parent.astype(np.int32, copy=False)
        parent[parent < 0] = -1
        return out, parent

    def reachable(self) -> np.ndarray:
        """bool per object: some root reaches it."""
        return self.search()[0]
