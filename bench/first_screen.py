"""The first-screen figures, on the seed core (the Korean article's example).

    python bench/first_screen.py [--runs 5]

1. launch of the installed gocore-tui in a pty (200x50) until the screen
   shows the marked faulting line and that frame's variables;
2. raw `dlv core` in a pty: spawn, `goroutines`, `bt`, `frame N list`
   (what a developer types to see the same thing);
3. one `u` keypress until source and variables are redrawn (median of 20).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.launch import launch_to_first_screen  # noqa: E402
from bench.probe import probe  # noqa: E402
from bench.rawdlv import raw_dlv  # noqa: E402
from bench.run import seed_core  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    exe, core = seed_core()
    screen = [launch_to_first_screen(exe, core) for _ in range(args.runs)]
    crash_frame = 8  # main.main.func1 in the seed core's crashing goroutine
    raw = [raw_dlv(str(exe), str(core), ["goroutines", "bt", f"frame {crash_frame} list"]).seconds
           for _ in range(args.runs)]
    nav = asyncio.run(probe(str(exe), str(core), presses=20))
    print(f"seed core: {exe}")
    print(f"gocore-tui launch -> first complete screen: median {statistics.median(screen):.3f} s "
          f"(runs: {', '.join(f'{x:.3f}' for x in screen)})")
    print(f"raw dlv core + goroutines + bt + frame {crash_frame} list: median {statistics.median(raw):.3f} s "
          f"(runs: {', '.join(f'{x:.3f}' for x in raw)})")
    print(f"first screen vs raw dlv: {statistics.median(screen) / statistics.median(raw):.2f}x")
    print(f"u/d keypress -> source and variables updated: median {nav['nav_ms_median']:.1f} ms "
          f"(p95 {nav['nav_ms_p95']:.1f} ms, 20 presses)")


if __name__ == "__main__":
    main()
