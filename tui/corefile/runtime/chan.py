"""runtime.hchan and the sudogs that wait on it (runtime.sudog, waitq).

A goroutine parked on a channel, a select, a semaphore or a Cond stands
in a sudog: sudog.g the goroutine, sudog.c its channel (channels), elem
the address waited on (semaphores), next/prev the queue (a channel's
sendq/recvq; a semaphore treap's children), waitlink the goroutine's next
sudog (a select's cases) or the next waiter of one semaphore address.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ..dwarf import Layouts
from ..errors import BadRead
from .fields import address_field

# Sudogs of one list: allglen is capped at 1 << 26 by the listing; lists are shorter.
MAX_QUEUE = 1 << 22
# A queue of this many sudogs drops the core's pages from our RSS as it goes.
_RELEASE_EVERY = 4096
_U64 = struct.Struct("<Q").unpack_from


class SudogLayout:
    """Offsets of the runtime.sudog fields the readers follow."""

    def __init__(self, layouts: Layouts) -> None:
        sudog = layouts.type("runtime.sudog")
        self.g = sudog.field("g")[0]
        self.next = sudog.field("next")[0]
        self.prev = sudog.field("prev")[0]
        self.elem = address_field(sudog, "elem")
        self.c = address_field(sudog, "c")
        self.waitlink = sudog.field("waitlink")[0]

    def gs(self, memory, first: int, link: int) -> set[int]:
        """The g of every sudog of a list from first through the link
        field (self.next, or self.waitlink), ending at nil, at a sudog seen
        before (a word that only looked like a list) or after MAX_QUEUE.
        Raises BadRead."""
        members: set[int] = set()
        seen: set[int] = set()
        at, g_at = first, self.g
        start = end = delta = 0
        buf = None
        while at and at not in seen and len(seen) < MAX_QUEUE:
            seen.add(at)
            if len(seen) % _RELEASE_EVERY == 0:
                memory.release()
            if not (start <= at + g_at and at + g_at + 8 <= end and start <= at + link and at + link + 8 <= end):
                start, end, buf, delta = memory.span(at)
                members.add(memory.u64(at + g_at))
                at = memory.u64(at + link)
                continue
            members.add(_U64(buf, at + g_at - delta)[0])
            at = _U64(buf, at + link - delta)[0]
        return members


@dataclass(frozen=True, slots=True)
class ChanState:
    """What an hchan says of itself: len (qcount), cap (dataqsiz), closed,
    its element's runtime type (elemtype, a *_type) and whether a runtime
    timer feeds it (Go 1.23+: time.After's and Timer.C)."""

    qcount: int
    dataqsiz: int
    closed: bool
    elemtype: int
    timer: bool


class HchanLayout:
    """Offsets of the runtime.hchan fields the readers use."""

    def __init__(self, layouts: Layouts) -> None:
        hchan = layouts.type("runtime.hchan")
        self.recvq = hchan.field("recvq.first")[0]
        self.sendq = hchan.field("sendq.first")[0]
        self.elemtype = hchan.field("elemtype")[0]
        self.qcount = hchan.field("qcount")[0]
        self.dataqsiz = hchan.field("dataqsiz")[0]
        self.closed, closed = hchan.field("closed")
        self.closed_size = closed.size
        self.timer = hchan.field("timer")[0] if hchan.has("timer") else None
        # One read covers the fields of an hchan read.
        self.span = max(max(self.elemtype, self.qcount, self.dataqsiz, self.timer or 0) + 8,
                        self.closed + self.closed_size)

    def state(self, memory, address: int) -> ChanState:
        """The channel at address. Raises BadRead."""
        buf, at = memory.locate(address, self.span)
        closed = buf[at + self.closed:at + self.closed + self.closed_size]
        return ChanState(_U64(buf, at + self.qcount)[0], _U64(buf, at + self.dataqsiz)[0],
                         int.from_bytes(closed, "little") != 0, _U64(buf, at + self.elemtype)[0],
                         self.timer is not None and _U64(buf, at + self.timer)[0] != 0)

    def queues(self, memory, sudog: SudogLayout, channel: int) -> tuple[set[int], set[int], list[BadRead]]:
        """(sudogs of sendq, sudogs of recvq, what could not be read) of a channel."""
        queues: list[set[int]] = []
        errors: list[BadRead] = []
        for head in (self.sendq, self.recvq):
            members: set[int] = set()
            try:
                at = memory.u64(channel + head)
                while at and at not in members and len(members) < MAX_QUEUE:
                    members.add(at)
                    at = memory.u64(at + sudog.next)
                    if len(members) % _RELEASE_EVERY == 0:
                        memory.release()
            except BadRead as err:
                errors.append(err)
            queues.append(members)
        return queues[0], queues[1], errors
