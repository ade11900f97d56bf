"""Print, for every fixture, what Go printed as it died next to what
gocore-tui's report says today: the disagreements tests/test_go_oracle.py
finds, all on one page.

    PYTHONPATH=. python tests/oracle_table.py                  # the latest toolchain
    GOCORE_TOOLCHAIN=debian PYTHONPATH=. python tests/oracle_table.py
    PYTHONPATH=. python tests/oracle_table.py value_bool deadlock   # some fixtures

Columns: Go's header (its lines joined by ⏎, tabs shown as →, cut after six
lines); the report's crash.header if it has one, else `kind: message`;
header ✓ when crash.header equals Go's header lines (report/1 has no
crash.header: `- (none)`, counted as disagreeing); line ✓ when the
report/1 summary at least reproduces Go's chain line (`panic: MSG` for a
panic or runtime error, `fatal error: MSG`, or the signal line); the
crashing goroutine, Go / report; the program's innermost own frame in Go's
traceback / the report's crash.frame (crash.go_caller for a fault in C).
Builds missing cores first (tests/corecache.py); runs one dlv at a time.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import toolchains  # noqa: E402
from corecache import fixture_names, go_version, make_core  # noqa: E402
from tui.cli.corerun import go_env  # noqa: E402
from tui.parse import ParseError  # noqa: E402
from tui.parse.gotraceback import is_main_module, parse_traceback  # noqa: E402


def main_module(exe: Path, go: str) -> str:
    out = subprocess.run([go, "version", "-m", str(exe)], capture_output=True, text=True, env=go_env()).stdout
    for line in out.splitlines():
        fields = line.split()
        if fields[:1] == ["mod"] and len(fields) >= 2:
            return fields[1]
    return ""


def report_of(fixture, dlv: str) -> dict:
    command = [sys.executable, "-m", "tui", "--dlv", dlv, str(fixture.exe), str(fixture.core), "--report", "json",
               "--no-gdb"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "no output")
    return json.loads(result.stdout)


def shown(lines, most: int = 6) -> str:
    """Lines in one table cell: ⏎ between them, → for a tab, at most `most` lines."""
    lines = [part for line in lines for part in line.split("\n")]
    cut = lines[:most] + ([f"… (+{len(lines) - most} more lines)"] if len(lines) > most else [])
    return " ⏎ ".join(line.replace("\t", "→") for line in cut).replace("|", "\\|")


def implied_line(crash: dict) -> str:
    """The one header line a report/1 summary stands for."""
    kind, message = crash["kind"], crash["message"]
    if kind in ("panic", "runtime error"):
        return f"panic: {message}"
    if kind == "fatal error":
        return f"fatal error: {message}"
    return message


def frame_text(frame) -> str:
    if frame is None:
        return "none"
    function = frame.function if hasattr(frame, "function") else frame["function"]
    line = frame.line if hasattr(frame, "line") else frame["line"]
    return f"{function}:{line}"


def row(name: str, toolchain) -> tuple[list[str], dict[str, bool | None]]:
    fixture = make_core(name, go_version(toolchain.go), toolchain)
    text = fixture.stderr.read_text()
    try:
        report = report_of(fixture, toolchain.dlv)
    except (RuntimeError, subprocess.TimeoutExpired, json.JSONDecodeError) as err:
        return [name, "", f"report failed: {err}", "", "", "", ""], {}
    crash = report["crash"]
    if not text:
        return [name, "(no stderr: gcore)", f"{crash['kind']}: {crash['message']}", "", "", "", ""], {}
    try:
        go = parse_traceback(text)
    except ParseError as err:
        return [name, f"unparsable: {err}", "", "", "", "", ""], {}
    header = list(go.header_lines)
    said = crash.get("header")
    header_ok = said == header  # False while the report has no crash.header (report/1)
    # report/1: does kind + message reproduce Go's last chain line (or signal line)?
    target = go.chain[-1].lines if go.chain else header[:1]
    line_ok = implied_line(crash) == "\n".join(line.lstrip("\t") for line in target)
    module = main_module(fixture.exe, fixture.go)
    goroutine = go.crashing_goroutine
    block = go.goroutine(goroutine if goroutine is not None else crash["focus_goroutine"] or -1)
    own = block.first_frame_in(lambda p: is_main_module(p, module)) if block else None
    theirs = crash["go_caller"] if crash.get("c_frame") else crash["frame"]
    frame_ok = own is not None and theirs is not None and (own.function, own.line) == (theirs["function"],
                                                                                         theirs["line"])
    goroutine_ok = crash["goroutine"] == goroutine
    mark = {True: "✓", False: "✗", None: "-"}
    cells = [name, shown(header), shown(said) if said is not None else f"{crash['kind']}: {shown([crash['message']])}",
             mark[header_ok] if said is not None else "- (none)", mark[line_ok], f"{goroutine} / {crash['goroutine']} {mark[goroutine_ok]}",
             f"{frame_text(own)} / {frame_text(theirs) if theirs else 'none'} {mark[frame_ok]}"]
    return cells, {"header": header_ok, "line": line_ok, "goroutine": goroutine_ok, "frame": frame_ok}


def main(argv: list[str]) -> int:
    toolchain = toolchains.current()
    names = argv or fixture_names()
    print(f"# Go's own account vs gocore-tui's report ({toolchain.name}: {go_version(toolchain.go)}, {toolchain.dlv})")
    print()
    print("| fixture | Go's header | report says | header | line | goroutine Go / report | own frame Go / report |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    counts: dict[str, list[int]] = {key: [0, 0] for key in ("header", "line", "goroutine", "frame")}
    for name in names:
        cells, verdicts = row(name, toolchain)
        print("| " + " | ".join(cells) + " |", flush=True)
        for key, verdict in verdicts.items():
            if verdict is not None:
                counts[key][0] += bool(verdict)
                counts[key][1] += 1
    print()
    for key, (agree, total) in counts.items():
        print(f"- {key}: {agree} of {total} agree")
    missing = len(names) - counts["goroutine"][1]
    if missing:
        print(f"- {missing} fixture(s) not compared (no stderr, or no report)")
    print("- header counts a report without crash.header (gocore-tui/report/1) as disagreeing; `line` is")
    print("  the weaker report/1 check: does `kind: message` stand for Go's last chain line (or signal line)?")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
