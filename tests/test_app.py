"""The app driven by Pilot against the real dlv on real cores."""

from __future__ import annotations

import contextlib
import time

import pytest

from tui.app import GocoreApp
from tui.delve import Delve
from tui.widgets.backtrace_view import BacktraceView
from tui.widgets.crash_summary import CrashSummary
from tui.widgets.goroutine_list import GoroutineList
from tui.widgets.help_screen import HelpScreen
from tui.widgets.source_view import SourceView
from tui.widgets.variables_view import VariablesView


async def until(pilot, predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("the app did not get there in time")
        await pilot.pause(0.01)


async def moved(pilot, app, key: str) -> None:
    """Press a key and wait until source and variables have been redrawn."""
    before = app.panes_updated
    await pilot.press(key)
    await until(pilot, lambda: app.panes_updated > before)


def open_app(fixture) -> GocoreApp:
    delve = Delve.open(str(fixture.exe), str(fixture.core))
    return GocoreApp(lambda: delve, title_paths=(str(fixture.exe), str(fixture.core)))


@contextlib.asynccontextmanager
async def running(fixture, ready=lambda app: app.first_screen_ready):
    """The app on a real core, once `ready(app)` holds: yields (app, pilot)."""
    app = open_app(fixture)
    async with app.run_test(size=(200, 50)) as pilot:
        await until(pilot, lambda: ready(app))
        yield app, pilot


def summary(app) -> str:
    return str(app.query_one(CrashSummary).render())


@pytest.mark.e2e
async def test_first_screen_shows_the_crash(cores):
    fixture = cores["goroutine_panic"]
    async with running(fixture) as (app, pilot):
        assert "panic: PANIC" in summary(app)
        crashed = app.snapshot.crash.goroutine_id
        assert f"crashed in goroutine {crashed}" in summary(app)
        backtrace = app.query_one(BacktraceView)
        frame = app.backtrace.frames[backtrace.cursor_row]
        assert (frame.function, frame.line) == ("main.main.func1", fixture.crash_line)
        source = app.query_one(SourceView)
        assert source.marked_line == fixture.crash_line
        assert "// CRASH" in source.line_text(source.marked_line)
        await until(pilot, lambda: app.goroutines_complete)
        goroutines = app.query_one(GoroutineList)
        assert len(goroutines.index) == 6
        row = goroutines.get_row(f"g{crashed}")
        assert str(row[0]) == "✖"
        assert goroutines.cursor_row == goroutines.get_row_index(f"g{crashed}")


@pytest.mark.e2e
async def test_up_and_down_move_between_frames(cores):
    fixture = cores["goroutine_panic"]
    async with running(fixture) as (app, pilot):
        start = app.frame_index
        await moved(pilot, app, "u")
        assert app.frame_index == start + 1
        assert app.query_one(BacktraceView).cursor_row == start + 1
        caller = app.backtrace.frames[start + 1]
        assert app.query_one(SourceView).marked_line == caller.line
        assert app.query_one(VariablesView).border_title == f"Variables · frame {start + 1}"
        await moved(pilot, app, "d")
        await moved(pilot, app, "d")
        assert app.frame_index == start - 1
        assert app.backtrace.frames[start - 1].function == "runtime.gopanic"
        # gopanic's own record holds the panic value; Delve elides it in the
        # short listing and prints it in full when the node is opened
        variables = app.query_one(VariablesView)
        record = next(node for node in variables.root.children[1].children if node.data.name == "p")
        assert record.data.partial and record.allow_expand
        record.expand()
        await until(pilot, lambda: any('arg = interface {}(string) "PANIC"' in line for line in variables.labels()))


@pytest.mark.e2e
async def test_switching_goroutines_by_id_and_from_the_table(cores):
    fixture = cores["goroutine_panic"]
    async with running(fixture, lambda a: a.first_screen_ready and a.goroutines_complete) as (app, pilot):
        before = app.panes_updated
        await pilot.press("g", "1", "enter")
        await until(pilot, lambda: app.panes_updated > before and app.goroutine_id == 1)
        frame = app.backtrace.frames[app.frame_index]
        assert frame.function == "main.main"
        source = app.query_one(SourceView)
        assert "<-timer.C" in source.line_text(source.marked_line)
        assert any(line.startswith("timer") for line in app.query_one(VariablesView).labels())
        assert "goroutine 1" in app.query_one(BacktraceView).border_title

        # back to the crashing goroutine with the keyboard, from the table
        crashed = app.snapshot.crash.goroutine_id
        table = app.query_one(GoroutineList)
        table.focus()
        table.move_cursor(row=table.get_row_index(f"g{crashed}"))
        before = app.panes_updated
        await pilot.press("enter")
        await until(pilot, lambda: app.panes_updated > before and app.goroutine_id == crashed)
        assert app.query_one(SourceView).marked_line == fixture.crash_line


@pytest.mark.e2e
async def test_unknown_goroutine_and_non_digits_are_harmless(cores):
    async with running(cores["goroutine_panic"], lambda a: a.first_screen_ready and a.goroutines_complete) as (app, pilot):
        shown = app.goroutine_id
        await pilot.press("g", "9", "9", "9", "9", "enter")
        await pilot.pause(0.2)
        assert app.goroutine_id == shown
        assert any("no goroutine 9999" in n.message for n in app._notifications)
        # letters never reach the input (and so never reach dlv)
        await pilot.press("g", "x", ";", "q")
        assert app.screen.query_one("#goto-id").value == ""
        await pilot.press("escape")


@pytest.mark.e2e
async def test_help_lists_every_binding_and_q_quits(cores):
    async with running(cores["goroutine_panic"]) as (app, pilot):
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        listed = {key for key, _ in app.screen.bindings}
        assert {"u", "d", "g", "/", "c", "?", "q"} <= listed
        await pilot.press("escape")
        await pilot.press("q")
    assert app.return_code == 0


@pytest.mark.e2e
async def test_deadlock_starts_on_the_blocked_main_goroutine(cores):
    fixture = cores["deadlock"]
    async with running(fixture) as (app, pilot):
        text = summary(app)
        assert "fatal error: all goroutines are asleep - deadlock!" in text
        assert "no goroutine (system stack)" in text
        assert app.goroutine_id == 1
        assert app.query_one(SourceView).marked_line == fixture.crash_line


@pytest.mark.e2e
async def test_groups_filter_and_flat_view(cores):
    fixture = cores["many_goroutines"]
    async with running(fixture, lambda a: a.first_screen_ready and a.goroutines_complete) as (app, pilot):
        table = app.query_one(GoroutineList)
        buckets = table.index.buckets()
        assert sum(b.count for b in buckets) == len(table.index)
        assert "×200" in [str(table.get_row(k)[1]) for k in table.rows if k.value.startswith("b")]
        # expand the biggest group, then pick its first member
        table.focus()
        table.move_cursor(row=table.get_row_index("b0"))
        await pilot.press("enter")
        member = buckets[0].ids[0]
        assert f"g{member}" in table.rows
        table.move_cursor(row=table.get_row_index(f"g{member}"))
        before = app.panes_updated
        await pilot.press("enter")
        await until(pilot, lambda: app.panes_updated > before and app.goroutine_id == member)
        assert app.backtrace.frames[app.frame_index].function == "main.idle"
        # filter narrows the groups
        await pilot.press("slash")
        await pilot.press(*"Mutex", "enter")
        assert [b.count for b in table.index.buckets("Mutex")] == [50]
        assert all("Mutex" in str(table.get_row(k)[3]) for k in table.rows)
        # flat view lists every matching goroutine
        await pilot.press("v")
        assert table.row_count == 50


def test_a_large_file_is_shown_at_once_and_highlighted_in_full_later():
    import subprocess

    from tui import source
    from tui.corerun import find_go

    goroot = subprocess.run([find_go(), "env", "GOROOT"], capture_output=True, text=True, check=True).stdout.strip()
    big = f"{goroot}/src/runtime/proc.go"
    source._cache.clear()
    first = source.load(big, line=463)
    assert any(isinstance(line, str) for line in first.lines)  # not highlighted yet away from the frame
    assert first.lines[462].spans  # the frame's line is
    deadline = time.monotonic() + 20
    while not all(not isinstance(line, str) for line in source.load(big, line=463).lines):
        assert time.monotonic() < deadline, "the full highlight never arrived"
        time.sleep(0.05)
