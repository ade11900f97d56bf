"""`make bench` (heap): the typed heap histogram, the dominator tree, retained sizes and leak
suspects against goref, same cores, same run.

Cores: bench/heap_service (a map of sessions with children and []byte, a
long linked list, 4 KiB blobs, 16 MiB pointer arrays) at three sizes
(--scales, default 0.1, 0.3, 1: about 1.2 GB live in 11.6M objects at 1),
built optimized with the machine's Go and crashed once, cached under
build/bench-heap/. goref (cloudwego/goref) is built from a checkout of its
snapshot under build/ (never committed: pass --goref-src, default
build/goref-src) as build/bench-heap/grf.

For each core: our reader (`read_heap`, in a process of its own: open the
core, every object, the pointer graph, reachability, the dominator tree
and every retained size, types, the roots and the leak suspects, the
reconciliation) and `grf core EXE CORE` (a process of its own, in a
scratch directory: it writes grf.out there), each timed from process
start to exit with its peak RSS (wait4), the ratio of the times, and the
cost per object of each.

    python bench/heap.py [--scales 0.1,0.3,1] [--no-goref]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tui.cli.corerun import build, crash, find_go, go_env  # noqa: E402

BUILD = ROOT / "build" / "bench-heap"
SERVICE = ROOT / "bench" / "heap_service"
GOREF = BUILD / "grf"

_OURS = """
import json, sys, time
started = time.perf_counter()
from tui.corefile.native import NativeCore
from tui.corefile.heap import read_heap
from tui.analysis.heapview import suspect_lines
native = NativeCore.open(sys.argv[1], sys.argv[2])
reading = read_heap(native)
print(json.dumps({"objects": reading.objects, "bytes": reading.bytes, "reachable_objects": reading.reachable_objects,
                  "reachable_bytes": reading.reachable_bytes, "typed_share": reading.typed_share,
                  "mismatches": [c.describe() for c in reading.mismatches], "stages": reading.stages,
                  "top": [(t.name, t.count, t.bytes) for t in reading.types[:6]],
                  "suspects": suspect_lines(reading),
                  "roots": [(r.label, r.retained) for r in reading.roots[:4]],
                  "inside_s": time.perf_counter() - started}))
"""


def service_core(scale: float) -> tuple[Path, Path, str]:
    out = BUILD / f"scale-{scale:g}"
    exe, core, stderr = out / "main", out / "core", out / "stderr"
    source = SERVICE / "main.go"
    if core.exists() and exe.exists() and stderr.exists() and core.stat().st_mtime > source.stat().st_mtime:
        return exe, core, stderr.read_text()
    out.mkdir(parents=True, exist_ok=True)
    build(SERVICE, out)
    result = crash(exe, out, args=(f"-scale={scale:g}",), timeout=900)
    if result.core != core:
        result.core.rename(core)
    stderr.write_text(result.stderr)
    return exe, core, result.stderr


def goref_binary(source: Path) -> Path | None:
    if GOREF.exists():
        return GOREF
    if not (source / "cmd" / "grf").is_dir():
        return None
    BUILD.mkdir(parents=True, exist_ok=True)
    env = dict(go_env(), GOTOOLCHAIN="auto")
    subprocess.run([find_go(), "build", "-o", str(GOREF), "./cmd/grf"], cwd=source, env=env, check=True)
    return GOREF


def timed(command: list[str], cwd: Path) -> tuple[float, int, str, int]:
    """(seconds, peak RSS in bytes, stdout, exit status) of one process."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text = out.read().decode("utf-8", "replace")
        if process.returncode:
            text += err.read().decode("utf-8", "replace")[-2000:]
    return seconds, usage.ru_maxrss * 1024, text, process.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="0.1,0.3,1")
    parser.add_argument("--goref-src", default=str(ROOT / "build" / "goref-src"))
    parser.add_argument("--no-goref", action="store_true")
    args = parser.parse_args()
    scales = [float(s) for s in args.scales.split(",") if s]
    grf = None if args.no_goref else goref_binary(Path(args.goref_src))
    if grf is None and not args.no_goref:
        print(f"goref: no checkout at {args.goref_src} (a checkout of cloudwego/goref's snapshot); "
              "run with --no-goref to time ours alone", file=sys.stderr)
        return 2
    go = subprocess.run([find_go(), "version"], capture_output=True, text=True).stdout.strip()
    print(f"# heap: gocore-tui read_heap vs goref, {platform.machine()}, {os.cpu_count()} CPUs, {go}, "
          f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}")
    header = ("| live (runtime) | objects | ours | goref | ratio | ours peak RSS | goref peak RSS | ours µs/object "
              "| goref µs/object | typed share | reconciliation |")
    print(header)
    print("| --- " * (header.count("|") - 1) + "|")
    details = []
    for scale in scales:
        exe, core, stderr = service_core(scale)
        runtime_line = next((line for line in stderr.splitlines() if line.startswith("memstats:")), "")
        seconds, rss, text, status = timed([sys.executable, "-c", _OURS, str(exe), str(core)], ROOT)
        if status:
            print(f"ours failed on {core}: {text[-1500:]}", file=sys.stderr)
            return 1
        ours = json.loads(text.strip().splitlines()[-1])
        g_seconds = g_rss = None
        if grf is not None:
            with tempfile.TemporaryDirectory(dir=BUILD) as scratch:
                g_seconds, g_rss, g_text, g_status = timed([str(grf), "core", str(exe), str(core)], Path(scratch))
                if g_status:
                    print(f"goref failed on {core}: {g_text[-1500:]}", file=sys.stderr)
                    g_seconds = g_rss = None
        n = ours["objects"]
        live = int(runtime_line.split("alloc=")[1].split()[0]) if "alloc=" in runtime_line else ours["bytes"]
        ratio = f"{seconds / g_seconds:.2f}x" if g_seconds else "—"
        print(f"| {live / 1e6:,.0f} MB | {n:,} | {seconds:.1f} s | {f'{g_seconds:.1f} s' if g_seconds else '—'} "
              f"| {ratio} | {rss / 1e6:,.0f} MB | {f'{g_rss / 1e6:,.0f} MB' if g_rss else '—'} "
              f"| {seconds / n * 1e6:.2f} | {f'{g_seconds / n * 1e6:.2f}' if g_seconds else '—'} "
              f"| {ours['typed_share']:.0%} | {'agrees' if not ours['mismatches'] else '; '.join(ours['mismatches'])} |")
        details.append((scale, runtime_line, ours))
    print()
    for scale, runtime_line, ours in details:
        stages = ", ".join(f"{name} {s:.1f}s" for name, s in ours["stages"])
        print(f"- scale {scale:g}: {runtime_line}; ours {ours['objects']:,} objects, {ours['bytes']:,} B, "
              f"reachable {ours['reachable_objects']:,}; stages: {stages}")
        print(f"  top: " + "; ".join(f"{name} {count:,} ({size / 1e6:.0f} MB)" for name, count, size in ours["top"]))
        print(f"  roots: " + "; ".join(f"{label} retains {size / 1e6:.1f} MB" for label, size in ours["roots"]))
        for suspect in ours["suspects"]:
            print(f"  suspect: {suspect}")
    print("- ours: a fresh Python process: open the core, read every object and pointer, reachability, the dominator "
          "tree and retained sizes, types, roots, leak suspects, reconciliation; goref: `grf core EXE CORE` "
          "(writes grf.out); times from process start to exit.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
