"""One pass over allgs, and each waiting goroutine handed to the reader of
its kind (channels.py, semaphores.py, conds.py, netpoll.py); sleeps,
system calls and the runtime's own waits by their kind only.
"""

from __future__ import annotations

import struct
from dataclasses import replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Callable, NamedTuple

from ...model.waits import ROLES, Clock, WaitObject, WaitReading, WaitRow, WaitRows, row_of
from ..errors import BadRead, Stopped, Unsupported
from ..names import Namer
from ..runtime.chan import HchanLayout, SudogLayout
from ..runtime.g import G_DEAD, G_SYSCALL, G_WAITING
from ..runtime.rtype import TypeNames
from ..runtime.sema import SemaTable
from .channels import CHAN_REASONS, ChannelReader
from .clock import CLOCK_SYMBOLS, read_clock
from .conds import CondReader
from .netpoll import PollReader
from .semaphores import SEMA_REASONS, SemaphoreReader
from .stacks import Parked, ParkedStacks

if TYPE_CHECKING:
    from ..native import Listing, NativeCore

_SIMPLE_REASONS = {"sleep": "sleep"}
# Frames of these packages are how a system call is made, not who made it.
_SYSCALL_PACKAGES = ("runtime.", "syscall.", "internal/", "runtime/", "golang.org/x/sys/")
# The g fields the pass reads, in Parked's order (after the address).
_G_FIELDS = ("id", "status", "wait_reason", "wait_since", "waiting", "labels", "parent_id")
# Every this many gs, the core's pages leave our RSS and stop() is asked.
_RELEASE_EVERY = 2048
# Wait reason indices past the target's table (a corrupt g) still find a rule.
_REASONS = 256
_U64 = struct.Struct("<Q").unpack_from

# What a wait reason asks of the reader.
READ_CHAN = 0  # a channel send or receive: sudog.c, read in the pass itself
READ_NO_OBJECT = 1  # a nil channel, a select without cases: nothing to find
READ_SELECT = 2
READ_SEMAPHORE = 3
READ_COND = 4
READ_IO = 5
READ_SIMPLE = 6  # a sleep: its kind only
READ_OTHER = 7  # the runtime's own waits


class ReasonRule(NamedTuple):
    """What one wait reason asks: `read` (a READ_ constant), the Wait's
    kind and detail, the reason's text; queue: the waiters (channel ->
    goroutine ids) a channel wait joins."""

    read: int
    kind: str
    detail: str
    reason: str
    queue: dict[int, list[int]] | None


class Deferred(NamedTuple):
    """A goroutine whose wait is read after the pass (select, semaphore,
    Cond, I/O, system call), with its reason's rule."""

    g: Parked
    rule: ReasonRule


class WaitReader:
    """Reads the waits of one open core (see the package's doc). listing:
    the native listing, whose stacks and labels are reused; stop: asked
    now and then, True ends the reading with Stopped."""

    def __init__(self, native: "NativeCore", listing: "Listing | None" = None,
                 stop: Callable[[], bool] | None = None) -> None:
        self.native = native
        self.stop = stop or (lambda: False)
        self.memory = native.memory
        self.listing = listing
        self.notes: list[str] = []
        if not native.g.has("waiting"):
            raise Unsupported("DWARF: runtime.g has no waiting field")
        self.symbols = native.exe.symbols("runtime.semtable", "runtime.firstmoduledata", *CLOCK_SYMBOLS)
        self.g_address: dict[int, int] = {}  # goroutine id -> g, every live goroutine
        self.parent_counts: dict[int, int] = {}  # parentGoid -> waiters it created (Go 1.21+)
        # object address -> role -> goroutine ids (in allgs order)
        self.waiters: dict[int, dict[str, list[int]]] = {}
        layouts, memory, notes = native.layouts, native.memory, self.notes
        self.sudog = SudogLayout(layouts)
        self.stacks = ParkedStacks(native, listing, self.g_address)
        type_names = TypeNames.of(native, notes)
        self.channels = ChannelReader(memory, self.sudog, HchanLayout(layouts), type_names, self.waiters, notes)
        try:
            table: SemaTable | Unsupported = SemaTable(layouts, self.sudog, self.symbols.get("runtime.semtable"),
                                                       native.bias)
        except Unsupported as err:
            table = err
        self.semaphores = SemaphoreReader(memory, layouts, table, self.stacks, self.waiters, notes)
        self.conds = CondReader(memory, layouts, self.sudog, self.stacks, notes)
        self.polls = PollReader(memory, layouts, self.stacks, notes)

    @property
    def timer_chans(self) -> set[int]:
        """Channels a runtime timer feeds (Go 1.23+: time.After's, Timer.C)."""
        return self.channels.timer_chans

    def _rules(self, send: dict[int, list[int]], receive: dict[int, list[int]]) -> list[ReasonRule]:
        """One rule per wait reason index (and past the target's table)."""
        rules = []
        for index, reason in enumerate(self.native.wait_reasons()):
            if index == 0:
                reason = ""
            chan = CHAN_REASONS.get(reason)
            if chan is not None:
                kind, detail = chan
                read = READ_SELECT if kind == "select" and not detail else READ_NO_OBJECT if detail else READ_CHAN
                rules.append(ReasonRule(read, kind, detail, reason, send if kind == "chan send" else receive))
            elif reason in SEMA_REASONS:
                rules.append(ReasonRule(READ_SEMAPHORE, SEMA_REASONS[reason], "", reason, None))
            elif reason == "sync.Cond.Wait":
                rules.append(ReasonRule(READ_COND, "cond", "", reason, None))
            elif reason == "IO wait":
                rules.append(ReasonRule(READ_IO, "io", "", reason, None))
            elif reason in _SIMPLE_REASONS:
                rules.append(ReasonRule(READ_SIMPLE, _SIMPLE_REASONS[reason], "", reason, None))
            else:
                rules.append(ReasonRule(READ_OTHER, "other", reason, reason, None))
        rules += [ReasonRule(READ_OTHER, "other", f"wait reason {i}", "", None) for i in range(len(rules), _REASONS)]
        return rules

    def read(self) -> tuple[dict[int, WaitRow], dict[int, WaitObject], dict[int, dict[str, str]]]:
        """(rows, objects, labels): one pass over allgs reads each g's
        status, wait reason, waitsince, waiting sudog, labels and parent;
        a channel wait costs one more read (sudog.c); everything else
        (select, semaphores, Cond, IO, syscalls) is read afterwards for the
        few goroutines concerned."""
        send: dict[int, list[int]] = {}
        receive: dict[int, list[int]] = {}
        rows, deferred, label_ptrs = self._pass(self._rules(send, receive))
        for role, queue in (("send", send), ("receive", receive)):
            for channel, members in queue.items():
                self.waiters.setdefault(channel, {})[role] = members
        objects: dict[int, WaitObject] = {}
        self._deferred(deferred, rows, objects)
        for address in self.waiters:
            if address not in objects:
                objects[address] = self.channels.channel(address)
        labels = self._labels(label_ptrs)
        self.memory.release()
        return rows, objects, labels

    def _pass(self, rules: list[ReasonRule]) -> tuple[dict[int, WaitRow], list[Deferred], dict[int, int]]:
        """(rows of the waits read in the pass, the goroutines left for
        later, goroutine id -> its labels pointer). Written for a million
        goroutines: no call per g but the unpacking, and no object but the
        row of a waiting one."""
        view = self.native.g.view(*_G_FIELDS)
        unpack, pick, pad, base, size, memory = view.unpack, view.pick, view.pad, view.base, view.size, self.memory
        c_at = self.sudog.c
        rows: dict[int, WaitRow] = {}
        # Equal rows are one WaitRow: goroutines parked together by one GC
        # share a waitsince, and a million rows come down to a few (found
        # by a plain tuple of the fields, equal to its WaitRow).
        shared: dict[tuple, WaitRow] = {}
        parents, g_address = self.parent_counts, self.g_address
        deferred: list[Deferred] = []
        label_ptrs: dict[int, int] = {}
        syscall_rule = rules[0]
        # Span caches: gs, and sudogs, sit in a few big regions.
        g_start = g_end = g_delta = s_start = s_end = s_delta = 0
        g_buf = s_buf = None
        for count, address in enumerate(self.native.allgs()):
            if count % _RELEASE_EVERY == _RELEASE_EVERY - 1:
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
            gid, status, reason_index, since, waiting, labels, parent = pick(unpack(g_buf, at - g_delta) + pad)
            if status == G_DEAD:
                continue
            g_address[gid] = address
            if labels:
                label_ptrs[gid] = labels
            if status != G_WAITING:
                if status == G_SYSCALL:
                    deferred.append(Deferred(Parked(address, gid, status, reason_index, since, waiting, labels,
                                                    parent), syscall_rule))
                continue
            if parent:
                parents[parent] = parents.get(parent, 0) + 1
            rule = rules[reason_index & 0xFF]
            read, kind, detail, reason, queue = rule
            if read == READ_CHAN:
                if not waiting:
                    key = (kind, 0, (), reason, since, "no sudog")
                    rows[gid] = shared.get(key) or shared.setdefault(key, WaitRow._make(key))
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
                        key = (kind, 0, (), reason, since, "sudog unreadable")
                        rows[gid] = shared.get(key) or shared.setdefault(key, WaitRow._make(key))
                        continue
                key = (kind, channel, (), reason, since, "")
                rows[gid] = shared.get(key) or shared.setdefault(key, WaitRow._make(key))
                members = queue.get(channel)
                if members is None:
                    queue[channel] = [gid]
                else:
                    members.append(gid)
            elif read == READ_SIMPLE or read == READ_OTHER or read == READ_NO_OBJECT:
                key = (kind, 0, (), reason, since, detail)
                rows[gid] = shared.get(key) or shared.setdefault(key, WaitRow._make(key))
            else:
                deferred.append(Deferred(Parked(address, gid, status, reason_index, since, waiting, labels, parent),
                                         rule))
        return rows, deferred, label_ptrs

    def _deferred(self, deferred: list[Deferred], rows: dict[int, WaitRow], objects: dict[int, WaitObject]) -> None:
        """The waits the pass left: system calls, selects, semaphores, Conds, I/O."""
        semaphores: list[tuple[Parked, str, str]] = []
        selects: list[Parked] = []
        for g, rule in deferred:
            if g.status == G_SYSCALL:
                rows[g.id] = WaitRow("syscall", 0, (), "", g.since, self._syscall(g))
            elif rule.read == READ_SELECT:
                selects.append(g)
                rows[g.id] = row_of(self.channels.select(g, rule.reason))
            elif rule.read == READ_SEMAPHORE:
                semaphores.append((g, rule.reason, rule.kind))
            elif rule.read == READ_COND:
                rows[g.id] = row_of(self.conds.wait(g, rule.reason, objects))
            elif rule.read == READ_IO:
                rows[g.id] = row_of(self.polls.wait(g, rule.reason, objects))
        if selects:
            self.channels.select_directions(selects, rows)
        if semaphores:
            self.semaphores.read(semaphores, objects, rows)
        for g, rule in deferred:
            if g.status != G_SYSCALL and rule.read in (READ_COND, READ_IO):  # the others are in already
                row = rows[g.id]
                if row.address:
                    role = ROLES.get(row.kind) or row.detail
                    self.waiters.setdefault(row.address, {}).setdefault(role, []).append(g.id)

    # What the namer asks

    def stack_key(self, gid: int) -> object:
        """Equal for goroutines with equal stacks (see ParkedStacks.key)."""
        return self.stacks.key(gid)

    def parents(self, limit: int = 8) -> list[int]:
        """The goroutines that created the most waiters (g.parentGoid, Go 1.21+), most first."""
        counts = {p: n for p, n in self.parent_counts.items() if p in self.g_address}
        return sorted(counts, key=lambda p: (-counts[p], p))[:limit]

    # System calls

    def _syscall(self, g: Parked) -> str:
        """The function that entered the system call (g.syscallpc), and
        its caller outside the runtime and package syscall when the stack
        shows one: "syscall.Syscall from main.main.func6"."""
        try:
            record = self.native.read_g(g.address)
        except BadRead:
            return ""
        func = self.native.names.func(record.syscall_pc) if record.syscall_pc else None
        name = func.name if func is not None else ""
        stack = self.stacks.stack(g)
        caller = next((loc.function for loc in stack or () if not loc.function.startswith(_SYSCALL_PACKAGES)), "")
        return f"{name} from {caller}" if name and caller else name or caller

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


def read_waits(native: "NativeCore", listing: "Listing | None" = None, names: bool = True,
               clock: Clock | None = None, stop: Callable[[], bool] | None = None) -> WaitReading:
    """Every wait of the core (see the package's doc). listing: the native
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
        namer = Namer(native, reader)
        objects = namer.name(objects)
        naming = namer.account
        reader.notes.extend(namer.notes)
    for address in reader.timer_chans:  # time.After's channel, that no variable holds
        if objects[address].named_by in ("", "stack word"):
            objects[address] = replace(objects[address], name="(a timer's channel)", named_by="hchan.timer")
    if clock is None:
        clock = read_clock(native, (row.since for row in rows.values()), symbols=reader.symbols)
    waiters = {address: MappingProxyType({role: tuple(ids) for role, ids in roles.items()})
               for address, roles in reader.waiters.items()}
    return WaitReading(waits, MappingProxyType(objects), MappingProxyType(waiters),
                       MappingProxyType({k: MappingProxyType(v) for k, v in labels.items()}), clock,
                       tuple(dict.fromkeys(reader.notes)), naming)

