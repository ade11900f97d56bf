"""Runtime type names for a reader that must not fail on one: the channel
reader names a channel's element type with it (hchan.elemtype). The names
come from the one decoder of runtime type descriptors (types.py); a name
that cannot be read is said in the reader's notes and reads as ""."""

from __future__ import annotations

from ..errors import BadRead, Unsupported
from .types import RuntimeTypes


class TypeNames:
    def __init__(self, types: RuntimeTypes | None, notes: list[str], why_none: str = "") -> None:
        self.types, self.notes, self.why_none = types, notes, why_none

    @classmethod
    def of(cls, native, notes: list[str]) -> "TypeNames":
        """The type names of an open core (a NativeCore)."""
        try:
            return cls(RuntimeTypes(native.memory, native.layouts, native.exe, native.bias), notes)
        except (BadRead, Unsupported) as err:
            return cls(None, notes, str(err))

    def name(self, rtype: int) -> str:
        """The type's name as reflect prints it; "" for a nil type or one
        whose name cannot be read (noted)."""
        if rtype == 0:
            return ""
        if self.types is None:
            self.notes.append(f"runtime type at {rtype:#x}: name unreadable ({self.why_none})")
            return ""
        try:
            return self.types.name(rtype)
        except (BadRead, Unsupported) as err:
            self.notes.append(f"runtime type at {rtype:#x}: name unreadable ({err})")
            return ""
