"""The native core reader (tui/corefile) against raw `dlv core`, same cores, same run.

For each core of tests/fixtures/many_goroutines with N goroutines (built and
crashed once by bench/run.py's crowd_core, cached under build/bench/): raw
dlv's time from spawn to the answer of `goroutines` and its peak RSS; then,
in a process of its own, the native reader's time to read every goroutine,
unwind every whole stack and group them all by whole stack in a
GoroutineIndex, that process's peak RSS, and how many goroutines took
the careful path one by one (corefile/batch.py: on a thread at the crash,
or handed over by the batch walk). The native run is timed twice:
with the DWARF layout cache empty (cold) and filled (warm, what a second
open of the same binary costs).

    python bench/native_listing.py [--sizes 1000,10000,100000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def child(executable: str, core: str) -> None:
    """One native read, end to end; prints its figures as JSON."""
    started = time.monotonic()
    from tui.corefile.native import NativeCore
    from tui.analysis.groups import GoroutineIndex

    imported = time.monotonic()
    native = NativeCore.open(executable, core)
    opened = time.monotonic()
    pages = list(native.pages())
    listed = time.monotonic()
    index = GoroutineIndex(native.selected)
    for page in pages:
        index.add_table(page.table)
    buckets = index.buckets()
    grouped = time.monotonic()
    counts = native.batch.counts
    result = {
        "import_s": imported - started,
        "open_s": opened - imported,
        "listing_s": listed - opened,
        "group_s": grouped - listed,
        "native_s": grouped - imported,
        "goroutines": counts.goroutines - sum(len(page.why) for page in pages),
        "needs_dlv": sum(len(page.why) for page in pages),
        "careful": counts.careful,
        "on_thread": counts.on_thread,
        "alone": counts.alone,
        "buckets": len(buckets),
        "stacks": index.stacks_known,
        "places": native.names.places,
        "layouts_cached": native.layouts.from_cache,
        "peak_rss_mb": _peak_rss_mb(),
    }
    native.close()
    print(json.dumps(result))


def _peak_rss_mb(pid: int | str = "self") -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def native_run(executable: Path, core: Path, cache_home: str) -> dict:
    env = dict(os.environ, XDG_CACHE_HOME=cache_home, PYTHONPATH=str(ROOT))
    started = time.monotonic()
    result = subprocess.run([sys.executable, __file__, "--child", str(executable), str(core)],
                            capture_output=True, text=True, timeout=3600, env=env, cwd=ROOT)
    wall = time.monotonic() - started
    if result.returncode != 0:
        raise SystemExit(f"native read failed on {core}:\n{result.stderr[-3000:]}")
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    figures["wall_s"] = wall
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--child", nargs=2, metavar=("EXE", "CORE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    from bench.rawdlv import raw_dlv
    from bench.run import crowd_core, machine

    print(f"machine: {machine()}")
    rows = []
    for size in (int(n) for n in args.sizes.split(",")):
        exe, core = crowd_core(size)
        raw = raw_dlv(str(exe), str(core), ["goroutines"])
        with tempfile.TemporaryDirectory(prefix="gocore-bench-cache-") as cache_home:
            cold = native_run(exe, core, cache_home)
            warm = native_run(exe, core, cache_home)
        rows.append((size, core.stat().st_size, raw, cold, warm))
        print(f"measured {size:,}: raw dlv {raw.seconds:.2f}s {raw.peak_rss_mb:.0f} MB; native warm "
              f"{warm['native_s']:.2f}s (wall {warm['wall_s']:.2f}s) {warm['peak_rss_mb']:.0f} MB, "
              f"cold {cold['native_s']:.2f}s", flush=True)
    header = ("goroutines", "core", "raw dlv `goroutines`", "dlv peak RSS", "native: read+unwind+group (warm)",
              "vs raw", "process wall (warm)", "vs raw", "cold (no layout cache)", "native peak RSS", "vs dlv",
              "needs dlv", "careful path (on a thread / alone)", "stack groups")
    print()
    print("| " + " | ".join(header) + " |")
    print("|" + " --- |" * len(header))
    for size, core_bytes, raw, cold, warm in rows:
        print("| " + " | ".join([
            f"{size:,} ({warm['goroutines'] + warm['needs_dlv']:,} listed)",
            f"{core_bytes / 2**20:,.0f} MB",
            f"{raw.seconds:.2f} s",
            f"{raw.peak_rss_mb:.0f} MB",
            f"{warm['native_s']:.2f} s",
            f"{warm['native_s'] / raw.seconds:.2f}x",
            f"{warm['wall_s']:.2f} s",
            f"{warm['wall_s'] / raw.seconds:.2f}x",
            f"{cold['native_s']:.2f} s",
            f"{warm['peak_rss_mb']:.0f} MB",
            f"{warm['peak_rss_mb'] / raw.peak_rss_mb:.2f}x",
            f"{warm['needs_dlv']}",
            f"{warm['careful']} ({warm['on_thread']} / {warm['alone']})",
            f"{warm['buckets']}",
        ]) + " |")


if __name__ == "__main__":
    main()
