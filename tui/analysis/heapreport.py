"""The heap in the report: the `heap` section of --report json, the
"Memory" section of --report md, and the --heap-pprof profile."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..corefile.errors import Stopped, Unsupported
from ..model.heap import HeapReading
from .heapview import describe_suspect
from .pprof import heap_profile

MARKDOWN_TYPES = 10


def read_heap_reading(executable: str, core: str) -> HeapReading | str:
    """The core's heap, or why it cannot be read (one line)."""
    from ..corefile.heap import read_heap_of

    try:
        return read_heap_of(executable, core)
    except (Unsupported, Stopped) as err:
        return str(err) or "stopped"
    except MemoryError:
        return "not enough memory to read the heap"


def heap_section(reading: HeapReading | str) -> dict[str, Any]:
    """The report's `heap`: {error} when it could not be read."""
    if isinstance(reading, str):
        return {"error": reading}
    r = reading.runtime
    return {
        "runtime": {"heap_alloc": r.heap_alloc, "heap_objects": r.heap_objects, "heap_inuse": r.heap_inuse,
                    "heap_live": r.heap_live, "heap_marked": r.heap_marked, "num_gc": r.num_gc,
                    "span_objects": r.span_objects, "memory_limit": r.memory_limit},
        "objects": reading.objects, "bytes": reading.bytes,
        "reachable_objects": reading.reachable_objects, "reachable_bytes": reading.reachable_bytes,
        "unreachable_objects": reading.unreachable_objects, "unreachable_bytes": reading.unreachable_bytes,
        "typed_objects": reading.typed_objects, "typed_bytes": reading.typed_bytes,
        "typed_share": round(reading.typed_share, 4), "tiny_blocks": reading.tiny_blocks, "spans": reading.spans,
        "checks": [{"what": c.what, "ours": c.ours, "runtime": c.runtime, "agree": c.agree} for c in reading.checks],
        "mismatches": [c.describe() for c in reading.mismatches],
        "types": [{"type": t.name, "count": t.count, "bytes": t.bytes, "garbage_count": t.garbage_count,
                   "garbage_bytes": t.garbage_bytes, "typed": t.typed, "retained_bytes": t.retained}
                  for t in reading.types if t.count],
        "roots": [{"root": r.label, "kind": r.kind, "goroutine": r.goroutine, "function": r.function or None,
                   "variable": r.variable or None, "type": r.type or None, "retained_bytes": r.retained}
                  for r in reading.roots if r.retained],
        "suspects": [_suspect(s) for s in reading.suspects],
        "garbage_types": [{"type": t.name, "count": t.garbage_count, "bytes": t.garbage_bytes, "typed": t.typed}
                          for t in sorted(reading.types, key=lambda t: -t.garbage_bytes) if t.garbage_count],
        "notes": list(reading.notes),
        "elapsed_s": round(reading.elapsed_s, 3),
    }


def _suspect(suspect) -> dict[str, Any]:
    a = suspect.accumulation
    return {"root": suspect.label, "retained_bytes": suspect.retained, "share": round(suspect.share, 4),
            "description": describe_suspect(suspect),
            "accumulation": None if a is None else {
                "kind": a.kind, "type": a.type, "count": a.count, "element": a.element,
                "element_retained_bytes": a.element_retained, "path": " → ".join(suspect.path)}}


def heap_markdown(heap: dict[str, Any] | None) -> list[str]:
    """The Memory section: the figures, the checks, the top types."""
    if not heap:
        return []
    out = ["## Memory", ""]
    if "error" in heap:
        return out + [f"The heap was not read: {heap['error']}", ""]
    runtime = heap["runtime"]
    out.append(f"{_size(heap['bytes'])} in {heap['objects']:,} objects "
               f"(runtime: {_size(runtime['heap_alloc']) if runtime['heap_alloc'] is not None else 'unknown'}); "
               f"reachable {_size(heap['reachable_bytes'])} in {heap['reachable_objects']:,}, "
               f"garbage {_size(heap['unreachable_bytes'])} in {heap['unreachable_objects']:,}; "
               f"typed {heap['typed_share']:.0%} of the reachable bytes.")
    out.append("")
    if heap["mismatches"]:
        out += ["**Disagrees with the runtime:**", ""] + [f"- {m}" for m in heap["mismatches"]] + [""]
    if heap.get("suspects"):
        out += ["**Leak suspects:**", ""]
        for suspect in heap["suspects"]:
            out.append(f"- {suspect['description']}")
            if suspect["accumulation"] and suspect["accumulation"]["path"]:
                out.append(f"  `{suspect['accumulation']['path']}`")
        out.append("")
    out += ["| type | objects | bytes | average | retained |", "| --- | ---: | ---: | ---: | ---: |"]
    for row in heap["types"][:MARKDOWN_TYPES]:
        average = row["bytes"] / row["count"] if row["count"] else 0
        out.append(f"| `{row['type']}` | {row['count']:,} | {_size(row['bytes'])} | {average:,.0f} B | "
                   f"{_size(row.get('retained_bytes'))} |")
    out.append("")
    roots = [r for r in heap.get("roots", []) if r["kind"] != "goroutine" or r["function"] is None][:MARKDOWN_TYPES]
    if roots:
        out += ["| root | retains |", "| --- | ---: |"]
        out += [f"| `{r['root']}` | {_size(r['retained_bytes'])} |" for r in roots]
        out.append("")
    return out + _growth_markdown(heap.get("growth"))


def _growth_markdown(growth: dict[str, Any] | None) -> list[str]:
    if not growth:
        return []
    out = ["### What grew", ""]
    if "error" in growth:
        return out + [f"The baseline's heap was not read: {growth['error']}", ""]
    out.append(f"Since `{growth['baseline']}`: reachable {_size(growth['baseline_reachable_bytes'])} → "
               f"{_size(growth['reachable_bytes'])}, {growth['baseline_reachable_objects']:,} → "
               f"{growth['reachable_objects']:,} objects.")
    out += ["", "| type | grew | objects |", "| --- | ---: | ---: |"]
    out += [f"| `{t['type']}` | {_signed(t['grew_bytes'])} | {t['grew_count']:+,} |" for t in growth["types"][:MARKDOWN_TYPES]]
    out += ["", "| root | grew | retains |", "| --- | ---: | ---: |"]
    out += [f"| `{r['root']}`{' (new)' if r['new'] else ''} | {_signed(r['grew_bytes'])} | {_size(r['retained_bytes'])} |"
            for r in growth["roots"][:MARKDOWN_TYPES]]
    return out + [""]


def _signed(value: int) -> str:
    return ("+" if value >= 0 else "-") + _size(abs(value))


def write_pprof(reading: HeapReading, path: str | Path) -> int:
    """Write the reachable heap as a pprof profile of its dominator tree
    (each stack: an object's type, the types that dominate it, its root;
    a frame's cumulative bytes are what it retains); the number of samples."""
    samples = reading.dominator_samples() if reading.dominator_path is not None else reading.samples()
    Path(path).write_bytes(heap_profile(samples, comment="gocore-tui heap: the dominator tree, type, the types "
                                        "that dominate it, its root"))
    return len(samples)


def _size(value: int | None) -> str:
    if value is None:
        return "?"
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if value >= scale:
            return f"{value / scale:,.1f} {unit}"
    return f"{value} B"
