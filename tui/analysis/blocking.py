"""Who waits on what: the objects goroutines are blocked on,
biggest first, each described in one line, and for a deadlock the summary
of what everyone waits on. Pure: it reads a WaitReading
(tui/model/waits.py, made by tui/corefile/waits.py) and does no I/O.

    reading = read_waits(native, listing)
    analysis = analyse(reading, deadlock="all goroutines are asleep" in message)
    analysis.objects[0].description
        -> "5 goroutines send to chan int results (2/2, full) in main.main; none receives"
    report["blocking"] = blocking_report(analysis)
    item.update(goroutine_fields(reading, goroutine_id))   # waiting_on, wait_minutes, labels

Waiter roles (WaitReading.waiters): "send", "receive" (channel
operations), "select send", "select receive" (a case of a select),
"select" (a case the runtime had already dequeued), "lock" (Mutex.Lock,
RWMutex.Lock), "rlock" (RWMutex.RLock), "wait" (WaitGroup.Wait,
Cond.Wait), "acquire" (a bare semaphore), "read", "write" (an fd).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping

from ..model.waits import WaitObject, WaitReading, WaitRow, WaitRows, wait_row, wait_rows

# Order of roles in descriptions and in the report's waiters.
ROLE_ORDER = ("send", "receive", "select send", "select receive", "select", "lock", "rlock", "wait", "acquire",
              "read", "write")
# Waits on nothing at all, that nothing can end: (singular, plural).
_FOREVER = {"nil chan": ("blocks on a nil channel", "block on a nil channel"),
            "no cases": ("sits in an empty select {}", "sit in an empty select {}")}


@dataclass(frozen=True)
class Blocking:
    """One object goroutines wait on.

    waiters: role -> goroutine ids, roles in ROLE_ORDER. count: distinct
    goroutines waiting (a select on two cases of one channel counts once).
    description: one line (describe()). obj: the object's state as read.
    """

    address: int
    kind: str
    type: str
    name: str
    waiters: Mapping[str, tuple[int, ...]]
    count: int
    description: str
    obj: WaitObject


@dataclass(frozen=True)
class BlockingAnalysis:
    """objects: every object somebody waits on, biggest first (then by
    address). forever: goroutines that wait on nothing that could wake
    them (a nil channel, select {}), by what they do. deadlock: the
    runtime said all goroutines are asleep; summary then says on what,
    biggest first (empty otherwise)."""

    objects: tuple[Blocking, ...]
    forever: Mapping[str, tuple[int, ...]]
    deadlock: bool
    summary: tuple[str, ...]


def analyse(reading: WaitReading, deadlock: bool = False) -> BlockingAnalysis:
    """The objects of a reading, biggest first; deadlock: the crash is the
    runtime's "all goroutines are asleep - deadlock!"."""
    objects = []
    for address, roles in reading.waiters.items():
        obj = reading.objects.get(address)
        if obj is None:
            continue
        ordered = {role: tuple(roles[role]) for role in sorted(roles, key=_role_rank)}
        # A goroutine waits once per role (a select on two cases of one channel counts once).
        count = len(next(iter(ordered.values()))) if len(ordered) == 1 else \
            len({gid for ids in ordered.values() for gid in ids})
        waiters = MappingProxyType(ordered)
        objects.append(Blocking(address, obj.kind, obj.type, obj.name, waiters, count, describe(obj, waiters), obj))
    objects.sort(key=lambda b: (-b.count, b.address))
    forever: dict[str, tuple[int, ...]] = {}
    for detail in _FOREVER:
        ids = _ids_where(reading.waits, lambda row: row.detail == detail and not row.address)
        if ids:
            forever[detail] = tuple(ids)
    forever_view = MappingProxyType(dict(sorted(forever.items(), key=lambda item: item[1][0])))
    summary = _summary(objects, forever_view) if deadlock else ()
    return BlockingAnalysis(tuple(objects), forever_view, deadlock, summary)


def _ids_where(waits: Mapping[int, Any], wanted) -> list[int]:
    """The goroutines whose wait row passes wanted, smallest id first (by
    the distinct rows where the waits are WaitRows: a million waits share
    a few)."""
    if isinstance(waits, WaitRows):
        return waits.ids_where(wanted)
    return sorted(gid for gid, row in wait_rows(waits) if wanted(row))


def _role_rank(role: str) -> int:
    return ROLE_ORDER.index(role) if role in ROLE_ORDER else len(ROLE_ORDER)


def _goroutines(count: int) -> str:
    return f"{count} goroutine{'s' if count != 1 else ''}"


def _verb(count: int, singular: str, plural: str) -> str:
    return singular if count == 1 else plural


def subject(obj: WaitObject) -> str:
    """The object as a phrase: type, name and state, the state before a
    local's function ("chan int results (2/2, full) in main.main")."""
    state = _state(obj)
    name = obj.name or f"at {obj.address:#x}"
    if obj.kind == "fd":
        return f"{name}{f' ({state})' if state else ''}"
    if obj.named_by == "stack word":  # "(a local of main.main)": after the state
        return f"{obj.type}{f' ({state})' if state else ''} {name}"
    where = ""
    if obj.named_by in ("local", "local heap") and " in " in name:
        name, where = name.rsplit(" in ", 1)
        where = f" in {where}"
    return f"{obj.type} {name}{f' ({state})' if state else ''}{where}"


def _state(obj: WaitObject) -> str:
    if obj.kind == "chan":
        if obj.len is None:
            return ""
        parts = [f"{obj.len}/{obj.cap}"]
        if obj.cap == 0:
            parts.append("unbuffered")
        elif obj.len == obj.cap:
            parts.append("full")
        elif obj.len == 0:
            parts.append("empty")
        if obj.closed:
            parts.append("closed")
        return ", ".join(parts)
    if obj.kind == "mutex":
        if obj.locked is None:
            return ""
        return "locked" if obj.locked else "unlocked"
    if obj.kind == "rwmutex":
        if obj.readers is None:
            return ""
        parts = [f"{obj.readers} reader{'s' if obj.readers != 1 else ''}"]
        if obj.locked and not obj.writer:
            parts.append("write-locked")
        elif obj.writer:
            parts.append("a writer waiting" if obj.departing else "write-locked")
        return ", ".join(parts)
    if obj.kind == "waitgroup":
        return f"counter {obj.counter}" if obj.counter is not None else ""
    return ""


_PHRASES = {
    "send": ("sends to", "send to"), "receive": ("receives from", "receive from"),
    "select send": ("selects to send to", "select to send to"),
    "select receive": ("selects to receive from", "select to receive from"),
    "select": ("selects on", "select on"),
    "select both": ("selects to send to and receive from", "select to send to and receive from"),
    "lock": ("waits to lock", "wait to lock"), "rlock": ("waits to read-lock", "wait to read-lock"),
    "wait": ("waits on", "wait on"), "acquire": ("waits to acquire", "wait to acquire"),
    "read": ("waits to read", "wait to read"), "write": ("waits to write", "wait to write"),
}


def describe(obj: WaitObject, waiters: Mapping[str, tuple[int, ...]]) -> str:
    """One line: who waits on the object how, and what it is.

    "5 goroutines send to chan int results (2/2, full) in main.main; none receives"
    "2 goroutines wait to lock sync.Mutex main.mu (locked)"
    "1 goroutine waits to lock and 2 wait to read-lock sync.RWMutex main.users.mu (3 readers, a writer waiting)"
    """
    parts = []
    roles = [(r, i) for r, i in waiters.items() if i]
    both = dict(roles)
    if both.get("select send") and both.get("select send") == both.get("select receive"):
        # The same goroutines select to send and to receive on it (a goroutine cannot meet itself).
        roles = [(r if r != "select send" else "select both", i) for r, i in roles if r != "select receive"]
    for index, (role, ids) in enumerate(roles):
        singular, plural = _PHRASES.get(role, (f"waits ({role}) on", f"wait ({role}) on"))
        count = len(ids)
        who = _goroutines(count) if index == 0 else str(count)
        parts.append(f"{who} {_verb(count, singular, plural)}")
    if not parts:
        return subject(obj)
    line = (", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]) + " " + subject(obj)
    if obj.kind == "chan":
        senders = any(waiters.get(r) for r in ("send", "select send"))
        receivers = any(waiters.get(r) for r in ("receive", "select receive"))
        if senders and not receivers:
            line += "; none receives"
        elif receivers and not senders:
            line += "; none sends"
    return line


def forever_line(detail: str, count: int) -> str:
    """Goroutines that wait on nothing that could wake them: "3 goroutines block on a nil channel"."""
    return f"{_goroutines(count)} {_verb(count, *_FOREVER[detail])}"


def _summary(objects: list[Blocking], forever: Mapping[str, tuple[int, ...]]) -> tuple[str, ...]:
    """For "all goroutines are asleep": what everyone waits on, biggest first."""
    lines = [(b.count, b.description) for b in objects]
    for detail, ids in forever.items():
        lines.append((len(ids), forever_line(detail, len(ids))))
    lines.sort(key=lambda line: -line[0])
    return tuple(text for _, text in lines)


# The report (gocore-tui/report JSON)


def _hex(address: int) -> str | None:
    return f"0x{address:x}" if address else None


def waiting_on(reading: WaitReading, goroutine: int) -> dict[str, Any] | None:
    """report goroutines.items[].waiting_on: {kind, address, type, name}
    (address a hex string or None), plus "detail" when the wait has one
    ("nil chan", "no cases", "read", "syscall.Syscall from main.f") and,
    for a select, "cases": [{address, type, name, dir}]. None for a
    goroutine that waits on nothing (running, runnable)."""
    row = wait_row(reading.waits, goroutine)
    return None if row is None else _waiting_on(reading, row)


def _waiting_on(reading: WaitReading, row: WaitRow) -> dict[str, Any]:
    kind, address, cases, detail = row.kind, row.address, row.cases, row.detail
    obj = reading.objects.get(address) if address else None
    out: dict[str, Any] = {"kind": kind, "address": _hex(address),
                           "type": obj.type if obj else "", "name": obj.name if obj else ""}
    if detail:
        out["detail"] = detail
    if kind == "select" and cases:
        out["cases"] = []
        for case in cases:
            case_obj = reading.objects.get(case.address)
            out["cases"].append({"address": _hex(case.address), "type": case_obj.type if case_obj else "",
                                 "name": case_obj.name if case_obj else "", "dir": case.dir})
    return out


def goroutine_fields(reading: WaitReading, goroutine: int) -> dict[str, Any]:
    """The keys what they wait on adds to a report's goroutines.items[] entry:
    waiting_on (see waiting_on), wait_minutes (what Go's traceback prints
    as `, N minutes`: an int, 0 under a minute; None when no GC saw the
    goroutine blocked, so Go prints nothing, or it does not wait) and
    labels ({key: value}, {} when none)."""
    return FieldsOf(reading)(goroutine)


class FieldsOf:
    """goroutine_fields for every goroutine of a reading: each distinct
    wait becomes its dict once (100k goroutines wait on a few objects)."""

    def __init__(self, reading: WaitReading) -> None:
        self.reading = reading
        self._waiting: dict[tuple, dict[str, Any]] = {}

    def __call__(self, goroutine: int) -> dict[str, Any]:
        reading = self.reading
        row = wait_row(reading.waits, goroutine)
        labels = reading.labels.get(goroutine)
        if row is None:
            return {"waiting_on": None, "wait_minutes": None, "labels": dict(labels) if labels else {}}
        key = (row.kind, row.address, row.cases, row.detail)
        waiting = self._waiting.get(key)
        if waiting is None:
            waiting = self._waiting[key] = _waiting_on(reading, row)
        return {"waiting_on": waiting, "wait_minutes": reading.clock.minutes(row.since),
                "labels": dict(labels) if labels else {}}


# State keys of each object kind in the report, from WaitObject's fields.
_STATE_KEYS = {
    "chan": ("len", "cap", "closed", "elem"), "mutex": ("locked", "queued", "starving"),
    "rwmutex": ("locked", "queued", "readers", "writer", "departing"), "waitgroup": ("counter", "queued"),
    "cond": ("queued",), "semaphore": (), "fd": ("fd",),
}


def blocking_entry(blocking: Blocking) -> dict[str, Any]:
    """report blocking[] entry: {address, kind, type, name, named_by, the
    kind's state keys (chan: len, cap, closed, elem; mutex: locked,
    queued, starving; rwmutex: locked, queued, readers, writer,
    departing; waitgroup: counter, queued; cond: queued; fd: fd),
    waiters: {role: [ids]}, count, description}."""
    obj = blocking.obj
    entry: dict[str, Any] = {"address": _hex(blocking.address), "kind": blocking.kind, "type": blocking.type,
                             "name": blocking.name, "named_by": obj.named_by}
    for key in _STATE_KEYS.get(blocking.kind, ()):
        entry[key] = getattr(obj, key)
    entry["waiters"] = {role: list(ids) for role, ids in blocking.waiters.items()}
    entry["count"] = blocking.count
    entry["description"] = blocking.description
    return entry


def blocking_report(analysis: BlockingAnalysis) -> list[dict[str, Any]]:
    """report blocking[]: one entry per object, biggest first."""
    return [blocking_entry(b) for b in analysis.objects]


def deadlock_report(analysis: BlockingAnalysis) -> dict[str, Any] | None:
    """report deadlock: {summary: [lines, biggest first], objects:
    [addresses, the same order], forever: {what: [ids]}}; None unless the
    runtime said all goroutines are asleep."""
    if not analysis.deadlock:
        return None
    return {"summary": list(analysis.summary), "objects": [_hex(b.address) for b in analysis.objects],
            "forever": {k: list(v) for k, v in analysis.forever.items()}}
