"""A field of a runtime struct as memory holds it, whatever wrapper a Go
release puts around it.

Newer runtimes wrap plain words: atomic.Uint32{noCopy, value} (g.atomicstatus
since Go 1.20), sync/atomic.Int32{_ noCopy; v int32}, atomic.Uintptr{value},
mSpanStateBox{s}, maybeTraceablePtr{vp, vu} (sudog.elem in Go 1.25+: vu is
the address, vp only kept for the GC). Every reader of the runtime's
structs unwraps them here, so that a new wrapper is taught once.
"""

from __future__ import annotations

from ..dwarf import SIGNED, Type
from ..errors import Unsupported

# Wrappers nest a few levels at most; more is a DWARF that makes no sense.
_MAX_NESTING = 8
# The field a wrapper keeps its word in, by the names the runtime uses.
_INNER = ("vu", "value", "v", "s")
_WORD_KINDS = frozenset({"int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64",
                         "uintptr", "ptr", "unsafe.Pointer", "bool", "base", "func", "chan", "map"})
# struct module codes of the integer sizes, unsigned and signed.
_CODES = {(1, False): "B", (2, False): "H", (4, False): "I", (8, False): "Q",
          (1, True): "b", (2, True): "h", (4, True): "i", (8, True): "q"}


def _unwrapped(struct: Type, path: str, first_of_many: bool = False) -> tuple[int, Type]:
    """(offset, type) of the word a field holds, through its wrappers: the
    wrapper's field named as above, else its one field with a size (else,
    with first_of_many, its first named field)."""
    offset, ftype = struct.field(path)
    for _ in range(_MAX_NESTING):
        if ftype.kind in _WORD_KINDS or ftype.kind not in ("struct", "array"):
            return offset, ftype
        named = [f for f in ftype.fields if f.name != "_"]
        found = next((f for name in _INNER for f in named if f.name == name), None)
        if found is None:
            sized = [f for f in named if f.type.size]
            if len(sized) == 1:
                found = sized[0]
            elif first_of_many and named:
                found = named[0]
            else:
                raise Unsupported(f"DWARF: {struct.name}.{path} holds no integer or address")
        offset += found.offset
        ftype = found.type
    raise Unsupported(f"DWARF: {struct.name}.{path} nests too deep")


def integer_field(struct: Type, path: str) -> tuple[int, Type]:
    """(offset, integer type) of a field that may be wrapped in an atomic
    type (sync/atomic.Int32{_ noCopy; v int32}, internal atomic.Uint32{value})."""
    return _unwrapped(struct, path)


def address_field(struct: Type, path: str) -> int:
    """The offset of the address word of a pointer field, through its wrappers."""
    return _unwrapped(struct, path, first_of_many=True)[0]


def scalar_field(struct: Type, *paths: str) -> tuple[int, int]:
    """(offset, size) of the first of paths the struct has, unwrapped down to
    an integer or pointer."""
    offset, ftype = _unwrapped(struct, first_path(struct, *paths))
    return offset, ftype.size


def optional_field(struct: Type, *paths: str) -> tuple[int, int] | None:
    """scalar_field, or None where the struct has none of paths (a field
    another Go release has)."""
    try:
        return scalar_field(struct, *paths)
    except Unsupported:
        return None


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
