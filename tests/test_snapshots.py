"""Reviewed pictures of the screens (snapshots/), from a recorded session."""

from __future__ import annotations

import time

import pytest

from snapshot_app import failing_app, recorded_app

pytestmark = pytest.mark.toolchain_independent

SIZE = (160, 45)


async def _settled(pilot) -> None:
    app = pilot.app
    deadline = time.monotonic() + 30
    while not (app.first_screen_ready and app.goroutines_complete and app.stacks_complete):
        assert time.monotonic() < deadline, "the recorded app never settled"
        await pilot.pause(0.02)
    await app.workers.wait_for_complete()
    await pilot.pause(0.1)


def test_main_screen(snap_compare):
    app = recorded_app()

    async def settled_in_order(pilot) -> None:
        await _settled(pilot)
        # the crash with its frame first, then the goroutine list in pages,
        # then the whole stacks that regroup it
        messages = app.backend_messages
        assert messages[0] == "SnapshotLoaded", messages
        paged = messages.index("StacksPaged")
        assert set(messages[1:paged]) == {"GoroutinesPaged"} and set(messages[paged:]) == {"StacksPaged"}, messages

    assert snap_compare(app, terminal_size=SIZE, run_before=settled_in_order)
    # the picture is the crash, not a half-loaded screen
    assert app.snapshot.crash.message == "PANIC"


def test_help_screen(snap_compare):
    async def open_help(pilot) -> None:
        await _settled(pilot)
        await pilot.press("question_mark")
        await pilot.pause(0.1)

    assert snap_compare(recorded_app(), terminal_size=SIZE, run_before=open_help)


def test_error_screen(snap_compare):
    async def settle(pilot) -> None:
        await pilot.pause(0.3)

    app = failing_app()
    assert snap_compare(app, terminal_size=SIZE, run_before=settle)
    assert app.backend_messages == []  # a failure is the worker's error, not a message
    assert app.failures == ["./core was not dumped by ./main: the executable's first page differs from the core's "
                            "copy; pass the exact binary that crashed, or --force to open anyway"]


def test_comparison_screen(snap_compare):
    from snapshot_app import recorded_gdb_run

    app = recorded_app()

    async def open_comparison(pilot) -> None:
        await _settled(pilot)
        app.gdb_run = recorded_gdb_run()
        await pilot.press("c")
        await pilot.pause(0.2)
        assert "(Delve vs gdb)." in str(app.screen.query_one("#verdict").render())

    assert snap_compare(app, terminal_size=SIZE, run_before=open_comparison)
