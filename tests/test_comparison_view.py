"""The GDB-vs-Delve pane, fed by recorded dlv and gdb output of the seed core
(tests/data): what it shows, what it posts, and its picture."""

from __future__ import annotations

from pathlib import Path

import pytest

from textual.app import App
from textual.widgets import DataTable, TabbedContent

from snapshot_app import recorded_demo
from waiting import until
from tui.analysis.compare import Comparison, compare
from tui.analysis.showdown import collect_stacks, read_delve_values, score
from tui.debugger.gdb import gdb_run_from_outputs
from tui.model import Crash, CrashKind, GdbRun
from tui.parse.delve import parse_backtrace, parse_goroutines
from tui.screens.comparison import ComparisonScreen
from tui.widgets.comparison_view import ComparisonView

pytestmark = pytest.mark.toolchain_independent

DATA = Path(__file__).parent / "data"
RUNTIME_GDB = "/usr/local/go/src/runtime/runtime-gdb.py"
GDB_MISSING = "gdb not found: install it with `apt-get install gdb` (or your system's package manager)"


def recorded_comparison(name: str = "goroutine_panic") -> tuple[GdbRun, Comparison]:
    """What the app would compute from dlv and gdb on that core."""
    delve_frames = parse_backtrace((DATA / "dlv" / f"{name}.stack.txt").read_text()).frames
    goroutines, _ = parse_goroutines((DATA / "dlv" / f"{name}.goroutines.txt").read_text())
    run = gdb_run_from_outputs((DATA / "gdb" / f"{name}.plain.txt").read_text(),
                               (DATA / "gdb" / f"{name}.go.txt").read_text(), seconds=0.41, runtime_gdb=RUNTIME_GDB)
    user = next(f for f in delve_frames if f.function == "main.main.func1")
    crash = Crash(CrashKind.PANIC, "PANIC", 6, 18, 18, user)
    return run, compare(crash, delve_frames, delve_frames, goroutines, run, 0.23)


def demo_comparison() -> tuple[GdbRun, Comparison]:
    """The demo core (tests/transcripts/demo_checkout.json) as the app scores
    it once every stack and Delve's full values are in."""
    delve, snapshot, goroutines, run = recorded_demo()
    return run, score(snapshot, goroutines, run, collect_stacks(delve.stack_pages()),
                      read_delve_values(delve.evaluate, snapshot.frame))


class Comparing(ComparisonScreen):
    """The comparison screen, which notes the frame it would be dismissed
    with (and stays, so that a test can go on choosing)."""

    def dismiss(self, result=None):
        self.app.chosen.append(result)


class ComparisonApp(App):
    """The comparison screen on recorded runs, without the main screen."""

    def __init__(self, loaded: tuple[GdbRun, Comparison] | None = None) -> None:
        super().__init__()
        self.loaded = loaded or recorded_comparison()
        self.chosen: list[int] = []

    def get_default_screen(self) -> Comparing:
        return Comparing(self.loaded)


def _cells(table: DataTable, key: str) -> list[str]:
    return [str(cell) for cell in table.get_row(key)]


async def test_the_verdict_is_shown():
    app = ComparisonApp()
    async with app.run_test(size=(160, 45)):
        verdict = str(app.query_one("#verdict").render())
        assert verdict == app.loaded[1].verdict and verdict.startswith("Delve wins 4 of 8")


async def test_scorecard_cells_are_the_scores():
    app = ComparisonApp()
    run, comparison = app.loaded
    d, g = comparison.delve, comparison.gdb
    async with app.run_test(size=(160, 45)):
        card = app.query_one("#scorecard", DataTable)
        assert _cells(card, "frames") == ["frames printed", str(d.frames), str(g.frames)]
        assert _cells(card, "resolved")[1:] == [f"{d.frames_resolved}/{d.frames}", f"{g.frames_resolved}/{g.frames}"]
        assert _cells(card, "resolved")[1:] == ["10/10", "12/14"]
        assert _cells(card, "reached") == [f"reached {comparison.user_frame}", "yes", "yes"]
        # gdb's count says where it came from
        assert _cells(card, "goroutines")[1:] == ["6", "6 (runtime-gdb.py, 4 OS threads)"]
        assert _cells(card, "user_locations")[1:] == [str(d.user_locations), str(g.user_locations)] == ["2", "1"]
        assert _cells(card, "panic_value")[1:] == ["yes", "no"]
        assert _cells(card, "wait_reasons") == ["goroutines with a wait reason", "4", "0"]
        # this recording has no whole stacks of Delve's, nor variables in the faulting frame
        assert _cells(card, "goroutine_stacks")[1:] == ["0", "0"]
        assert _cells(card, "values_read")[1:] == ["0/0", "0/0"]
        assert _cells(card, "seconds")[1:] == ["0.23", "0.41"]
        # the better value is the highlighted one: Delve on user locations, nobody on reached
        better = app.query_one(ComparisonView).get_component_rich_style("comparison-view--better", partial=True)
        delve_cell, gdb_cell = card.get_row("user_locations")[1:]
        assert delve_cell.style == better and gdb_cell.style != better
        assert all(cell.style != better for cell in card.get_row("reached")[1:])


async def test_the_user_frame_row_has_both_sides():
    app = ComparisonApp()
    async with app.run_test(size=(160, 45)):
        rows = app.query_one("#rows", DataTable)
        cells = [_cells(rows, key.value) for key in rows.rows]
        user = [c for c in cells if c[1] == "main.main.func1"]
        assert user == [["8", "main.main.func1", "main.go:15", "=", "11", "main.main.func1", "main.go:15"]]
        # gdb's extra frames are marked, not dropped
        assert ["", "", "", "? unknown", "13", "???", ""] in cells
        assert any(c[3] == "~ signal" for c in cells)


async def test_enter_on_the_user_frame_posts_its_delve_index():
    app = ComparisonApp()
    async with app.run_test(size=(160, 45)) as pilot:
        rows = app.query_one("#rows", DataTable)
        number = next(i for i, row in enumerate(app.loaded[1].rows) if row.is_user)
        rows.focus()
        rows.move_cursor(row=number)
        await pilot.press("enter")
        await pilot.pause()
        assert app.chosen == [8]
        # a gdb-only row has no Delve frame to move to
        rows.move_cursor(row=len(app.loaded[1].rows) - 1)
        await pilot.press("enter")
        await pilot.pause()
        assert app.chosen == [8]


async def test_clicking_the_highlighted_row_chooses_it():
    app = ComparisonApp()
    async with app.run_test(size=(160, 45)) as pilot:
        number = next(i for i, row in enumerate(app.loaded[1].rows) if row.is_user)
        # below the border and the header; the first click highlights, the second selects
        for _ in range(2):
            await pilot.click("#rows", offset=(4, 2 + number))
        await pilot.pause()
        assert app.chosen == [8]


async def test_raw_view_folds_noise_and_f_unfolds():
    app = ComparisonApp()
    async with app.run_test(size=(160, 45)) as pilot:
        view = app.query_one(ComparisonView)
        app.query_one("#rows").focus()
        await pilot.press("r")
        await until(pilot, lambda: app.query_one("#raw-scroll").has_focus)
        assert view.has_class("-raw")
        assert "#11 0x00000000004d2bc5 in main.main.func1" in view.raw_text()
        assert "[New LWP" not in view.raw_text()
        status = str(app.query_one("#raw-status").render())
        # plain run: 4 `[New LWP n]` and gdb's 10-line auto-load advice;
        # runtime-gdb.py run: 4 `[New LWP n]` and 2 "Loading Go Runtime support."
        assert view.run.folded_lines == 20
        assert status == "20 noise lines folded (`[New LWP n]`, warnings) — press f to unfold"
        await pilot.press("f")
        assert "[New LWP 6530]" in view.raw_text()
        await pilot.press("r")
        await until(pilot, lambda: app.query_one("#rows").has_focus)
        assert not view.has_class("-raw")


async def test_findings_say_what_runtime_gdb_py_could_not_do():
    app = ComparisonApp()
    async with app.run_test(size=(160, 45)):
        findings = str(app.query_one("#findings").render())
        assert "`info goroutines` lists 6: 4 waiting, 1 runnable, 1 running, each only at a runtime function." in findings
        # an old recording: `goroutine N bt` without markers, its errors as gdb printed them
        assert "Python Exception <class 'gdb.error'>: You can't do that without a process to debug." in findings
        assert "stopped early" in findings


async def test_without_runtime_gdb_py_and_after_a_timeout():
    plain = (DATA / "gdb" / "goroutine_panic.plain.txt").read_text()
    run = gdb_run_from_outputs(plain, seconds=30.0, timed_out=True)
    _, comparison = recorded_comparison()
    app = ComparisonApp((run, comparison))
    async with app.run_test(size=(160, 45)):
        findings = str(app.query_one("#findings").render())
        assert "runtime-gdb.py not found" in findings and "gdb timed out" in findings
        assert _cells(app.query_one("#scorecard", DataTable), "goroutines")[2].endswith("(OS threads)")


async def test_running_and_gdb_missing():
    app = ComparisonApp()
    async with app.run_test(size=(160, 45)) as pilot:
        view = app.query_one(ComparisonView)
        view.show_running()
        await pilot.pause()
        assert str(view.query_one("#verdict").render()) == "running gdb on the same core…"
        assert not view.query_one("#body").display
        view.show_error(GDB_MISSING)
        await pilot.pause()
        assert str(view.query_one("#verdict").render()) == GDB_MISSING
        # nothing raw to show
        await pilot.press("r")
        assert not view.has_class("-raw")


async def test_the_faulting_frames_variables_side_by_side():
    app = ComparisonApp(demo_comparison())
    async with app.run_test(size=(160, 45)):
        values = app.query_one("#values", DataTable)
        rows = [_cells(values, key.value) for key in values.rows]
        assert [row[0] for row in rows] == ["order", "items", "discount", "stock", "total", "err"]
        by_name = {row[0]: row[1:] for row in rows}
        assert by_name["discount"] == ["interface {}(float64) 0.15", "{_type = 0x4cc280, data = 0x4f4468}",
                                       "✗ raw interface"]
        assert by_name["err"][0] == 'error(*errors.errorString) *{s: "card declined",}'
        assert by_name["err"][1].startswith("{tab = 0x") and by_name["err"][2] == "✗ raw interface"
        assert by_name["stock"] == ['map[string]int ["book-42": 5, "mug-7": 2,]',
                                    'map[string]int = {["book-42"] = 5, ["mug-7"] = 2}', "a Go value"]
        assert by_name["total"] == ["77.5625", "77.5625", "a Go value"]
        assert values.border_title == "the variables of main.checkout at main.go:90, as each debugger printed them"
        card = app.query_one("#scorecard", DataTable)
        assert _cells(card, "values_read")[1:] == ["6/6", "4/6"]
        assert _cells(card, "goroutine_stacks")[1:] == ["11", "1"]
        assert _cells(card, "wait_reasons")[1:] == ["10", "0"]


async def test_picking_a_goroutine_shows_both_stacks():
    app = ComparisonApp(demo_comparison())
    run, comparison = app.loaded
    async with app.run_test(size=(160, 45)) as pilot:
        view = app.query_one(ComparisonView)
        await pilot.press("g")
        await until(pilot, lambda: app.query_one("#picker").has_focus)
        assert app.query_one("#views").active == "tab-goroutines"
        picker = app.query_one("#picker", DataTable)
        assert [key.value for key in picker.rows] == [str(pair.id) for pair in comparison.goroutines]
        # goroutine 1, parked in WaitGroup.Wait: Delve's stack, gdb's error
        assert view.picked().id == 1
        assert _cells(picker, "1") == ["  1", "sync.WaitGroup.Wait", "✗ error"]
        delve = app.query_one("#delve-stack", DataTable)
        assert [_cells(delve, key.value)[1] for key in delve.rows][4:7] == ["sync.(*WaitGroup).Wait", "main.main",
                                                                            "runtime.main"]
        assert str(app.query_one("#gdb-note").render()) == "error: You can't do that without a process to debug."
        assert app.query_one("#gdb-side").border_title == "gdb: goroutine 1 bt"
        assert not app.query_one("#gdb-stack").display
        # down to the crashing goroutine: gdb walked it, on its thread
        crashing = next(i for i, pair in enumerate(comparison.goroutines) if pair.crashing)
        for _ in range(crashing):
            await pilot.press("down")
        pair = view.picked()
        assert pair.crashing and pair.gdb_whole and _cells(picker, str(pair.id))[2] == "✓ whole"
        assert app.query_one("#gdb-side").border_title == "gdb: thread 1 (LWP %d): bt" % pair.gdb.lwp
        gdb = app.query_one("#gdb-stack", DataTable)
        assert gdb.display and [_cells(gdb, key.value)[1] for key in gdb.rows] == [f.function for f in pair.gdb.frames]
        assert str(app.query_one("#gdb-note").render()) == "the whole stack Delve printed"
        await pilot.press("b")
        await until(pilot, lambda: app.query_one("#rows").has_focus)
        assert app.query_one("#views").active == "tab-thread"


async def test_findings_count_the_goroutine_backtraces_gdb_tried():
    app = ComparisonApp(demo_comparison())
    async with app.run_test(size=(160, 45)):
        findings = str(app.query_one("#findings").render())
        assert ("`goroutine N bt` for each: 1 printed a stack, 10 failed: You can't do that without a process to "
                "debug.") in findings


def test_comparison_picture(snap_compare):
    # conftest.py stores it in snapshots/test_comparison_view/: the demo core.
    app = ComparisonApp(demo_comparison())

    async def settle(pilot) -> None:
        await pilot.pause()
        _, comparison = app.loaded
        # the picture is this comparison, shown whole, on the crashing thread's tab, nothing chosen
        assert str(app.query_one("#verdict").render()) == comparison.verdict
        assert app.query_one("#views", TabbedContent).active == "tab-thread"
        assert app.query_one("#rows", DataTable).row_count == len(comparison.rows)
        assert app.query_one("#values", DataTable).row_count == len(comparison.values)
        assert app.chosen == []

    assert snap_compare(app, terminal_size=(160, 45), run_before=settle)


async def test_every_key_works_from_every_sub_view_and_the_focus_stays_on_its_content():
    """c, then g, r, b in any order: the focus follows what is shown (the
    picker, gdb's raw output, the aligned rows), and b, g, r keep working."""
    import time

    app = ComparisonApp(demo_comparison())
    async with app.run_test(size=(100, 30)) as pilot:
        for key, shown in (("g", "#picker"), ("r", "#raw-scroll"), ("b", "#rows"), ("r", "#raw-scroll"),
                           ("g", "#picker"), ("b", "#rows")):
            await pilot.press(key)
            deadline = time.monotonic() + 30
            while not app.query_one(shown).has_focus:
                assert time.monotonic() < deadline, f"after {key}, {shown} never had the focus ({app.focused})"
                await pilot.pause(0.01)
            assert {"b", "g", "r"} <= {binding.key for _, binding, enabled, _ in app.screen.active_bindings.values()
                                       if enabled}
        rows = app.query_one("#rows", DataTable)
        before = rows.cursor_row
        await pilot.press("down")
        assert rows.cursor_row == before + 1  # ↓ moves in what has the focus


@pytest.mark.parametrize("width", [120, 200])
async def test_the_values_fill_the_width_they_have(width):
    """Delve's and gdb's values share the table's width: cut only when they
    must be, and never wider than the pane."""
    app = ComparisonApp(demo_comparison())
    async with app.run_test(size=(width, 45)) as pilot:
        values = app.query_one("#values", DataTable)
        await until(pilot, lambda: values.virtual_size.width > 0)
        items = _cells(values, "arg:items")[1]
        whole = next(row.delve for row in app.loaded[1].values if row.name == "items")
        # Half of what the name and verdict columns leave, at the least.
        assert len(items) >= min(len(whole), (width - 40) // 2) and whole.startswith(items.rstrip("…"))
        assert values.virtual_size.width <= values.size.width  # no sideways scrolling


async def test_the_raw_output_shows_each_section_under_the_command_gdb_ran():
    """The markers we have gdb echo between commands read as the commands
    themselves, as a user typing them would have seen."""
    app = ComparisonApp(demo_comparison())
    async with app.run_test(size=(160, 45)) as pilot:
        view = app.query_one(ComparisonView)
        await pilot.press("r")
        await until(pilot, lambda: view.has_class("-raw"))
        for folded in (True, False):
            raw = view.raw_text()
            assert "@@gocore-tui" not in raw
            for command in ("(gdb) info goroutines", "(gdb) thread apply all bt 64", "(gdb) frame 11",
                            "(gdb) info args", "(gdb) goroutine 1 bt 64"):
                assert command in raw, (folded, command)
            await pilot.press("f")
