"""A field of a runtime struct as memory holds it, whatever wrapper a Go
release puts around it.

Newer runtimes wrap plain words: atomic.Uint32{noCopy, value} (g.atomicstatus
since Go 1.20), sync/atomic.Int32{_ noCopy; v int32}, atomic.Uintptr{value},
maybeTraceablePtr{vp, vu} (sudog.elem in Go 1.25+: vu is the address, vp only
kept for the GC). Every reader of the runtime's structs unwraps them here, so
that a new wrapper is taught once.
"""

from __future__ import annotations

from ..dwarf import SIGNED, Type
from ..errors import Unsupported

# Wrappers nest a few levels at most; more is a DWARF that makes no sense.
_MAX_NESTING = 8
# struct module codes of the integer sizes, unsigned and signed.
_CODES = {(1, False): "B", (2, False): "H", (4, False): "I", (8, False): "Q",
          (1, True): "b", (2, True): "h", (4, True): "i", (8, True): "q"}


def integer_field(struct: Type, path: str) -> tuple[int, Type]:
    """(offset, integer type) of a field that may be wrapped in an atomic
    type (sync/atomic.Int32{_ noCopy; v int32}, internal atomic.Uint32{value})."""
    offset, ftype = struct.field(path)
    for _ in range(_MAX_NESTING):
        if ftype.kind != "struct":
            return offset, ftype
        found = next((f for f in ftype.fields if f.name in ("v", "value")), None)
        if found is None:
            raise Unsupported(f"DWARF: {struct.name}.{path} is not an integer")
        offset += found.offset
        ftype = found.type
    raise Unsupported(f"DWARF: {struct.name}.{path} nests too deep")


def address_field(struct: Type, path: str) -> int:
    """The offset of the address word of a pointer field, through the
    wrappers newer runtimes put around some (maybeTraceablePtr{vp, vu}: vu
    is the address; atomic.Uintptr{value})."""
    offset, ftype = struct.field(path)
    for _ in range(_MAX_NESTING):
        if ftype.kind != "struct":
            return offset
        fields = [f for f in ftype.fields if f.name != "_"]
        found = next((f for f in fields if f.name in ("vu", "value", "v")), None)
        if found is None:
            if not fields:
                raise Unsupported(f"DWARF: {struct.name}.{path} holds no address")
            found = fields[0]
        offset += found.offset
        ftype = found.type
    raise Unsupported(f"DWARF: {struct.name}.{path} nests too deep")


def first_path(struct: Type, *paths: str) -> str:
    """The first of paths the struct has (a field renamed between releases)."""
    for path in paths:
        if struct.has(path):
            return path
    raise Unsupported(f"DWARF: {struct.name} has none of {', '.join(paths)}")


def struct_code(struct: Type, path: str, ftype: Type) -> str:
    """The struct module code that unpacks an integer field of this type."""
    code = _CODES.get((ftype.size, ftype.kind in SIGNED))
    if code is None:
        raise Unsupported(f"DWARF: {struct.name}.{path} is {ftype.size} bytes, not an integer")
    return code


def resolve(struct: Type, table: tuple[tuple[str, str, bool], ...]) -> dict[str, tuple[int, Type]]:
    """name -> (offset, integer type) of each (name, dotted path, required)
    of table that the struct has; Unsupported for a required one it lacks
    (a layout the readers do not model)."""
    found: dict[str, tuple[int, Type]] = {}
    for name, path, required in table:
        if not struct.has(path):
            if required:
                raise Unsupported(f"DWARF: {struct.name} has no {path} field")
            continue
        found[name] = integer_field(struct, path)
    return found
