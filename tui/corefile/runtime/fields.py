"""Offsets of runtime struct fields as DWARF gives them, through the
wrappers newer runtimes put around plain integers and pointers
(atomic.Uint32{noCopy, value}, mSpanStateBox{s}, maybeTraceablePtr{vp, vu}).
"""

from __future__ import annotations

from ..dwarf import Type
from ..errors import Unsupported

_INNER = ("value", "v", "s", "vu")
_INTEGER_KINDS = frozenset({"int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64",
                            "uintptr", "ptr", "unsafe.Pointer", "bool", "base", "func", "chan", "map"})


def scalar_field(struct: Type, *paths: str) -> tuple[int, int]:
    """(offset, size) of the first of paths that struct has, unwrapped
    down to an integer or pointer."""
    for path in paths:
        if struct.has(path):
            offset, ftype = struct.field(path)
            for _ in range(8):
                if ftype.kind in _INTEGER_KINDS or ftype.kind not in ("struct", "array"):
                    return offset, ftype.size
                found = next((f for f in ftype.fields if f.name in _INNER), None)
                if found is None:
                    named = [f for f in ftype.fields if f.name != "_" and f.type.size]
                    if len(named) != 1:
                        break
                    found = named[0]
                offset += found.offset
                ftype = found.type
            raise Unsupported(f"DWARF: {struct.name}.{path} is not an integer or a pointer")
    raise Unsupported(f"DWARF: {struct.name} has none of {', '.join(paths)}")


def optional_field(struct: Type, *paths: str) -> tuple[int, int] | None:
    try:
        return scalar_field(struct, *paths)
    except Unsupported:
        return None
