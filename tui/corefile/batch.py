"""Every goroutine of a core at once: the listing read in arrays.

    for page in BatchListing(native).pages():
        page.table            # a GoroutineTable (tui/model/table.py), allgs order
        page.why              # row -> why the core alone does not tell its stack

The g structs of allgs come in one gather (GLayout.table); every stack is
walked by the pcsp tables for all goroutines together (unwind_all: the
loop runs over depths, never over goroutines); each distinct stack and
each distinct PC is symbolized once (NativeCore's caches), and the
columns of the table are made by indexing small tables of those answers.

A goroutine the batch cannot walk takes the careful path, one at a time,
through the same code the scalar reader runs (NativeCore): one on a thread
at the crash (its thread's stack: signal frames, the system stack, C),
and one whose walk stops on a rule (a stack switch, a signal context, no
SP delta, an unreadable word, an SP outside its stack) or is among the
last few still unwinding (a deep recursion). `careful` counts them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterator

import numpy as np

from ..model import STATUSES_WITH_REASON, Location, status_word
from ..model.table import NONE, GoroutineTable, Interner
from .arrays import CoreArrays
from .errors import BadRead
from .runtime.g import DEAD_STATUSES, G_SCAN, GTable
from .stack import END, MAX_FRAMES, SWITCH, USER_DEPTH, StackWalker

if TYPE_CHECKING:
    from .native import NativeCore

# gs read, unwound and made into a table at a time: big enough that numpy's
# per-call cost vanishes, small enough that a page of a million comes early.
PAGE = 1 << 15
# Stacks walked together before the core's pages they touched are released
# (a 4 KiB page of stack, and its neighbours the kernel maps with it, for
# every two goroutines).
WALK = 1 << 13
# Once this deep, when no more than TAIL goroutines are still unwinding,
# they are walked one by one (a lone deep recursion would cost a round of
# numpy calls a frame).
TAIL_DEPTH, TAIL = 128, 16
# The frame kinds the batch walk tells apart (StackWalker's SWITCH, END,
# and two of its own).
_OUTSIDE, _NO_DELTA = 4, 8
# A dense lookup of (prefix, pc) pairs is used up to this many cells.
_DENSE = 1 << 22
# The g fields the listing reads.
_FIELDS = ("id", "status", "wait_reason", "wait_since", "pc", "sp", "bp", "stack_lo", "stack_hi", "gopc", "startpc",
           "labels", "syscall_sp", "syscall_pc", "syscall_bp", "parent_id")


class PcTable:
    """What the walk needs of each PC met (its SP delta and kind), held in
    arrays: a PC's row found by searchsorted, a new PC asked of
    StackWalker.info once. Rows are stable codes: row i is pcs[i]."""

    def __init__(self, walker: StackWalker) -> None:
        self.walker = walker
        self.pcs: list[int] = []
        self.deltas: list[int] = []
        self.kinds: list[int] = []
        self._sorted = np.zeros(0, dtype=np.uint64)
        self._order = np.zeros(0, dtype=np.int64)
        # By row: the SP delta; the walk stops there (outside Go's code, no
        # SP delta, a stack switch); the stack ends there (a bottom frame);
        # the PC is outside Go's code.
        self.delta = np.zeros(0, dtype=np.uint64)
        self.stop = np.zeros(0, dtype=bool)
        self.end = np.zeros(0, dtype=bool)
        self.outside = np.zeros(0, dtype=bool)

    def codes(self, pcs: np.ndarray) -> np.ndarray:
        """The row of each pc (int64), adding the PCs not met before."""
        found = self._find(pcs)
        missing = found < 0
        if missing.any():
            for pc in np.unique(pcs[missing]).tolist():
                self._add(pc)
            self._index()
            found[missing] = self._find(pcs[missing])
        return found

    def _find(self, pcs: np.ndarray) -> np.ndarray:
        if not len(self._sorted):
            return np.full(len(pcs), -1, dtype=np.int64)
        at = np.searchsorted(self._sorted, pcs)
        at[at >= len(self._sorted)] = 0
        return np.where(self._sorted[at] == pcs, self._order[at], -1)

    def _add(self, pc: int) -> None:
        info = self.walker.info(pc)
        if info is None:
            delta, kind = 0, _OUTSIDE
        else:
            delta, kind, _ = info
            if delta < 0:
                delta, kind = 0, kind | _NO_DELTA
        self.pcs.append(pc)
        self.deltas.append(delta)
        self.kinds.append(kind)

    def _index(self) -> None:
        pcs = np.asarray(self.pcs, dtype=np.uint64)
        self._order = np.argsort(pcs, kind="stable")
        self._sorted = pcs[self._order]
        self.delta = np.asarray(self.deltas, dtype=np.uint64)
        kind = np.asarray(self.kinds, dtype=np.int8)
        self.stop = (kind & (_OUTSIDE | _NO_DELTA | SWITCH)) != 0
        self.end = (kind & END) != 0
        self.outside = (kind & _OUTSIDE) != 0


def unwind_all(table: PcTable, arrays: CoreArrays, pc: np.ndarray, sp: np.ndarray, lo: np.ndarray,
               hi: np.ndarray) -> tuple[np.ndarray, list[tuple[int, ...]]]:
    """Whole stacks of many goroutines at once, each as StackWalker.unwind
    walks it (depth None): at every depth, the SP delta of each goroutine's
    PC (PcTable), its CFA, and the return address at CFA-8 gathered for all
    goroutines still unwinding.

    Returns (number, stacks): goroutine i's physical frame PCs are
    stacks[number[i]], innermost first; number[i] is -1 where unwind() must
    walk it alone (it stops there with a reason, or it was among the last
    TAIL still unwinding past TAIL_DEPTH). Equal PC sequences are one stack: each depth
    numbers the distinct (stack so far, pc) pairs, so a stack is a path in
    a trie, never a tuple per goroutine."""
    n = len(pc)
    number = np.full(n, -1, dtype=np.int64)
    ok = (lo <= sp) & (sp <= hi) & (hi - lo <= np.uint64(1 << 31))
    ok &= arrays.readable(sp, 1) if n else ok
    active = np.flatnonzero(ok)
    cur_pc, cur_sp = pc[active], sp[active]
    prefix = np.zeros(len(active), dtype=np.int64)  # each one's node at the depth before
    # Per depth: each node's parent node (at the depth before) and PC row.
    parents: list[np.ndarray] = []
    rows: list[np.ndarray] = []
    # (goroutines, depth, node): where each walk that ended ended.
    ends: list[tuple[np.ndarray, int, np.ndarray]] = []
    depth = 0
    while len(active) and not (depth >= TAIL_DEPTH and len(active) <= TAIL) and depth < MAX_FRAMES:
        code = table.codes(cur_pc)
        if depth:
            outside = table.outside[code]
            if outside.any():  # a return address outside Go's code: the stack ends before it
                ends.append((active[outside], depth - 1, prefix[outside]))
        cfa = cur_sp + table.delta[code] + np.uint64(8)
        ret, readable = arrays.u64_where(cfa - np.uint64(8))
        # The others stop on a rule, or at an unreadable word: unwind() says why.
        keep = readable & ~table.stop[code]
        if not keep.all():
            active, prefix, code, cfa, ret = active[keep], prefix[keep], code[keep], cfa[keep], ret[keep]
        node, parent, row = _number(prefix, code, len(parents[-1]) if parents else 1, len(table.pcs))
        parents.append(parent)
        rows.append(row)
        done = table.end[code] | (ret == 0)
        if done.any():
            ends.append((active[done], depth, node[done]))
            going = ~done
            active, node, ret, cfa = active[going], node[going], ret[going], cfa[going]
        prefix, cur_pc, cur_sp = node, ret, cfa
        depth += 1
    return _stacks(number, ends, parents, rows, table)


def _number(prefix: np.ndarray, code: np.ndarray, prefixes: int, codes: int) -> tuple[np.ndarray, ...]:
    """(each goroutine's node, each node's parent, each node's PC row): the
    distinct (prefix, code) pairs numbered in order."""
    if prefixes * codes <= _DENSE:
        key = prefix * codes + code
        seen = np.zeros(prefixes * codes, dtype=bool)
        seen[key] = True
        cells = np.flatnonzero(seen)
        numbers = np.empty(prefixes * codes, dtype=np.int32)
        numbers[cells] = np.arange(len(cells), dtype=np.int32)
        return numbers[key].astype(np.int64), cells // codes, cells % codes
    key = prefix * codes + code
    cells, node = np.unique(key, return_inverse=True)
    return node.reshape(-1), cells // codes, cells % codes


def _stacks(number: np.ndarray, ends: list[tuple[np.ndarray, int, np.ndarray]], parents: list[np.ndarray],
            rows: list[np.ndarray], table: PcTable) -> tuple[np.ndarray, list[tuple[int, ...]]]:
    """Each ended walk's stack number and the distinct stacks' PCs."""
    stacks: list[tuple[int, ...]] = []
    pcs = table.pcs
    for goroutines, depth, nodes in ends:
        distinct, inverse = np.unique(nodes, return_inverse=True)
        numbers = np.empty(len(distinct), dtype=np.int64)
        for i, node in enumerate(distinct.tolist()):
            path = []
            for level in range(depth, -1, -1):
                path.append(pcs[rows[level][node]])
                node = parents[level][node]
            numbers[i] = len(stacks)
            stacks.append(tuple(reversed(path)))
        number[goroutines] = numbers[inverse.reshape(-1)]
    return number, stacks


@dataclass
class ListingPage:
    """One page of the listing: table (rows in allgs order), why (row ->
    why the core alone does not tell that goroutine's stack: Delve must
    complete the row, whose location is None meanwhile)."""

    table: GoroutineTable
    why: dict[int, str] = field(default_factory=dict)


@dataclass
class Counts:
    """What the batch did: goroutines listed, and how many took the careful
    path one by one (on_thread: walked from their thread's registers;
    alone: a walk the batch handed over)."""

    goroutines: int = 0
    on_thread: int = 0
    alone: int = 0

    @property
    def careful(self) -> int:
        return self.on_thread + self.alone


class BatchListing:
    """The listing of one open core (NativeCore) as GoroutineTable pages;
    NativeCore.selected and labels_by_id are set as it goes."""

    def __init__(self, native: "NativeCore", page: int = PAGE) -> None:
        self.native = native
        self.page = page
        self.arrays = CoreArrays(native.memory)
        self.pc_table = PcTable(native.walker)
        self.counts = Counts()

    def pages(self) -> Iterator[ListingPage]:
        native = self.native
        on_thread, native.selected = native.thread_goroutines()
        native.labels_by_id = {}
        addresses = native.allgs_array(self.arrays)
        for start in range(0, len(addresses), self.page):
            yield self._page(addresses[start:start + self.page], start, on_thread)
        native.memory.release()

    def _page(self, addresses: np.ndarray, first_slot: int, on_thread) -> ListingPage:
        native = self.native
        g, lost = native.g.table(self.arrays, addresses, _FIELDS)
        base = native.g.view(*_FIELDS).base
        unreadable = tuple(_unreadable(int(address), base) for address in lost.tolist())
        status = g["status"].astype(np.int64)
        live = ~np.isin(status & ~G_SCAN, list(DEAD_STATUSES))
        g, status = g.take(live), status[live]
        ids = g["id"].astype(np.int64)
        texts, places, stacks = Interner([""]), Interner(), Interner()
        self._labels(ids, g["labels"])
        # The goroutines on a thread, and their threads.
        thread = np.zeros(len(g), dtype=np.int64)
        threads = {}
        if on_thread:
            for row in np.flatnonzero(np.isin(ids, np.fromiter(on_thread, dtype=np.int64))).tolist():
                threads[row] = on_thread[int(ids[row])][0]
                thread[row] = threads[row].tid
        stack, location, user_pc, why = self._stacks(g, thread, threads, places, stacks)
        self.counts.goroutines += len(g)
        table = GoroutineTable(
            id=ids, slot=g.position.astype(np.int64) + first_slot, status=self._statuses(status, texts),
            wait_reason=self._reasons(status, g["wait_reason"].astype(np.int64), texts),
            wait_since=g["wait_since"].astype(np.int64), thread=thread, parent=g["parent_id"].astype(np.int64),
            pc=user_pc, location=location,
            go=_mapped(g["gopc"], lambda pc: places.code(native.names.go_statement(pc)) if pc else NONE),
            start=_mapped(g["startpc"], lambda pc: _code(places, native.start_location(pc))), stack=stack,
            unreadable_text=np.zeros(len(g), dtype=np.int32), places=tuple(places.values), texts=tuple(texts.values),
            stacks=tuple(stacks.values), selected=native.selected, unreadable=unreadable)
        return ListingPage(table, why)

    @staticmethod
    def _statuses(status: np.ndarray, texts: Interner) -> np.ndarray:
        """Go's word for each status."""
        return _mapped(status, lambda s: texts.code(status_word(s)))

    def _reasons(self, status: np.ndarray, reason: np.ndarray, texts: Interner) -> np.ndarray:
        """The wait reason of each waiting goroutine (the target's own
        runtime.waitReasonStrings); "" for the others."""
        reasons = self.native.wait_reasons()
        reason = np.where(np.isin(status & ~G_SCAN, list(STATUSES_WITH_REASON)), reason, 0)
        return _mapped(reason, lambda r: texts.code("" if r == 0 else reasons[r] if r < len(reasons)
                                                    else f"wait reason {r}"))

    def _stacks(self, g: GTable, thread: np.ndarray, threads: dict, places: Interner,
                stacks: Interner) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[int, str]]:
        """(each goroutine's whole stack, Delve's user location and its pc,
        as codes; row -> why the core does not tell) : every stack walked
        at once from where Go starts it (g.syscallpc in a system call or C
        code, else g.sched), but those of goroutines on a thread (from
        their thread's registers) and those the batch hands over, walked
        one by one."""
        native = self.native
        n = len(g)
        in_syscall = g["syscall_sp"] != 0
        pc = np.where(in_syscall, g["syscall_pc"], g["pc"]).astype(np.uint64)
        sp = np.where(in_syscall, g["syscall_sp"], g["sp"]).astype(np.uint64)
        bp = np.where(in_syscall, g["syscall_bp"], g["bp"]).astype(np.uint64)
        lo, hi = g["stack_lo"].astype(np.uint64), g["stack_hi"].astype(np.uint64)
        from_thread = {row: found for row, found in threads.items() if not in_syscall[row]}
        batch = np.ones(n, dtype=bool)
        batch[list(from_thread)] = False
        batch = np.flatnonzero(batch)
        number = np.full(n, -1, dtype=np.int64)
        pc_stacks: list[tuple[int, ...]] = []
        for start in range(0, len(batch), WALK):
            rows = batch[start:start + WALK]
            walked, found = unwind_all(self.pc_table, self.arrays, pc[rows], sp[rows], lo[rows], hi[rows])
            number[rows] = np.where(walked >= 0, walked + len(pc_stacks), -1)
            pc_stacks += found
            self.arrays.memory.release()
        # Each distinct stack as Go prints it, and Delve's user location, once.
        stack_code = np.full(len(pc_stacks), NONE, dtype=np.int32)
        stack_place = np.full(len(pc_stacks), NONE, dtype=np.int32)
        stack_pc = np.zeros(len(pc_stacks), dtype=np.uint64)
        for i, pcs in enumerate(pc_stacks):
            stack_code[i] = stacks.code(native.whole_stack(pcs))
            user, user_pc = native.user_location(pcs, pcs[0])
            stack_place[i] = places.code(user) if user_pc else NONE
            stack_pc[i] = user_pc
        walked_rows = number >= 0
        stack = np.full(n, NONE, dtype=np.int32)
        location = np.full(n, NONE, dtype=np.int32)
        user_pc = np.zeros(n, dtype=np.uint64)
        stack[walked_rows] = stack_code[number[walked_rows]]
        location[walked_rows] = stack_place[number[walked_rows]]
        user_pc[walked_rows] = stack_pc[number[walked_rows]]
        # The careful path, one goroutine at a time.
        why: dict[int, str] = {}
        for row in np.flatnonzero(~walked_rows).tolist():
            tid = int(thread[row]) or None
            if row in from_thread:
                self.counts.on_thread += 1
                shown = native.thread_stack(int(g["address"][row]), from_thread[row])
                if shown is None or not shown.own:
                    why[row] = f"on thread {tid}: its stack is not read"
                    continue
                pcs = tuple(frame.pc for frame in shown.own)
                found = shown.own_locations()
                user, upc = native.user_location(pcs, pcs[0])
            else:
                self.counts.alone += 1
                try:
                    pcs, reason = native.walker.unwind(int(pc[row]), int(sp[row]), int(bp[row]), int(lo[row]),
                                                       int(hi[row]), None)
                except BadRead as err:
                    pcs, reason = None, f"stack unreadable: {err}"
                if reason:
                    why[row] = f"on thread {tid}: {reason}" if tid is not None else reason
                    continue
                found = native.whole_stack(pcs)
                user, upc = native.user_location(pcs, int(pc[row]))
            stack[row] = stacks.code(found)
            location[row] = places.code(user) if upc else NONE
            user_pc[row] = upc
        return stack, location, user_pc, why

    def _labels(self, ids: np.ndarray, pointers: np.ndarray) -> None:
        """pprof labels: goroutines inherit their creator's, so one map
        serves many; only goroutines with labels are kept."""
        native = self.native
        with_labels = np.flatnonzero(pointers != 0)
        if not len(with_labels):
            return
        distinct, inverse = np.unique(pointers[with_labels], return_inverse=True)
        for i, pointer in enumerate(distinct.tolist()):
            labels = native.values.labels(pointer)
            if labels == {}:
                continue
            for gid in ids[with_labels[inverse.reshape(-1) == i]].tolist():
                native.labels_by_id[gid] = labels


def _mapped(values: np.ndarray, answer) -> np.ndarray:
    """answer(v) for each distinct value, spread over values (int32)."""
    distinct, inverse = np.unique(values, return_inverse=True)
    codes = np.fromiter((answer(int(v)) for v in distinct.tolist()), dtype=np.int32, count=len(distinct))
    return codes[inverse.reshape(-1)]


def _code(interner: Interner, value) -> int:
    return NONE if value is None else interner.code(value)


def _unreadable(address: int, base: int):
    """The Goroutine Delve lists for a g it cannot read."""
    from ..model import Goroutine

    if address == 0:
        text = "no G executing on thread 0"  # a nil entry of allgs reads as Delve's thread-0 line
    else:
        text = f"could not read G struct at {address + base:#x}"
    return Goroutine(id=None, location=None, unreadable=text)
