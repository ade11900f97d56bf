"""The goroutines pane as a virtual list: 100k goroutines, flat or in one
open bucket, are all reachable, and only what is on screen is drawn."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult

from tui.core.store import GoroutineStore
from tui.model import Goroutine, Location
from tui.widgets.goroutine_list import GoroutineList

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
        yield GoroutineList(self.store, id="goroutines")

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
        assert table.row_count == 100_000 and table.row_keys()[0] == "g50001"  # as they came
        table.refresh_rows()  # the list is complete
        await pilot.pause()
        assert table.row_keys()[:3] == ["g1", "g2", "g3"]  # in id order once complete
        table.focus()
        await pilot.press("end")
        assert table.cursor_key() == "g100000" and "100000" in screen_text(table)
        await pilot.press("home", "down", "down")
        assert table.cursor_key() == "g3" and " 3 " in screen_text(table)
        assert table.reveal(77_777) and table.cursor_key() == "g77777"
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
        assert app.chosen == [3] and table.cursor_key() == "g3"


async def test_a_bucket_of_75_thousand_opens_and_reveals_a_member_in_id_order():
    app = ListApp()
    async with app.run_test(size=(100, 30)) as pilot:
        table = app.query_one(GoroutineList)
        table.rows_added(app.store.add_page(tuple(crowd(100_000))))
        table.refresh_rows()
        await pilot.pause()
        assert table.row_keys() == ["b0", "b1"]
        assert [str(table.row_cells(key)[1]) for key in table.row_keys()] == ["×75000", "×25000"]
        assert table.reveal(99_999)  # opens its bucket
        keys = table.row_keys()
        assert len(keys) == 2 + 75_000
        members = [int(key[1:]) for key in keys[1:75_001]]
        assert members == sorted(members)  # whatever order the pages came in
        assert table.cursor_key() == "g99999" and "99999" in screen_text(table)
        table.focus()
        await pilot.press("home", "enter")  # closes it again
        assert table.row_keys() == ["b0", "b1"]
