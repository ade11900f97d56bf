"""What the panes say about waits: a phrase per goroutine ("what it waits
on"), Go's `N minutes`, its pprof labels and the `key=value` filter.
Pure: it reads a WaitReading and its BlockingAnalysis (tui/analysis/blocking.py).
"""

from __future__ import annotations

from typing import Mapping

from ..model.waits import WaitReading, WaitRow, wait_row
from .blocking import BlockingAnalysis, subject

# A wait on nothing that could ever end it, in words.
_FOREVER_WORDS = {"nil chan": "a nil channel (forever)", "no cases": "select {} (forever)"}


class Waits:
    """One core's waits, as the goroutine list and the backtrace pane show them."""

    def __init__(self, reading: WaitReading, analysis: BlockingAnalysis) -> None:
        self.reading = reading
        self.analysis = analysis
        self._subjects: dict[int, str] = {}
        self.has_labels = any(reading.labels.values())

    def phrase(self, goroutine_id: int) -> str:
        """What the goroutine waits on, in a few words ("" when it waits on nothing):
        `chan int results (2/2, full) in main.main`, `sleep`, `fd 7 (read)`."""
        row = wait_row(self.reading.waits, goroutine_id)
        if row is None:
            return ""
        kind, address, cases, reason, _, detail = row
        if detail in _FOREVER_WORDS and not address:
            return _FOREVER_WORDS[detail]
        if kind == "select" and cases:
            return "select: " + ", ".join(self._subject(case.address) or f"{case.address:#x}" for case in cases)
        named = self._subject(address)
        if named:
            return f"{named} ({detail})" if kind == "io" and detail else named
        if kind == "other":  # the runtime's own waits: the state says it all
            return detail if detail != reason else ""
        return " ".join(part for part in (kind, detail) if part)

    def common_phrase(self, goroutine_ids) -> str:
        """What a group waits on: the one object they all wait on, or how many."""
        waits = self.reading.waits
        if hasattr(waits, "codes"):  # held as columns: by the distinct rows of the group's ids
            rows = waits.distinct_rows
            seen = {None if code < 0 else _object_of(rows[code]) for code in set(waits.codes(goroutine_ids).tolist())}
        else:
            seen = {self._object_of(goroutine_id) for goroutine_id in goroutine_ids}
        if len(seen) == 1:
            return self.phrase(goroutine_ids[0])
        return f"{len(seen)} different objects"

    def _object_of(self, goroutine_id: int) -> object:
        row = wait_row(self.reading.waits, goroutine_id)
        return None if row is None else _object_of(row)

    def _subject(self, address: int) -> str:
        if not address:
            return ""
        if address not in self._subjects:
            obj = self.reading.objects.get(address)
            self._subjects[address] = subject(obj) if obj is not None else ""
        return self._subjects[address]

    def minutes(self, goroutine_id: int) -> int | None:
        """What Go prints as `, N minutes` (None when it would print nothing)."""
        minutes = self.reading.minutes(goroutine_id)
        return minutes if minutes else None

    def labels(self, goroutine_id: int) -> Mapping[str, str]:
        return self.reading.labels.get(goroutine_id) or {}

    def labels_text(self, goroutine_id: int) -> str:
        return " ".join(f"{key}={value}" for key, value in sorted(self.labels(goroutine_id).items()))

    def header(self, goroutine_id: int) -> str:
        """For the backtrace pane's title: `waits on X for 47 minutes`."""
        phrase = self.phrase(goroutine_id)
        if not phrase:
            return ""
        minutes = self.minutes(goroutine_id)
        return f"waits on {phrase}" + (f" for {minutes} minute{'s' if minutes != 1 else ''}" if minutes else "")


def _object_of(row: WaitRow) -> object:
    """What a wait is on, for telling a group's waits apart."""
    return row.address or row.cases or row.kind


def label_filter(text: str) -> tuple[str, str] | None:
    """`/stage=send`: (key, value) when the filter text is a label test."""
    key, equals, value = text.partition("=")
    if not equals or not key.strip() or " " in key.strip():
        return None
    return key.strip(), value.strip()


def labels_match(labels: Mapping[str, str], test: tuple[str, str]) -> bool:
    """The goroutine has the label; an empty value matches any value."""
    key, value = test
    return key in labels and (not value or labels[key] == value)
