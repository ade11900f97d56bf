"""The heap of one core, for the app: the runtime's own figures at once,
the whole reading in a process of its own, and an object read as a Go value.

    heap = NativeHeap("./main", "core")
    heap.figures()                          # RuntimeFigures, from memstats: milliseconds
    reading = heap.read(progress=post)      # HeapReading, in a child process (seconds to a minute)
    heap.stop()                             # from another thread: the child is killed, read() raises Stopped
    heap.value("main.Session", address, die, size)   # a Variable tree

Why a child process (tui/core/heapchild.py) and not a thread: the read
holds the GIL for long stretches and peaks near a gigabyte on a 1 GB
heap; in a process of its own, at a lower CPU priority, the UI keeps its
keys and its memory, and stopping it (leaving the Memory screen, q) is
a kill, not a wait for the next point the reader checks. The child writes
the reading's per-object arrays as .npy files that the parent maps
(np.load mmap_mode="r"): pages are read as the screen needs them. The
child dies with the parent (PR_SET_PDEATHSIG) and is reaped here.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Callable, Protocol

import numpy as np

from ..corefile.errors import Stopped, Unsupported
from ..corefile.govalue import GoValues
from ..corefile.native import NativeCore
from ..corefile.runtime.memstats import read_heap_stats
from ..debugger.children import forking
from ..model import Variable
from ..model.heap import HeapProgress, HeapReading, RuntimeFigures

# The child runs below the UI and the goroutine listing (nice(2) increment).
CHILD_NICE = 10
READING_FILE = "reading.pickle"


class HeapUnreadable(Exception):
    """str() is one line: why the heap could not be read."""


class HeapSource(Protocol):
    """The heap of one core. Every method but stop() blocks: call them off
    the UI thread."""

    def figures(self) -> RuntimeFigures | None:
        """The runtime's own figures (memstats), or None when not readable."""

    def read(self, progress: Callable[[HeapProgress], None]) -> HeapReading:
        """The whole heap; raises Stopped after stop(), HeapUnreadable with the reason."""

    def stop(self) -> None:
        """End a read() in progress, at once (any thread)."""

    def value(self, name: str, address: int, die: int | None, size: int) -> Variable:
        """The object at address as a Go value (its children read a few levels down)."""

    def path(self, reading: HeapReading, node: int) -> tuple[str, ...]:
        """The object's shortest path from a root, hop by hop, as Go reads it."""

    def close(self) -> None:
        """Stop any read and let go of the core."""


class NativeHeap:
    """HeapSource on a core file and its executable."""

    def __init__(self, executable: str, core: str) -> None:
        self.executable, self.core = executable, core
        self._lock = threading.Lock()
        self._native: NativeCore | None = None
        self._child: subprocess.Popen | None = None
        self._stopped = False
        self._closed = False

    def _open(self) -> NativeCore:
        with self._lock:
            if self._closed:
                raise Stopped()
            if self._native is None:
                self._native = NativeCore.open(self.executable, self.core)
            return self._native

    def figures(self) -> RuntimeFigures | None:
        try:
            native = self._open()
            stats = read_heap_stats(native.memory, native.layouts, native.exe, native.bias)
        except (Unsupported, OSError):
            return None
        if stats.heap_alloc is None and stats.heap_objects is None:
            return None
        limit = stats.memory_limit if stats.memory_limit is not None and stats.memory_limit < (1 << 63) - 1 else None
        return RuntimeFigures(stats.heap_alloc, stats.heap_objects, stats.heap_inuse, stats.heap_live,
                              stats.heap_marked, stats.num_gc, memory_limit=limit)

    def read(self, progress: Callable[[HeapProgress], None]) -> HeapReading:
        folder = Path(tempfile.mkdtemp(prefix="gocore-heap-"))
        try:
            with self._lock, forking:
                if self._closed:
                    raise Stopped()
                self._stopped = False
                self._child = subprocess.Popen(
                    [sys.executable, "-m", "tui.core.heapchild", os.path.abspath(self.executable),
                     os.path.abspath(self.core), str(folder), str(os.getpid())],
                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                    env=dict(os.environ, PYTHONUNBUFFERED="1"))
            child = self._child
            outcome = ""
            for line in child.stdout:
                word, _, rest = line.rstrip("\n").partition(" ")
                if word == "progress":
                    stage, done, total = rest.split()
                    progress(HeapProgress(stage, int(done), int(total)))
                elif word in ("done", "unsupported", "error"):
                    outcome = line.rstrip("\n")
            child.wait()
            with self._lock:
                self._child = None
                if self._stopped or self._closed:
                    raise Stopped()
            word, _, why = outcome.partition(" ")
            if word == "done":
                return load_reading(folder)
            if word in ("unsupported", "error"):
                raise HeapUnreadable(why)
            raise HeapUnreadable(f"the heap reader ended without a result (exit status {child.returncode})")
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            child = self._child
        if child is not None:
            try:
                child.kill()  # its stdout closes: read() sees the end and reaps it
            except ProcessLookupError:
                pass

    def value(self, name: str, address: int, die: int | None, size: int) -> Variable:
        native = self._open()
        return GoValues(native.memory, native.layouts).read(name, address, die, size)

    def path(self, reading: HeapReading, node: int) -> tuple[str, ...]:
        # Here, not at the top: the heap reader's package brings numba and
        # scipy (0.5 s or more of imports) that the first screen must not wait for.
        from ..corefile.heap.paths import PathNamer

        native = self._open()
        return PathNamer(native.memory, native.layouts, reading).describe(node)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            native, self._native = self._native, None
        self.stop()
        if native is not None:
            native.close()


# The reading across the process boundary: its arrays as .npy files (mapped
# by the reader), the rest pickled.

def save_reading(reading: HeapReading, folder: Path) -> None:
    rest = {}
    for field in dataclasses.fields(reading):
        value = getattr(reading, field.name)
        if isinstance(value, np.ndarray):
            np.save(folder / f"{field.name}.npy", value, allow_pickle=False)
            rest[field.name] = None
    with open(folder / READING_FILE, "wb") as f:
        pickle.dump(dataclasses.replace(reading, **rest), f, protocol=pickle.HIGHEST_PROTOCOL)


def load_reading(folder: Path) -> HeapReading:
    with open(folder / READING_FILE, "rb") as f:
        reading = pickle.load(f)
    arrays = {}
    for path in folder.glob("*.npy"):
        # Mapped, then unlinked: the pages live as long as the mapping.
        arrays[path.stem] = np.load(path, mmap_mode="r", allow_pickle=False)
    return dataclasses.replace(reading, **arrays)


def die_with_parent(parent: int) -> None:
    """In the child: SIGKILL when the parent dies (Linux), and exit at once
    if it is already gone."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:
        os._exit(1)
