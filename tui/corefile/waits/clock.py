"""The runtime's clock (nanotime) at the crash, as near as the core tells
it: what g.waitsince is measured against for Go's `, N minutes`.

g.waitsince is set by a GC's stack scan to work.tstart, which gcMark sets
when a mark phase ends: the first GC that sees a goroutine blocked writes
the end of the GC before it (0 if none), so Go's minutes may count from
before the goroutine blocked, and a goroutine no second GC saw has none.
The crash's own nanotime is not in the core: see Clock for how it is
estimated.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Iterable, Mapping

from ...model.waits import Clock
from ..dwarf import Type
from ..errors import BadRead, Unsupported
from ..names import Variables
from ..runtime.fields import integer_field

if TYPE_CHECKING:
    from ..native import NativeCore

FILE_TIME_SLACK = 50_000_000  # ns a file time may lag the runtime's last clock reading
CLOCK_SYMBOLS = ("runtime.faketime", "runtime.work", "runtime.memstats", "runtime.allp", "runtime.sched",
                 "runtime.runtimeInitTime")


def read_clock(native: "NativeCore", since: Iterable[int] = (), core_path: str | None = None,
               monotonic_now: int | None = None, wall_now: int | None = None, boot_wall: int | None = None,
               symbols: Mapping[str, tuple[int, int]] | None = None) -> Clock:
    """The runtime's nanotime at the crash (see Clock). since: g.waitsince
    values; monotonic_now, wall_now, boot_wall replace this machine's
    clocks (for tests); symbols: the CLOCK_SYMBOLS already looked up."""
    readings = [max(since, default=0)]
    memory, layouts, bias = native.memory, native.layouts, native.bias
    if symbols is None:
        symbols = native.exe.symbols(*CLOCK_SYMBOLS)

    def read(symbol: str, type_name: str | None, path: str | None) -> int:
        found = symbols.get(symbol)
        if found is None:
            return 0
        try:
            offset, size = 0, 8
            if type_name is not None:
                if not layouts.has(type_name) or not layouts.type(type_name).has(path):
                    return 0
                offset, ftype = integer_field(layouts.type(type_name), path)
                size = ftype.size
            return memory.sint(found[0] + bias + offset, size)
        except (BadRead, Unsupported):
            return 0

    fake = read("runtime.faketime", None, None)
    if fake > 0:
        return Clock(fake, max([fake, *readings]), "runtime.faketime", True)
    readings += [read("runtime.runtimeInitTime", None, None), read("runtime.sched", "runtime.schedt", "lastpoll"),
                 read("runtime.sched", "runtime.schedt", "procresizetime"),
                 read("runtime.memstats", "runtime.mstats", "last_gc_nanotime")]
    work = symbols.get("runtime.work")
    if work is not None:
        try:
            work_type = _variable_type(native, "runtime.work")
            if work_type is not None and work_type.has("tstart"):
                readings.append(memory.sint(work[0] + bias + work_type.field("tstart")[0], 8))
        except (BadRead, Unsupported):
            pass
    readings += _sysmon_readings(native, symbols.get("runtime.allp"))
    low = max([r for r in readings if r > 0], default=0)
    estimate = file_time(core_path or native.core.path, monotonic_now, wall_now, boot_wall)
    # File times come from the kernel's coarse clock (a tick, up to 4 ms, behind).
    if estimate is not None and estimate >= low - FILE_TIME_SLACK:
        return Clock(max(estimate, low), low, "core file time")
    if low:
        return Clock(low, low, "latest runtime clock reading")
    return Clock(None, 0, "none")


def _variable_type(native: "NativeCore", name: str) -> Type | None:
    """runtime.work's type: named runtime.workType since Go 1.21, an anonymous struct before."""
    layouts = native.layouts
    if layouts.has("runtime.workType"):
        return layouts.type("runtime.workType")
    try:
        return Variables(layouts).global_type(name)  # the DWARF variable itself
    except Unsupported:
        return None


def _sysmon_readings(native: "NativeCore", allp: tuple[int, int] | None) -> list[int]:
    """Each P's sysmontick.schedwhen and syscallwhen: nanotimes sysmon
    wrote when it last saw the P schedule or sit in a system call."""
    layouts = native.layouts
    if allp is None or not layouts.has("runtime.p"):
        return []
    p = layouts.type("runtime.p")
    try:
        tick = p.field("sysmontick")[0]
        tick_type = p.field("sysmontick")[1]
        fields = [tick + tick_type.field(name)[0] for name in ("schedwhen", "syscallwhen") if tick_type.has(name)]
        pointer, length = native.memory.words(allp[0] + native.bias, 2)
        if length > 1 << 16:
            return []
        out = []
        for pp in native.memory.words(pointer, length):
            if pp:
                out += [native.memory.sint(pp + f, 8) for f in fields]
        return out
    except (BadRead, Unsupported):
        return []


def file_time(path: str, monotonic_now: int | None, wall_now: int | None, boot_wall: int | None) -> int | None:
    """The core's modification time (the kernel's last write of the dump)
    on this machine's CLOCK_MONOTONIC, which Go's nanotime reads: None when
    the core is older than this boot."""
    try:
        mtime = os.stat(path).st_mtime_ns
    except OSError:
        return None
    if monotonic_now is None:
        monotonic_now = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    if wall_now is None:
        wall_now = time.time_ns()
    if boot_wall is None:
        boot_wall = wall_now - time.clock_gettime_ns(getattr(time, "CLOCK_BOOTTIME", time.CLOCK_MONOTONIC))
    if mtime < boot_wall or mtime > wall_now:
        return None
    return monotonic_now - (wall_now - mtime)
