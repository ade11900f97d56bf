"""Goroutines parked in an I/O wait (the network poller).

The pollDesc (its rg or wg holding the g, its self field itself) is a
word of the frames up to internal/poll.runtime_pollWait, or netpollblock's
gpp (&pd.rg, &pd.wg) is; the object is named after its fd.
"""

from __future__ import annotations

from ...model.waits import Wait, WaitObject
from ..dwarf import Layouts
from ..errors import BadRead, Unsupported
from ..runtime.fields import address_field
from .stacks import Parked, ParkedStacks

_POLL_WAIT = frozenset({"internal/poll.runtime_pollWait", "runtime.poll_runtime_pollWait"})


class PollReader:
    """The I/O waits of one core."""

    def __init__(self, memory, layouts: Layouts, stacks: ParkedStacks, notes: list[str]) -> None:
        self.memory = memory
        self.layouts = layouts
        self.stacks = stacks
        self.notes = notes

    def wait(self, g: Parked, reason: str, objects: dict[int, WaitObject]) -> Wait:
        """The fd a goroutine waits on, and for what ("read" / "write")."""
        try:
            pd = self.layouts.type("runtime.pollDesc")
            rg, wg = address_field(pd, "rg"), address_field(pd, "wg")
            self_at = pd.field("self")[0] if pd.has("self") else None
            fd_at = pd.field("fd")[0]
        except Unsupported as err:
            self.notes.append(f"goroutine {g.id}: IO wait not read ({err})")
            return Wait(g.id, "io", reason=reason, since=g.since)
        memory = self.memory
        # The pollDesc itself, or netpollblock's gpp (&pd.rg or &pd.wg).
        words = self.stacks.top_words(g, *_POLL_WAIT)
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
