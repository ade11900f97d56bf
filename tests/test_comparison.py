"""GDB vs Delve against the real gdb and dlv on the fixture cores."""

from __future__ import annotations

import json
import os
import re

import pytest

from test_app import open_app, until
from test_cli import gocore
from tui.debugger import gdb as gdb_module
from tui.debugger.delve import Delve
from tui.analysis.forensics import read_snapshot
from tui.analysis.showdown import run_comparison
from tui.screens.comparison import ComparisonScreen
from tui.widgets.comparison_view import ComparisonView
from tui.widgets.source_view import SourceView

pytestmark = pytest.mark.e2e


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
