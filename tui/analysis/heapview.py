"""How the panes say the heap: the first screen's summary line, the Memory
screen's header, its table of types (sorted, filtered), sizes and counts
as people read them. Pure: values in, text out.

    summary_line(status)  -> "heap 916 MB in 12.1M objects (runtime: 916 MB) · m: memory"
    header_line(status)   -> the runtime's figures, ours, the typed share, garbage, any disagreement
    type_rows(reading, "bytes", "session") -> the rows of the type table, in order
"""

from __future__ import annotations

from enum import Enum

from ..model.heap import HeapReading, HeapState, HeapStatus, RootRow, Suspect, TypeRow


def size_text(value: int | float | None) -> str:
    """916 MB, 4.1 kB, 96 B (decimal units, as Go's and pprof's figures read)."""
    return _scaled(value, ("GB", "MB", "kB"), " ", "B")


def count_text(value: int | None) -> str:
    """12.1M, 35.2k, 812."""
    return _scaled(value, ("G", "M", "k"), "", "")


def _scaled(value: int | float | None, units: tuple[str, str, str], space: str, ones: str) -> str:
    """value in the biggest of 1e9, 1e6, 1e3 it reaches (three figures at
    most past 100, one decimal below), else as a whole number of ones."""
    if value is None:
        return "?"
    for unit, scale in zip(units, (1e9, 1e6, 1e3)):
        if value >= scale:
            number = value / scale
            return f"{number:,.0f}{space}{unit}" if number >= 100 else f"{number:,.1f}{space}{unit}"
    return f"{int(value)}{space}{ones}" if ones else str(value)


def percent_text(share: float) -> str:
    return f"{share:.0%}" if share >= 0.01 or share == 0 else "<1%"


def summary_line(status: HeapStatus) -> str:
    """The first screen's line on the heap ("" when there is no heap to read)."""
    if not status.available:
        return ""
    figures, reading = status.figures, status.reading
    runtime = f"runtime: {size_text(figures.heap_alloc)}" if figures and figures.heap_alloc is not None else ""
    if reading is not None:
        text = f"heap {size_text(reading.bytes)} in {count_text(reading.objects)} objects"
        text += f" ({runtime})" if runtime else ""
        if reading.mismatches:
            text += " ⚠ disagrees with the runtime"
        return text + " · m: memory"
    if figures is not None and figures.heap_alloc is not None:
        text = f"heap {size_text(figures.heap_alloc)} in {count_text(figures.heap_objects)} objects (runtime's figures)"
    else:
        text = "heap"
    if status.state is HeapState.READING:
        fraction = status.progress.fraction if status.progress is not None else None
        text += f" · reading {fraction:.0%}" if fraction is not None else " · reading…"
    elif status.state is HeapState.STOPPED:
        text += " · read stopped"
    elif status.state is HeapState.FAILED:
        text += f" · not read: {status.failure}"
    return text + " · m: memory"


def header_line(status: HeapStatus) -> str:
    """The Memory screen's header: the runtime's books, ours beside them,
    the typed share and the garbage; a disagreement said, never hidden."""
    figures, reading = status.figures, status.reading
    parts = []
    if figures is not None:
        parts.append(f"runtime: {size_text(figures.heap_alloc)} in {figures.heap_objects or 0:,} objects"
                     + (f", {size_text(figures.heap_inuse)} of spans in use" if figures.heap_inuse else ""))
    if reading is None:
        if status.state is HeapState.FAILED:
            parts.append(f"the heap could not be read: {status.failure}")
        elif status.state is HeapState.STOPPED:
            parts.append("reading stopped (m on the first screen reads it again)")
        return "\n".join(parts) or "reading the heap…"
    parts.append(f"ours: {size_text(reading.bytes)} in {reading.objects:,} objects · reachable "
                 f"{size_text(reading.reachable_bytes)} in {reading.reachable_objects:,} · garbage "
                 f"{size_text(reading.unreachable_bytes)} in {reading.unreachable_objects:,} · typed "
                 f"{percent_text(reading.typed_share)} of the reachable bytes")
    if reading.mismatches:
        parts.append("⚠ " + "; ".join(c.describe() for c in reading.mismatches))
    else:
        parts.append("agrees with the runtime: " + ", ".join(c.what for c in reading.checks if c.agree))
    for number, line in enumerate(suspect_lines(reading), start=1):
        parts.append(f"suspect {number}: {line}")
    return "\n".join(parts)


class SortBy(str, Enum):
    """The type table's order; `s` goes to the next."""

    BYTES = "bytes"
    RETAINED = "retained"
    COUNT = "count"
    AVERAGE = "average size"
    GARBAGE = "garbage bytes"
    NAME = "name"

    def next(self) -> "SortBy":
        members = list(SortBy)
        return members[(members.index(self) + 1) % len(members)]


def type_rows(reading: HeapReading, sort: SortBy = SortBy.BYTES, needle: str = "") -> list[int]:
    """Indices into reading.types, in the table's order, matching the filter
    (a case-insensitive part of the type's name)."""
    needle = needle.lower()
    rows = [i for i, row in enumerate(reading.types) if (not needle or needle in row.name.lower())]
    key = {SortBy.BYTES: lambda r: (-r.bytes, -r.garbage_bytes, r.name),
           SortBy.RETAINED: lambda r: (-r.retained, -r.bytes, r.name),
           SortBy.COUNT: lambda r: (-r.count, -r.bytes, r.name),
           SortBy.AVERAGE: lambda r: (-r.average, -r.bytes, r.name),
           SortBy.GARBAGE: lambda r: (-r.garbage_bytes, -r.bytes, r.name),
           SortBy.NAME: lambda r: (r.name,)}[sort]
    rows.sort(key=lambda i: key(reading.types[i]))
    return rows


TYPE_COLUMNS = ("type", "objects", "bytes", "avg", "share", "retained", "garbage")


def type_cells(row: TypeRow, reachable_bytes: int) -> tuple[str, ...]:
    share = row.bytes / reachable_bytes if reachable_bytes else 0.0
    garbage = f"{size_text(row.garbage_bytes)} in {row.garbage_count:,}" if row.garbage_count else ""
    return (row.name, f"{row.count:,}", size_text(row.bytes), size_text(row.average) if row.count else "",
            percent_text(share) if row.count else "", size_text(row.retained) if row.retained else "", garbage)


ROOT_COLUMNS = ("root", "kind", "retains", "share")


def root_rows(reading: HeapReading, needle: str = "") -> list[int]:
    """Indices into reading.roots for the roots table: globals, whole
    goroutines and the runtime (a goroutine's frames sum into its row),
    biggest retained first, matching the filter."""
    needle = needle.lower()
    return [i for i, root in enumerate(reading.roots)
            if (root.kind != "goroutine" or root.whole_goroutine) and root.retained
            and (not needle or needle in root.label.lower() or needle in root.type.lower())]


def root_cells(root: RootRow, reachable_bytes: int) -> tuple[str, ...]:
    if root.kind == "finalizer":  # the label's end, where a narrow column cuts it: what it calls
        kind = f"{root.variable or root.kind} {root.function}".strip()
    else:
        kind = root.kind + (f" {root.type}" if root.type else "")
    share = root.retained / reachable_bytes if reachable_bytes else 0.0
    return (root.label, kind, size_text(root.retained), percent_text(share))


def describe_suspect(suspect: Suspect) -> str:
    """"main.cache retains 11.8 MB (78%): a map[string]*main.Blob with 5,000 main.Blob (11.5 MB, 2.3 kB each)",
    or where one field of the elements holds most of it: "... (10.5 MB), each holding 2.1 kB through .data"."""
    text = f"{suspect.label} retains {size_text(suspect.retained)} ({percent_text(suspect.share)})"
    a = suspect.accumulation
    if a is None:
        return text
    if a.kind == "linked list":
        return text + f": a linked list of {a.count:,} {a.element}"
    each = a.element_retained / a.count if a.count else 0
    article = "an" if a.type[:1].lower() in "aeiou" else "a"
    if a.through:
        return text + (f": {article} {a.type} with {a.count:,} {a.element} ({size_text(a.element_retained)}), "
                       f"each holding {size_text(each)} through {a.through}")
    return text + (f": {article} {a.type} with {a.count:,} {a.element} ({size_text(a.element_retained)}, "
                   f"{size_text(each)} each)")


def suspect_lines(reading: HeapReading) -> list[str]:
    """The leak suspects, one line each (none: the heap has no root that alone holds 10%)."""
    return [describe_suspect(suspect) for suspect in reading.suspects]


def goroutine_retained(reading: HeapReading) -> dict[int, int]:
    """goroutine id -> the bytes it alone keeps alive (its frames' together)."""
    return {root.goroutine: root.retained for root in reading.roots if root.whole_goroutine}


def heap_is_the_story(status: HeapStatus, crash_message: str) -> bool:
    """The summary lists the suspects when the heap is why it died: an
    out-of-memory crash, or a heap close to its GOMEMLIMIT."""
    if "out of memory" in crash_message:
        return True
    figures = status.figures or (status.reading.runtime if status.reading is not None else None)
    if figures is None or not figures.memory_limit or figures.heap_inuse is None:
        return False
    return figures.heap_inuse >= 0.9 * figures.memory_limit
