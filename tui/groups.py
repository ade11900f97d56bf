"""Goroutine buckets and filters, for lists of any size. Pure: no I/O.

Goroutines that stand in the same place, were started the same way and
wait for the same thing are one bucket (what panicparse does for text
tracebacks): 100k goroutines usually make a few dozen buckets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from .model import Goroutine, Location


@dataclass(frozen=True)
class Bucket:
    """Goroutines sharing Goroutine.signature(), biggest first.

    ids keeps every member (nothing is capped); crashing says the crashing
    goroutine is among them.
    """

    key: tuple
    ids: tuple[int, ...]
    state: str
    location: Location | None
    crashing: bool
    runtime_only: bool

    @property
    def count(self) -> int:
        return len(self.ids)


class GoroutineIndex:
    """Every goroutine of a core, filled a page at a time.

    Held compactly: one frozen Goroutine per id (their Locations shared),
    plus the bucket membership lists.
    """

    def __init__(self, crashing: int | None = None) -> None:
        self.crashing = crashing
        self.by_id: dict[int, Goroutine] = {}
        self.unreadable: list[Goroutine] = []
        self._members: dict[tuple, list[int]] = {}
        self.complete = False

    def __len__(self) -> int:
        return len(self.by_id) + len(self.unreadable)

    def add(self, goroutines: Iterable[Goroutine]) -> list[Goroutine]:
        """Index a page; returns the goroutines not seen before (a listing
        restarted with a new dlv pages through the known ones again)."""
        added = []
        for goroutine in goroutines:
            if goroutine.id is None:
                self.unreadable.append(goroutine)
                continue
            if goroutine.id in self.by_id:
                continue
            self.by_id[goroutine.id] = goroutine
            self._members.setdefault(goroutine.signature(), []).append(goroutine.id)
            added.append(goroutine)
        return added

    def runtime_count(self) -> int:
        return sum(1 for g in self.by_id.values() if g.is_runtime)

    def buckets(self, text: str = "", hide_runtime: bool = False) -> list[Bucket]:
        """Buckets, biggest first, of the goroutines that match the filter."""
        result = []
        for key, ids in self._members.items():
            sample = self.by_id[ids[0]]
            if hide_runtime and sample.is_runtime:
                continue
            if text and not _bucket_matches(sample, text):
                # ids can still match one by one
                ids = [i for i in ids if text in str(i)] if text.isdigit() else []
                if not ids:
                    continue
            result.append(Bucket(key, tuple(ids), sample.state, sample.location,
                                 self.crashing in ids, sample.is_runtime))
        result.sort(key=lambda b: (-b.count, b.ids[0]))
        return result

    def flat(self, text: str = "", hide_runtime: bool = False) -> list[Goroutine]:
        """Goroutines in id order that match the filter."""
        return [g for _, g in sorted(self.by_id.items())
                if not (hide_runtime and g.is_runtime) and (not text or matches(g, text))]


def matches(goroutine: Goroutine, text: str) -> bool:
    """The `/` filter: a substring of the id, a function, a file or the wait reason."""
    if text.isdigit() and goroutine.id is not None and text in str(goroutine.id):
        return True
    return _bucket_matches(goroutine, text)


def _bucket_matches(goroutine: Goroutine, text: str) -> bool:
    needle = text.lower()
    if needle in goroutine.state.lower():
        return True
    for location in (goroutine.location, goroutine.go, goroutine.start):
        if location and (needle in location.function.lower() or needle in location.file.lower()):
            return True
    return False
