"""Goroutines parked on a semaphore: sync.Mutex, RWMutex, WaitGroup, or a
bare runtime semaphore.

The semaphore table (runtime/sema.py) maps each parked g to the address
it waits on. Which object that address belongs to comes from the
innermost sync frame of the goroutine's stack (sync.(*Mutex).lockSlow,
sync.(*RWMutex).RLock / Lock, sync.(*WaitGroup).Wait) and, when the stack
is unknown, from the wait reason (Go 1.21+ name them: sync.Mutex.Lock ...;
Go 1.19 says "semacquire" for all): the object is the semaphore's address
minus the semaphore field's offset in that sync type (Mutex.sema or
Mutex.mu.sema, RWMutex.readerSem / writerSem / w, WaitGroup.sema or
state2).

State of each object: a Mutex's locked bit and waiter count; an RWMutex's
readers and writer; a WaitGroup's counter and waiters.
"""

from __future__ import annotations

import numpy as np

from ...model.table import factorize, numbered
from ...model.waits import ROLES, WaitObject, WaitRow
from ..dwarf import Layouts
from ..errors import BadRead, Unsupported
from ..runtime.fields import integer_field
from ..runtime.sema import SemaTable
from .stacks import PARK_DEPTH, Parked, ParkedStacks

# sync's constants (mutex.go, rwmutex.go), the same in Go 1.19-1.26.
MUTEX_LOCKED, MUTEX_STARVING, MUTEX_WAITER_SHIFT = 1, 4, 3
RWMUTEX_MAX_READERS = 1 << 30

# Wait reasons of semaphore waits -> the kind they tell.
SEMA_REASONS = {"semacquire": "semaphore", "sync.Mutex.Lock": "mutex", "sync.RWMutex.RLock": "rwmutex read",
                "sync.RWMutex.Lock": "rwmutex write", "sync.WaitGroup.Wait": "waitgroup",
                "sync.WaitGroup.Wait (durable)": "waitgroup"}
# The sync functions that park in the semaphore table, innermost first on a stack.
_MUTEX_FRAMES = frozenset({"sync.(*Mutex).lockSlow", "sync.(*Mutex).Lock", "internal/sync.(*Mutex).lockSlow",
                           "internal/sync.(*Mutex).Lock"})
_RLOCK, _WLOCK, _WGWAIT = "sync.(*RWMutex).RLock", "sync.(*RWMutex).Lock", "sync.(*WaitGroup).Wait"
_TYPES = {"mutex": "sync.Mutex", "rwmutex": "sync.RWMutex", "waitgroup": "sync.WaitGroup"}
# Reason rules are indices below this (reader.py's _REASONS).
_RULES = 256


class SyncOffsets:
    """Where the semaphores and state words sit in the sync types of this
    binary (Go 1.19: Mutex{state, sema}, WaitGroup{noCopy, state1, state2};
    Go 1.24+: Mutex{_, mu internal/sync.Mutex{state, sema}},
    WaitGroup{noCopy, state atomic.Uint64, sema}). A type the program does
    not use is missing from DWARF: its offsets are then None."""

    def __init__(self, layouts: Layouts) -> None:
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


class SemaphoreReader:
    """The semaphore waits of one core. table: a SemaTable, or the
    Unsupported that says why there is none; waiters: object address ->
    role -> goroutine ids, shared with the other readers."""

    def __init__(self, memory, layouts: Layouts, table: "SemaTable | Unsupported", stacks: ParkedStacks,
                 waiters: dict[int, dict[str, list[int]]], notes: list[str]) -> None:
        self.memory = memory
        self.layouts = layouts
        self.table = table
        self.stacks = stacks
        self.waiters = waiters
        self.notes = notes
        self._kinds: dict[tuple[int, str], tuple[str, str, int | None]] = {}

    def waiting(self) -> dict[int, int]:
        """g address -> the semaphore address it waits on (Unsupported: none readable)."""
        if isinstance(self.table, Unsupported):
            raise self.table
        return self.table.waiters(self.memory, self.notes)

    def read_all(self, batch: "np.ndarray", rules, rows, objects: dict[int, WaitObject]) -> None:
        """Rows and objects for every goroutine parked on a semaphore, at
        once: batch has each one's id, g address, reason rule (an index in
        rules: its reason, and the kind the reason tells) and waitsince, in
        allgs order; rows takes them (reader.py's _Rows). The kind of each
        wait is found once per distinct (stack, reason), the semaphore of
        each g by one lookup in the table's walk."""
        try:
            waiting = self.waiting()
        except Unsupported as err:
            self.notes.append(f"semaphore waits not read: {err}")
            waiting = {}
        offsets = SyncOffsets(self.layouts)
        ids, rule = batch["id"], batch["rule"]
        stack_keys, stack_of = self.stacks.keys(ids, batch["address"])
        by_pair, pairs = factorize((stack_keys + 1) * _RULES + rule)
        kinds: list[tuple[str, str, int]] = []
        for pair in pairs.tolist():
            key, r = divmod(pair, _RULES)
            stack = stack_of(key - 1)
            functions = tuple(location.function for location in stack[:PARK_DEPTH]) if stack else ()
            kind, obj_kind, offset = kind_of(functions, rules[r].kind, offsets)
            if offset is None:  # a plain semaphore: the address itself
                kind, obj_kind, offset = "semaphore", "semaphore", 0
            kinds.append((kind, obj_kind, offset))
        # The semaphore each g waits on (found: the table has it).
        g_addresses = np.fromiter(waiting, dtype=np.uint64, count=len(waiting))
        semas = np.fromiter(waiting.values(), dtype=np.uint64, count=len(waiting))
        order = np.argsort(g_addresses)
        g_addresses, semas = g_addresses[order], semas[order]
        found = np.zeros(len(batch), dtype=bool)
        address = np.zeros(len(batch), dtype=np.uint64)
        if len(g_addresses):
            at = np.searchsorted(g_addresses, batch["address"]).clip(0, len(g_addresses) - 1)
            found = g_addresses[at] == batch["address"]
            offset = np.fromiter((o for _, _, o in kinds), dtype=np.uint64, count=len(kinds))[by_pair]
            address[found] = semas[at[found]] - offset[found]
        codes, firsts = numbered(by_pair, address, batch["since"], found)
        distinct = np.fromiter((rows.code(WaitRow(kinds[by_pair[row]][0], int(address[row]), (),
                                                  rules[int(rule[row])].reason, int(batch["since"][row]),
                                                  "" if found[row] else "not in the semaphore table"))
                                for row in firsts), dtype=np.int64, count=len(firsts))
        rows.add_coded(ids, distinct[codes])
        # The objects, and their waiters by role, in allgs order.
        waiters = self.waiters
        present = np.flatnonzero(found)
        roles_of = [ROLES[kind] for kind, _, _ in kinds]
        role_numbers = {role: number for number, role in enumerate(dict.fromkeys(roles_of))}
        role = np.fromiter((role_numbers[r] for r in roles_of), dtype=np.int64, count=len(roles_of))
        groups, firsts = numbered(address[present], role[by_pair[present]])
        members = _split(groups, ids[present], len(firsts))
        for group, row in enumerate(firsts):
            target = int(address[present[row]])
            pair = int(by_pair[present[row]])
            roles = waiters.get(target)
            if roles is None:
                roles = waiters[target] = {}
                objects[target] = self._object(target, kinds[pair][1], offsets)
            roles.setdefault(roles_of[pair], []).extend(members[group])

    def _object(self, address: int, kind: str, offsets: SyncOffsets) -> WaitObject:
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
        return WaitObject(address, kind, _TYPES.get(kind, "uint32"))


def kind_of(functions: tuple[str, ...], by_reason: str, offsets: SyncOffsets) -> tuple[str, str, int | None]:
    """(wait kind, object kind, semaphore offset in the object) of a
    goroutine whose top frames are functions (innermost first), else of its
    wait reason's kind; offset None: a plain semaphore."""
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


def _split(groups: np.ndarray, values: np.ndarray, count: int) -> list[list[int]]:
    """values by group number (0..count-1), each list in the values' order."""
    order = np.argsort(groups, kind="stable")
    bounds = np.searchsorted(groups[order], np.arange(count + 1))
    ordered = values[order]
    return [ordered[bounds[g]:bounds[g + 1]].tolist() for g in range(count)]
