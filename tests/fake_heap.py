"""A HeapSource without a core, for the Memory screen's own behaviour
(tests/test_memory_fake.py) and its reviewed picture: a synthetic
HeapReading whose rows and objects are known, a read that reports
progress and then waits at a gate (so a test can look at the screen
while it loads, stop it, or quit), and values read from a table.

The real reader on real cores is tests/test_heap.py and tests/test_memory.py.
"""

from __future__ import annotations

import threading

import numpy as np

from tui.corefile.errors import Stopped
from tui.model import Variable
from tui.model.heap import (Accumulation, Check, HeapProgress, HeapReading, RootRow, RuntimeFigures, Suspect,
                             TypeRow)

SESSION_ADDRESS = 0xC000100000
FIGURES = RuntimeFigures(heap_alloc=916_000_000, heap_objects=12_073_785, heap_inuse=940_000_000,
                         heap_live=920_000_000, heap_marked=900_000_000, num_gc=12)


# The dominator tree of the objects below (object index -> its dominator),
# then the roots' nodes: 11 main.registry, 12 a goroutine's local, 13 that
# goroutine, 14 the runtime's roots, 15 all roots.
#   0, 1, 2: Session (under the map's group, 5); 3, 4: []uint8 of sessions 0, 1;
#   6, 7: Child of sessions 0, 1; 8: untyped (the runtime's); 9: garbage; 10: Token (the local's)
IDOM = [5, 5, 5, 0, 1, 11, 0, 1, 14, -1, 12, 15, 13, 15, 15, -1]
REGISTRY, LOCAL, GOROUTINE, RUNTIME, ALL = 11, 12, 13, 14, 15
GOROUTINE_ID = 3


def _retained(sizes: list[int]) -> np.ndarray:
    retained = np.zeros(len(IDOM), dtype=np.int64)
    retained[:len(sizes)] = sizes
    for node in sorted(range(len(IDOM)), key=lambda n: -_depth(n)):
        if IDOM[node] >= 0:
            retained[IDOM[node]] += retained[node]
    return retained


def _depth(node: int) -> int:
    depth = 0
    while IDOM[node] >= 0:
        node, depth = IDOM[node], depth + 1
    return depth


def synthetic_reading(agree: bool = True) -> HeapReading:
    """A heap shaped like a session registry: rows biggest first, a few
    objects per row in the per-object arrays (the biggest Session first),
    with a dominator tree, roots and a suspect."""
    types = (
        TypeRow("main.Session", 2_000_000, 192_000_000, 0, 0, True, die=1, retained=438_000_000),
        TypeRow("[]uint8", 2_000_100, 150_000_000, 1_000, 48_000, True, die=2, retained=150_000_000),
        TypeRow("map.group[int64]*main.Session", 280_000, 60_000_000, 0, 0, True, die=3, retained=498_000_000),
        TypeRow("main.Child", 2_000_000, 96_000_000, 0, 0, True, die=4, retained=96_000_000),
        TypeRow("(untyped, 32 B)", 500, 16_000, 12_000, 384_000, False, retained=16_000),
        TypeRow("main.Token", 50, 1_600, 0, 0, True, die=5, retained=1_600),
    )
    rows, sizes, live = [], [], []
    for number, (row, count) in enumerate(((0, 3), (1, 2), (2, 1), (3, 2), (4, 2), (5, 1))):
        for i in range(count):
            rows.append(number)
            sizes.append(96 if number == 0 else 48 if number in (1, 3) else 32 if number in (4, 5) else 208)
            live.append(not (number == 4 and i == 1))
    address = SESSION_ADDRESS + np.arange(len(rows), dtype=np.uint64) * np.uint64(0x100)
    objects = 12_073_785 if agree else 12_073_795
    checks = (Check("objects", objects, FIGURES.heap_objects, objects == FIGURES.heap_objects),
              Check("bytes", FIGURES.heap_alloc, FIGURES.heap_alloc, True))
    retained = _retained(sizes)
    roots = (RootRow("main.registry", "global", REGISTRY, int(retained[REGISTRY]), variable="main.registry",
                     type="map[int64]*main.Session"),
             RootRow(f"goroutine {GOROUTINE_ID}", "goroutine", GOROUTINE, int(retained[GOROUTINE]), GOROUTINE_ID),
             RootRow(f"goroutine {GOROUTINE_ID} main.worker: batch", "goroutine", LOCAL, int(retained[LOCAL]),
                     GOROUTINE_ID, "main.worker", "batch", "*main.Token"),
             RootRow("(runtime)", "runtime", RUNTIME, int(retained[RUNTIME])))
    reachable_bytes = int(retained[ALL])
    suspect = Suspect("main.registry", REGISTRY, int(retained[REGISTRY]), retained[REGISTRY] / reachable_bytes,
                      Accumulation("map", "map[int64]*main.Session", 3, "main.Session", int(retained[:3].sum()), 5),
                      ("main.registry", "map[int64]*main.Session"))
    return HeapReading(
        runtime=FIGURES, objects=objects, bytes=916_000_000, reachable_objects=12_061_285,
        reachable_bytes=915_600_000, unreachable_objects=12_500, unreachable_bytes=400_000,
        typed_objects=12_060_785, typed_bytes=915_584_000, tiny_blocks=0, spans=9_000, types=types,
        checks=checks, notes=(), elapsed_s=1.0, stages=(("spans", 0.1),),
        address=address, size=np.asarray(sizes, dtype=np.uint64), row=np.asarray(rows, dtype=np.int32),
        reachable=np.asarray(live, dtype=bool), path=np.full(len(rows), -1, dtype=np.int32), paths=(),
        idom=np.asarray(IDOM, dtype=np.int32), retained=retained, parent=np.asarray(IDOM, dtype=np.int32),
        roots=roots, suspects=(suspect,))


class FakeHeap:
    """HeapSource: figures at once; read() reports progress, then waits for
    `gate` (set it to let the read finish) unless stopped."""

    def __init__(self, reading: HeapReading | None = None, figures: RuntimeFigures | None = FIGURES,
                 wait: bool = False) -> None:
        self.reading = reading if reading is not None else synthetic_reading()
        self._figures = figures
        self.gate = threading.Event()
        if not wait:
            self.gate.set()
        self.stopped = threading.Event()
        self.reads = 0
        self.reading_now = threading.Event()
        self.closed = False
        self.values: list[tuple[str, int, int | None, int]] = []

    def figures(self) -> RuntimeFigures | None:
        return self._figures

    def read(self, progress) -> HeapReading:
        self.reads += 1
        self.stopped.clear()
        total = self.reading.objects
        progress(HeapProgress("spans", 0, 0))
        progress(HeapProgress("pointers", total // 4, total))
        self.reading_now.set()
        while not self.gate.wait(0.01):
            if self.stopped.is_set():
                self.reading_now.clear()
                raise Stopped()
        self.reading_now.clear()
        progress(HeapProgress("done", total, total))
        return self.reading

    def stop(self) -> None:
        self.stopped.set()

    def value(self, name: str, address: int, die: int | None, size: int) -> Variable:
        self.values.append((name, address, die, size))
        return Variable(name, f"main.Session at {address:#x}", "main.Session",
                        children=(Variable("id", "7", "int64"), Variable("user", '"ada"', "string")))

    def path(self, reading: HeapReading, node: int) -> tuple[str, ...]:
        return ("main.registry", "map[int64]*main.Session", f"[{node}] main.Session (96 B)")

    def close(self) -> None:
        self.closed = True
        self.stop()
