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
        # the crash with its frame first, then (a recording has no core file
        # to read waits from) that waits are not known, then the goroutine
        # list in pages, then the whole stacks that regroup it
        messages = app.backend_messages
        assert messages[:2] == ["SnapshotLoaded", "GoroutinesRead.WaitsKnown"], messages
        done = messages.index("GoroutinesRead.ListDone")
        assert set(messages[2:done]) == {"GoroutinesRead.Listed"}, messages
        assert set(messages[done + 1:-1]) == {"GoroutinesRead.StacksRead"}, messages
        assert messages[-1] == "GoroutinesRead.StacksDone", messages

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
    """The demo core's comparison, as `make demo` opens it: gdb's recorded
    runs arrive as the worker would post them, then Delve prints the
    faulting frame's values in full (from the recorded session)."""
    from snapshot_app import recorded_gdb_run
    from tui.messages import GdbFinished

    app = recorded_app("demo_checkout")

    async def open_comparison(pilot) -> None:
        await _settled(pilot)
        await pilot.press("c")
        app.post_message(GdbFinished(recorded_gdb_run("demo_checkout", app.snapshot.crash.frame)))
        await pilot.pause(0.2)
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
        assert app.backend_messages[-2:] == ["GdbFinished", "ComparisonValuesRead"], app.backend_messages
        verdict = str(app.screen.query_one("#verdict").render())
        assert verdict.startswith("Delve wins 6 of 8 measures") and "(6/6 vs 4/6)" in verdict

    assert snap_compare(app, terminal_size=SIZE, run_before=open_comparison)


def test_comparison_goroutines_tab(snap_compare):
    """g: a worker parked on its channel picked; Delve's stack beside gdb's error."""
    from snapshot_app import recorded_gdb_run
    from tui.messages import GdbFinished

    app = recorded_app("demo_checkout")

    async def pick(pilot) -> None:
        await _settled(pilot)
        await pilot.press("c")
        app.post_message(GdbFinished(recorded_gdb_run("demo_checkout", app.snapshot.crash.frame)))
        await pilot.pause(0.2)
        await app.workers.wait_for_complete()
        await pilot.press("g", "down", "down", "down", "down", "down")
        await pilot.pause(0.2)
        picked = app.screen.query_one("ComparisonView").picked()
        assert picked.state == "chan receive" and picked.gdb.error and not picked.gdb_whole

    assert snap_compare(app, terminal_size=SIZE, run_before=pick)


def test_memory_screen(snap_compare):
    """m on a synthetic heap (tests/fake_heap.py): the runtime's figures and
    ours, the types by bytes, a type's objects, the biggest one's value."""
    from fake_heap import FakeHeap

    heap = FakeHeap()
    app = recorded_app(open_heap=lambda target: heap)

    async def open_memory(pilot) -> None:
        await _settled(pilot)
        while app.heap_status.reading is None:
            await pilot.pause(0.02)
        assert app.backend_messages[-1] == "HeapRead", app.backend_messages
        await pilot.press("m")
        await pilot.pause(0.1)
        await pilot.press("enter")
        await pilot.pause(0.1)
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
        assert heap.values, "the object's value was asked for"

    assert snap_compare(app, terminal_size=SIZE, run_before=open_memory)
