"""One pass over allgs, a page of gs at a time as arrays, and the waiting
goroutines handed to the reader of their kind: the channel waits read in
the pass itself (one gather), the semaphore waits all together
(semaphores.py), selects, Conds, I/O and system calls one goroutine at a
time (channels.py, conds.py, netpoll.py); sleeps and the runtime's own
waits by their kind only.
"""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Callable, Iterator, Mapping, NamedTuple

import numpy as np

from ...model.table import ColumnWaitRows, Interner, factorize
from ...model.waits import ROLES, Clock, WaitObject, WaitReading, WaitRow, WaitRows, row_of
from ..arrays import CoreArrays
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
    from ..runtime.g import GTable

_SIMPLE_REASONS = {"sleep": "sleep"}
# Frames of these packages are how a system call is made, not who made it.
_SYSCALL_PACKAGES = ("runtime.", "syscall.", "internal/", "runtime/", "golang.org/x/sys/")
# The g fields the pass reads, in Parked's order (after the address).
_G_FIELDS = ("id", "status", "wait_reason", "wait_since", "waiting", "labels", "parent_id")
# gs read at a time (then stop() is asked, and the core's pages leave our RSS).
_PAGE = 1 << 15
# Wait reason indices past the target's table (a corrupt g) still find a rule.
_REASONS = 256
# A row's detail is its reason rule's own.
_OWN_DETAIL = None
# What the pass hands the semaphore reader, per goroutine.
_SEMA_BATCH = np.dtype([("id", "<i8"), ("address", "<u8"), ("rule", "<i8"), ("since", "<i8")])

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
        self.arrays = CoreArrays(native.memory)
        self.g_address = GAddresses()  # goroutine id -> g, every live goroutine
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

    def read(self) -> tuple[WaitRows, dict[int, WaitObject], dict[int, dict[str, str]]]:
        """(rows, objects, labels): one pass over every g's status, wait
        reason, waitsince, waiting sudog, labels and parent, a page of gs
        at a time as arrays; the channel of every channel wait in one
        gather; the semaphore waits all at once after the semaphore table's
        walk; the rest (select, Cond, IO, system calls) one goroutine at a
        time, for the few goroutines concerned."""
        send: dict[int, list[int]] = {}
        receive: dict[int, list[int]] = {}
        self._queues = (send, receive)
        rules = self._rules(send, receive)
        rows = _Rows(rules)
        deferred: list[Deferred] = []
        semaphores: list[np.ndarray] = []
        label_ptrs: dict[int, int] = {}
        for gs in self._pages():
            self._pass(gs, rules, rows, deferred, semaphores, label_ptrs)
            if self.stop():
                raise Stopped()
        self.g_address.freeze()
        for role, queue in (("send", send), ("receive", receive)):
            for channel, members in queue.items():
                self.waiters.setdefault(channel, {})[role] = members
        objects: dict[int, WaitObject] = {}
        self._deferred(deferred, np.concatenate(semaphores) if semaphores else None, rules, rows, objects)
        for address in self.waiters:
            if address not in objects:
                objects[address] = self.channels.channel(address)
        labels = self._labels(label_ptrs)
        self.memory.release()
        return rows.wait_rows(), objects, labels

    def _pages(self):
        """Every readable g that is not dead, a page at a time: a GTable of
        _G_FIELDS."""
        native = self.native
        arrays = self.arrays
        addresses = native.allgs_array(arrays)
        for start in range(0, len(addresses), _PAGE):
            table, _ = native.g.table(arrays, addresses[start:start + _PAGE], _G_FIELDS)
            yield table.take(table["status"] != G_DEAD)

    def _pass(self, gs: "GTable", rules: list[ReasonRule], rows: "_Rows", deferred: list[Deferred],
              semaphores: list[np.ndarray], label_ptrs: dict[int, int]) -> None:
        """One page of gs: the rows of the waits read here, the goroutines
        left for later, goroutine id -> its labels pointer."""
        ids = gs["id"].astype(np.int64)
        status = gs["status"].astype(np.int64)
        self.g_address.add(ids, gs["address"])
        with_labels = gs["labels"] != 0
        if with_labels.any() and self.listing is None:
            label_ptrs.update(zip(ids[with_labels].tolist(), gs["labels"][with_labels].tolist()))
        waiting = status == G_WAITING
        parents = gs["parent_id"].astype(np.int64)
        counted = parents[waiting & (parents != 0)]
        if len(counted):
            for parent, count in zip(*(column.tolist() for column in np.unique(counted, return_counts=True))):
                self.parent_counts[parent] = self.parent_counts.get(parent, 0) + count
        rule = (gs["wait_reason"].astype(np.int64) & 0xFF)
        read = np.asarray([r.read for r in rules], dtype=np.int8)[rule]
        since = gs["wait_since"].astype(np.int64)
        sudog = gs["waiting"].astype(np.uint64)
        later = (status == G_SYSCALL) | (waiting & ((read == READ_SELECT) | (read == READ_COND) | (read == READ_IO)))
        for row in np.flatnonzero(later).tolist():
            g = Parked(int(gs["address"][row]), int(ids[row]), int(status[row]), int(gs["wait_reason"][row]),
                       int(since[row]), int(sudog[row]), int(gs["labels"][row]), int(parents[row]))
            deferred.append(Deferred(g, rules[0] if g.status == G_SYSCALL else rules[int(rule[row])]))
        sema = np.flatnonzero(waiting & (read == READ_SEMAPHORE))
        if len(sema):
            batch = np.zeros(len(sema), dtype=_SEMA_BATCH)
            batch["id"], batch["address"], batch["rule"] = ids[sema], gs["address"][sema], rule[sema]
            batch["since"] = since[sema]
            semaphores.append(batch)
        # By their kind only: a sleep, the runtime's own waits, a nil channel.
        plain = np.flatnonzero(waiting & ((read == READ_SIMPLE) | (read == READ_OTHER) | (read == READ_NO_OBJECT)))
        rows.add(ids[plain], rule[plain], 0, since[plain], _OWN_DETAIL)
        chan = waiting & (read == READ_CHAN)
        rows.add(ids[chan & (sudog == 0)], rule[chan & (sudog == 0)], 0, since[chan & (sudog == 0)], "no sudog")
        with_sudog = np.flatnonzero(chan & (sudog != 0))
        if not len(with_sudog):
            return
        at = sudog[with_sudog] + np.uint64(self.sudog.c)
        readable = self.arrays.readable(at, 8)
        for row in with_sudog[~readable].tolist():
            address = int(sudog[row]) + self.sudog.c
            self.notes.append(f"goroutine {int(ids[row])}: its sudog is unreadable ({BadRead(address, 8)})")
        lost = with_sudog[~readable]
        rows.add(ids[lost], rule[lost], 0, since[lost], "sudog unreadable")
        found = with_sudog[readable]
        channel = self.arrays.u64(at[readable])
        rows.add(ids[found], rule[found], channel, since[found], "")
        # Each channel's waiters, in allgs order, in the queue their reason names.
        sends = np.asarray([r.kind == "chan send" for r in rules], dtype=bool)[rule[found]]
        for is_send in (True, False):
            mine = sends == is_send
            queue = self._queues[0 if is_send else 1]
            for address, gids in _grouped(channel[mine], ids[found][mine]).items():
                members = queue.get(address)
                if members is None:
                    queue[address] = gids
                else:
                    members.extend(gids)

    def _deferred(self, deferred: list[Deferred], semaphores: np.ndarray | None, rules: list[ReasonRule],
                  rows: "_Rows", objects: dict[int, WaitObject]) -> None:
        """The waits the pass left: system calls, selects, Conds and I/O one
        goroutine at a time; the semaphore waits all at once."""
        selects: list[Parked] = []
        for g, rule in deferred:
            if g.status == G_SYSCALL:
                rows[g.id] = WaitRow("syscall", 0, (), "", g.since, self._syscall(g))
            elif rule.read == READ_SELECT:
                selects.append(g)
                rows[g.id] = row_of(self.channels.select(g, rule.reason))
            elif rule.read == READ_COND:
                rows[g.id] = row_of(self.conds.wait(g, rule.reason, objects))
            elif rule.read == READ_IO:
                rows[g.id] = row_of(self.polls.wait(g, rule.reason, objects))
        if selects:
            self.channels.select_directions(selects, rows)
        if semaphores is not None:
            self.semaphores.read_all(semaphores, rules, rows, objects)
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
    waits = rows
    if names and objects:
        namer = Namer(native, reader)
        objects = namer.name(objects)
        naming = namer.account
        reader.notes.extend(namer.notes)
    for address in reader.timer_chans:  # time.After's channel, that no variable holds
        if objects[address].named_by in ("", "stack word"):
            objects[address] = replace(objects[address], name="(a timer's channel)", named_by="hchan.timer")
    if clock is None:
        clock = read_clock(native, (row.since for row in rows.distinct()), symbols=reader.symbols)
    waiters = {address: MappingProxyType({role: tuple(ids) for role, ids in roles.items()})
               for address, roles in reader.waiters.items()}
    return WaitReading(waits, MappingProxyType(objects), MappingProxyType(waiters),
                       MappingProxyType({k: MappingProxyType(v) for k, v in labels.items()}), clock,
                       tuple(dict.fromkeys(reader.notes)), naming)



class GAddresses(Mapping):
    """goroutine id -> its g, for every live goroutine (the pass adds them
    a page at a time; freeze() sorts them for lookups)."""

    def __init__(self) -> None:
        self._pages: list[tuple[np.ndarray, np.ndarray]] = []
        self._ids = np.zeros(0, dtype=np.int64)
        self._addresses = np.zeros(0, dtype=np.uint64)

    def add(self, ids: np.ndarray, addresses: np.ndarray) -> None:
        self._pages.append((ids, addresses))

    def freeze(self) -> None:
        if self._pages:
            ids = np.concatenate([self._ids] + [i for i, _ in self._pages])
            addresses = np.concatenate([self._addresses] + [a for _, a in self._pages])
            # The first g of an id wins, as in allgs order.
            self._ids, first = np.unique(ids, return_index=True)
            self._addresses = addresses[first]
            self._pages = []

    def __getitem__(self, goroutine_id: int) -> int:
        self.freeze()
        at = int(np.searchsorted(self._ids, goroutine_id))
        if at < len(self._ids) and self._ids[at] == goroutine_id:
            return int(self._addresses[at])
        raise KeyError(goroutine_id)

    def __iter__(self) -> Iterator[int]:
        self.freeze()
        return iter(self._ids.tolist())

    def __len__(self) -> int:
        self.freeze()
        return len(self._ids)


class _Rows:
    """The waits' rows as they are read: most a page at a time as columns,
    equal rows one WaitRow (goroutines parked together by one GC share a
    waitsince: a million rows come down to a few); some one goroutine at a
    time. rows() makes them one ColumnWaitRows."""

    def __init__(self, rules: list[ReasonRule]) -> None:
        self.rules = rules
        self._rows = Interner()  # the distinct rows: WaitRow -> code
        self._ids: list[np.ndarray] = []
        self._code_arrays: list[np.ndarray] = []
        self._one: dict[int, WaitRow] = {}

    def code(self, row: WaitRow) -> int:
        return self._rows.code(row)

    def add(self, ids: np.ndarray, rule: np.ndarray, address, since: np.ndarray, detail: str | None) -> None:
        """Rows of (the rule's kind and reason, address, since, detail, or
        the rule's own detail for _OWN_DETAIL), one goroutine each."""
        if not len(ids):
            return
        address = np.broadcast_to(np.asarray(address, dtype=np.uint64), ids.shape)
        by_rule, rules = factorize(rule)
        by_address, addresses = factorize(address)
        by_since, sinces = factorize(since)
        combined, distinct = factorize((by_rule * len(addresses) + by_address) * len(sinces) + by_since)
        codes = np.empty(len(distinct), dtype=np.int32)
        for i, key in enumerate(distinct.tolist()):
            rest, s = divmod(key, len(sinces))
            r, a = divmod(rest, len(addresses))
            reason_rule = self.rules[int(rules[r])]
            codes[i] = self.code(WaitRow(reason_rule.kind, int(addresses[a]), (), reason_rule.reason, int(sinces[s]),
                                         reason_rule.detail if detail is _OWN_DETAIL else detail))
        self._ids.append(ids)
        self._code_arrays.append(codes[combined])

    def add_coded(self, ids: np.ndarray, codes: np.ndarray) -> None:
        """Rows already coded (code())."""
        self._ids.append(ids)
        self._code_arrays.append(codes.astype(np.int32))

    def __setitem__(self, goroutine: int, row: WaitRow) -> None:
        self._one[goroutine] = row

    def __getitem__(self, goroutine: int) -> WaitRow:
        """A row set one goroutine at a time."""
        return self._one[goroutine]

    def wait_rows(self) -> WaitRows:
        ids = self._ids + [np.fromiter(self._one, dtype=np.int64, count=len(self._one))]
        codes = self._code_arrays + [np.fromiter((self.code(row) for row in self._one.values()), dtype=np.int32,
                                                 count=len(self._one))]
        return ColumnWaitRows(np.concatenate(ids), np.concatenate(codes), self._rows.values)


def _grouped(keys: np.ndarray, values: np.ndarray) -> dict[int, list[int]]:
    """values by key (each list in the values' order), keys in order of first appearance."""
    if not len(keys):
        return {}
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    ends = np.concatenate((starts[1:], [len(keys)]))
    groups = sorted(zip(order[starts].tolist(), starts.tolist(), ends.tolist()))
    return {int(keys[first]): values[order[start:end]].tolist() for first, start, end in groups}
