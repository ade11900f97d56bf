"""The goroutines pane as a virtual list: 100k goroutines, flat or in one
open bucket, are all reachable, and only what is on screen is drawn."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult

from tui.core.store import GoroutineStore
from tui.model import Goroutine, Location
from tui.widgets.goroutine_list import GoroutineList, GoroutineRow, GroupRow

pytestmark = pytest.mark.toolchain_independent

IDLE = Location("/src/app/main.go", 14, "main.idle")
SLEEP = Location("/usr/local/go/src/time/time.go", 363, "time.Sleep")


def crowd(count: int) -> list[Goroutine]:
    """Two places, 3:1; listed from both ends (as two dlvs hand them over)."""
    goroutines = [Goroutine(gid, SLEEP if gid % 4 == 0 else IDLE, wait_reason="chan receive" if gid % 4 else "sleep")
                  for gid in range(1, count + 1)]
    half = count // 2
    return goroutines[half:] + goroutines[:half]


class ListApp(App):
    def __init__(self) -> None:
        super().__init__()
        self.chosen: list[int] = []
        self.store = GoroutineStore()

    def compose(self) -> ComposeResult:
        yield GoroutineList(self.store.index, id="goroutines")

    def on_goroutine_list_chosen(self, message: GoroutineList.Chosen) -> None:
        self.chosen.append(message.goroutine_id)


def screen_text(table: GoroutineList) -> str:
    return "\n".join(table.render_line(y).text for y in range(table.size.height))


async def test_a_hundred_thousand_goroutines_flat_are_all_reachable():
    app = ListApp()
    async with app.run_test(size=(100, 30)) as pilot:
        table = app.query_one(GoroutineList)
        app.store.crashing = 77_777
        table.grouped = False
        pages = crowd(100_000)
        for start in range(0, 100_000, 500):
            table.rows_added(app.store.add_page(tuple(pages[start:start + 500])))
        assert table.row_count == 100_000 and table.rows()[0] == GoroutineRow(50001)  # as they came
        table.refresh_rows()  # the list is complete
        await pilot.pause()
        assert table.rows()[:3] == (GoroutineRow(1), GoroutineRow(2), GoroutineRow(3))  # in id order once complete
        table.focus()
        await pilot.press("end")
        assert table.cursor_key() == GoroutineRow(100_000) and "100000" in screen_text(table)
        await pilot.press("home", "down", "down")
        assert table.cursor_key() == GoroutineRow(3) and " 3 " in screen_text(table)
        assert table.reveal(77_777) and table.cursor_key() == GoroutineRow(77_777)
        shown = screen_text(table)
        assert "✖  77777" in shown  # drawn where the cursor is, crash marker and all
        assert "main.go:14 main.idle" in shown
        await pilot.press("enter")
        await pilot.pause()
        assert app.chosen == [77_777]


async def test_a_click_on_a_row_picks_it_and_the_header_is_no_row():
    app = ListApp()
    async with app.run_test(size=(100, 30)) as pilot:
        table = app.query_one(GoroutineList)
        table.grouped = False
        table.rows_added(app.store.add_page(tuple(crowd(40))))
        table.refresh_rows()
        await pilot.pause()
        await pilot.click(GoroutineList, offset=(5, 0))  # the header
        await pilot.click(GoroutineList, offset=(5, 3))  # the third row
        await pilot.pause()
        assert app.chosen == [3] and table.cursor_key() == GoroutineRow(3)


async def test_a_bucket_of_75_thousand_opens_and_reveals_a_member_in_id_order():
    app = ListApp()
    async with app.run_test(size=(100, 30)) as pilot:
        table = app.query_one(GoroutineList)
        table.rows_added(app.store.add_page(tuple(crowd(100_000))))
        table.refresh_rows()
        await pilot.pause()
        groups = table.group_rows()
        assert table.rows() == groups and len(groups) == 2
        assert [str(table.row_cells(key)[1]) for key in groups] == ["×75000", "×25000"]
        assert table.reveal(99_999)  # opens its bucket
        keys = table.rows()
        assert len(keys) == 2 + 75_000
        members = [key.id for key in keys[1:75_001]]
        assert members == sorted(members)  # whatever order the pages came in
        assert table.cursor_key() == GoroutineRow(99_999) and "99999" in screen_text(table)
        table.focus()
        await pilot.press("home", "enter")  # closes it again
        assert table.rows() == groups


async def test_the_cursor_stays_on_its_group_when_the_groups_reorder():
    """Rows are keyed by the group they stand for, not by position: a group
    that grows past another moves, and the cursor goes with it."""
    app = ListApp()
    async with app.run_test(size=(100, 30)) as pilot:
        table = app.query_one(GoroutineList)
        idle = [Goroutine(gid, IDLE, wait_reason="chan receive") for gid in range(1, 4)]
        sleeping = [Goroutine(gid, SLEEP, wait_reason="sleep") for gid in range(10, 12)]
        table.rows_added(app.store.add_page(tuple(idle + sleeping)))
        table.refresh_rows()
        await pilot.pause()
        first, second = table.group_rows()
        assert [str(table.row_cells(row)[1]) for row in (first, second)] == ["×3", "×2"]
        table.move_cursor(row=table.get_row_index(second))
        # More sleepers come in: their group is the biggest now, and first.
        table.rows_added(app.store.add_page(tuple(Goroutine(gid, SLEEP, wait_reason="sleep")
                                                  for gid in range(12, 15))))
        table.refresh_rows()
        await pilot.pause()
        assert table.group_rows() == (second, first)
        assert table.cursor_key() == second and table.cursor_row == 0
        assert str(table.row_cells(table.cursor_key())[1]) == "×5"
