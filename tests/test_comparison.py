"""GDB vs Delve against the real gdb and dlv on the fixture cores."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pexpect
import pytest

from app_driver import open_app
from command_line import gocore
from waiting import until
from tui.debugger import gdb as gdb_module
from tui.debugger.delve import Delve
from tui.analysis.forensics import read_snapshot
from tui.analysis.showdown import collect_stacks, read_delve_values, run_comparison
from tui.screens.comparison import ComparisonScreen
from tui.widgets.comparison_view import ComparisonView
from tui.widgets.source_view import SourceView

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def seed(cores):
    fixture = cores["goroutine_panic"]
    delve = Delve.open(str(fixture.exe), str(fixture.core), dlv=fixture.dlv)
    try:
        snapshot = read_snapshot(delve, delve.goroutines()[0])
    finally:
        delve.close()
    run, comparison = run_comparison(snapshot)
    return fixture, snapshot, run, comparison


def test_delve_reaches_the_goroutine_and_the_scorecard_follows_gdbs_frames(seed):
    fixture, snapshot, run, comparison = seed
    assert not run.error, run.error
    assert comparison.delve.reached_user_frame
    reached = any(f.function == "main.main.func1" and f.line == fixture.crash_line for f in run.frames)
    assert comparison.gdb.reached_user_frame == reached
    assert comparison.gdb.frames == len(run.frames)
    resolved = [f for f in run.frames if f.function not in ("???", "<signal handler called>") and f.line > 0]
    assert comparison.gdb.frames_resolved == len(resolved)
    assert comparison.delve.frames == len(snapshot.crash_stack.frames)
    assert comparison.delve.goroutines_visible == len(snapshot.goroutines) == 6
    # gdb sees OS threads; runtime-gdb.py lists goroutines but no user location
    assert comparison.gdb.goroutines_visible == max(run.threads, len(run.goroutines))
    assert comparison.delve.user_locations == 2 > comparison.gdb.user_locations - (1 if reached else 0)
    assert comparison.delve.panic_value and not comparison.gdb.panic_value
    # runtime-gdb.py cannot walk a parked goroutine's stack in a core
    assert any("without a process to debug" in error for error in run.goroutine_bt_errors)
    assert comparison.verdict.startswith("Delve wins")
    # a goroutine N bt for each goroutine gdb listed; gdb has no wait reason
    assert [stack.goroutine_id for stack in run.goroutine_stacks] == [g.id for g in run.goroutines]
    assert comparison.gdb.wait_reasons == 0 < comparison.delve.wait_reasons
    assert comparison.delve.wait_reasons == sum(1 for g in snapshot.goroutines if g.wait_reason)


def test_rows_align_the_user_frame(seed):
    _, _, _, comparison = seed
    user = [row for row in comparison.rows if row.is_user]
    assert user and user[0].delve is not None and user[0].delve.function == "main.main.func1"


def test_report_carries_the_comparison(cores):
    fixture = cores["goroutine_panic"]
    report = json.loads(gocore(fixture.exe, fixture.core, "--report", "json").stdout)
    comparison = report["comparison"]
    for side in ("gdb", "delve"):
        assert {"frames", "reached_user_frame", "goroutines_visible"} <= set(comparison[side])
    assert comparison["delve"]["reached_user_frame"] is True
    assert comparison["delve"]["goroutines_visible"] == report["goroutines"]["total"]
    assert comparison["verdict"]


def test_without_gdb_the_pane_says_how_to_install_it(cores, tmp_path):
    fixture = cores["goroutine_panic"]
    env = dict(os.environ, PATH=str(tmp_path))  # no gdb on PATH; dlv is found beside python
    report = json.loads(gocore(fixture.exe, fixture.core, "--report", "json", env=env).stdout)
    assert "gdb not found" in report["comparison"]["error"] and "apt-get install gdb" in report["comparison"]["error"]
    assert report["crash"]["message"] == "PANIC"


def test_gdb_missing_is_a_result_not_a_failure(monkeypatch, cores):
    fixture = cores["goroutine_panic"]
    monkeypatch.setattr(gdb_module, "find_gdb", lambda: None)
    run = gdb_module.run_gdb(str(fixture.exe), str(fixture.core), 1)
    assert run.error.startswith("gdb not found") and run.frames == ()


async def test_the_pane_opens_with_c_and_a_row_moves_the_main_view(cores):
    fixture = cores["goroutine_panic"]
    app = open_app(fixture)
    async with app.run_test(size=(200, 50)) as pilot:
        await until(pilot, lambda: app.first_screen_ready and app.gdb_run is not None and app.goroutines_complete and app.stacks_complete)
        await pilot.press("u")
        await pilot.press("c")
        assert isinstance(app.screen, ComparisonScreen)
        view = app.screen.query_one(ComparisonView)
        assert view.comparison is not None
        assert view.comparison.verdict in str(view.query_one("#verdict").render())
        rows = view.query_one("#rows")
        number = next(i for i, row in enumerate(view.comparison.rows) if row.is_user)
        rows.focus()
        rows.move_cursor(row=number)
        await pilot.press("r")
        # gdb's raw text holds every frame it resolved (it reaches
        # main.main.func1 on newer Go; on Go 1.19 it stops in runtime.sigtramp)
        named = {frame.function for frame in app.gdb_run.frames if frame.function != "???"}
        assert named and all(function in view.raw_text() for function in named)
        assert not re.search(r"\[New LWP \d+\]", view.raw_text())
        assert "noise lines folded" in str(view.query_one("#raw-status").render())
        await pilot.press("f")
        assert re.search(r"\[New LWP \d+\]", view.raw_text())
        await pilot.press("r")
        before = app.panes_updated
        await pilot.press("enter")
        await until(pilot, lambda: app.panes_updated > before)
        assert not isinstance(app.screen, ComparisonScreen)
        assert app.query_one(SourceView).marked_line == fixture.crash_line


async def test_the_command_palette_offers_the_comparison(cores):
    app = open_app(cores["goroutine_panic"])
    async with app.run_test(size=(200, 50)) as pilot:
        await until(pilot, lambda: app.first_screen_ready)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "GDB vs Delve" in titles
        command = next(c for c in app.get_system_commands(app.screen) if c.title == "GDB vs Delve")
        command.callback()
        await pilot.pause()
        assert isinstance(app.screen, ComparisonScreen)


# --- the demo core: where Delve's lead shows on today's Go too -----------------------------------


@pytest.fixture(scope="module")
def demo(cores):
    """Delve and gdb on the demo core, as the report reads them."""
    fixture = cores["demo_checkout"]
    delve = Delve.open(str(fixture.exe), str(fixture.core), dlv=fixture.dlv)
    try:
        goroutines, _ = delve.goroutines()
        snapshot = read_snapshot(delve, goroutines)
        stacks = collect_stacks(delve.stack_pages())
        values = read_delve_values(delve.evaluate, snapshot.frame)
    finally:
        delve.close()
    run, comparison = run_comparison(snapshot, stacks=stacks, values=values)
    # Did gdb's backtrace of the crashing thread reach main.checkout? (Go 1.26
    # yes: through the signal handler; Go 1.19 no: it stops at `??`.)
    reached = any(f.function == "main.checkout" and f.line == fixture.crash_line for f in run.frames)
    return fixture, snapshot, stacks, run, comparison, reached


def test_demo_delve_reads_every_stack_value_and_wait_reason(demo):
    fixture, snapshot, stacks, run, comparison, reached = demo
    assert not run.error, run.error
    d = comparison.delve
    assert d.goroutines_visible == len(snapshot.goroutines) == 11
    assert d.goroutine_stacks == sum(1 for stack in stacks.values() if stack[-1].function == "runtime.goexit") == 11
    # an interface holding a float, an error, a map, a slice, a struct, a float
    assert d.values_read == len(comparison.values) == 6
    delve = {row.name: row.delve for row in comparison.values}
    assert delve["discount"] == "interface {}(float64) 0.15"
    assert delve["err"] == 'error(*errors.errorString) *{s: "card declined",}'
    assert delve["stock"] == 'map[string]int ["book-42": 5, "mug-7": 2,]'
    assert delve["order"].startswith("main.Order {ID: 1042, ")
    assert delve["items"].startswith("[]main.Item len: 2, cap: 2, [{SKU: ")
    # parked on channels (3 workers), a mutex, a timer, a WaitGroup, and the runtime's own
    reasons = [g.wait_reason for g in snapshot.goroutines if g.wait_reason]
    assert d.wait_reasons == len(reasons) == 10
    assert reasons.count("chan receive") == 3 and "sleep" in reasons
    assert {"sync.Mutex.Lock", "semacquire"} & set(reasons) and {"sync.WaitGroup.Wait", "semacquire"} & set(reasons)


def test_demo_gdb_numbers_follow_what_it_printed(demo):
    fixture, snapshot, stacks, run, comparison, reached = demo
    g = comparison.gdb
    # runtime-gdb.py lists every goroutine, with no wait reason; `goroutine N bt` is tried for each
    assert len(run.goroutines) == 11 and g.wait_reasons == 0 and not any(x.wait_reason for x in run.goroutines)
    assert len(run.goroutine_stacks) == 11 and run.goroutines_untried == 0
    parked = [stack for stack in run.goroutine_stacks if stack.goroutine_id != snapshot.crash.goroutine_id]
    assert {stack.error for stack in parked} == {"You can't do that without a process to debug."}
    # gdb's threads: each stack from `thread apply all bt`, one an LWP
    assert len(run.thread_stacks) == run.threads
    whole = [pair for pair in comparison.goroutines if pair.gdb_whole]
    printed = {row.name: row for row in comparison.values}
    if reached:  # Go 1.26: the crashing goroutine, and no other
        assert g.reached_user_frame and g.goroutine_stacks == 1
        assert [pair.id for pair in whole] == [snapshot.crash.goroutine_id]
        assert run.values.frame.function == "main.checkout" and not run.values.error
        # strings, slices, maps, structs as Go values; the interface and the error raw
        assert g.values_read == 4
        assert [name for name, row in printed.items() if not row.gdb_read] == ["discount", "err"]
        assert printed["discount"].gdb.startswith("{_type = 0x") and printed["discount"].gdb_problem == "raw interface"
        assert printed["err"].gdb.startswith("{tab = 0x") and "errors.errorString" in printed["err"].gdb
        assert printed["stock"].gdb == 'map[string]int = {["book-42"] = 5, ["mug-7"] = 2}'
        assert comparison.verdict == (
            "Delve wins 6 of 8 measures: goroutines with a user location (7 vs 1), goroutines with their whole stack "
            "(11 vs 1), variables of the faulting frame read as Go values (6/6 vs 4/6), goroutines with a wait reason "
            f"(10 vs 0), panic value recovered (yes vs no), frames resolved to a function and line "
            f"({comparison.delve.frames_resolved}/{comparison.delve.frames} vs {g.frames_resolved}/{g.frames}) "
            "(Delve vs gdb).")
    else:  # Go 1.19: gdb stops at `??` in runtime.sigtramp
        assert run.frames[-1].function == "???" and not g.reached_user_frame
        assert g.goroutine_stacks == 0 == len(whole) and g.values_read == 0
        assert run.values.error == "gdb's backtrace of the crashing thread has no frame of main.checkout (it stops at ??)"
        assert comparison.values_note == run.values.error
        assert all(row.gdb_problem == "not printed" for row in comparison.values)
        assert comparison.verdict.startswith(
            "Delve wins 7 of 8 measures: reached main.checkout at main.go:%d (yes vs no), goroutines with a user "
            "location (7 vs 0), goroutines with their whole stack (11 vs 0), variables of the faulting frame read as "
            "Go values (6/6 vs 0/6), goroutines with a wait reason (10 vs 0), panic value recovered (yes vs no)"
            % fixture.crash_line)


def test_demo_report_carries_the_new_measures(cores):
    fixture = cores["demo_checkout"]
    report = json.loads(gocore(fixture.exe, fixture.core, "--report", "json").stdout)
    comparison = report["comparison"]
    assert comparison["delve"]["goroutine_stacks"] == report["goroutines"]["total"] == 11
    assert comparison["delve"]["values_read"] == 6 and comparison["delve"]["wait_reasons"] == 10
    assert comparison["gdb"]["wait_reasons"] == 0 and comparison["gdb"]["goroutine_bt_tried"] == 11
    assert comparison["gdb"]["values_read"] in (0, 4) and comparison["gdb"]["goroutine_stacks"] in (0, 1)
    assert [v["name"] for v in comparison["values"]] == ["order", "items", "discount", "stock", "total", "err"]
    assert len(comparison["goroutine_stacks"]["delve"]) == 11
    assert "goroutines with their whole stack (11 vs" in comparison["verdict"]
    markdown = gocore(fixture.exe, fixture.core, "--report", "md").stdout
    assert "| goroutines with their whole stack | 11 |" in markdown
    assert "| `discount` | `interface {}(float64) 0.15` |" in markdown


async def test_the_pane_shows_the_demo_variables_and_a_picked_goroutines_stacks(cores):
    fixture = cores["demo_checkout"]
    app = open_app(fixture)
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: app.first_screen_ready and app.gdb_run is not None and app.stacks_complete
                    and app.comparison_values is not None)
        await pilot.press("c")
        assert isinstance(app.screen, ComparisonScreen)
        view = app.screen.query_one(ComparisonView)
        values = view.query_one("#values")
        rows = {str(values.get_row(key)[0]): [str(cell) for cell in values.get_row(key)[1:]] for key in values.rows}
        assert rows["discount"][0] == "interface {}(float64) 0.15"
        reached = view.comparison.gdb.reached_user_frame
        if reached:  # Go 1.26: gdb printed it, raw
            assert re.fullmatch(r"\{_type = 0x[0-9a-f]+, data = 0x[0-9a-f]+\}", rows["discount"][1])
            assert rows["discount"][2] == "✗ raw interface" and rows["stock"][2] == "a Go value"
        else:  # Go 1.19: gdb never got to the frame
            assert rows["discount"][1:] == ["", "✗ not printed"]
        await pilot.press("g")
        picker = view.query_one("#picker")
        assert view.picked().id == view.comparison.goroutines[0].id
        delve = view.query_one("#delve-stack")
        assert [str(delve.get_row(key)[1]) for key in delve.rows] == [p.function for p in view.picked().delve]
        assert str(view.query_one("#gdb-note").render()) == "error: You can't do that without a process to debug."
        crashing = next(i for i, pair in enumerate(view.comparison.goroutines) if pair.crashing)
        picker.move_cursor(row=crashing)
        await pilot.pause()
        pair = view.picked()
        assert pair.crashing and pair.gdb_whole == reached and pair.gdb.thread == 1
        gdb = view.query_one("#gdb-stack")
        assert [str(gdb.get_row(key)[1]) for key in gdb.rows] == [f.function for f in pair.gdb.frames]
        assert ("main.checkout" in [f.function for f in pair.gdb.frames]) == reached


async def test_open_on_comparison_shows_it_first(cores):
    app = open_app(cores["demo_checkout"])
    app.open_on_comparison = True  # what --compare sets
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, ComparisonScreen))
        # (the screen is current before its view is composed)
        await until(pilot, lambda: any(view.comparison is not None for view in app.screen.query(ComparisonView)))
        await pilot.press("escape")
        assert not isinstance(app.screen, ComparisonScreen) and app.first_screen_ready


def test_compare_flag_opens_the_tui_on_the_comparison(cores):
    """`gocore-tui EXE CORE --compare` in a terminal: the comparison is the first screen."""
    fixture = cores["demo_checkout"]
    child = pexpect.spawn(sys.executable, ["-m", "tui", str(fixture.exe), str(fixture.core), "--compare",
                                           "--dlv", fixture.dlv], cwd=str(ROOT), dimensions=(45, 160),
                          env=dict(os.environ, TERM="xterm-256color"), timeout=60)
    try:
        child.expect("Delve wins")
        child.expect("goroutines with their whole stack")
        child.send("q")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0


def test_compare_without_gdb_is_refused(cores):
    fixture = cores["demo_checkout"]
    result = gocore(fixture.exe, fixture.core, "--compare", "--no-gdb")
    assert result.returncode == 2 and "--compare shows gdb beside Delve: drop --no-gdb" in result.stderr
