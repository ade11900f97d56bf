"""Goroutines parked on channels: a send, a receive, a select.

- A send or receive: g.waiting is the goroutine's sudog (chansend /
  chanrecv set it before parking); sudog.c its channel. The direction is
  the wait reason's ("chan send" / "chan receive"). The reader's single
  pass over allgs reads that one word itself (a million goroutines on
  channels cost one read each).
- A select: g.waiting lists one sudog per case (through sudog.waitlink,
  isSelect set); each case's direction is the queue of its channel its
  sudog sits in (hchan.sendq or recvq, walked once per channel).

Each channel's state: len (qcount), cap (dataqsiz), closed and element
type (the name of hchan.elemtype, a runtime type).
"""

from __future__ import annotations

from ...model.waits import SelectCase, Wait, WaitObject, WaitRow
from ..errors import BadRead
from ..runtime.chan import HchanLayout, SudogLayout
from ..runtime.rtype import TypeNames
from .stacks import Parked

# A select of more cases than this is a list that only looked like one.
MAX_SELECT_CASES = 65536

# Wait reasons of channel operations: (wait kind, detail).
CHAN_REASONS = {
    "chan receive": ("chan receive", ""), "chan receive (durable)": ("chan receive", ""),
    "chan send": ("chan send", ""), "chan send (durable)": ("chan send", ""),
    "chan receive (nil chan)": ("chan receive", "nil chan"), "chan send (nil chan)": ("chan send", "nil chan"),
    "select": ("select", ""), "select (durable)": ("select", ""), "select (no cases)": ("select", "no cases"),
}


class ChannelReader:
    """Selects and channels of one core. waiters: object address -> role
    -> goroutine ids, shared with the other readers; notes: what could not
    be read."""

    def __init__(self, memory, sudog: SudogLayout, hchan: HchanLayout, type_names: TypeNames,
                 waiters: dict[int, dict[str, list[int]]], notes: list[str]) -> None:
        self.memory = memory
        self.sudog = sudog
        self.hchan = hchan
        self.type_names = type_names
        self.waiters = waiters
        self.notes = notes
        self.timer_chans: set[int] = set()  # channels a runtime timer feeds (Go 1.23+)
        self._queues: dict[int, tuple[set[int], set[int]]] = {}
        self._select_sudogs: dict[int, list[int]] = {}

    def select(self, g: Parked, reason: str) -> Wait:
        """Every sudog of g.waiting, one per case (Go sorts them in lock order)."""
        sudog, memory = self.sudog, self.memory
        cases: list[SelectCase] = []
        sudogs: list[int] = []
        at, seen = g.waiting, 0
        try:
            while at and seen < MAX_SELECT_CASES:
                channel = memory.u64(at + sudog.c)
                if channel:
                    cases.append(SelectCase(channel, ""))
                    sudogs.append(at)
                at = memory.u64(at + sudog.waitlink)
                seen += 1
        except BadRead as err:
            self.notes.append(f"goroutine {g.id}: a sudog of its select is unreadable ({err})")
        self._select_sudogs[g.id] = sudogs
        return Wait(g.id, "select", cases=tuple(cases), reason=reason, since=g.since,
                    detail="" if cases else "no sudog")

    def select_directions(self, selects: list[Parked], rows: dict[int, WaitRow]) -> None:
        """Each case's direction: the queue of its channel that holds the
        case's sudog (a select may send and receive on one channel); the
        goroutine joins that channel's waiters as "select send" / "select
        receive"."""
        for g in selects:
            row = rows[g.id]
            cases = []
            for case, sudog in zip(row.cases, self._select_sudogs[g.id]):
                send, receive = self._queue_sudogs(case.address)
                direction = "send" if sudog in send else "receive" if sudog in receive else ""
                cases.append(SelectCase(case.address, direction))
                role = f"select {direction}" if direction else "select"
                members = self.waiters.setdefault(case.address, {}).setdefault(role, [])
                if g.id not in members:
                    members.append(g.id)
            rows[g.id] = row._replace(cases=tuple(cases))

    def _queue_sudogs(self, channel: int) -> tuple[set[int], set[int]]:
        """(sudogs of sendq, sudogs of recvq) of a channel, walked once."""
        found = self._queues.get(channel)
        if found is None:
            send, receive, errors = self.hchan.queues(self.memory, self.sudog, channel)
            for err in errors:
                self.notes.append(f"channel {channel:#x}: a queue is unreadable ({err})")
            found = self._queues[channel] = (send, receive)
        return found

    def channel(self, address: int) -> WaitObject:
        """The channel at address with its state."""
        try:
            state = self.hchan.state(self.memory, address)
            elem = self.type_names.name(state.elemtype)
            if state.timer:
                self.timer_chans.add(address)
        except BadRead as err:
            self.notes.append(f"channel {address:#x} is unreadable ({err})")
            return WaitObject(address, "chan", "chan ?")
        type_name = f"chan {_paren(elem)}" if elem else "chan ?"
        return WaitObject(address, "chan", type_name, len=state.qcount, cap=state.dataqsiz, closed=state.closed,
                          elem=elem)


def _paren(elem: str) -> str:
    """reflect's chan type string: `chan (<-chan int)` keeps the parentheses."""
    return f"({elem})" if elem.startswith("<-chan") else elem
