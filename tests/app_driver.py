"""The app on a real core, driven by Pilot, for the tests that look at its screens."""

from __future__ import annotations

import contextlib

from leftovers import dlv_processes_for
from tui.app import GocoreApp
from tui.core.backend import DelveBackend
from tui.core.native import NativeListing, NativeUnavailable
from tui.debugger.delve import Delve
from tui.widgets.crash_summary import CrashSummary
from tui.widgets.goroutine_list import GoroutineList, Row
from waiting import async_wait_for, until


async def moved(pilot, app, key: str) -> None:
    """Press a key and wait until source and variables have been redrawn."""
    before = app.panes_updated
    await pilot.press(key)
    await until(pilot, lambda: app.panes_updated > before)


def open_app(fixture) -> GocoreApp:
    delve = Delve.open(str(fixture.exe), str(fixture.core), dlv=fixture.dlv)
    return GocoreApp(lambda: DelveBackend(delve), title_paths=(str(fixture.exe), str(fixture.core)))


@contextlib.asynccontextmanager
async def running(fixture, ready=lambda app: app.first_screen_ready):
    """The app on a real core, once `ready(app)` holds: yields (app, pilot)."""
    app = open_app(fixture)
    async with app.run_test(size=(200, 50)) as pilot:
        await until(pilot, lambda: ready(app))
        yield app, pilot
    # Closing the app takes every dlv it started with it (the lister too).
    await async_wait_for(lambda: not dlv_processes_for(fixture.core), f"dlv left running on {fixture.core}")


def cell(table: GoroutineList, key: Row, column: str) -> str:
    """A goroutine-list row's cell by its column's title."""
    return str(table.row_cells(key)[table.columns.index(column)])


def summary(app) -> str:
    return str(app.query_one(CrashSummary).render())


def list_through_dlv(monkeypatch, why: str = "forced by the test") -> None:
    """Make the native reader unavailable: the list comes through two dlvs."""
    def unavailable(self):
        raise NativeUnavailable(why)
        yield  # a generator, as pages() is

    monkeypatch.setattr(NativeListing, "pages", unavailable)


def shown_rows(backtrace) -> int:
    """The backtrace pane's rows: a frame each, and Go's `created by` last."""
    return len(backtrace.frames) + (backtrace.created_by is not None)
