"""The Memory screen's behaviour on a fake backend and a fake heap
(tests/fake_heap.py): no Go, no dlv, no core. When the heap is read, what
the first screen says meanwhile and after, the progress, stopping it by
leaving or quitting (never waiting for it), sorting, filtering with keys
typed ahead, a type's objects and an object's value. tests/test_memory.py
has the same screen on real cores."""

from __future__ import annotations

import pytest

from fake_backend import FakeBackend, World, source_file
from fake_heap import SESSION_ADDRESS, FakeHeap, synthetic_reading
from test_app_fake import everything_loaded, running, until
from tui.model.heap import HeapState
from tui.screens.memory import MemoryScreen
from tui.widgets.crash_summary import CrashSummary
from tui.widgets.row_table import RowTable
from tui.widgets.variables_view import VariablesView

pytestmark = pytest.mark.toolchain_independent


@pytest.fixture
def world(tmp_path) -> World:
    return World(str(source_file(tmp_path)))


def summary(app) -> str:
    return str(app.main.query_one(CrashSummary).render())


def heap_line(app) -> str:
    return next((line for line in summary(app).splitlines() if line.startswith("heap")), "")


def table(app, name: str) -> RowTable:
    return app.screen.query_one(f"#{name}", RowTable)


async def test_the_heap_is_read_after_the_list_and_the_summary_says_so(world):
    heap = FakeHeap(wait=True)
    async with running([FakeBackend(world)], open_heap=lambda target: heap) as (app, pilot):
        # the goroutine list came first; the heap read started behind it
        await until(pilot, lambda: heap.reading_now.is_set())
        assert app.goroutines_complete
        await until(pilot, lambda: "reading 25%" in heap_line(app))
        # the runtime's figures at once, before ours
        assert heap_line(app) == "heap 916 MB in 12.1M objects (runtime's figures) · reading 25% · m: memory"
        heap.gate.set()
        await until(pilot, lambda: app.heap_status.state is HeapState.READ)
        assert heap_line(app) == "heap 916 MB in 12.1M objects (runtime: 916 MB) · m: memory"
        assert heap.reads == 1


async def test_a_disagreement_with_the_runtime_is_flagged_on_both_screens(world):
    heap = FakeHeap(synthetic_reading(agree=False))
    async with running([FakeBackend(world)], open_heap=lambda target: heap) as (app, pilot):
        await until(pilot, lambda: app.heap_status.state is HeapState.READ)
        assert heap_line(app).endswith("⚠ disagrees with the runtime · m: memory")
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, MemoryScreen))
        header = str(app.screen.query_one("#memory-header").render())
        assert "⚠ objects: 12,073,795 counted, the runtime says 12,073,785 (+10)" in header


async def test_m_shows_progress_and_leaving_stops_the_read_and_m_reads_it_again(world):
    heap = FakeHeap(wait=True)
    async with running([FakeBackend(world)], open_heap=lambda target: heap) as (app, pilot):
        await until(pilot, lambda: heap.reading_now.is_set())
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, MemoryScreen))
        screen = app.screen
        assert screen.query_one("#memory-loading").display
        await until(pilot, lambda: "objects read: 3,018,446 of 12,073,785 objects · esc stops reading"
                    in str(screen.query_one("#memory-stage").render()))
        assert "runtime: 916 MB in 12,073,785 objects" in str(screen.query_one("#memory-header").render())
        assert not screen.check_action("sort", ())  # nothing to sort yet: greyed
        await pilot.press("escape")
        await until(pilot, lambda: app.heap_status.state is HeapState.STOPPED)
        assert heap.stopped.is_set()
        assert heap_line(app).endswith("· read stopped · m: memory")
        heap.gate.set()
        await pilot.press("m")
        await until(pilot, lambda: app.heap_status.state is HeapState.READ)
        assert heap.reads == 2
        assert table(app, "types").row_count == 6


async def test_q_while_the_heap_loads_quits_at_once(world):
    heap = FakeHeap(wait=True)
    async with running([FakeBackend(world)], open_heap=lambda target: heap) as (app, pilot):
        await until(pilot, lambda: heap.reading_now.is_set())
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, MemoryScreen))
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running)
    assert heap.closed and heap.stopped.is_set()


async def test_no_heap_reads_it_only_when_m_asks(world):
    heap = FakeHeap()
    async with running([FakeBackend(world)], open_heap=lambda target: heap, read_heap_behind=False) as (app, pilot):
        await pilot.pause(0.2)
        assert heap.reads == 0 and app.heap_status.state is HeapState.NOT_READ
        await pilot.press("m")
        await until(pilot, lambda: app.heap_status.state is HeapState.READ)
        assert heap.reads == 1


async def test_types_sort_filter_typed_ahead_objects_and_a_value(world):
    heap = FakeHeap()
    async with running([FakeBackend(world)], open_heap=lambda target: heap) as (app, pilot):
        await until(pilot, lambda: app.heap_status.state is HeapState.READ)
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, MemoryScreen) and table(app, "types").row_count)
        types = table(app, "types")
        reading = app.heap_status.reading
        names = lambda: [reading.types[key].name for key in types.keys]  # noqa: E731
        assert names()[:2] == ["main.Session", "[]uint8"]
        assert types.columns == ("type", "objects", "bytes", "avg", "share", "retained", "garbage")
        assert types.cells_of(0) == ("main.Session", "2,000,000", "192 MB", "96 B", "21%", "438 MB", "")
        assert types.cells_of(1)[-1] == "48.0 kB in 1,000"
        await pilot.press("s")  # by retained
        assert names()[0] == "map.group[int64]*main.Session" and "by retained" in types.border_title
        await pilot.press("s")  # by count
        assert names()[0] == "[]uint8" and "by count" in types.border_title
        await pilot.press("s", "s")  # by garbage bytes
        assert names()[0] == "(untyped, 32 B)"
        # typed in one burst: none lost, none run as the screen's keys
        await pilot.press("slash", *"session", "enter")
        await until(pilot, lambda: app.screen.type_filter == "session")
        assert names() == ["main.Session", "map.group[int64]*main.Session"]
        assert types.border_title == "Types: 2 of 6 · by garbage bytes  /session"
        # enter on a type: its objects, biggest first; enter on one: its value
        types.move_cursor(types.row_of(0))
        await pilot.press("enter")
        objects = table(app, "instances")
        await until(pilot, lambda: objects.row_count == 3)
        assert objects.border_title == "Objects of main.Session: biggest 3 of 2,000,000"
        assert objects.columns == ("object", "type", "size", "retains", "")
        assert objects.cells_of(objects.keys[0]) == (f"{SESSION_ADDRESS:#x}", "main.Session", "96 B", "192 B", "")
        assert app.screen.focused is objects
        await pilot.press("enter")  # its value, its path, what it holds
        value = app.screen.query_one(VariablesView)
        await until(pilot, lambda: any("user = \"ada\"" in line for line in value.labels()))
        assert heap.values == [(f"(main.Session) {SESSION_ADDRESS:#x}", SESSION_ADDRESS, 1, 96)]
        path = app.screen.query_one("#memory-path")
        await until(pilot, lambda: "[0] main.Session (96 B)" in str(path.render()))
        assert str(path.render()) == "path: main.registry → map[int64]*main.Session → [0] main.Session (96 B)"
        assert [objects.cells_of(k)[1] for k in objects.keys] == ["[]uint8", "main.Child"]
        assert objects.border_title.startswith(f"Held by main.Session at {SESSION_ADDRESS:#x} (retains 192 B")
        await pilot.press("backspace")  # up: what holds the session
        await until(pilot, lambda: objects.border_title.startswith("Held by map.group[int64]*main.Session"))
        assert [objects.cells_of(k)[1] for k in objects.keys] == ["main.Session"] * 3
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.main)
        assert app.heap_status.state is HeapState.READ  # leaving a read heap keeps it


async def test_the_memory_screen_lists_its_keys_in_help(world):
    heap = FakeHeap()
    async with running([FakeBackend(world)], open_heap=lambda target: heap) as (app, pilot):
        assert app.main.check_action("ask", ("memory",))
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, MemoryScreen))
        await pilot.press("question_mark")
        await until(pilot, lambda: type(app.screen).__name__ == "HelpScreen")
        keys = [key for key, _ in app.screen.bindings]
        assert keys[:3] == ["esc", "/", "s"]


async def test_without_a_core_file_there_is_no_heap_line_and_no_m(world):
    async with running([FakeBackend(world)], read_core_natively=False, ready=lambda app: app.first_screen_ready
                       and app.goroutines_complete) as (app, pilot):
        assert not app.main.check_action("ask", ("memory",))
        assert heap_line(app) == ""


async def test_roots_by_what_each_retains_and_a_goroutine_row_shows_it(world):
    from fake_heap import GOROUTINE_ID

    heap = FakeHeap()
    async with running([FakeBackend(world)], open_heap=lambda target: heap) as (app, pilot):
        await until(pilot, lambda: app.heap_status.state is HeapState.READ)
        await pilot.press("m", "r")
        left = table(app, "types")
        await until(pilot, lambda: left.border_title.startswith("Roots:"))
        reading = app.heap_status.reading
        labels = [reading.roots[key].label for key in left.keys]
        # a goroutine's frames sum into its own row: the local is not a row of its own
        assert labels == ["main.registry", f"goroutine {GOROUTINE_ID}", "(runtime)"]
        assert left.columns == ("root", "kind", "retains", "share")
        assert left.cells_of(left.keys[0])[:3] == ("main.registry", "global map[int64]*main.Session", "688 B")
        assert not app.screen.check_action("sort", ())
        await pilot.press("enter")  # a global: what it holds
        right = table(app, "instances")
        await until(pilot, lambda: right.border_title.startswith("Held by main.registry"))
        assert [right.cells_of(k)[1] for k in right.keys] == ["map.group[int64]*main.Session"]
        left.focus()
        left.move_cursor(1)
        await pilot.press("enter")  # a goroutine: it, on the first screen
        await until(pilot, lambda: app.screen is app.main and app.goroutine_id == GOROUTINE_ID)


async def test_from_the_first_screen_to_the_suspects_path_in_two_keys(world):
    heap = FakeHeap()
    async with running([FakeBackend(world)], open_heap=lambda target: heap) as (app, pilot):
        await until(pilot, lambda: app.heap_status.state is HeapState.READ)
        await pilot.press("m", "l")
        screen = app.screen
        await until(pilot, lambda: "path: main.registry → map[int64]*main.Session" in
                    str(screen.query_one("#memory-path").render()))
        header = str(screen.query_one("#memory-header").render())
        assert "suspect 1: main.registry retains 688 B (" in header
        right = table(app, "instances")
        assert right.border_title.startswith("suspect 1: main.registry retains 688 B")
        assert [right.cells_of(k)[1] for k in right.keys] == ["main.Session"] * 3


async def test_the_suspects_come_under_the_heaps_line_when_the_heap_is_the_story(world):
    from dataclasses import replace

    from fake_heap import FIGURES

    at_its_limit = replace(FIGURES, memory_limit=1_000_000_000)  # 940 MB of spans in use: 94%
    heap = FakeHeap(figures=at_its_limit)
    async with running([FakeBackend(world)], open_heap=lambda target: heap) as (app, pilot):
        await until(pilot, lambda: app.heap_status.state is HeapState.READ)
        lines = summary(app).splitlines()
        at = lines.index(heap_line(app))
        assert lines[at + 1].startswith("  leak suspect: main.registry retains 688 B (")
    quiet = FakeHeap()
    async with running([FakeBackend(world)], open_heap=lambda target: quiet) as (app, pilot):
        await until(pilot, lambda: app.heap_status.state is HeapState.READ)
        assert "leak suspect" not in summary(app)  # a panic, far from any limit: the heap is not the story
