"""The name of a runtime type (*_type / *abi.Type) as reflect prints it.

The channel reader names a channel's element type with it (hchan.elemtype).
"""

from __future__ import annotations

from ..dwarf import Layouts
from ..errors import BadRead, Unsupported
from .fields import first_path

# abi.TFlagExtraStar: the name is a pointer type's, its leading '*' to drop.
TFLAG_EXTRA_STAR = 2
# A longer name is a word that only looked like a type.
MAX_NAME = 4096


class TypeNames:
    """Runtime type names of one core, each read once. moduledata: the
    (address, size) of runtime.firstmoduledata from the executable (None:
    the binary has no such symbol); notes: where an unreadable name is said."""

    def __init__(self, memory, layouts: Layouts, moduledata: tuple[int, int] | None, bias: int,
                 notes: list[str]) -> None:
        self.memory, self.layouts, self.moduledata, self.bias = memory, layouts, moduledata, bias
        self.notes = notes
        self._names: dict[int, str] = {}
        self._types_base: int | None = None

    def name(self, rtype: int) -> str:
        """The module's type data at types + _type.str: a name (flag byte,
        varint length, bytes), the leading '*' dropped when tflagExtraStar
        says the name is a pointer type's. "" for a nil type or one whose
        name cannot be read (noted)."""
        if rtype == 0:
            return ""
        found = self._names.get(rtype)
        if found is not None:
            return found
        layouts = self.layouts
        rt = layouts.type("internal/abi.Type") if layouts.has("internal/abi.Type") else layouts.type("runtime._type")
        str_path = first_path(rt, "Str", "str")
        tflag_path = first_path(rt, "TFlag", "tflag")
        memory = self.memory
        tflag = 0
        try:
            if self._types_base is None:
                if self.moduledata is None:
                    raise Unsupported("no runtime.firstmoduledata symbol")
                md = layouts.type("runtime.moduledata")
                self._types_base = memory.u64(self.moduledata[0] + self.bias + md.field("types")[0])
            name_off = memory.sint(rtype + rt.field(str_path)[0], 4)
            tflag = memory.uint(rtype + rt.field(tflag_path)[0], 1)
            at = self._types_base + name_off
            length, shift, pos = 0, 0, at + 1
            for _ in range(5):
                byte = memory.uint(pos, 1)
                pos += 1
                length |= (byte & 0x7F) << shift
                shift += 7
                if byte < 0x80:
                    break
            if length > MAX_NAME:
                raise Unsupported(f"type name of {length} bytes")
            name = memory.read(pos, length).decode("utf-8", "replace")
        except (BadRead, Unsupported) as err:
            self.notes.append(f"runtime type at {rtype:#x}: name unreadable ({err})")
            name = ""
        if tflag & TFLAG_EXTRA_STAR and name.startswith("*"):
            name = name[1:]
        self._names[rtype] = name
        return name
