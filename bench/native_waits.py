"""What the waits cost next to the native listing they follow.

For each core of tests/fixtures/many_goroutines with N goroutines (built
and crashed once by bench/run.py's crowd_core, cached under build/bench/:
4/7 of them receive on one channel, 2/7 sleep, 1/7 wait for one Mutex),
in a process of its own: the native listing's time (NativeCore.pages, its
stacks kept by id as the TUI keeps them),
then read_waits(native, listing)'s, both as CPU time of the process
(time.process_time: the machine's other load does not count) and wall
time, best of --repeat runs; and the split of the waits into reading
(WaitReader.read), naming (names.py) and the clock.

    python bench/native_waits.py [--sizes 1000,10000,100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def child(executable: str, core: str, repeat: int) -> None:
    from tui.corefile.names import Namer
    from tui.corefile.native import Listing, NativeCore
    from tui.model.table import StacksById
    from tui.corefile.waits import WaitReader, read_clock, read_waits

    native = NativeCore.open(executable, core)

    def listed() -> Listing:
        """The listing as the TUI keeps it: its pages' stacks by id."""
        tables = [page.table for page in native.pages()]
        return Listing(stacks=StacksById(tables), labels=native.labels_by_id)

    listing = listed()
    read_waits(native, listing)  # DWARF of the program read once, as a second reading finds it
    best: dict[str, float] = {}

    def keep(name: str, cpu: float, wall: float) -> None:
        best[name] = min(best.get(name, cpu), cpu)
        best[name + "_wall"] = min(best.get(name + "_wall", wall), wall)

    for _ in range(repeat):
        cpu, wall = time.process_time(), time.perf_counter()
        listing = listed()
        keep("listing_s", time.process_time() - cpu, time.perf_counter() - wall)
        cpu, wall = time.process_time(), time.perf_counter()
        reading = read_waits(native, listing)
        keep("waits_s", time.process_time() - cpu, time.perf_counter() - wall)
        cpu, wall = time.process_time(), time.perf_counter()
        reader = WaitReader(native, listing)
        rows, objects, _ = reader.read()
        keep("read_s", time.process_time() - cpu, time.perf_counter() - wall)
        cpu, wall = time.process_time(), time.perf_counter()
        Namer(native, reader).name(objects)
        keep("names_s", time.process_time() - cpu, time.perf_counter() - wall)
        cpu, wall = time.process_time(), time.perf_counter()
        read_clock(native, (row.since for row in rows.distinct()), symbols=reader.symbols)
        keep("clock_s", time.process_time() - cpu, time.perf_counter() - wall)
    best.update(goroutines=len(listing.stacks), waits=len(reading.waits),
                objects=len(reading.objects), names=[o.name for o in reading.objects.values()])
    native.close()
    print(json.dumps(best))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", nargs=2, metavar=("EXE", "CORE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child, args.repeat)
        return
    from bench.run import crowd_core, machine

    print(f"machine: {machine()}")
    header = ("goroutines", "native listing (CPU)", "waits (CPU)", "waits / listing", "read", "names", "clock",
              "listing wall", "waits wall", "objects")
    rows = []
    for size in (int(n) for n in args.sizes.split(",")):
        exe, core = crowd_core(size)
        result = subprocess.run([sys.executable, __file__, "--child", str(exe), str(core), "--repeat",
                                 str(args.repeat)], capture_output=True, text=True, timeout=3600, cwd=ROOT)
        if result.returncode != 0:
            raise SystemExit(f"failed on {core}:\n{result.stderr[-3000:]}")
        f = json.loads(result.stdout.strip().splitlines()[-1])
        rows.append([f"{f['goroutines']:,}", f"{f['listing_s']:.3f} s", f"{f['waits_s']:.3f} s",
                     f"{f['waits_s'] / f['listing_s']:.0%}", f"{f['read_s']:.3f} s", f"{f['names_s']:.3f} s",
                     f"{f['clock_s']:.3f} s", f"{f['listing_s_wall']:.3f} s", f"{f['waits_s_wall']:.3f} s",
                     ", ".join(f["names"])])
        print(f"measured {size:,}", flush=True)
    print()
    print("| " + " | ".join(header) + " |")
    print("|" + " --- |" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
