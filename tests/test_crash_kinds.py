"""Every crash kind names its cause: in the --report outputs and on the first screen.

Each fixture's `// CRASH` comment marks the line the first screen must show;
its `// gocore:` header says how tui/corerun.py builds and dumps it.
"""

from __future__ import annotations

import json

import pytest

from app_driver import running, summary
from command_line import gocore
from leftovers import dlv_processes_for
from tui.analysis.crash import OPTIMIZED_WARNING
from tui.widgets.backtrace_view import BacktraceView
from tui.widgets.source_view import SourceView
from tui.widgets.variables_view import VariablesView

# fixture: (kind, message, crashed goroutine(s), function of the shown frame)
KINDS = {
    "divide_zero": ("runtime error", "runtime error: integer divide by zero", {1}, "main.share"),
    "type_assert": ("runtime error", "interface conversion: interface {} is string, not int", {1}, "main.count"),
    # either writer may be the one the map catches
    "concurrent_map": ("fatal error", "concurrent map writes", None, "main.fill"),
    # two throws at once, or one when they did not meet
    "double_throw": ("fatal error", "sync: unlock of unlocked mutex", None, "main.release"),
    "out_of_memory": ("fatal error", "out of memory", {1}, "main.grow"),
    "stack_overflow": ("fatal error", "stack overflow", {1},
                       "main.depth"),
    "cgo_crash": ("fatal signal", "SIGSEGV: segmentation violation", {1}, "C.store"),
    "gcore_live": ("no crash", "core of a live process (gcore)", {None}, "main.wait"),
    "optimized": ("runtime error", "runtime error: integer divide by zero", {1}, "main.average"),
    "pie_panic": ("panic", "order without an ID", {1}, "main.ship"),
    "wild_pointer": ("fatal error", "fault", {1}, "main.read"),
}


# Before Go 1.2x (seen on Go 1.19) a signal in C code became a sigpanic that
# throws; Go 1.26 prints the signal and "signal arrived during cgo
# execution". Old Delve (1.20) shows only the Go side of the goroutine; the
# thread's stack read from the core file still goes through the C frames,
# so the first screen opens on the faulting C line either way.
CGO_BEFORE_121 = ("fatal error", "unexpected signal during runtime execution", {1}, "C.store")


def go_minor(version: str) -> int:
    return int(version.split(".")[1]) if version.startswith("go1.") else 0


def expected(name: str, go_version: str) -> tuple:
    if name == "cgo_crash" and go_minor(go_version) < 21:
        return CGO_BEFORE_121
    return KINDS[name]


def report_of(fixture, form: str = "json") -> str:
    result = gocore(fixture.exe, fixture.core, "--report", form, "--no-gdb")
    assert result.returncode == 0, result.stderr
    assert not dlv_processes_for(fixture.core)
    return result.stdout


@pytest.mark.parametrize("name", sorted(KINDS))
def test_report_names_the_cause(cores, name):
    fixture = cores[name]
    report = json.loads(report_of(fixture))
    kind, message, goroutines, function = expected(name, report["target"]["go_version"])
    crash = report["crash"]
    assert (crash["kind"], crash["message"]) == (kind, message)
    frame = crash["frame"]
    line = fixture.crash_line if function != "main.callC" else crash["go_caller"]["line"]
    assert (frame["function"], frame["line"]) == (function, line)
    assert frame["file"].endswith(f"{name}/main.go")
    if goroutines is None:  # one of the two goroutines that run the function
        running = [g["id"] for g in report["goroutines"]["items"] if g["location"]
                   and g["location"]["function"] == function]
        assert crash["goroutine"] in running and len(running) == 2
    else:
        assert crash["goroutine"] in goroutines
    crashed = [g["id"] for g in report["goroutines"]["items"] if g["crashing"]]
    assert crashed == ([] if crash["goroutine"] is None else [crash["goroutine"]])
    source = report["source"]
    if function != "main.callC":
        assert "// CRASH" in source["lines"][source["line"] - source["first_line"]]
    # The optimizer warning belongs to the optimized build alone.
    assert (OPTIMIZED_WARNING in report["warnings"]) == (name == "optimized")


def test_markdown_names_each_cause(cores):
    for name in ("cgo_crash", "gcore_live", "stack_overflow"):
        text = report_of(cores[name], "md")
        go_version = text.split("| Go | ")[1].split(" |")[0]
        kind, message, _, _ = expected(name, go_version)
        assert f"| Kind | {kind} |" in text and f"| Message | {message} |" in text
    cgo = report_of(cores["cgo_crash"], "md")
    assert "| In C code |" in cgo and "C.store |" in cgo
    assert "main.callC |" in cgo.split("| Called from Go |")[1].splitlines()[0]
    gcore = report_of(cores["gcore_live"], "md")
    assert "| Goroutine | none (no crash; showing 1) |" in gcore
    assert "| Signal |  |" in gcore


def test_fault_in_c_names_the_go_caller_and_the_address(cores):
    fixture = cores["cgo_crash"]
    crash = json.loads(report_of(fixture))["crash"]
    assert (crash["fault_signal"], crash["fault_address"]) == ("SIGSEGV", "0x0")
    assert crash["signal"] == "SIGABRT"
    assert (crash["c_frame"]["function"], crash["c_frame"]["line"]) == ("C.store", fixture.crash_line)
    lines = fixture.source.read_text().splitlines()
    caller = crash["go_caller"]
    assert caller["function"] == "main.callC"
    assert lines[caller["line"] - 1].strip() == "C.crash_in_c()"


def test_fault_in_c_keeps_delves_c_frames(cores):
    report = json.loads(report_of(cores["cgo_crash"]))
    # the thread's stack when Delve shows the goroutine without it (old Delve)
    crashing = [f["function"] for f in report["crash_backtrace"] or report["backtrace"]]
    store = crashing.index("C.store")
    assert crashing[store + 1] == "C.crash_in_c"
    assert crashing[store + 2].startswith("C._cgo_") and crashing[store + 2].endswith("_Cfunc_crash_in_c")
    functions = [f["function"] for f in report["backtrace"]]
    assert functions.index("main._Cfunc_crash_in_c") + 1 == functions.index("main.callC")


def test_fault_addresses_are_shown_as_go_prints_them(cores):
    # Go: "[signal SIGSEGV: segmentation violation code=0x1 addr=0xdead0 ...]";
    # a -N build checks nil pointers at offset 0, so a nil field load says addr=0x0
    for name, address in (("wild_pointer", "0xdead0"), ("nil_deref", "0x0")):
        crash = json.loads(report_of(cores[name]))["crash"]
        assert (crash["fault_signal"], crash["fault_address"]) == ("SIGSEGV", address)
    md = report_of(cores["wild_pointer"], "md")
    assert "| Signal | SIGABRT (after SIGSEGV at 0xdead0) |" in md


def test_core_without_a_crash_has_no_signal(cores):
    crash = json.loads(report_of(cores["gcore_live"]))["crash"]
    assert crash["signal"] == "" and crash["fault_signal"] is None
    assert (crash["goroutine"], crash["focus_goroutine"]) == (None, 1)


@pytest.mark.e2e
@pytest.mark.parametrize("name", ["cgo_crash", "stack_overflow", "pie_panic"])
async def test_first_screen_shows_the_faulting_line(cores, name):
    fixture = cores[name]
    async with running(fixture) as (app, pilot):
        kind, message, _, function = expected(name, app.snapshot.target.go_version)
        line = 18 if function == "main.callC" else fixture.crash_line
        # the summary opens with what Go printed, line for line
        header = app.snapshot.crash.header
        assert header and summary(app).startswith("\n".join(header))
        frame = app.backtrace.frames[app.query_one(BacktraceView).cursor_row]
        assert (frame.function, frame.line) == (function, line)
        source = app.query_one(SourceView)
        assert source.marked_line == line
        assert line != fixture.crash_line or "// CRASH" in source.line_text(source.marked_line)
        if name == "cgo_crash":
            # Paths as the binary records them: where the fixture was built.
            assert f"in C code  at {fixture.source}:8 C.store" in summary(app)
            assert f"called from Go  at {fixture.source}:18 main.callC" in summary(app)
            assert "signal SIGSEGV at 0x0, then SIGABRT" in summary(app)


def test_a_signal_another_process_sent_names_its_sender_not_a_fault_address(cores):
    """`kill -ABRT PID` (si_code SI_USER): the sender's pid and uid, where a
    fault would have its address; a real fault keeps its address."""
    import os

    report = json.loads(report_of(cores["killed_by_operator"]))
    crash = report["crash"]
    assert (crash["kind"], crash["header"]) == ("fatal signal", ["SIGABRT: abort"])
    assert crash["fault_address"] is None
    assert crash["sent_by"]["uid"] == os.getuid() and crash["sent_by"]["pid"] > 0
    nil = json.loads(report_of(cores["nil_deref"]))["crash"]
    assert (nil["fault_address"], nil["sent_by"]) == ("0x0", None)


@pytest.mark.e2e
async def test_optimized_build_is_said_once(cores):
    fixture = cores["optimized"]
    async with running(fixture) as (app, pilot):
        text = summary(app)
        assert text.count("variables may be unreadable or optimized away") == 1
        assert f"⚠ {OPTIMIZED_WARNING}" in text
        # a variable the optimizer left without a location says so; Delve's
        # own words are one level down, when the node is opened
        variables = app.query_one(VariablesView)
        optimized_away = set()
        for group in variables.root.children:
            for node in group.children:
                if node.data is not None and node.data.optimized_away:
                    optimized_away.add(node.data.name)
                    assert str(node.label).split(" = ")[1].startswith("optimized away")
                    assert str(node.children[0].label).startswith("Delve: (unreadable")
                elif node.data is not None:
                    assert "optimized away" not in str(node.label)
        # average's argument and its running sum have no location at the
        # division (Delve 1.20 and 1.27, Go 1.19 and 1.26 alike)
        assert {"values", "sum"} <= optimized_away, optimized_away


@pytest.mark.e2e
async def test_core_of_a_live_process_says_no_crash(cores):
    fixture = cores["gcore_live"]
    async with running(fixture) as (app, pilot):
        text = summary(app)
        assert text.startswith("no crash: core of a live process (gcore)\n")
        assert "showing goroutine 1  at " in text and "crashed" not in text
        assert "signal none" in text
        frame = app.backtrace.frames[app.query_one(BacktraceView).cursor_row]
        assert (frame.function, frame.line) == ("main.wait", fixture.crash_line)
        assert app.query_one(SourceView).marked_line == fixture.crash_line


# The pure rules, on values as Delve and cmd/compile write them.

def test_optimized_build_reads_the_producer_flags():
    from tui.analysis.crash import optimized_build

    debug = ("Go cmd/compile go1.26.8; -l regabi", "Go cmd/compile go1.26.8; -N -l regabi")
    assert not optimized_build(debug)
    assert not optimized_build(("Go cmd/compile go1.19.13; -N -l",))  # Go 1.19: no regabi word
    assert optimized_build(("Go cmd/compile go1.26.8; regabi",))
    assert optimized_build(("Go cmd/compile go1.19.13",))
    # no Go compile unit read (no DWARF): say nothing rather than guess
    assert not optimized_build(()) and not optimized_build(("GNU C17 13.2.0 -O2",))


def test_throw_message_from_its_call_site():
    from tui.analysis.crash import throw_literal

    assert throw_literal('\t\tthrow("out of memory")\n') == "out of memory"
    assert throw_literal('\tfatal("concurrent map writes")') == "concurrent map writes"
    assert throw_literal('throw("say \\"hi\\"")') == 'say "hi"'
    assert throw_literal("\tthrow(msg)") == "" and throw_literal(None) == ""


def test_a_signal_in_go_code_is_not_a_fault_in_c():
    from tui.analysis.crash import c_fault
    from tui.model import Backtrace, Frame

    def bt(*functions):
        return Backtrace(1, tuple(Frame(i, 0, f, "x.go", 1) for i, f in enumerate(functions)))

    in_c = bt("runtime.raise", "runtime.sighandler", "runtime.sigtrampgo", "C.store", "C.outer",
              "runtime.asmcgocall", "???", "runtime.cgocall", "main._Cfunc_outer", "main.callC", "main.main")
    c_frame, caller = c_fault(in_c)
    assert (c_frame.function, caller.function) == ("C.store", "main.callC")
    in_go = bt("runtime.raise", "runtime.sighandler", "runtime.sigtrampgo", "main.spin", "main.main")
    assert c_fault(in_go) == (None, None)
    assert c_fault(bt("runtime.raise", "runtime.gopanic", "main.main")) == (None, None)


def test_abort_in_c_opens_on_the_c_line_that_failed_and_names_the_go_caller(cores):
    """assert() in C built without frame pointers: glibc's abort() is
    unwound by its unwind tables (Delve stops there); the crash is the
    innermost C frame with a known place, called from Go's append."""
    fixture = cores["cgo_abort"]
    report = json.loads(report_of(fixture))
    crash = report["crash"]
    assert (crash["kind"], crash["header"]) == ("fatal signal", ["SIGABRT: abort", "signal arrived during cgo execution"])
    frame = crash["frame"]
    assert frame["function"].startswith("C.") and frame["file"].endswith("cgo_abort/main.go")
    assert frame["line"] == fixture.crash_line and crash["c_frame"]["line"] == fixture.crash_line
    assert crash["go_caller"]["function"] == "main.(*journal).append"
    # above the goroutine's own stack, its thread's: glibc's abort, then the C that called it
    functions = [f["function"] for f in report["backtrace"]]
    assert "C.abort" in functions and functions.index("C.abort") < functions.index(frame["function"])
    wrapper = functions.index("main._Cfunc_ring_write")
    assert functions[wrapper - 1:wrapper + 3] == ["runtime.cgocall", "main._Cfunc_ring_write",
                                                  "main.(*journal).append", "main.main"]
