"""Measure the real TUI on one core, headless, in a process of its own.

    python bench/probe.py EXE CORE [--presses 50] [--no-heap]

Prints one JSON object: seconds from launch (Delve.open) to the first
useful screen, to the full goroutine list, to what every goroutine waits on,
the TUI process's peak RSS, and
keypress-to-panes-updated latencies for u/d and for a goroutine switch.
Run as its own process so that its peak RSS is the TUI's alone (dlv is a
separate process and is not counted). --no-heap: as `gocore-tui --no-heap`,
the heap is not read behind the goroutines (its reading would share the
CPUs and the RSS with what is timed here).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.rawdlv import peak_rss_mb  # noqa: E402
from tui.app import GocoreApp  # noqa: E402
from tui.cli.tuning import freeze_long_lived, tune_process  # noqa: E402
from tui.core.backend import DelveBackend  # noqa: E402
from tui.debugger.delve import Delve  # noqa: E402

POLL = 0.002


async def _until(predicate, timeout: float) -> float:
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise TimeoutError("the TUI did not get there in time")
        await asyncio.sleep(POLL)
    return time.monotonic()


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


async def probe(executable: str, core: str, presses: int, heap: bool = True) -> dict:
    launched = time.monotonic()
    delve = Delve.open(executable, core)
    # gdb is left out: it runs once beside the first screen and would blur
    # the list and navigation timings, which are Delve's path.
    # As the CLI starts it: the same process tuning, the same backend.
    tune_process()
    app = GocoreApp(lambda: DelveBackend(delve), title_paths=(executable, core), compare_with_gdb=False,
                    on_settled=freeze_long_lived, read_heap_behind=heap)
    result: dict = {}
    async with app.run_test(size=(200, 50)) as pilot:
        first = await _until(lambda: app.first_screen_ready, 120)
        result["first_screen_s"] = first - launched
        full = await _until(lambda: app.goroutines_complete, 900)
        result["full_list_s"] = full - launched
        result["goroutines"] = len(app.store)
        # Whole stacks come after the list; navigation is measured once
        # they are in, so the two do not blur each other.
        stacks = await _until(lambda: app.stacks_complete, 1800)
        result["stack_groups_s"] = stacks - launched
        # What they wait on is read after the list, from the core file.
        waits = await _until(lambda: app.waits_complete, 1800)
        result["waits_s"] = waits - launched

        async def press(key: str) -> float:
            """Key handled -> source and variables redrawn, as the app timed
            it (Pilot's own wait for idle after a press is not the app's)."""
            before = app.panes_updated
            await pilot.press(key)
            await _until(lambda: app.panes_updated > before, 30)
            await pilot.pause()
            return (app.updated_at - app.navigated_at) * 1000

        navigation = []
        for i in range(presses):
            navigation.append(await press("u" if i % 2 == 0 else "d"))
        result["nav_ms_median"] = statistics.median(navigation)
        result["nav_ms_p95"] = _percentile(navigation, 0.95)

        switches = []
        targets = app.store.switch_targets() or [app.goroutine_id]
        for i in range(presses):
            before = app.panes_updated
            app.select_goroutine(targets[i % len(targets)])
            await _until(lambda: app.panes_updated > before, 30)
            await pilot.pause()
            switches.append((app.updated_at - app.navigated_at) * 1000)
        result["switch_ms_median"] = statistics.median(switches)
        result["switch_ms_p95"] = _percentile(switches, 0.95)
        await pilot.press("q")
    delve.close()
    result["tui_peak_rss_mb"] = peak_rss_mb(os_pid())
    return result


def os_pid() -> int:
    import os

    return os.getpid()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("executable")
    parser.add_argument("core")
    parser.add_argument("--presses", type=int, default=50)
    parser.add_argument("--no-heap", dest="heap", action="store_false")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(probe(args.executable, args.core, args.presses, args.heap))))


if __name__ == "__main__":
    main()
