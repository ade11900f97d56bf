"""Goroutines parked on a sync.Cond.

A Cond parks on its notifyList (runtime.notifyListWait), not in the
semaphore table: Go 1.26 records the list in the sudog (g.waiting.elem);
before that, the Cond is the word of the goroutine's top frames (up to
sync.(*Cond).Wait) whose notifyList holds the goroutine's sudog.
"""

from __future__ import annotations

from ...model.waits import Wait, WaitObject
from ..dwarf import Layouts, Type
from ..errors import BadRead, Unsupported
from ..runtime.chan import SudogLayout
from ..runtime.fields import integer_field
from .stacks import Parked, ParkedStacks

_CONDWAIT = "sync.(*Cond).Wait"


class CondReader:
    """The Cond waits of one core."""

    def __init__(self, memory, layouts: Layouts, sudog: SudogLayout, stacks: ParkedStacks,
                 notes: list[str]) -> None:
        self.memory = memory
        self.layouts = layouts
        self.sudog = sudog
        self.stacks = stacks
        self.notes = notes
        self._notify_lists: dict[int, frozenset[int]] = {}

    def wait(self, g: Parked, reason: str, objects: dict[int, WaitObject]) -> Wait:
        """The sync.Cond a goroutine waits on: a Cond whose copyChecker
        holds its own address (Cond.Wait sets it first) and whose
        notifyList holds the goroutine's sudog. Candidates: Go 1.26's
        g.waiting.elem (the notifyList), else each word of the top frames
        as the Cond or as its notifyList (&c.notify)."""
        layouts = self.layouts
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
                elem = self.memory.u64(g.waiting + self.sudog.elem)
                if elem and is_cond(elem - notify_at):
                    found = elem - notify_at
            except BadRead:
                pass
        if found is None:
            found = next((c for word in self.stacks.top_words(g, _CONDWAIT) for c in (word, word - notify_at)
                          if c > 0 and is_cond(c)), None)
        if found is None:
            return Wait(g.id, "cond", reason=reason, since=g.since, detail="notifyList not found")
        if found not in objects:
            objects[found] = self._object(found, found + notify_at, nl)
        return Wait(g.id, "cond", found, reason=reason, since=g.since)

    def _in_notify_list(self, list_address: int, nl: Type, g_address: int) -> bool:
        members = self._notify_lists.get(list_address)
        if members is None:
            try:
                found = self.sudog.gs(self.memory, self.memory.u64(list_address + nl.field("head")[0]),
                                      self.sudog.next)
            except BadRead:
                found = set()
            members = self._notify_lists[list_address] = frozenset(found)
        return g_address in members

    def _object(self, address: int, list_address: int, nl: Type) -> WaitObject:
        try:
            wait_at, wait_type = integer_field(nl, "wait")
            notify_at, notify_type = integer_field(nl, "notify")
            tickets = self.memory.uint(list_address + wait_at, wait_type.size)
            notified = self.memory.uint(list_address + notify_at, notify_type.size)
            return WaitObject(address, "cond", "sync.Cond", queued=(tickets - notified) & 0xFFFFFFFF)
        except (BadRead, Unsupported) as err:
            self.notes.append(f"sync.Cond at {address:#x} is unreadable ({err})")
            return WaitObject(address, "cond", "sync.Cond")
