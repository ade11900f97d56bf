"""The heap in the TUI on real cores of both toolchains: the reader's own
process (tui/core/heap.py: the runtime's figures at once, the reading
handed back whole, a stop that ends it at once and leaves nothing), the
first screen's line and the Memory screen on tests/fixtures/heap_types
with the real dlv, and --no-heap."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from test_app import running, summary, until
from test_cli import dlv_processes_for
from tui.core.heap import NativeHeap
from tui.corefile.errors import Stopped
from tui.analysis.heapview import count_text, size_text
from tui.corefile.heap import read_heap_of
from tui.model.heap import HeapState
from tui.screens.memory import MemoryScreen
from tui.widgets.row_table import RowTable
from tui.widgets.variables_view import VariablesView

pytestmark = pytest.mark.e2e

PYTHON = Path(sys.executable).name


def heap_children(core: Path) -> list[int]:
    return dlv_processes_for(core, names=(PYTHON,))


def test_the_heap_process_hands_back_the_whole_reading(fixture_core):
    core = fixture_core("heap_types")
    heap = NativeHeap(str(core.exe), str(core.core))
    try:
        figures = heap.figures()
        steps = []
        reading = heap.read(steps.append)
        direct = read_heap_of(str(core.exe), str(core.core))
        assert figures.heap_alloc == direct.runtime.heap_alloc and figures.heap_objects == direct.runtime.heap_objects
        assert steps[-1].stage == "done" and steps[-1].done == direct.objects
        assert (reading.objects, reading.reachable_bytes) == (direct.objects, direct.reachable_bytes)
        assert [(t.name, t.count, t.bytes, t.die) for t in reading.types] == \
            [(t.name, t.count, t.bytes, t.die) for t in direct.types]
        row = reading.row_of("main.Token")
        assert reading.instances(row, 3) == direct.instances(row, 3)
        token = reading.types[row]
        address, size, _ = reading.instances(row, 1)[0]
        value = heap.value("token", address, token.die, size)
        assert [child.name for child in value.children] == ["id", "owner", "scope"]
        assert value.children[2].value.startswith('"') and value.children[1].value.startswith("(*main.Session)")
        assert not heap_children(core.core)
    finally:
        heap.close()


def test_stopping_a_read_ends_its_process_at_once(fixture_core):
    core = fixture_core("heap_types")
    heap = NativeHeap(str(core.exe), str(core.core))
    started = threading.Event()
    outcome = []

    def read() -> None:
        try:
            heap.read(lambda step: started.set())
        except Stopped:
            outcome.append("stopped")

    thread = threading.Thread(target=read)
    thread.start()
    assert started.wait(60)
    heap.stop()
    thread.join(10)
    assert not thread.is_alive() and outcome == ["stopped"]
    assert not heap_children(core.core)
    heap.close()


async def test_the_first_screen_and_the_memory_screen_on_a_real_core(fixture_core):
    core = fixture_core("heap_types")
    async with running(core, ready=lambda app: app.first_screen_ready
                       and app.heap_status.state in (HeapState.READ, HeapState.FAILED)) as (app, pilot):
        status = app.heap_status
        assert status.state is HeapState.READ, status.failure
        reading = status.reading
        assert not reading.mismatches
        line = next(line for line in summary(app).splitlines() if line.startswith("heap "))
        assert line == (f"heap {size_text(reading.bytes)} in {count_text(reading.objects)} objects "
                        f"(runtime: {size_text(reading.runtime.heap_alloc)}) · m: memory")
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, MemoryScreen))
        types = app.screen.query_one("#types", RowTable)
        await until(pilot, lambda: types.row_count == len(reading.types))
        session = reading.row_of("main.Session")
        assert types.cells_of(session)[:4] == ("main.Session", "1,000", "80.0 kB", "80 B")
        await pilot.press("slash", *"main.tok", "enter")
        await until(pilot, lambda: app.screen.type_filter == "main.tok")
        names = [reading.types[key].name for key in types.keys]
        assert "main.Token" in names and all("main.Token" in name for name in names), names
        types.move_cursor(types.row_of(reading.row_of("main.Token")))
        await pilot.press("enter")
        objects = app.screen.query_one("#instances", RowTable)
        await until(pilot, lambda: objects.row_count == 50)
        assert objects.border_title == "Objects of main.Token: 50"
        await pilot.press("enter")
        value = app.screen.query_one(VariablesView)
        await until(pilot, lambda: any(line.startswith("scope = \"") for line in value.labels()))
        assert any(line.startswith("id = ") for line in value.labels())
    assert not heap_children(core.core)


def test_no_heap_leaves_the_heap_out_of_the_report(fixture_core, dlv_path, tmp_path):
    core = fixture_core("heap_types")
    command = [sys.executable, "-m", "tui", "--dlv", str(dlv_path), "--no-gdb", str(core.exe), str(core.core)]
    done = subprocess.run(command + ["--report", "json", "--no-heap"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["heap"] is None
    done = subprocess.run(command + ["--heap-pprof", str(tmp_path / "p.pb.gz"), "--no-heap"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2 and done.stderr == "gocore-tui: --heap-pprof writes the heap: drop --no-heap\n"
