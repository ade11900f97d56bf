"""What every waiting goroutine of a Go core waits on, read from the
runtime's own structures (issue 16).

    native = NativeCore.open("main", "core")
    listing = native.listing()
    reading = read_waits(native, listing)       # in the background
    reading.waits[5]    -> Wait(goroutine=5, kind="chan receive", address=0xc000..., ...)
    reading.objects[a]  -> WaitObject(kind="chan", type="chan int", name="results in main.main", len=2, cap=2, ...)
    reading.waiters[a]  -> {"send": (6, 7, 8, 9, 10)}

How each kind is found (every offset from the executable's DWARF):
- channel operations: g.waiting is the goroutine's sudog (chansend /
  chanrecv set it before parking); sudog.c its channel. The direction is
  the wait reason's ("chan send" / "chan receive").
- select: g.waiting lists one sudog per case (through sudog.waitlink,
  isSelect set); each case's direction is the queue of its channel its
  sudog sits in (hchan.sendq or recvq, walked once per channel).
- sync.Mutex, RWMutex, WaitGroup and plain semaphores park in the runtime
  semaphore table: runtime.semtable's 251 roots each hold a treap of
  sudogs, one node per address waited on (sudog.elem), further waiters of
  that address chained through sudog.waitlink. The walk maps each parked g
  to the address it waits on. Which object that address belongs to comes
  from the innermost sync frame of the goroutine's stack
  (sync.(*Mutex).lockSlow, sync.(*RWMutex).RLock / Lock,
  sync.(*WaitGroup).Wait) and, when the stack is unknown, from the wait
  reason (Go 1.21+ name them: sync.Mutex.Lock ...; Go 1.19 says
  "semacquire" for all): the object is the semaphore's address minus the
  semaphore field's offset in that sync type (Mutex.sema or Mutex.mu.sema,
  RWMutex.readerSem / writerSem / w, WaitGroup.sema or state2).
- sync.Cond parks on its notifyList (runtime.notifyListWait), not in the
  semaphore table: Go 1.26 records the list in the sudog (g.waiting.elem);
  before that, the Cond is the word of the goroutine's top frames (up to
  sync.(*Cond).Wait) whose notifyList holds the goroutine's sudog.
- IO wait: the pollDesc (its rg or wg holding the g, its self field
  itself) is a word of the frames up to internal/poll.runtime_pollWait, or
  netpollblock's gpp (&pd.rg, &pd.wg) is; its fd is named.
- sleeps, system calls and the runtime's own waits by their kind only.

State of each object: a channel's len (qcount), cap (dataqsiz), closed and
element type (the name of hchan.elemtype, a runtime type, read from the
module's type data); a Mutex's locked bit, waiter count; an RWMutex's
readers and writer; a WaitGroup's counter and waiters. Names come from
names.py.

The wait durations: g.waitsince is set by a GC's stack scan to
work.tstart, which gcMark sets when a mark phase ends: the first GC that
sees a goroutine blocked writes the end of the GC before it (0 if none), so
Go's minutes may count from before the goroutine blocked, and a goroutine no
second GC saw has none. The crash's own nanotime is not in the core: see
Clock for how it is estimated.

Nothing raises past read_waits but Unsupported, for a core whose runtime
this does not model; a goroutine whose sudog is unreadable keeps its kind,
with no address and a detail saying so, and the reading's notes say why.

Cost: one pass over allgs (one read per g), one more read per channel
waiter, a walk of the semaphore treaps, and a few hundred reads for the
rest; at 100k goroutines about a fifth of the native listing (bench/native_waits.py).
"""

from __future__ import annotations

import os
import struct
import time
from dataclasses import replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Callable, Iterable, Mapping, NamedTuple

from .dwarf import Type, packed
from .errors import BadRead, Stopped, Unsupported
from ..model.waits import (KINDS, OBJECT_KINDS, ROLES, Clock, SelectCase, Wait, WaitObject, WaitReading, WaitRows,
                        wait_minutes)

__all__ = ["KINDS", "OBJECT_KINDS", "ROLES", "Clock", "SelectCase", "Wait", "WaitObject", "WaitReading", "WaitRows",
           "WaitReader", "read_clock", "read_waits", "wait_minutes"]

if TYPE_CHECKING:
    from ..model import Location
    from .native import Listing, NativeCore

G_WAITING, G_SYSCALL, G_DEAD = 4, 3, 6
# sync's constants (mutex.go, rwmutex.go), the same in Go 1.19-1.26.
MUTEX_LOCKED, MUTEX_STARVING, MUTEX_WAITER_SHIFT = 1, 4, 3
RWMUTEX_MAX_READERS = 1 << 30
TFLAG_EXTRA_STAR = 2
SEMTAB_MAX = 4096
MAX_QUEUE = 1 << 22  # sudogs of one list: allglen is capped at 1 << 26 in native.py; lists are shorter
MAX_SELECT_CASES = 65536

_CHAN_REASONS = {
    "chan receive": ("chan receive", ""), "chan receive (durable)": ("chan receive", ""),
    "chan send": ("chan send", ""), "chan send (durable)": ("chan send", ""),
    "chan receive (nil chan)": ("chan receive", "nil chan"), "chan send (nil chan)": ("chan send", "nil chan"),
    "select": ("select", ""), "select (durable)": ("select", ""), "select (no cases)": ("select", "no cases"),
}
_SEMA_REASONS = {"semacquire": "semaphore", "sync.Mutex.Lock": "mutex", "sync.RWMutex.RLock": "rwmutex read",
                 "sync.RWMutex.Lock": "rwmutex write", "sync.WaitGroup.Wait": "waitgroup",
                 "sync.WaitGroup.Wait (durable)": "waitgroup"}
_SIMPLE_REASONS = {"sleep": "sleep"}
# The sync functions that park in the semaphore table, innermost first on a stack.
_MUTEX_FRAMES = frozenset({"sync.(*Mutex).lockSlow", "sync.(*Mutex).Lock", "internal/sync.(*Mutex).lockSlow",
                           "internal/sync.(*Mutex).Lock"})
_RLOCK, _WLOCK, _WGWAIT, _CONDWAIT = ("sync.(*RWMutex).RLock", "sync.(*RWMutex).Lock", "sync.(*WaitGroup).Wait",
                                      "sync.(*Cond).Wait")
_SYSCALL_PACKAGES = ("runtime.", "syscall.", "internal/", "runtime/", "golang.org/x/sys/")
_U64 = struct.Struct("<Q").unpack_from
FILE_TIME_SLACK = 50_000_000  # ns a file time may lag the runtime's last clock reading
CLOCK_SYMBOLS = ("runtime.faketime", "runtime.work", "runtime.memstats", "runtime.allp", "runtime.sched",
                 "runtime.runtimeInitTime")
_POLL_WAIT = frozenset({"internal/poll.runtime_pollWait", "runtime.poll_runtime_pollWait"})
# How many frames from the top the parking sync or poll function may be.
_PARK_DEPTH = 12


# The reader


class _G(NamedTuple):
    """One waiting g, as the single pass over allgs read it."""

    address: int
    id: int
    status: int
    reason: int
    since: int
    waiting: int
    labels: int
    parent: int


class _Layout:
    """The offsets read, resolved once from DWARF."""

    def __init__(self, native: "NativeCore") -> None:
        layouts = native.layouts
        self.layouts = layouts
        sudog = layouts.type("runtime.sudog")
        self.sudog_g = sudog.field("g")[0]
        self.sudog_next = sudog.field("next")[0]
        self.sudog_prev = sudog.field("prev")[0]
        self.sudog_elem = address_field(sudog, "elem")
        self.sudog_c = address_field(sudog, "c")
        self.sudog_waitlink = sudog.field("waitlink")[0]
        hchan = layouts.type("runtime.hchan")
        self.hchan = hchan
        self.recvq = hchan.field("recvq.first")[0]
        self.sendq = hchan.field("sendq.first")[0]
        self.elemtype = hchan.field("elemtype")[0]
        self.qcount = hchan.field("qcount")[0]
        self.dataqsiz = hchan.field("dataqsiz")[0]
        self.closed, closed = hchan.field("closed")
        self.closed_size = closed.size
        # Go 1.23+: the timer feeding a time.After / Timer.C channel.
        self.timer = hchan.field("timer")[0] if hchan.has("timer") else None
        # One read covers the fields of an hchan read.
        self.hchan_span = max(self.elemtype, self.qcount, self.dataqsiz, self.timer or 0) + 8
        self.hchan_span = max(self.hchan_span, self.closed + self.closed_size)


def address_field(struct: Type, path: str) -> int:
    """The offset of the address word of a pointer field, through the
    wrappers newer runtimes put around some (maybeTraceablePtr{vp, vu}: vu
    is the address, vp only kept for the GC; atomic.Uintptr{value})."""
    offset, ftype = struct.field(path)
    for _ in range(8):
        if ftype.kind != "struct":
            return offset
        fields = [f for f in ftype.fields if f.name != "_"]
        found = next((f for f in fields if f.name in ("vu", "value", "v")), None)
        if found is None:
            if not fields:
                raise Unsupported(f"DWARF: {struct.name}.{path} holds no address")
            found = fields[0]
        offset += found.offset
        ftype = found.type
    raise Unsupported(f"DWARF: {struct.name}.{path} nests too deep")


def integer_field(struct: Type, path: str) -> tuple[int, Type]:
    """(offset, integer type) of a field that may be wrapped in an atomic
    type (sync/atomic.Int32{_ noCopy; v int32}, internal atomic.Uint32{value})."""
    offset, ftype = struct.field(path)
    for _ in range(8):
        if ftype.kind != "struct":
            return offset, ftype
        found = next((f for f in ftype.fields if f.name in ("v", "value")), None)
        if found is None:
            raise Unsupported(f"DWARF: {struct.name}.{path} is not an integer")
        offset += found.offset
        ftype = found.type
    raise Unsupported(f"DWARF: {struct.name}.{path} nests too deep")


def _first_path(struct: Type, *paths: str) -> str:
    for path in paths:
        if struct.has(path):
            return path
    raise Unsupported(f"DWARF: {struct.name} has none of {', '.join(paths)}")


# What a wait reason asks of the reader.
_R_CHAN, _R_NOOBJ, _R_SELECT, _R_SEMA, _R_COND, _R_IO, _R_SIMPLE, _R_OTHER = range(8)
class WaitReader:
    """Reads the waits of one open core. See the module's doc."""

    def __init__(self, native: "NativeCore", listing: "Listing | None" = None,
                 stop: Callable[[], bool] | None = None) -> None:
        self.native = native
        self.stop = stop or (lambda: False)
        self.memory = native.memory
        self.listing = listing
        self.notes: list[str] = []
        self.layout = _Layout(native)
        self._type_names: dict[int, str] = {}
        self._types_base: int | None = None
        self._stack_of: dict[int, tuple["Location", ...]] | None = None
        self._functions: dict[int, tuple[str, ...]] = {}
        self._sema_kinds: dict[tuple[int, str], tuple[str, str, int | None]] = {}
        self._unwound: dict[int, tuple["Location", ...] | None] = {}
        self._by_pcs: dict[tuple[int, ...], tuple["Location", ...]] = {}
        self.symbols = native.exe.symbols("runtime.semtable", "runtime.firstmoduledata", *CLOCK_SYMBOLS)
        self._queues: dict[int, tuple[set[int], set[int]]] = {}
        self._select_sudogs: dict[int, list[int]] = {}
        self.timer_chans: set[int] = set()  # channels a runtime timer feeds (Go 1.23+)
        self._notify_lists: dict[int, frozenset[int]] = {}
        self.g_address: dict[int, int] = {}  # goroutine id -> g, every live goroutine
        self.parent_counts: dict[int, int] = {}  # parentGoid -> waiters it created (Go 1.21+)
        # object address -> role -> goroutine ids (in allgs order)
        self.waiters: dict[int, dict[str, list[int]]] = {}

    def _reason_table(self) -> list[tuple[int, str, str, str]]:
        """Per wait reason index: (what to read, kind, detail, reason)."""
        table = []
        for index, reason in enumerate(self.native.wait_reasons()):
            if index == 0:
                reason = ""
            chan = _CHAN_REASONS.get(reason)
            if chan is not None:
                kind, detail = chan
                what = (_R_SELECT if kind == "select" and not detail else
                        _R_NOOBJ if detail else _R_CHAN)
                table.append((what, kind, detail, reason))
            elif reason in _SEMA_REASONS:
                table.append((_R_SEMA, _SEMA_REASONS[reason], "", reason))
            elif reason == "sync.Cond.Wait":
                table.append((_R_COND, "cond", "", reason))
            elif reason == "IO wait":
                table.append((_R_IO, "io", "", reason))
            elif reason in _SIMPLE_REASONS:
                table.append((_R_SIMPLE, _SIMPLE_REASONS[reason], "", reason))
            else:
                table.append((_R_OTHER, "other", reason, reason))
        return table

    def _g_codec(self) -> tuple[int, struct.Struct, tuple[int | None, ...]]:
        """(first offset, codec, index of each _G field but the address in the unpacked tuple)."""
        g_type = self.native._g_type
        wanted = (("id", "goid"), ("status", "atomicstatus"), ("reason", "waitreason"), ("since", "waitsince"),
                  ("waiting", "waiting"), ("labels", "labels"), ("parent", "parentGoid"))
        picked = []
        for name, path in wanted:
            if not g_type.has(path):
                if name in ("id", "status", "waiting"):
                    raise Unsupported(f"DWARF: runtime.g has no {path} field")
                continue
            offset, ftype = integer_field(g_type, path) if name != "waiting" else (g_type.field(path)[0], None)
            size = ftype.size if ftype is not None else 8
            code = {1: "B", 2: "H", 4: "I", 8: "q" if name == "since" else "Q"}.get(size)
            if code is None:
                raise Unsupported(f"DWARF: runtime.g.{path} is {size} bytes")
            picked.append((offset, size, code, name))
        base = min(picked)[0]
        codec, names = packed(picked, base)
        order = tuple(names.index(n) if n in names else len(names) for n in _G._fields[1:])
        return base, codec, order

    def read(self) -> tuple[dict[int, tuple], dict[int, WaitObject], dict[int, dict[str, str]]]:
        """(rows, objects, labels): one pass over allgs reads each g's
        status, wait reason, waitsince, waiting sudog, labels and parent;
        a channel wait costs one more read (sudog.c); everything else
        (select, semaphores, Cond, IO, syscalls) is read afterwards for the
        few goroutines concerned. The loop is written for 100k goroutines:
        no call, no object but the row per goroutine."""
        send: dict[int, list[int]] = {}
        receive: dict[int, list[int]] = {}
        # Each entry also carries the channel waiters its goroutines join.
        table = [entry + ((send if entry[1] == "chan send" else receive),) for entry in self._reason_table()]
        table += [(_R_OTHER, "other", f"wait reason {i}", "", None) for i in range(len(table), 256)]
        base, codec, order = self._g_codec()
        i_id, i_status, i_reason, i_since, i_waiting, i_labels, i_parent = order
        has_labels = self.native._g_type.has("labels")
        has_parent = self.native._g_type.has("parentGoid")
        unpack, size, memory = codec.unpack_from, codec.size, self.memory
        c_at = self.layout.sudog_c
        rows: dict[int, tuple] = {}
        # Equal rows are one tuple: goroutines parked together by one GC
        # share a waitsince, and a million rows come down to a few.
        shared: dict[tuple, tuple] = {}
        parents = self.parent_counts
        g_address = self.g_address
        later: list[tuple[int, _G, tuple]] = []
        label_ptrs: dict[int, int] = {}
        # Span caches: gs, and sudogs, sit in a few big regions.
        g_start = g_end = g_delta = s_start = s_end = s_delta = 0
        g_buf = s_buf = None
        for count, address in enumerate(self.native.allgs()):
            if count & 2047 == 2047:  # as the listing does: the core's pages leave our RSS
                memory.release()
                if self.stop():
                    raise Stopped()
            at = address + base
            if at < g_start or at + size > g_end:
                try:
                    g_start, g_end, g_buf, g_delta = memory.span(at)
                except BadRead:
                    continue
                if at + size > g_end:
                    continue
            v = unpack(g_buf, at - g_delta)
            status = v[i_status]
            if status != G_WAITING:
                if status != G_DEAD:
                    g_address[v[i_id]] = address
                    if has_labels and v[i_labels]:
                        label_ptrs[v[i_id]] = v[i_labels]
                    if status == G_SYSCALL:
                        later.append((_R_OTHER, self._g(address, v, order), table[0]))
                continue
            gid = v[i_id]
            g_address[gid] = address
            if has_labels and v[i_labels]:
                label_ptrs[gid] = v[i_labels]
            if has_parent and v[i_parent]:
                parent = v[i_parent]
                parents[parent] = parents.get(parent, 0) + 1
            entry = table[v[i_reason] & 0xFF]
            what, kind, detail, reason, queue = entry
            if what == _R_CHAN:
                waiting = v[i_waiting]
                if not waiting:
                    row = (kind, 0, (), reason, v[i_since], "no sudog")
                    rows[gid] = shared.setdefault(row, row)
                    continue
                at = waiting + c_at
                if s_start <= at and at + 8 <= s_end:
                    channel = _U64(s_buf, at - s_delta)[0]
                else:
                    try:
                        s_start, s_end, s_buf, s_delta = memory.span(at)
                        channel = memory.u64(at)
                    except BadRead as err:
                        self.notes.append(f"goroutine {gid}: its sudog is unreadable ({err})")
                        row = (kind, 0, (), reason, v[i_since], "sudog unreadable")
                        rows[gid] = shared.setdefault(row, row)
                        continue
                row = (kind, channel, (), reason, v[i_since], "")
                rows[gid] = shared.setdefault(row, row)
                members = queue.get(channel)
                if members is None:
                    queue[channel] = [gid]
                else:
                    members.append(gid)
            elif what == _R_SIMPLE or what == _R_OTHER or what == _R_NOOBJ:
                row = (kind, 0, (), reason, v[i_since], detail)
                rows[gid] = shared.setdefault(row, row)
            else:
                later.append((what, self._g(address, v, order), entry))
        waiters = self.waiters
        for role, queue in (("send", send), ("receive", receive)):
            for channel, members in queue.items():
                waiters.setdefault(channel, {})[role] = members
        objects: dict[int, WaitObject] = {}
        sema: list[tuple[_G, str, str]] = []
        selects: list[_G] = []
        for what, g, entry in later:
            if g.status == G_SYSCALL:
                rows[g.id] = ("syscall", 0, (), "", g.since, self._syscall(g))
            elif what == _R_SELECT:
                selects.append(g)
                rows[g.id] = _row(self._select(g, entry[3]))
            elif what == _R_SEMA:
                sema.append((g, entry[3], entry[1]))
            elif what == _R_COND:
                rows[g.id] = _row(self._cond(g, entry[3], objects))
            elif what == _R_IO:
                rows[g.id] = _row(self._io(g, entry[3], objects))
        if selects:
            self._select_directions(selects, rows)
        if sema:
            self._semaphores(sema, objects, rows)
        for what, g, _ in later:
            if what == _R_COND or what == _R_IO:  # select and semaphore waiters are in already
                kind, address, detail = rows[g.id][0], rows[g.id][1], rows[g.id][5]
                if address:
                    role = ROLES.get(kind) or detail
                    waiters.setdefault(address, {}).setdefault(role, []).append(g.id)
        for address in waiters:
            if address not in objects:
                objects[address] = self._chan(address)
        labels = self._labels(label_ptrs)
        memory.release()
        return rows, objects, labels

    @staticmethod
    def _g(address: int, values: tuple, order: tuple[int, ...]) -> _G:
        v = values + (0,)
        a, b, c, d, e, f, g = order
        return _G(address, v[a], v[b], v[c], v[d], v[e], v[f], v[g])

    def stack(self, g: _G) -> tuple["Location", ...] | None:
        """The goroutine's whole stack: the listing's when given, else unwound here."""
        if self.listing is not None:
            if self._stack_of is None:
                self._stack_of = _by_id(self.listing.stacks)
            found = self._stack_of.get(g.id)
            if found is not None:
                return found
            if g.id in self._unwound:
                return self._unwound[g.id]
        try:
            record = self.native.read_g(g.address)
        except BadRead:
            return None
        pcs, why = self.native.unwind(record, _PARK_DEPTH)
        found = None
        if pcs is not None:
            found = self._by_pcs.get(pcs)
            if found is None:
                found = self._by_pcs[pcs] = tuple(loc for _, loc in self.native.stack_frames(pcs, _PARK_DEPTH))
        self._unwound[g.id] = found
        return found

    def stack_key(self, gid: int) -> object:
        """Equal for goroutines with equal stacks (the listing shares one
        tuple per stack; unwound here, the PCs)."""
        if self.listing is not None:
            if self._stack_of is None:
                self._stack_of = _by_id(self.listing.stacks)
            found = self._stack_of.get(gid)
            if found is not None:
                return id(found)
        address = self.g_address.get(gid)
        if address is None:
            return None
        try:
            return self.native.unwind(self.native.read_g(address), _PARK_DEPTH)[0]
        except BadRead:
            return None

    def parents(self, limit: int = 8) -> list[int]:
        """The goroutines that created the most waiters (g.parentGoid, Go 1.21+), most first."""
        counts = {p: n for p, n in self.parent_counts.items() if p in self.g_address}
        return sorted(counts, key=lambda p: (-counts[p], p))[:limit]

    def functions(self, g: _G) -> tuple[str, ...]:
        """The function names of the top frames of the goroutine's stack (cached per stack)."""
        stack = self.stack(g)
        if stack is None:
            return ()
        key = id(stack)
        found = self._functions.get(key)
        if found is None:
            found = self._functions[key] = tuple(location.function for location in stack[:_PARK_DEPTH])
        return found

    def _syscall(self, g: _G) -> str:
        """The function that entered the system call (g.syscallpc), and
        its caller outside the runtime and package syscall when the stack
        shows one: "syscall.Syscall from main.main.func6"."""
        try:
            record = self.native.read_g(g.address)
        except BadRead:
            return ""
        func = self.native.names.func(record.syscall_pc) if record.syscall_pc else None
        name = func.name if func is not None else ""
        stack = self.stack(g)
        caller = next((loc.function for loc in stack or () if not loc.function.startswith(_SYSCALL_PACKAGES)), "")
        return f"{name} from {caller}" if name and caller else name or caller

    # Channels and select

    def _select(self, g: _G, reason: str) -> Wait:
        """Every sudog of g.waiting, one per case (Go sorts them in lock order)."""
        layout, memory = self.layout, self.memory
        cases: list[SelectCase] = []
        sudogs: list[int] = []
        at, seen = g.waiting, 0
        try:
            while at and seen < MAX_SELECT_CASES:
                channel = memory.u64(at + layout.sudog_c)
                if channel:
                    cases.append(SelectCase(channel, ""))
                    sudogs.append(at)
                at = memory.u64(at + layout.sudog_waitlink)
                seen += 1
        except BadRead as err:
            self.notes.append(f"goroutine {g.id}: a sudog of its select is unreadable ({err})")
        self._select_sudogs[g.id] = sudogs
        return Wait(g.id, "select", cases=tuple(cases), reason=reason, since=g.since,
                    detail="" if cases else "no sudog")

    def _select_directions(self, selects: list[_G], rows: dict[int, tuple]) -> None:
        """Each case's direction: the queue of its channel that holds the
        case's sudog (a select may send and receive on one channel); the
        goroutine joins that channel's waiters as "select send" / "select
        receive"."""
        for g in selects:
            row = rows[g.id]
            cases = []
            for case, sudog in zip(row[2], self._select_sudogs[g.id]):
                send, receive = self._queue_sudogs(case.address)
                direction = "send" if sudog in send else "receive" if sudog in receive else ""
                cases.append(SelectCase(case.address, direction))
                role = f"select {direction}" if direction else "select"
                members = self.waiters.setdefault(case.address, {}).setdefault(role, [])
                if g.id not in members:
                    members.append(g.id)
            rows[g.id] = row[:2] + (tuple(cases),) + row[3:]

    def _queue_sudogs(self, channel: int) -> tuple[set[int], set[int]]:
        """(sudogs of sendq, sudogs of recvq) of a channel, walked once."""
        found = self._queues.get(channel)
        if found is None:
            layout, memory = self.layout, self.memory
            queues = []
            for head in (layout.sendq, layout.recvq):
                members: set[int] = set()
                try:
                    at = memory.u64(channel + head)
                    while at and at not in members and len(members) < MAX_QUEUE:
                        members.add(at)
                        at = memory.u64(at + layout.sudog_next)
                        if len(members) & 4095 == 0:  # a queue of 500k sudogs: pages leave our RSS
                            memory.release()
                except BadRead as err:
                    self.notes.append(f"channel {channel:#x}: a queue is unreadable ({err})")
                queues.append(members)
            found = self._queues[channel] = (queues[0], queues[1])
        return found

    def sudog_gs(self, first: int, link: int) -> set[int]:
        """The g of every sudog of a list from first through the link
        field (sudog.next, or waitlink), ending at nil, at a sudog seen
        before (a word that only looked like a list) or after MAX_QUEUE.
        Raises BadRead."""
        members: set[int] = set()
        seen: set[int] = set()
        at, memory, g_at = first, self.memory, self.layout.sudog_g
        start = end = delta = 0
        buf = None
        while at and at not in seen and len(seen) < MAX_QUEUE:
            seen.add(at)
            if len(seen) & 4095 == 0:
                memory.release()
            if not (start <= at + g_at and at + g_at + 8 <= end and start <= at + link and at + link + 8 <= end):
                start, end, buf, delta = memory.span(at)
                members.add(memory.u64(at + g_at))
                at = memory.u64(at + link)
                continue
            members.add(_U64(buf, at + g_at - delta)[0])
            at = _U64(buf, at + link - delta)[0]
        return members

    def _chan(self, address: int) -> WaitObject:
        layout, memory = self.layout, self.memory
        try:
            buf, at = memory.locate(address, layout.hchan_span)
            qcount = _U64(buf, at + layout.qcount)[0]
            dataqsiz = _U64(buf, at + layout.dataqsiz)[0]
            closed = int.from_bytes(buf[at + layout.closed:at + layout.closed + layout.closed_size], "little") != 0
            elem = self.type_name(_U64(buf, at + layout.elemtype)[0])
            if layout.timer is not None and _U64(buf, at + layout.timer)[0]:
                self.timer_chans.add(address)
        except BadRead as err:
            self.notes.append(f"channel {address:#x} is unreadable ({err})")
            return WaitObject(address, "chan", "chan ?")
        type_name = f"chan {_paren(elem)}" if elem else "chan ?"
        return WaitObject(address, "chan", type_name, len=qcount, cap=dataqsiz, closed=closed, elem=elem)

    # Runtime type names

    def type_name(self, rtype: int) -> str:
        """The name of a runtime type (*_type / *abi.Type) as reflect
        prints it: the module's type data at types + _type.str, a name
        (flag byte, varint length, bytes), the leading '*' dropped when
        tflagExtraStar says the name is a pointer type's."""
        if rtype == 0:
            return ""
        found = self._type_names.get(rtype)
        if found is not None:
            return found
        layouts = self.native.layouts
        rt = layouts.type("internal/abi.Type") if layouts.has("internal/abi.Type") else layouts.type("runtime._type")
        str_path = _first_path(rt, "Str", "str")
        tflag_path = _first_path(rt, "TFlag", "tflag")
        memory = self.memory
        try:
            if self._types_base is None:
                moduledata = self.symbols.get("runtime.firstmoduledata")
                if moduledata is None:
                    raise Unsupported("no runtime.firstmoduledata symbol")
                md = layouts.type("runtime.moduledata")
                self._types_base = memory.u64(moduledata[0] + self.native.bias + md.field("types")[0])
            name_off = memory.sint(rtype + rt.field(str_path)[0], 4)
            tflag = memory.uint(rtype + rt.field(tflag_path)[0], 1)
            at = self._types_base + name_off
            length, shift, pos = 0, 0, at + 1
            for _ in range(5):
                byte = memory.uint(pos, 1)
                pos += 1
                length |= (byte & 0x7F) << shift
                shift += 7
                if byte < 0x80:
                    break
            if length > 4096:
                raise Unsupported(f"type name of {length} bytes")
            name = memory.read(pos, length).decode("utf-8", "replace")
        except (BadRead, Unsupported) as err:
            self.notes.append(f"runtime type at {rtype:#x}: name unreadable ({err})")
            name = ""
        if tflag & TFLAG_EXTRA_STAR and name.startswith("*"):
            name = name[1:]
        self._type_names[rtype] = name
        return name

    # Semaphores: Mutex, RWMutex, WaitGroup

    def semaphore_waiters(self) -> dict[int, int]:
        """g address -> the semaphore address it waits on, from every treap of runtime.semtable."""
        symbol = self.symbols.get("runtime.semtable")
        if symbol is None:
            raise Unsupported("no runtime.semtable symbol")
        layouts = self.native.layouts
        table = layouts.type("runtime.semTable")
        if table.kind != "array" or table.elem is None or not 0 < table.count <= SEMTAB_MAX:
            raise Unsupported("DWARF: runtime.semTable is not an array of roots")
        root_at = table.elem.field("root")[0]
        root = layouts.type("runtime.semaRoot")
        treap_at = root.field("treap")[0]
        layout, memory = self.layout, self.memory
        base = symbol[0] + self.native.bias
        waiting: dict[int, int] = {}
        for index in range(table.count):
            try:
                top = memory.u64(base + index * table.elem.size + root_at + treap_at)
            except BadRead as err:
                raise Unsupported(f"runtime.semtable unreadable: {err}") from None
            pending = [top] if top else []
            nodes: set[int] = set()
            while pending and len(nodes) < MAX_QUEUE:
                node = pending.pop()
                if node in nodes:
                    break  # not a tree: a corrupt table
                nodes.add(node)
                try:
                    address = memory.u64(node + layout.sudog_elem)
                    pending.extend(p for p in (memory.u64(node + layout.sudog_prev),
                                               memory.u64(node + layout.sudog_next)) if p)
                    for g in self.sudog_gs(node, layout.sudog_waitlink):
                        waiting[g] = address
                except BadRead as err:
                    self.notes.append(f"semaphore table root {index}: a sudog is unreadable ({err})")
        return waiting

    def _semaphores(self, parked: list[tuple[_G, str, str]], objects: dict[int, WaitObject],
                    rows: dict[int, tuple]) -> None:
        try:
            waiting = self.semaphore_waiters()
        except Unsupported as err:
            self.notes.append(f"semaphore waits not read: {err}")
            waiting = {}
        offsets = _SyncOffsets(self.native.layouts)
        waiters = self.waiters
        for g, reason, by_reason in parked:
            kind, obj_kind, offset = self._sema_kind(g, by_reason, offsets)
            if offset is None:  # a plain semaphore: the address itself
                kind, obj_kind, offset = "semaphore", "semaphore", 0
            sema = waiting.get(g.address)
            if sema is None:
                rows[g.id] = (kind, 0, (), reason, g.since, "not in the semaphore table")
                continue
            address = sema - offset
            rows[g.id] = (kind, address, (), reason, g.since, "")
            roles = waiters.get(address)
            if roles is None:
                roles = waiters[address] = {}
                objects[address] = self._sync_object(address, obj_kind, offsets)
            role = ROLES[kind]
            members = roles.get(role)
            if members is None:
                roles[role] = [g.id]
            else:
                members.append(g.id)

    def _sema_kind(self, g: _G, by_reason: str, offsets: "_SyncOffsets") -> tuple[str, str, int | None]:
        """(wait kind, object kind, semaphore offset in the object) from the
        innermost sync frame, else from the wait reason."""
        stack = self.stack(g)
        key = (id(stack) if stack is not None else 0, by_reason)
        found = self._sema_kinds.get(key)
        if found is None:
            found = self._sema_kinds[key] = self._sema_kind_of(self.functions(g), by_reason, offsets)
        return found

    def _sema_kind_of(self, functions: tuple[str, ...], by_reason: str,
                      offsets: "_SyncOffsets") -> tuple[str, str, int | None]:
        for index, function in enumerate(functions):
            if function == _WGWAIT:
                return "waitgroup", "waitgroup", offsets.wg_sema
            if function == _RLOCK:
                return "rwmutex read", "rwmutex", offsets.rw_reader
            if function == _WLOCK:
                return "rwmutex write", "rwmutex", offsets.rw_writer
            if function in _MUTEX_FRAMES:
                # An RWMutex's writer first takes its Mutex w.
                rest = [f for f in functions[index + 1:] if f not in _MUTEX_FRAMES]
                if rest and rest[0] == _WLOCK:
                    return "rwmutex write", "rwmutex", offsets.rw_w_sema
                return "mutex", "mutex", offsets.mutex_sema
        if functions:
            return "semaphore", "semaphore", None
        # No stack: Go 1.21+ wait reasons still tell the kind.
        if by_reason == "mutex":
            return "mutex", "mutex", offsets.mutex_sema
        if by_reason == "rwmutex read":
            return "rwmutex read", "rwmutex", offsets.rw_reader
        if by_reason == "rwmutex write":
            return "rwmutex write", "rwmutex", offsets.rw_writer
        if by_reason == "waitgroup":
            return "waitgroup", "waitgroup", offsets.wg_sema
        return "semaphore", "semaphore", None

    def _sync_object(self, address: int, kind: str, offsets: "_SyncOffsets") -> WaitObject:
        memory = self.memory
        try:
            if kind == "mutex":
                state = memory.sint(address + offsets.mutex_state, 4)
                return WaitObject(address, kind, "sync.Mutex", locked=bool(state & MUTEX_LOCKED),
                                  queued=(state & 0xFFFFFFFF) >> MUTEX_WAITER_SHIFT,
                                  starving=bool(state & MUTEX_STARVING))
            if kind == "rwmutex":
                state = memory.sint(address + offsets.rw_w_state, 4)
                count = memory.sint(address + offsets.rw_count, 4)
                departing = memory.sint(address + offsets.rw_wait, 4)
                writer = count < 0
                return WaitObject(address, kind, "sync.RWMutex", locked=bool(state & MUTEX_LOCKED),
                                  readers=count + RWMUTEX_MAX_READERS if writer else count, writer=writer,
                                  departing=departing, queued=(state & 0xFFFFFFFF) >> MUTEX_WAITER_SHIFT)
            if kind == "waitgroup":
                state = memory.u64(address + offsets.wg_state)
                counter = (state >> 32) & 0xFFFFFFFF
                counter = counter - (1 << 32) if counter >= 1 << 31 else counter
                return WaitObject(address, kind, "sync.WaitGroup", counter=counter,
                                  queued=state & offsets.wg_waiter_mask)
        except BadRead as err:
            self.notes.append(f"{kind} at {address:#x} is unreadable ({err})")
        return WaitObject(address, kind, {"mutex": "sync.Mutex", "rwmutex": "sync.RWMutex",
                                          "waitgroup": "sync.WaitGroup"}.get(kind, "uint32"))

    # sync.Cond

    def _cond(self, g: _G, reason: str, objects: dict[int, WaitObject]) -> Wait:
        """The sync.Cond a goroutine waits on: a Cond whose copyChecker
        holds its own address (Cond.Wait sets it first) and whose
        notifyList holds the goroutine's sudog. Candidates: Go 1.26's
        g.waiting.elem (the notifyList), else each word of the top frames
        as the Cond or as its notifyList (&c.notify)."""
        layouts = self.native.layouts
        try:
            cond = layouts.type("sync.Cond")
            notify_at = cond.field("notify")[0]
            checker_at = cond.field("checker")[0]
            nl = layouts.type("runtime.notifyList")
        except Unsupported as err:
            self.notes.append(f"goroutine {g.id}: sync.Cond not read ({err})")
            return Wait(g.id, "cond", reason=reason, since=g.since)

        def is_cond(address: int) -> bool:
            try:
                return (self.memory.u64(address + checker_at) == address + checker_at
                        and self._in_notify_list(address + notify_at, nl, g.address))
            except BadRead:
                return False

        found = None
        if g.waiting:
            try:
                elem = self.memory.u64(g.waiting + self.layout.sudog_elem)
                if elem and is_cond(elem - notify_at):
                    found = elem - notify_at
            except BadRead:
                pass
        if found is None:
            found = next((c for word in self._top_words(g, _CONDWAIT) for c in (word, word - notify_at)
                          if c > 0 and is_cond(c)), None)
        if found is None:
            return Wait(g.id, "cond", reason=reason, since=g.since, detail="notifyList not found")
        if found not in objects:
            objects[found] = self._cond_object(found, found + notify_at, nl)
        return Wait(g.id, "cond", found, reason=reason, since=g.since)

    def _in_notify_list(self, list_address: int, nl: Type, g_address: int) -> bool:
        members = self._notify_lists.get(list_address)
        if members is None:
            try:
                members = self.sudog_gs(self.memory.u64(list_address + nl.field("head")[0]), self.layout.sudog_next)
            except BadRead:
                members = set()
            members = self._notify_lists[list_address] = frozenset(members)
        return g_address in members

    def _cond_object(self, address: int, list_address: int, nl: Type) -> WaitObject:
        try:
            wait_at, wait_type = integer_field(nl, "wait")
            notify_at, notify_type = integer_field(nl, "notify")
            tickets = self.memory.uint(list_address + wait_at, wait_type.size)
            notified = self.memory.uint(list_address + notify_at, notify_type.size)
            return WaitObject(address, "cond", "sync.Cond", queued=(tickets - notified) & 0xFFFFFFFF)
        except (BadRead, Unsupported) as err:
            self.notes.append(f"sync.Cond at {address:#x} is unreadable ({err})")
            return WaitObject(address, "cond", "sync.Cond")

    # IO wait

    def _io(self, g: _G, reason: str, objects: dict[int, WaitObject]) -> Wait:
        layouts = self.native.layouts
        try:
            pd = layouts.type("runtime.pollDesc")
            rg, wg = address_field(pd, "rg"), address_field(pd, "wg")
            self_at = pd.field("self")[0] if pd.has("self") else None
            fd_at = pd.field("fd")[0]
        except Unsupported as err:
            self.notes.append(f"goroutine {g.id}: IO wait not read ({err})")
            return Wait(g.id, "io", reason=reason, since=g.since)
        memory = self.memory
        # The pollDesc itself, or netpollblock's gpp (&pd.rg or &pd.wg).
        words = self._top_words(g, *_POLL_WAIT)
        for word in (c for w in words for c in (w, w - rg, w - wg)):
            try:
                if self_at is not None and memory.u64(word + self_at) != word:
                    continue
                direction = ("read" if memory.u64(word + rg) == g.address else
                             "write" if memory.u64(word + wg) == g.address else "")
                if not direction:
                    continue
                fd = memory.u64(word + fd_at)
            except BadRead:
                continue
            if word not in objects:
                objects[word] = WaitObject(word, "fd", "fd", name=f"fd {fd}", named_by="pollDesc.fd", fd=fd)
            return Wait(g.id, "io", word, reason=reason, since=g.since, detail=direction)
        return Wait(g.id, "io", reason=reason, since=g.since, detail="pollDesc not found")

    def _top_words(self, g: _G, *last: str) -> Iterable[int]:
        """The words of a parked goroutine's stack from its saved SP up to
        the end of the frame of the first function named `last` (or the
        first _PARK_DEPTH frames)."""
        native = self.native
        try:
            record = native.read_g(g.address)
        except BadRead:
            return ()
        pcs, _ = native.unwind(record, _PARK_DEPTH)
        if not pcs:
            return ()
        top = record.sp
        for _, cfa, function in frame_extents(native, record.sp, pcs):
            top = cfa
            if function in last:
                break
        count = max(0, min(top - record.sp, 1 << 16)) // 8
        try:
            return native.memory.words(record.sp, count)
        except BadRead:
            return ()

    # Labels

    def _labels(self, pointers: dict[int, int]) -> dict[int, dict[str, str]]:
        if self.listing is not None:
            return {gid: labels for gid, labels in self.listing.labels.items() if labels}
        maps: dict[int, dict[str, str] | None] = {}
        out: dict[int, dict[str, str]] = {}
        for gid, pointer in pointers.items():
            if pointer not in maps:
                maps[pointer] = self.native.values.labels(pointer)
            if maps[pointer]:
                out[gid] = maps[pointer]
        return out


class _SyncOffsets:
    """Where the semaphores and state words sit in the sync types of this
    binary (Go 1.19: Mutex{state, sema}, WaitGroup{noCopy, state1, state2};
    Go 1.24+: Mutex{_, mu internal/sync.Mutex{state, sema}},
    WaitGroup{noCopy, state atomic.Uint64, sema}). A type the program does
    not use is missing from DWARF: its offsets are then None."""

    def __init__(self, layouts) -> None:
        def offset(type_name: str, *paths: str) -> int | None:
            if not layouts.has(type_name):
                return None
            t = layouts.type(type_name)
            for path in paths:
                if t.has(path):
                    return integer_field(t, path)[0]
            return None

        self.mutex_sema = offset("sync.Mutex", "mu.sema", "sema")
        self.mutex_state = offset("sync.Mutex", "mu.state", "state") or 0
        self.rw_reader = offset("sync.RWMutex", "readerSem")
        self.rw_writer = offset("sync.RWMutex", "writerSem")
        self.rw_w_sema = offset("sync.RWMutex", "w.mu.sema", "w.sema")
        self.rw_w_state = offset("sync.RWMutex", "w.mu.state", "w.state") or 0
        self.rw_count = offset("sync.RWMutex", "readerCount") or 0
        self.rw_wait = offset("sync.RWMutex", "readerWait") or 0
        self.wg_sema = offset("sync.WaitGroup", "sema", "state2")
        self.wg_state = offset("sync.WaitGroup", "state", "state1") or 0
        # Go 1.25+ keep a synctest flag in bit 31 of the waiter count.
        new = layouts.has("sync.WaitGroup") and layouts.type("sync.WaitGroup").has("sema")
        self.wg_waiter_mask = 0x7FFFFFFF if new else 0xFFFFFFFF


def frame_extents(native: "NativeCore", sp: int, pcs: tuple[int, ...]) -> list[tuple[int, int, str]]:
    """(sp, cfa, physical function) of each physical frame of a stack
    unwound from saved SP sp: each frame's CFA is its SP plus the pcsp
    table's delta plus the return address (the unwinder's rule; where it
    took frame pointers, BP+16 is the same CFA). Stops at the first frame
    whose delta is unknown or whose return address disagrees with pcs."""
    out = []
    for index, pc in enumerate(pcs):
        func = native.names.func(pc)
        if func is None:
            break
        delta = native.pclntab.sp_delta(func, pc - native.bias)
        if delta < 0:
            break
        cfa = sp + delta + 8
        out.append((sp, cfa, func.name))
        if index + 1 < len(pcs):
            try:
                if native.memory.u64(cfa - 8) != pcs[index + 1]:
                    break
            except BadRead:
                break
        sp = cfa
    return out


def _paren(elem: str) -> str:
    """reflect's chan type string: `chan (<-chan int)` keeps the parentheses."""
    return f"({elem})" if elem.startswith("<-chan") else elem


# The clock


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
    estimate = _file_time(core_path or native.core.path, monotonic_now, wall_now, boot_wall)
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
        from .names import Variables  # the DWARF variable itself
        return Variables(layouts).global_type(name)
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


def _file_time(path: str, monotonic_now: int | None, wall_now: int | None, boot_wall: int | None) -> int | None:
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


def read_waits(native: "NativeCore", listing: "Listing | None" = None, names: bool = True,
               clock: Clock | None = None, stop: Callable[[], bool] | None = None) -> WaitReading:
    """Every wait of the core (see the module's doc). listing: the native
    listing already made (its stacks and labels are reused: nothing is
    unwound twice); names: look for the objects' names (names.py); clock:
    the clock to use (read_clock's by default); stop: asked now and then,
    True ends the reading with Stopped."""
    reader = WaitReader(native, listing, stop)
    try:
        rows, objects, labels = reader.read()
    except BadRead as err:
        raise Unsupported(f"waits unreadable: {err}") from None
    naming = ""
    waits = WaitRows(rows)
    if names and objects:
        from .names import Namer

        namer = Namer(native, reader)
        objects = namer.name(objects)
        naming = namer.account
        reader.notes.extend(namer.notes)
    for address in reader.timer_chans:  # time.After's channel, that no variable holds
        if objects[address].named_by in ("", "stack word"):
            objects[address] = replace(objects[address], name="(a timer's channel)", named_by="hchan.timer")
    if clock is None:
        clock = read_clock(native, (row[4] for row in rows.values()), symbols=reader.symbols)
    waiters = {address: MappingProxyType({role: tuple(ids) for role, ids in roles.items()})
               for address, roles in reader.waiters.items()}
    return WaitReading(waits, MappingProxyType(objects), MappingProxyType(waiters),
                       MappingProxyType({k: MappingProxyType(v) for k, v in labels.items()}), clock,
                       tuple(dict.fromkeys(reader.notes)), naming)


def _by_id(stacks) -> Mapping[int, tuple["Location", ...]]:
    """A listing's stacks by goroutine id: kept as given when a mapping
    already (a million goroutines' dict is not copied)."""
    return stacks if isinstance(stacks, Mapping) else dict(stacks)


def _row(wait: Wait) -> tuple:
    return (wait.kind, wait.address, wait.cases, wait.reason, wait.since, wait.detail)
