"""The first screen as data: a JSON report and a Markdown one.

Both come from build_report(), so they can never disagree.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import IO, Any, Iterator, Sequence

from ..model import (HEADER_CUT_NOTE, Backtrace, BuildInfo, CrashKind, Frame, FrameState, GdbRun, Goroutine, Module,
                     Snapshot, Variable, signal_name)
from ..sources.context import SourceContext
from ..sources.resolve import find
from .blocking import FieldsOf, blocking_report, deadlock_report
from .compare import Comparison, Score
from .groups import GoroutineIndex
from .heapreport import heap_markdown

SCHEMA = "gocore-tui/report/4"
CONTEXT_LINES = 5
# Objects goroutines wait on, in a Markdown report (the JSON has every one).
MARKDOWN_OBJECTS = 20


def frame_report(frame: Frame) -> dict[str, Any]:
    return {"index": frame.index, "function": frame.function, "file": frame.file,
            "line": frame.line, "pc": f"0x{frame.pc:x}", "runtime": frame.is_runtime, "own": frame.own}


def _goroutine(goroutine: Goroutine, crashing: int | None, index: GoroutineIndex | None = None,
               fields: FieldsOf | None = None) -> dict[str, Any]:
    # Your code's innermost frame where the whole stack is known; else Delve's user location.
    location = index.where(goroutine.id)[0] if index is not None and goroutine.id in index.by_id else goroutine.location
    item = {
        "id": goroutine.id,
        "state": goroutine.state,
        "location": {"file": location.file, "line": location.line, "function": location.function} if location else None,
        "thread": goroutine.thread,
        "crashing": goroutine.id is not None and goroutine.id == crashing,
        # Go's `created by F in goroutine N`, with the go statement's file:line.
        "created_by": _created_by(goroutine),
    }
    if fields is not None and goroutine.id is not None:
        item.update(fields(goroutine.id))
    else:  # not read (through dlv only): unknown, not "nothing"
        item.update(waiting_on=None, wait_minutes=None, labels=None)
    return item


def _created_by(goroutine: Goroutine) -> dict[str, Any] | None:
    creator = goroutine.created_by
    if creator is None:
        return None
    return {"function": creator.function, "file": creator.file, "line": creator.line, "goroutine": goroutine.parent}


class GoroutineItems(Sequence):
    """goroutines.items[] of a report made from an index: goroutines that
    would read the same but for their id (GoroutineIndex.alike) share one
    item, built and encoded once; each goroutine's is that one with its id.
    Iterating gives the dicts (the Markdown report's rows); json_lines()
    the encoded lines without a dict per goroutine."""

    def __init__(self, index: GoroutineIndex, crashing: int | None, fields: FieldsOf | None) -> None:
        self.index = index
        self.crashing = crashing
        self.fields = fields
        self.ids, self.codes, samples = index.alike()
        self.items = [_without_id(_goroutine(index.by_id[gid], crashing, index, fields)) for gid in samples]
        self.unreadable = [_goroutine(g, crashing, index, fields) for g in index.unreadable]

    def __len__(self) -> int:
        return len(self.ids) + len(self.unreadable)

    def __getitem__(self, position: int) -> dict[str, Any]:
        if position < 0:
            position += len(self)
        if position >= len(self.ids):
            return self.unreadable[position - len(self.ids)]
        return {"id": int(self.ids[position]), **self.items[self.codes[position]]}

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for goroutine_id, code in zip(self.ids.tolist(), self.codes.tolist()):
            yield {"id": goroutine_id, **self.items[code]}
        yield from self.unreadable

    def json_chunks(self, indent: str) -> Iterator[str]:
        """The items as json.dumps writes each, one a line after indent,
        ",\n" between them, a few thousand lines a chunk: each line is its
        item's template (% escaped) formatted with its id, by map() over
        the columns, no Python loop per goroutine."""
        templates = [indent + '{"id": %d' + (", " + json.dumps(item)[1:] if item else "}").replace("%", "%%")
                     for item in self.items]
        for start in range(0, len(self.ids), _LINES_A_CHUNK):
            codes, ids = self.codes[start:start + _LINES_A_CHUNK], self.ids[start:start + _LINES_A_CHUNK]
            yield (",\n" if start else "") + ",\n".join(map(str.__mod__, map(templates.__getitem__, codes.tolist()),
                                                             ids.tolist()))
        for number, item in enumerate(self.unreadable):
            yield (",\n" if number or len(self.ids) else "") + indent + json.dumps(item)


def _without_id(item: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in item.items() if key != "id"}


def _groups(index: GoroutineIndex) -> list[dict[str, Any]]:
    """Goroutines by whole stack (as panicparse buckets tracebacks), biggest first."""
    groups = []
    for bucket in index.buckets():
        stack = index.stack_of(bucket.ids[0])
        groups.append({
            "count": bucket.count, "ids": list(bucket.ids), "state": bucket.state,
            "frames": [{"function": f.function, "file": f.file, "line": f.line} for f in stack or ()],
            "via": bucket.via or None,
        })
    return groups


def _variable(variable: Variable) -> dict[str, Any]:
    data: dict[str, Any] = {"name": variable.name, "type": variable.type, "value": variable.value}
    if variable.optimized_away:
        data["optimized_away"] = True
    if variable.children:
        data["children"] = [_variable(child) for child in variable.children]
    return data


def source_excerpt(file: str, line: int, sources: SourceContext | None = None) -> dict[str, Any]:
    found = find(file, sources)
    path = found.path
    if path is None:
        return {"file": file, "line": line, "missing": found.missing or f"{file} is not on this machine"}
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as err:
        return {"file": file, "line": line, "missing": f"cannot read {path}: {err.strerror}"}
    first = max(1, line - CONTEXT_LINES)
    last = min(len(lines), line + CONTEXT_LINES)
    return {"file": file, "path": str(path), "origin": str(found.origin), "warning": found.warning or None, "line": line,
            "first_line": first, "lines": lines[first - 1:last]}


def _score(score: Score) -> dict[str, Any]:
    return {"frames": score.frames, "frames_resolved": score.frames_resolved,
            "reached_user_frame": score.reached_user_frame, "goroutines_visible": score.goroutines_visible,
            "user_locations": score.user_locations, "panic_value_recovered": score.panic_value,
            "goroutine_stacks": score.goroutine_stacks, "values_read": score.values_read,
            "wait_reasons": score.wait_reasons, "seconds": round(score.seconds, 3)}


def _module(module: Module) -> dict[str, Any]:
    return {"path": module.path, "version": module.version, "sum": module.sum or None,
            "replace": _module(module.replace) if module.replace else None}


def build_info_report(build: BuildInfo | None) -> dict[str, Any] | None:
    """What `go version -m` says of the executable (None: no build info)."""
    if build is None:
        return None
    vcs = build.vcs
    return {
        "main": {"path": build.main.path or build.path, "version": build.main.version, "sum": build.main.sum or None},
        "path": build.path,
        "go": build.go_version,
        "deps": [_module(dep) for dep in build.deps],
        "settings": dict(build.settings),
        "vcs": {"system": vcs.system, "revision": vcs.revision, "time": vcs.time, "modified": vcs.modified}
        if vcs else None,
    }


def comparison_report(run: GdbRun, comparison: Comparison | None) -> dict[str, Any]:
    if comparison is None:
        return {"error": run.error}
    return {
        "delve": _score(comparison.delve),
        "gdb": {**_score(comparison.gdb), "threads": run.threads, "runtime_gdb": run.runtime_gdb or None,
                "goroutine_bt_errors": list(run.goroutine_bt_errors),
                "goroutine_bt_tried": len(run.goroutine_stacks), "goroutine_bt_untried": run.goroutines_untried,
                "timed_out": run.timed_out},
        "verdict": comparison.verdict,
        "rows": [{"mark": row.mark.value,
                  "delve": frame_report(row.delve) if row.delve else None,
                  "gdb": frame_report(row.gdb) if row.gdb else None} for row in comparison.rows],
        # The faulting frame's args and locals as each debugger printed them.
        "values": [{"name": row.name, "kind": row.kind, "delve": row.delve, "gdb": row.gdb,
                    "delve_read": row.delve_read, "gdb_read": row.gdb_read, "gdb_problem": row.gdb_problem or None}
                   for row in comparison.values],
        "values_note": comparison.values_note or None,
        # Whose whole stack each printed, by goroutine id.
        "goroutine_stacks": {"delve": [pair.id for pair in comparison.goroutines if pair.delve_whole],
                             "gdb": [pair.id for pair in comparison.goroutines if pair.gdb_whole]},
    }


def build_report(snapshot: Snapshot, sources: SourceContext | None = None,
                 comparison: dict[str, Any] | None = None, go_traceback: str = "",
                 index: GoroutineIndex | None = None, heap: dict[str, Any] | None = None) -> dict[str, Any]:
    """The report of the first screen; with index (every goroutine and its
    whole stack), goroutine locations are your code's, and the groups by
    whole stack are in; heap: what fills the heap (heapreport.heap_section)."""
    crash = snapshot.crash
    frame = crash.frame
    places: dict[str, Any] = {}

    def _frame(f: Frame) -> dict[str, Any]:
        """A frame, with the local file its source resolved to (or null) and from where."""
        if f.file not in places:
            found = find(f.file, sources)
            places[f.file] = (str(found.path), str(found.origin)) if found.path else (None, None)
        path, origin = places[f.file]
        return {**frame_report(f), "source_path": path, "source_origin": origin}

    waits = index.waits if index is not None else None
    fields = FieldsOf(waits.reading) if waits is not None else None
    items = (GoroutineItems(index, crash.goroutine_id, fields) if index is not None else
             [_goroutine(g, crash.goroutine_id, index, fields) for g in snapshot.goroutines])
    return {
        "schema": SCHEMA,
        "target": {"executable": snapshot.target.executable, "core": snapshot.target.core,
                   "go_version": snapshot.target.go_version, "build": build_info_report(snapshot.target.build)},
        "delve": {"version": snapshot.target.delve_version},
        "crash": {
            "kind": crash.kind.value,
            # What Go printed before the first goroutine, line for line.
            "header": list(crash.header),
            # The runtime kept only the last 512 bytes of a throw's report.
            "header_cut": crash.header_cut,
            "chain": [{"value": link.value, "recovered": link.recovered, "repanicked": link.repanicked,
                       "goexit": link.goexit, "detail": link.detail or None} for link in crash.chain],
            "message": crash.message,
            "signal": signal_name(crash.signal),
            "fault_signal": signal_name(crash.fault_signal) or None,
            "fault_address": None if crash.fault_address is None else f"0x{crash.fault_address:x}",
            # A signal another process (or the program itself) sent: no fault address.
            "sent_by": {"pid": crash.sender[0], "uid": crash.sender[1]} if crash.sender else None,
            "goroutine": crash.goroutine_id,
            "focus_goroutine": crash.focus_goroutine_id,
            "frame": _frame(frame) if frame else None,
            "raised_in": _frame(crash.raised_in) if crash.raised_in else None,
            # A fault in C code: where in C, and the Go function that called C.
            "c_frame": _frame(crash.c_frame) if crash.c_frame else None,
            "go_caller": _frame(crash.go_caller) if crash.go_caller else None,
        },
        "goroutines": {
            "total": len(items),
            "items": items,
            "groups": _groups(index) if index is not None else None,
        },
        # Who waits on what, biggest first (None: not read from this core).
        "blocking": blocking_report(waits.analysis) if waits is not None else None,
        "deadlock": deadlock_report(waits.analysis) if waits is not None else None,
        "backtrace": [_frame(f) for f in snapshot.backtrace.frames],
        # The stack that holds the crash when it is not the goroutine's own
        # (a throw on the system stack, a signal in C code under old Delve).
        "crash_backtrace": ([_frame(f) for f in snapshot.crash_backtrace.frames]
                            if snapshot.crash_backtrace else None),
        "source": source_excerpt(frame.file, frame.line, sources) if frame else None,
        "variables": {
            "frame": snapshot.frame.frame_index,
            "optimized": snapshot.frame.optimized,
            "args": [_variable(v) for v in snapshot.frame.args],
            "locals": [_variable(v) for v in snapshot.frame.locals],
        },
        "warnings": list(snapshot.warnings),
        "comparison": comparison,
        "go_traceback": go_traceback or None,
        "heap": heap,
    }


def view_report(snapshot: Snapshot, shown: Backtrace, state: FrameState, goroutines: Sequence[Goroutine],
                sources: SourceContext | None = None, comparison: dict[str, Any] | None = None,
                frame_index: int | None = None, index: GoroutineIndex | None = None) -> dict[str, Any]:
    """The report of what the TUI shows (`x`): the crash, every goroutine
    listed (with index: their places, groups and waits), and the goroutine,
    frame, source and variables the user is on (frame_index in `shown`; by
    default the state's own)."""
    frame_index = state.frame_index if frame_index is None else frame_index
    frame = shown.frames[frame_index] if 0 <= frame_index < len(shown.frames) else None
    listed = snapshot.goroutines if index is not None else tuple(goroutines)  # the index has them all
    report = build_report(replace(snapshot, goroutines=listed, backtrace=shown, frame=state),
                          sources, comparison, index=index)
    report["view"] = {"goroutine": shown.goroutine_id, "frame": frame_report(frame) if frame else None}
    if frame is not None:
        report["source"] = source_excerpt(frame.file, frame.line, sources)
    return report


def export_markdown(report: dict[str, Any], folder: Path) -> Path:
    """Write the Markdown report to folder/gocore-EXE-CORE.md, never over an
    existing file (-1, -2, ... are added); returns where it went."""
    stem = "gocore-" + "-".join(Path(report["target"][k]).name for k in ("executable", "core"))
    path = folder / f"{stem}.md"
    number = 0
    while path.exists():
        number += 1
        path = folder / f"{stem}-{number}.md"
    with open(path, "x", encoding="utf-8") as out:  # "x": a file that appeared meanwhile is not overwritten
        out.write(to_markdown(report))
    return path


# The lists that grow with the goroutine count are written one compact
# element per line: json's indent= runs in pure Python (2 s of a 100k
# goroutines report), a compact dumps() in C.
_BULKY = {("goroutines", "items"), ("goroutines", "groups"), ("blocking",)}
_ON_THE_WAY = {path[:depth] for path in _BULKY for depth in range(len(path))}
# Report lines of goroutines joined into one write.
_LINES_A_CHUNK = 1 << 14


def to_json(report: dict[str, Any]) -> str:
    """The report, indented by two, but its bulky lists one element a line."""
    return "".join(_chunks(report)) + "\n"


def write_json(report: dict[str, Any], out: IO[str]) -> None:
    """to_json(report), written a chunk at a time (a million goroutines
    make a report of hundreds of MB: never one string)."""
    for chunk in _chunks(report):
        out.write(chunk)
    out.write("\n")


def _chunks(value: Any, path: tuple[str, ...] = (), depth: int = 0) -> Iterator[str]:
    indent = "  " * depth
    if path in _ON_THE_WAY and isinstance(value, dict) and value:
        yield "{\n"
        for number, (key, item) in enumerate(value.items()):
            yield f"{',' + chr(10) if number else ''}{indent}  {json.dumps(key)}: "
            yield from _chunks(item, path + (key,), depth + 1)
        yield f"\n{indent}}}"
    elif path in _BULKY and isinstance(value, GoroutineItems):
        if len(value):
            yield "[\n"
            yield from value.json_chunks(f"{indent}  ")
            yield f"\n{indent}]"
        else:
            yield "[]"  # as json.dumps writes an empty list
    elif path in _BULKY and isinstance(value, list) and value:
        yield "[\n" + ",\n".join(f"{indent}  {json.dumps(item)}" for item in value) + f"\n{indent}]"
    else:
        yield json.dumps(value, indent=2).replace("\n", "\n" + indent)


def to_markdown(report: dict[str, Any]) -> str:
    crash, target = report["crash"], report["target"]
    frame = crash["frame"]
    out = [f"# Crash report: {target['executable']}", ""]
    rows = [
        ("Executable", target["executable"]), ("Core", target["core"]),
        ("Go", target["go_version"]), ("Delve", report["delve"]["version"]),
        ("Signal", crash["signal"] + (f" (after {crash['fault_signal']} at {crash['fault_address']})" if crash["fault_signal"] else "")),
        ("Kind", crash["kind"]), ("Message", crash["message"]),
        ("Goroutine", _goroutine_cell(crash)),
        ("Faulting frame", _place(frame)),
    ]
    if crash["c_frame"]:
        rows += [("In C code", _place(crash["c_frame"])), ("Called from Go", _place(crash["go_caller"]))]
    out += ["| | |", "| --- | --- |"] + [f"| {k} | {_cell(v)} |" for k, v in rows] + [""]
    if crash.get("header"):
        lost = [HEADER_CUT_NOTE] if crash.get("header_cut") else []
        out += ["## What Go printed", "", "```text", *lost, *crash["header"], "```", ""]
    source = report["source"]
    if source:
        out.append(f"## Source: {source['file']}:{source['line']}")
        out.append("")
        if "missing" in source:
            out += [source["missing"], ""]
        else:
            out.append("```go")
            for number, text in enumerate(source["lines"], source["first_line"]):
                marker = "=>" if number == source["line"] else "  "
                out.append(f"{marker}{number:5d}  {text}")
            out += ["```", ""]
    shown = report.get("view", {}).get("goroutine", crash["focus_goroutine"])
    out += [f"## Backtrace of goroutine {shown}", "", "| # | function | location |", "| --- | --- | --- |"]
    out += [f"| {f['index']} | {_cell(f['function'])} | {_cell(f['file'])}:{f['line']} |" for f in report["backtrace"]]
    out += ["", f"## Variables of frame {report['variables']['frame']}", ""]
    for kind in ("args", "locals"):
        for variable in report["variables"][kind]:
            out.append(f"- `{variable['name']}` ({kind[:-1]}) = `{_cell(variable['value'])}`")
    blocking = report.get("blocking")
    if blocking:
        deadlock = report.get("deadlock")
        out += ["", "## What they wait on", ""]
        if deadlock:
            out += ["All goroutines are asleep; everyone waits:", ""] + [f"- {line}" for line in deadlock["summary"]]
        else:
            out += [f"- {entry['description']}" for entry in blocking[:MARKDOWN_OBJECTS]]
            if len(blocking) > MARKDOWN_OBJECTS:
                out.append(f"- … {len(blocking) - MARKDOWN_OBJECTS} more objects (--report json has them all)")
    memory = heap_markdown(report.get("heap"))
    if memory:
        out += [""] + memory[:-1]
    goroutines = report["goroutines"]
    out += ["", f"## Goroutines ({goroutines['total']})", "", "| id | state | location |", "| --- | --- | --- |"]
    # By id, as Go and Delve list them (the core's allgs order is not the ids').
    for g in sorted(goroutines["items"], key=lambda item: (item["id"] is None, item["id"] or 0)):
        loc = g["location"]
        where = f"{loc['file']}:{loc['line']} {loc['function']}" if loc else "unreadable"
        mark = " (crashed)" if g["crashing"] else ""
        out.append(f"| {g['id']}{mark} | {_cell(g['state'])} | {_cell(where)} |")
    comparison = report.get("comparison")
    if comparison:
        out += ["", "## GDB vs Delve", ""]
        if "error" in comparison:
            out.append(comparison["error"])
        else:
            keys = [("frames", "frames printed"), ("frames_resolved", "frames resolved to a function and line"),
                    ("reached_user_frame", "reached the faulting user frame"), ("goroutines_visible", "goroutines visible"),
                    ("user_locations", "goroutines with a user location"),
                    ("goroutine_stacks", "goroutines with their whole stack"),
                    ("values_read", "variables of the faulting frame read as Go values"),
                    ("wait_reasons", "goroutines with a wait reason"),
                    ("panic_value_recovered", "panic value or fatal message recovered"),
                    ("seconds", "seconds")]
            out += ["| measure | Delve | gdb |", "| --- | --- | --- |"]
            def cell(side: str, key: str) -> str:
                value = comparison[side][key]
                if isinstance(value, bool):
                    return "yes" if value else "no"
                return f"{value}/{len(comparison['values'])}" if key == "values_read" else str(value)

            out += [f"| {label} | {cell('delve', key)} | {cell('gdb', key)} |" for key, label in keys]
            out += ["", comparison["verdict"]]
            if comparison.get("values"):
                out += ["", "### The faulting frame's variables", "", "| variable | Delve | gdb |", "| --- | --- | --- |"]
                out += [f"| `{_cell(v['name'])}` | {_code(v['delve'])} | {_code(v['gdb'])}"
                        + (f" ({v['gdb_problem']})" if v["gdb_problem"] else "") + " |" for v in comparison["values"]]
            if comparison.get("values_note"):
                out += ["", comparison["values_note"]]
    if report.get("go_traceback"):
        out += ["", "## What the program printed to stderr (gocore-tui run)", "", "```text"]
        out += [report["go_traceback"].rstrip("\n"), "```"]
    if report["warnings"]:
        out += ["", "## Warnings", ""] + [f"- {w}" for w in report["warnings"]]
    return "\n".join(out) + "\n"


def _place(frame: dict[str, Any] | None) -> str:
    return f"{frame['file']}:{frame['line']} {frame['function']}" if frame else "not found"


def _goroutine_cell(crash: dict[str, Any]) -> str:
    if crash["goroutine"] is not None:
        return str(crash["goroutine"])
    if crash["kind"] == CrashKind.NO_CRASH.value:
        return f"none (no crash; showing {crash['focus_goroutine']})"
    return "none (system stack)"


def _code(text: str) -> str:
    return f"`{_cell(text)}`" if text else ""


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")
