"""runtime.semtable: who waits on which semaphore.

sync.Mutex, RWMutex, WaitGroup and plain semaphores park in the runtime's
semaphore table: runtime.semtable's roots (251 in Go 1.19-1.26) each hold
a treap of sudogs, one node per address waited on (sudog.elem), further
waiters of that address chained through sudog.waitlink.
"""

from __future__ import annotations

from ..dwarf import Layouts
from ..errors import BadRead, Unsupported
from .chan import MAX_QUEUE, SudogLayout

# More roots than this is a DWARF that makes no sense.
SEMTAB_MAX = 4096


class SemaTable:
    """The semaphore table of one core. symbol: runtime.semtable's
    (address, size) from the executable, bias: the load bias."""

    def __init__(self, layouts: Layouts, sudog: SudogLayout, symbol: tuple[int, int] | None, bias: int) -> None:
        if symbol is None:
            raise Unsupported("no runtime.semtable symbol")
        table = layouts.type("runtime.semTable")
        if table.kind != "array" or table.elem is None or not 0 < table.count <= SEMTAB_MAX:
            raise Unsupported("DWARF: runtime.semTable is not an array of roots")
        self.count = table.count
        self.stride = table.elem.size
        self.treap = table.elem.field("root")[0] + layouts.type("runtime.semaRoot").field("treap")[0]
        self.address = symbol[0] + bias
        self.sudog = sudog

    def waiters(self, memory, notes: list[str]) -> dict[int, int]:
        """g address -> the semaphore address it waits on, from every
        treap. A root that cannot be read raises Unsupported; an unreadable
        sudog is noted and its subtree left out."""
        sudog = self.sudog
        waiting: dict[int, int] = {}
        for index in range(self.count):
            try:
                top = memory.u64(self.address + index * self.stride + self.treap)
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
                    address = memory.u64(node + sudog.elem)
                    pending.extend(p for p in (memory.u64(node + sudog.prev), memory.u64(node + sudog.next)) if p)
                    for g in sudog.gs(memory, node, sudog.waitlink):
                        waiting[g] = address
                except BadRead as err:
                    notes.append(f"semaphore table root {index}: a sudog is unreadable ({err})")
        return waiting
