"""What grew between two cores of one executable (`--baseline OLDCORE`):
types and roots by their growth in bytes, then in count; a root the old
core did not have is marked new.

    growth = heap_growth(now, then)      # two HeapReadings
    growth.types[0]                      # TypeGrowth("main.Blob", bytes=..., count=..., was_bytes=..., ...)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..model.heap import HeapReading


@dataclass(frozen=True, slots=True)
class TypeGrowth:
    name: str
    bytes: int  # reachable, now
    count: int
    was_bytes: int  # in the baseline
    was_count: int

    @property
    def grew_bytes(self) -> int:
        return self.bytes - self.was_bytes

    @property
    def grew_count(self) -> int:
        return self.count - self.was_count


@dataclass(frozen=True, slots=True)
class RootGrowth:
    label: str
    kind: str
    retained: int  # now
    was_retained: int  # in the baseline (0 for a new root)
    new: bool  # the baseline has no such root

    @property
    def grew(self) -> int:
        return self.retained - self.was_retained


@dataclass(frozen=True)
class HeapGrowth:
    bytes: int  # reachable, now and then
    was_bytes: int
    objects: int
    was_objects: int
    types: tuple[TypeGrowth, ...]  # the ones that changed, most grown first
    roots: tuple[RootGrowth, ...]


def heap_growth(now: HeapReading, then: HeapReading) -> HeapGrowth:
    """now against then (the baseline): every type and root that changed.
    Goroutines are matched by id, globals by name; a goroutine's frames
    and stack words count in its own row."""
    was = {row.name: row for row in then.types}
    types = []
    for row in now.types:
        old = was.pop(row.name, None)
        grown = TypeGrowth(row.name, row.bytes, row.count, old.bytes if old else 0, old.count if old else 0)
        if grown.grew_bytes or grown.grew_count:
            types.append(grown)
    types += [TypeGrowth(row.name, 0, 0, row.bytes, row.count) for row in was.values() if row.count]
    types.sort(key=lambda t: (-t.grew_bytes, -t.grew_count, t.name))

    def shown(reading: HeapReading) -> dict[str, tuple[str, int]]:
        return {r.label: (r.kind, r.retained) for r in reading.roots if r.kind != "goroutine" or r.whole_goroutine}

    old_roots = shown(then)
    roots = []
    for label, (kind, retained) in shown(now).items():
        kind_then, was_retained = old_roots.pop(label, (kind, None))
        grown = RootGrowth(label, kind, retained, was_retained or 0, was_retained is None)
        if grown.grew or grown.new:
            roots.append(grown)
    roots += [RootGrowth(label, kind, 0, retained, False) for label, (kind, retained) in old_roots.items() if retained]
    roots.sort(key=lambda r: (-r.grew, r.label))
    return HeapGrowth(now.reachable_bytes, then.reachable_bytes, now.reachable_objects, then.reachable_objects,
                      tuple(types), tuple(roots))


def growth_section(growth: HeapGrowth, baseline: str) -> dict[str, Any]:
    """The report's heap.growth."""
    return {
        "baseline": baseline,
        "reachable_bytes": growth.bytes, "baseline_reachable_bytes": growth.was_bytes,
        "reachable_objects": growth.objects, "baseline_reachable_objects": growth.was_objects,
        "types": [{"type": t.name, "grew_bytes": t.grew_bytes, "grew_count": t.grew_count, "bytes": t.bytes,
                   "count": t.count, "baseline_bytes": t.was_bytes, "baseline_count": t.was_count}
                  for t in growth.types],
        "roots": [{"root": r.label, "kind": r.kind, "grew_bytes": r.grew, "retained_bytes": r.retained,
                   "baseline_retained_bytes": r.was_retained, "new": r.new} for r in growth.roots],
    }
