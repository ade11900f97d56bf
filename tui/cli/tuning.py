"""Process-wide tuning for the interactive TUI, decided here once: the GIL
switch interval, keeping Python's cyclic garbage collector off the
keypress path, and glibc's malloc giving numpy's big arrays back.

A full collection scans every tracked object that is not frozen: with
Textual, the widget tree, a 100k-goroutine index or a highlighted runtime
file loaded, that was 30-150 ms, every few keypresses, felt as a stutter
(bench/probe.py: goroutine-switch p95 60 ms on the seed core). What
will live as long as the app is frozen once it is built, so collections
scan only what the last keypresses made.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import sys

# dlv's answers are read by worker threads, a pty chunk at a time. With
# Python's default 5 ms GIL switch interval each chunk waits behind the UI
# thread's painting: a 1k-goroutine list took 1.0 s instead of 0.7 s.
GIL_SWITCH_INTERVAL = 0.0005
# glibc serves an allocation this big or bigger with its own mmap, unmapped
# when freed. By default it raises that bound to the size of the last such
# block freed: a core reader that makes and drops arrays of a few hundred
# KB a page then keeps them in its heap, and a million goroutines' listing
# left 100 MB more in our RSS than it holds. Fixed, they go back.
MMAP_THRESHOLD = 128 * 1024
_M_MMAP_THRESHOLD = -3


def tune_process() -> None:
    """Once, before the TUI starts."""
    sys.setswitchinterval(GIL_SWITCH_INTERVAL)
    _fix_mmap_threshold()


def _fix_mmap_threshold() -> None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        mallopt = libc.mallopt if libc is not None else None
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to tune
        return
    if mallopt is not None:
        mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)


def freeze_long_lived() -> None:
    """Freeze what is alive now. The app calls it, on its UI thread, when a
    long-lived structure has just been built (first screen, the full
    goroutine list, a highlighted file).
    The young generations are collected first, so that no garbage of the
    moment is frozen (and kept) with it; that costs a few ms."""
    gc.collect(1)
    gc.freeze()
