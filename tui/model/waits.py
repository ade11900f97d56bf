"""What goroutines wait on: frozen values, no I/O, no import
beyond the standard library, so that any layer may use them.
tui/corefile/waits makes them from a core; tui/analysis/blocking.py
reasons on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, NamedTuple

KINDS = ("chan send", "chan receive", "select", "mutex", "rwmutex read", "rwmutex write", "waitgroup", "cond",
         "semaphore", "sleep", "io", "syscall", "other")
OBJECT_KINDS = ("chan", "mutex", "rwmutex", "waitgroup", "cond", "semaphore", "fd")
# The role a wait kind gives its goroutine among the object's waiters.
ROLES = {"chan send": "send", "chan receive": "receive", "mutex": "lock", "rwmutex read": "rlock",
         "rwmutex write": "lock", "waitgroup": "wait", "cond": "wait", "semaphore": "acquire"}


@dataclass(frozen=True, slots=True)
class SelectCase:
    """One channel of a select: the hchan and the direction of its case."""

    address: int
    dir: str  # "send" | "receive" | "" (the sudog is in neither queue)


class WaitRow(NamedTuple):
    """A Wait without its goroutine: what WaitRows keeps per goroutine
    (equal rows are one tuple: 100k goroutines parked together by one GC
    share a handful)."""

    kind: str
    address: int
    cases: tuple[SelectCase, ...]
    reason: str
    since: int
    detail: str


@dataclass(frozen=True, slots=True)
class Wait:
    """What one goroutine waits on.

    kind: one of KINDS. address: the WaitObject waited on (0 for none: a
    nil channel, a sleep, a syscall, a select: see cases). reason: the
    runtime's wait reason ("" in a system call). since: g.waitsince (a
    nanotime a GC wrote when it found the goroutine blocked: see
    tui/corefile/waits/clock.py; 0 when none did). detail: "nil chan", "no cases", "read" /
    "write" for IO, the function of a system call, the reason of an
    "other" wait, or why the object is missing ("sudog unreadable", "not in
    the semaphore table", "notifyList not found", "pollDesc not found").
    """

    goroutine: int
    kind: str
    address: int = 0
    cases: tuple[SelectCase, ...] = ()
    reason: str = ""
    since: int = 0
    detail: str = ""


@dataclass(frozen=True, slots=True)
class WaitObject:
    """A channel, lock, wait group, condition variable, semaphore or fd
    some goroutine waits on, once, with what the core says of its state.

    Fields that do not apply to the kind are None (or "").
    chan: len (qcount), cap (dataqsiz), closed, elem (element type).
    mutex: locked (state&1), queued (state>>3: the goroutines the Mutex
    itself counts as waiting), starving.
    rwmutex: locked (its writer lock w is held), queued (w's waiters),
    readers (readers holding or waiting, from readerCount), writer (a
    writer holds it or waits for readers to leave: readerCount < 0),
    departing (readerWait: readers the pending writer still waits for).
    waitgroup: counter, queued (its waiter count).
    cond: queued (tickets handed out and not yet notified).
    fd: fd, the file descriptor of the pollDesc.
    name / named_by: see names.py ("" when no name was found);
    name_goroutine: the goroutine whose frame holds the local it is named
    after (None for a global).
    """

    address: int
    kind: str
    type: str
    name: str = ""
    named_by: str = ""
    len: int | None = None
    cap: int | None = None
    closed: bool | None = None
    elem: str = ""
    locked: bool | None = None
    queued: int | None = None
    starving: bool | None = None
    readers: int | None = None
    writer: bool | None = None
    departing: int | None = None
    counter: int | None = None
    fd: int | None = None
    name_goroutine: int | None = None


@dataclass(frozen=True, slots=True)
class Clock:
    """The runtime's clock (nanotime) at the crash, as near as the core
    tells it.

    low: the latest nanotime reading the core keeps (sched.lastpoll,
    work.tstart, memstats.last_gc_nanotime, each P's sysmontick, every
    g.waitsince, runtimeInitTime): the crash came after it. now: the
    estimate used for wait durations: runtime.faketime when the program ran
    on a fake clock (exact); else the core file's modification time (when
    the kernel finished writing the dump) moved onto this machine's
    CLOCK_MONOTONIC, which Go's nanotime reads: valid while the machine has
    not rebooted or had its clock stepped since the dump, for a core not
    rewritten since (a copy that kept its time is fine), and used only if
    it is not before low (less 50 ms: file times come from the kernel's
    coarse clock); else low. source says which ("runtime.faketime",
    "core file time", "latest runtime clock reading", "none"); exact only
    for faketime. The file time runs late by the time the kernel took to
    write the core (seconds for a core of GBs); low runs early by the time
    since the runtime last read its clock (milliseconds in a busy program,
    up to minutes in an idle one).
    """

    now: int | None
    low: int
    source: str
    exact: bool = False

    def minutes(self, since: int) -> int | None:
        """What Go's traceback prints as `, N minutes` for a goroutine
        whose g.waitsince is since: (nanotime() - waitsince) / 60e9 in
        int64 arithmetic (truncated toward zero), None when waitsince is 0
        (Go prints nothing) or the clock is unknown. Go prints it only
        when it is at least 1."""
        if not since or self.now is None:
            return None
        return wait_minutes(self.now, since)


def wait_minutes(now: int, since: int) -> int:
    """runtime/traceback.go's goroutineheader: waitfor = (nanotime() -
    gp.waitsince) / 60e9, an int64 division (Go truncates toward zero)."""
    delta = now - since
    quotient = abs(delta) // 60_000_000_000
    return quotient if delta >= 0 else -quotient


@dataclass(frozen=True)
class WaitReading:
    """The waits of one core.

    waits: goroutine id -> Wait, for every goroutine waiting or in a system
    call (built on access: see WaitRows). objects: address -> WaitObject,
    every object some Wait (or select case) names. waiters: address ->
    role -> the ids of the goroutines waiting there in that role (allgs
    order): "send", "receive", "select send", "select receive", "select"
    (a case in neither queue), "lock" (Mutex.Lock; RWMutex.Lock),
    "rlock" (RWMutex.RLock), "wait" (WaitGroup.Wait, Cond.Wait),
    "acquire" (a plain semaphore), "read" / "write" (an fd). labels:
    goroutine id -> its pprof labels (only goroutines that have some).
    clock: for wait durations. notes: what could not be read, one line
    each. naming: how names were searched.
    """

    waits: Mapping[int, Wait]
    objects: Mapping[int, WaitObject]
    waiters: Mapping[int, Mapping[str, tuple[int, ...]]]
    labels: Mapping[int, Mapping[str, str]]
    clock: Clock
    notes: tuple[str, ...] = ()
    naming: str = ""  # how names were searched (names.py's account)

    def minutes(self, goroutine: int) -> int | None:
        """What Go's traceback prints as `, N minutes` for the goroutine
        (Clock.minutes of its waitsince); None when it waits on nothing."""
        row = wait_row(self.waits, goroutine)
        return self.clock.minutes(row.since) if row is not None else None


def row_of(wait: Wait) -> WaitRow:
    """A Wait's fields but the goroutine."""
    return WaitRow(wait.kind, wait.address, wait.cases, wait.reason, wait.since, wait.detail)


def wait_row(waits: Mapping[int, Wait], goroutine: int) -> WaitRow | None:
    """A goroutine's wait as a WaitRow, from any Mapping of Waits (without
    making the Wait for WaitRows); None when it waits on nothing."""
    if isinstance(waits, WaitRows):
        return waits.row(goroutine)
    wait = waits.get(goroutine)
    return None if wait is None else row_of(wait)


def wait_rows(waits: Mapping[int, Wait]):
    """(goroutine, WaitRow) of every wait, cheaply for WaitRows."""
    if isinstance(waits, WaitRows):
        return waits.rows()
    return ((g, wait_row(waits, g)) for g in waits)


class WaitRows(Mapping):
    """goroutine id -> Wait, built on access from compact WaitRows: 100k
    frozen dataclasses cost more than the reading itself."""

    __slots__ = ("_rows",)

    def __init__(self, rows: dict[int, WaitRow]) -> None:
        self._rows = rows

    def __getitem__(self, goroutine: int) -> Wait:
        return Wait(goroutine, *self._rows[goroutine])

    def __iter__(self):
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, goroutine: object) -> bool:
        return goroutine in self._rows

    def kind(self, goroutine: int) -> str | None:
        row = self._rows.get(goroutine)
        return row.kind if row is not None else None

    def row(self, goroutine: int) -> WaitRow | None:
        """The Wait's fields but the goroutine, without making the Wait;
        None when the goroutine waits on nothing."""
        return self._rows.get(goroutine)

    def rows(self):
        """(goroutine, row) for every wait (see row)."""
        return self._rows.items()

    def distinct(self) -> list[WaitRow]:
        """Every distinct row (a few, for a million waits)."""
        return list(dict.fromkeys(self._rows.values()))

    def ids_where(self, wanted) -> list[int]:
        """The goroutines whose row passes wanted(row), smallest id first."""
        return sorted(goroutine for goroutine, row in self._rows.items() if wanted(row))
