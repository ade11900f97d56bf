"""Reviewed pictures of the screens (snapshots/), from recorded sessions.

A picture must be the same on every machine, so nothing in it may come from
this machine's Go, dlv or clock, nor from how fast it runs:

- dlv's answers are replayed from a session recorded by
  tests/record_transcript.py (tests/transcripts/), never asked of a live dlv;
- the native core reader (the app's default path: the goroutine list,
  whole stacks and what every goroutine waits on, read from the core file)
  reads the very executable and core that session was recorded on, kept
  xz-compressed in tests/data/recorded-cores/ (`record_transcript.py
  --with-core`): a core built here would differ with the machine's Go
  release and with the run (addresses, goroutine ids, timings). The core is
  unpacked with no file time, so the wait minutes are counted on the
  runtime's own last clock reading in the core, not on this machine's
  clock. deadlock_chan is the core kept: small (0.85 MB packed), and a
  deadlock whose explanation only the native reader gives;
- each picture is taken once the app has done what the test waits for (a
  message, a screen), and the test checks that state and the messages'
  order too, so a picture of a half-loaded screen fails, and not only by
  looking different.

What the pictures still take from the machine: the source origins of
runtime frames ("as built" where Go 1.26 is at /usr/local/go, as the
recordings' machine had it), as tests/test_app.py's screens do.
"""

from __future__ import annotations

import pytest

from rich.text import Text
from snapshot_app import RECORDED_BUILD_DIR, failing_app, natively_read_app, recorded_app, recorded_gdb_run
from textual.widgets import DataTable
from tui.messages import GdbFinished
from tui.model.heap import HeapState
from tui.screens.error import ErrorScreen
from tui.screens.help import HelpScreen
from tui.screens.memory import MemoryScreen
from tui.widgets.crash_summary import CrashSummary
from tui.widgets.row_table import RowTable
from waiting import until

pytestmark = pytest.mark.toolchain_independent

SIZE = (160, 45)


def _heap_settled(app) -> bool:
    """The heap read (in its own process) is done, or there is none to read."""
    status = app.heap_status
    return not status.available or status.state in (HeapState.READ, HeapState.FAILED)


async def _settled(pilot) -> None:
    """Everything loaded and every worker done; what they posted, handled."""
    app = pilot.app
    await until(pilot, lambda: app.first_screen_ready and app.goroutines_complete and app.stacks_complete
                and app.waits_complete and _heap_settled(app))
    await app.workers.wait_for_complete()
    await pilot.pause()


def assert_loaded_in_order_through_dlv(app) -> None:
    """The crash with its frame first, then (a recording has no core file to
    read waits from) that waits are not known, then the goroutine list in
    pages, then the whole stacks that regroup it."""
    messages = app.backend_messages
    assert messages[:2] == ["SnapshotLoaded", "GoroutinesRead.WaitsKnown"], messages
    done = messages.index("GoroutinesRead.ListDone")
    assert set(messages[2:done]) == {"GoroutinesRead.Listed"}, messages
    assert set(messages[done + 1:-1]) == {"GoroutinesRead.StacksRead"}, messages
    assert messages[-1] == "GoroutinesRead.StacksDone", messages


def assert_loaded_in_order_natively(app) -> None:
    """The crash with its frame first, then the goroutines with their whole
    stacks in pages from the core file (the last page says it is the last),
    then what they wait on: no second dlv, no fallback to dlv's listing.
    The heap, read in a process of its own, reports beside them: the
    runtime's figures first, then its progress, then the reading."""
    heap = [name for name in app.backend_messages if name.startswith("Heap")]
    assert heap[0] == "HeapFiguresRead" and heap[-1] == "HeapRead", heap
    assert set(heap[1:-1]) <= {"HeapProgressed"}, heap
    messages = [name for name in app.backend_messages if not name.startswith("Heap")]
    assert messages[0] == "SnapshotLoaded" and messages[-1] == "GoroutinesRead.WaitsKnown", messages
    assert set(messages[1:-2]) == {"GoroutinesRead.Listed"} and messages[-2] == "GoroutinesRead.ListDone", messages
    assert app.failures == []


def test_main_screen(snap_compare):
    app = recorded_app()

    async def settled_in_order(pilot) -> None:
        await _settled(pilot)
        assert_loaded_in_order_through_dlv(app)

    assert snap_compare(app, terminal_size=SIZE, run_before=settled_in_order)
    # the picture is the crash, not a half-loaded screen
    assert app.snapshot.crash.message == "PANIC"


def test_help_screen(snap_compare):
    app = recorded_app()

    async def open_help(pilot) -> None:
        await _settled(pilot)
        assert_loaded_in_order_through_dlv(app)
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.pause()
        listed = {key for key, _ in app.screen.bindings}
        assert {"u", "d", "g", "/", "c", "?", "q"} <= listed

    assert snap_compare(app, terminal_size=SIZE, run_before=open_help)


def test_error_screen(snap_compare):
    app = failing_app()

    async def settle(pilot) -> None:
        await until(pilot, lambda: isinstance(app.screen, ErrorScreen))
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=settle)
    assert app.backend_messages == []  # a failure is the worker's error, not a message
    assert app.failures == ["./core was not dumped by ./main: the executable's first page differs from the core's "
                            "copy; pass the exact binary that crashed, or --force to open anyway"]


def _tables_measured(screen) -> bool:
    """Every shown DataTable has sized its columns to its cells: a
    DataTable measures new rows when it is next idle, and under load the
    picture could be taken before (the cells cut at the headers' widths)."""
    for table in screen.query(DataTable):
        if not table.display:
            continue
        for key, column in table.columns.items():
            cells = (table.get_cell(row, key) for row in table.rows)
            widest = max((cell.cell_len if isinstance(cell, Text) else len(str(cell)) for cell in cells), default=0)
            if column.content_width < widest:
                return False
    return True


async def _comparison_with_gdb(pilot, app) -> None:
    """c, then gdb's recorded runs as the worker would post them, then
    Delve's values of the faulting frame in full (from the recording)."""
    await _settled(pilot)
    await pilot.press("c")
    app.post_message(GdbFinished(recorded_gdb_run("demo_checkout", app.snapshot.crash.frame)))
    await until(pilot, lambda: {"GdbFinished", "ComparisonValuesRead"} <= set(app.backend_messages))
    await app.workers.wait_for_complete()
    await until(pilot, lambda: _tables_measured(app.screen))
    assert app.backend_messages[-2:] == ["GdbFinished", "ComparisonValuesRead"], app.backend_messages


def test_comparison_screen(snap_compare):
    """The demo core's comparison, as `make demo` opens it."""
    app = recorded_app("demo_checkout")

    async def open_comparison(pilot) -> None:
        await _comparison_with_gdb(pilot, app)
        verdict = str(app.screen.query_one("#verdict").render())
        assert verdict.startswith("Delve wins 6 of 8 measures") and "(6/6 vs 4/6)" in verdict

    assert snap_compare(app, terminal_size=SIZE, run_before=open_comparison)


def test_comparison_goroutines_tab(snap_compare):
    """g: a worker parked on its channel picked; Delve's stack beside gdb's error."""
    app = recorded_app("demo_checkout")

    async def pick(pilot) -> None:
        await _comparison_with_gdb(pilot, app)
        await pilot.press("g", "down", "down", "down", "down", "down")
        view = app.screen.query_one("ComparisonView")
        await until(pilot, lambda: view.picked() is not None and view.picked().state == "chan receive")
        await until(pilot, lambda: _tables_measured(app.screen))
        picked = view.picked()
        assert picked.gdb.error and not picked.gdb_whole

    assert snap_compare(app, terminal_size=SIZE, run_before=pick)


# The native core reader on (the default path), on the kept deadlock_chan core.

EVERYONE_WAITS = ("everyone waits:\n"
                  "  5 goroutines send to chan int results (2/2, full) in main.main; none receives\n"
                  "  1 goroutine waits on sync.WaitGroup wg (counter 5) in main.main")


@pytest.fixture
def deadlock_read_natively(tmp_path, monkeypatch):
    """The app on the kept deadlock_chan core, run from the folder it is unpacked in."""
    monkeypatch.chdir(tmp_path)
    return natively_read_app("deadlock_chan", tmp_path)


async def _settled_natively(pilot) -> None:
    await _settled(pilot)
    assert_loaded_in_order_natively(pilot.app)


def test_main_screen_read_natively(snap_compare, deadlock_read_natively):
    """The deadlock explained from the core: who waits on what."""
    app = deadlock_read_natively

    async def settled(pilot) -> None:
        await _settled_natively(pilot)
        summary = str(app.query_one(CrashSummary).render())
        assert summary.startswith("fatal error: all goroutines are asleep - deadlock!\n")
        # The frame as the recorded binary records it: where it was built.
        assert f"showing goroutine 1  at {RECORDED_BUILD_DIR}/deadlock_chan/main.go:23 main.main" in summary
        assert summary.endswith(EVERYONE_WAITS)
        assert len(app.store.index) == 9

    assert snap_compare(app, terminal_size=SIZE, run_before=settled)


def test_goroutines_by_what_they_wait_on_read_natively(snap_compare, deadlock_read_natively):
    """w: the goroutines grouped by the object they wait on, from the core."""
    app = deadlock_read_natively

    async def by_waits(pilot) -> None:
        await _settled_natively(pilot)
        goroutines = app.query_one("#goroutines")
        await pilot.press("w")
        await until(pilot, lambda: "by what they wait on" in goroutines.border_title)
        await pilot.pause()
        assert goroutines.border_title.startswith("Goroutines 9 by what they wait on: 2 objects")

    assert snap_compare(app, terminal_size=SIZE, run_before=by_waits)


def test_memory_screen(snap_compare):
    """m on a synthetic heap (tests/fake_heap.py): the runtime's figures and
    ours, the types by bytes, a type's objects, the biggest one's value."""
    from fake_heap import FakeHeap

    heap = FakeHeap()
    app = recorded_app(open_heap=lambda target: heap)

    async def open_memory(pilot) -> None:
        await _settled(pilot)
        assert app.heap_status.reading is not None
        assert app.backend_messages[-1] == "HeapRead", app.backend_messages
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, MemoryScreen))
        await pilot.press("enter")
        instances = app.screen.query_one("#instances", RowTable)
        await until(pilot, lambda: instances.row_count > 0)
        await pilot.press("enter")
        await until(pilot, lambda: app.screen.value is not None and app.screen.path is not None)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert heap.values, "the object's value was asked for"

    assert snap_compare(app, terminal_size=SIZE, run_before=open_memory)
