"""`make bench`: gocore-tui against raw `dlv core` on the same cores, same run.

Cores: the 6-goroutine seed example and tests/fixtures/many_goroutines run
with 1k, 10k and 100k goroutines (built with -N -l, crashed with GOTRACEBACK=crash, cached under
build/bench/). For each core it prints raw dlv's time to list every
goroutine and its peak RSS; the TUI's (bench/probe.py, a process of its
own, the heap not read behind, as with --no-heap) time from Delve.open to
the first useful screen, to the full grouped list, to the groups by whole
stack, to what every goroutine waits on, its peak RSS, and keypress-to-panes
latencies (measured once all of that is in); the
time of `gocore-tui EXE CORE --report json` from process start to the
report written (every goroutine, the groups by whole stack, the waits),
without the heap and with it; the installed gocore-tui's first screen from
process launch, in a pty; how many goroutines took the careful path one by
one (bench/native_listing.py's run); then the ratios the targets are in.

    python bench/run.py [--sizes 1000,10000,100000,1000000] [--presses 50]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.launch import launch_to_first_screen  # noqa: E402
from bench.native_listing import native_run  # noqa: E402
from bench.rawdlv import raw_dlv  # noqa: E402
from tui.cli.corerun import build, crash  # noqa: E402

BUILD = ROOT / "build" / "bench"
CROWD = ROOT / "tests" / "fixtures" / "many_goroutines"


def crowd_core(size: int) -> tuple[Path, Path]:
    out = BUILD / f"crowd-{size}"
    exe, core = out / "main", out / "core"
    if core.exists() and exe.exists() and core.stat().st_mtime > (CROWD / "main.go").stat().st_mtime:
        return exe, core
    out.mkdir(parents=True, exist_ok=True)
    build(CROWD, out)
    # Go prints every goroutine as it dies: a million take minutes on a busy machine.
    found = crash(exe, out, args=(str(size),), timeout=max(300, size // 500)).core
    if found != core:
        found.rename(core)
    return exe, core


def seed_core() -> tuple[Path, Path]:
    out = BUILD / "seed"
    exe, core = out / "main", out / "core"
    if not core.exists():
        out.mkdir(parents=True, exist_ok=True)
        build(ROOT / "tests" / "fixtures" / "goroutine_panic", out)
        found = crash(exe, out).core
        if found != core:
            found.rename(core)
    return exe, core


def probe(exe: Path, core: Path, presses: int) -> dict:
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "probe.py"), str(exe), str(core),
                             "--presses", str(presses), "--no-heap"], capture_output=True, text=True, timeout=1800, cwd=ROOT)
    if result.returncode != 0:
        raise SystemExit(f"probe failed on {core}:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def report_seconds(exe: Path, core: Path, heap: bool = True) -> float:
    """`gocore-tui EXE CORE --report json --no-gdb` (heap False: without the
    heap), process start to the report written."""
    command = [sys.executable, "-m", "tui", str(exe), str(core), "--report", "json", "--no-gdb"]
    if not heap:
        command.append("--no-heap")
    started = time.monotonic()
    result = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=3600,
                            cwd=ROOT)
    seconds = time.monotonic() - started
    if result.returncode != 0:
        raise SystemExit(f"--report json failed on {core}:\n{result.stderr[-2000:]}")
    return seconds


def cache_home() -> str:
    """This user's cache (the DWARF layouts the TUI's runs filled): the native run is a warm one."""
    return os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")


def machine() -> str:
    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{platform.machine()}, {os.cpu_count()} CPUs ({cpu}), {memory:.0f} GiB, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default=os.environ.get("SIZES") or "1000,10000,100000")
    parser.add_argument("--presses", type=int, default=50)
    parser.add_argument("--no-heap-report", dest="heap_report", action="store_false",
                        help="time --report json without the heap only")
    args = parser.parse_args()
    cores = [("seed (6)", *seed_core())] + [(f"{int(n):,}", *crowd_core(int(n))) for n in args.sizes.split(",")]
    print(f"machine: {machine()}")
    rows = []
    for label, exe, core in cores:
        raw = raw_dlv(str(exe), str(core), ["goroutines"])
        tui = probe(exe, core, args.presses)
        tui["report_s"] = report_seconds(exe, core, heap=False)
        tui["report_heap_s"] = report_seconds(exe, core, heap=True) if args.heap_report else None
        tui["launch_s"] = launch_to_first_screen(exe, core, source_marker=None)
        tui["native"] = native_run(exe, core, cache_home())
        rows.append((label, raw, tui))
        print(f"measured {label}: raw dlv {raw.seconds:.2f}s, TUI first screen {tui['first_screen_s']:.2f}s", flush=True)
    seed_first = rows[0][2]["first_screen_s"]
    header = ("goroutines", "raw dlv goroutines", "first screen from launch", "TUI first screen", "vs raw", "vs seed",
              "full grouped list", "vs raw", "µs a goroutine", "grouped by whole stack", "vs raw", "waits read",
              "--report json (no heap)", "vs raw", "--report json (heap)", "vs raw", "TUI peak RSS", "dlv peak RSS",
              "vs dlv", "u/d p50/p95 ms", "switch p50/p95 ms", "careful path")
    print()
    print("| " + " | ".join(header) + " |")
    print("|" + " --- |" * len(header))
    for label, raw, tui in rows:
        print("| " + " | ".join([
            f"{label} ({tui['goroutines']:,} listed)",
            f"{raw.seconds:.2f} s",
            f"{tui['launch_s']:.2f} s",
            f"{tui['first_screen_s']:.2f} s",
            f"{tui['first_screen_s'] / raw.seconds:.2f}x",
            f"{tui['first_screen_s'] / seed_first:.2f}x",
            f"{tui['full_list_s']:.2f} s",
            f"{tui['full_list_s'] / raw.seconds:.2f}x",
            f"{tui['full_list_s'] / tui['goroutines'] * 1e6:.1f}",
            f"{tui['stack_groups_s']:.2f} s",
            f"{tui['stack_groups_s'] / raw.seconds:.2f}x",
            f"{tui['waits_s']:.2f} s",
            f"{tui['report_s']:.2f} s",
            f"{tui['report_s'] / raw.seconds:.2f}x",
            f"{tui['report_heap_s']:.2f} s" if tui["report_heap_s"] is not None else "—",
            f"{tui['report_heap_s'] / raw.seconds:.2f}x" if tui["report_heap_s"] is not None else "—",
            f"{tui['tui_peak_rss_mb']:.0f} MB",
            f"{raw.peak_rss_mb:.0f} MB",
            f"{tui['tui_peak_rss_mb'] / raw.peak_rss_mb:.2f}x",
            f"{tui['nav_ms_median']:.1f} / {tui['nav_ms_p95']:.1f}",
            f"{tui['switch_ms_median']:.1f} / {tui['switch_ms_p95']:.1f}",
            f"{tui['native']['careful']} of {tui['native']['goroutines'] + tui['native']['needs_dlv']:,}",
        ]) + " |")


if __name__ == "__main__":
    main()
