"""runtime.m: an OS thread as the runtime sees it, decoded once.

The goroutine listing finds each thread's goroutine through it (TLS holds
the thread's g; a g0 leads to m.curg), and the stack walk reads where a
thread left a goroutine's stack for its system or signal stack.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..dwarf import Layouts, Type
from ..errors import Unsupported
from .fields import resolve

# (MRecord field, dotted DWARF path, required).
FIELDS = (
    ("procid", "procid", True), ("curg", "curg", True), ("g0", "g0", True), ("gsignal", "gsignal", False),
    ("caughtsig", "caughtsig", False), ("incgo", "incgo", False), ("ncgo", "ncgo", False),
    ("isextra", "isextra", False), ("dying", "dying", False), ("alllink", "alllink", False),
    ("libcallsp", "libcallsp", False), ("libcallpc", "libcallpc", False), ("id", "id", False),
)


@dataclass(frozen=True, slots=True)
class MRecord:
    """What one runtime.m says. A field this Go release does not have reads 0."""

    address: int
    procid: int
    curg: int
    g0: int
    gsignal: int
    caughtsig: int
    incgo: int
    ncgo: int
    isextra: int
    dying: int
    alllink: int
    libcallsp: int
    libcallpc: int
    id: int


class MLayout:
    """runtime.m of one binary. Unsupported for an m without a required field."""

    def __init__(self, layouts: Layouts) -> None:
        self.type: Type = layouts.type("runtime.m")
        # name -> (offset, size)
        self.fields = {name: (offset, ftype.size) for name, (offset, ftype) in resolve(self.type, FIELDS).items()}

    def offset(self, name: str) -> int:
        found = self.fields.get(name)
        if found is None:
            raise Unsupported(f"DWARF: runtime.m has no field for {name}")
        return found[0]

    def read(self, memory, m: int, name: str) -> int:
        """One field of the m at address m (0 when this release has none). Raises BadRead."""
        found = self.fields.get(name)
        if found is None:
            return 0
        offset, size = found
        return memory.sint(m + offset, size) if name in ("ncgo", "dying", "id") else memory.uint(m + offset, size)

    def record(self, memory, m: int) -> MRecord:
        """The m at address m. Raises BadRead."""
        return MRecord(m, *(self.read(memory, m, name) for name, _, _ in FIELDS))
