"""A value in the core, by its DWARF type, as the variables tree shows one:
a Variable whose children are its fields, elements or pointee, printed
the way Delve prints values (`"user"`, `[]uint8 len: 48, cap: 48`,
`*main.Child 0xc000123456`).

    variable = GoValues(native.memory, native.layouts).read("main.Session", address, die)

Pure and bounded: strings are cut at MAX_STRING bytes, slices and arrays
show their first MAX_ELEMENTS elements, pointers are followed DEPTH levels
down (a pointer further down shows its address). Memory the core does not
hold reads `(unreadable …)`, as Delve says it.
"""

from __future__ import annotations

import struct

from ..model import Variable
from .dwarf import Layouts, Type
from .errors import BadRead, Unsupported
from .memory import Memory
from .values import INTEGER_KINDS

DEPTH = 3
MAX_ELEMENTS = 32
MAX_STRING = 256
_ADDRESS_KINDS = ("ptr", "unsafe.Pointer", "chan", "map", "func", "uintptr")


class GoValues:
    def __init__(self, memory: Memory, layouts: Layouts) -> None:
        self.memory, self.layouts = memory, layouts

    def read(self, name: str, address: int, die: int | None, size: int = 0) -> Variable:
        """The object at address as a Go value of the DWARF type at die; an
        object of several elements (size bytes of them) as an array."""
        if die is None:
            return Variable(name, f"{size} bytes at {address:#x} (no DWARF type)", "", "local")
        try:
            vtype = self.layouts.type_at(die)
        except Unsupported as err:
            return Variable(name, f"(unreadable type: {err})", "", "local")
        step = max(vtype.size, 1)
        count = size // step if size else 1
        if count >= 2 and vtype.kind == "uint8":
            return Variable(name, self._bytes(address, count), f"[{count}]uint8", "local")
        if count >= 2:
            children = tuple(self._value(f"[{i}]", address + i * step, vtype, DEPTH - 1)
                             for i in range(min(count, MAX_ELEMENTS)))
            more = f", {count - MAX_ELEMENTS} more not shown" if count > MAX_ELEMENTS else ""
            return Variable(name, f"[{count}]{vtype.name} at {address:#x}{more}", f"[{count}]{vtype.name}",
                            "local", children)
        return self._value(name, address, vtype, DEPTH)

    def _bytes(self, address: int, count: int) -> str:
        """A byte array as Go quotes it (its first MAX_STRING bytes)."""
        try:
            data = self.memory.read(address, min(count, MAX_STRING))
        except BadRead as err:
            return f"(unreadable {err})"
        cut = f"...+{count - MAX_STRING} more" if count > MAX_STRING else ""
        return f'[{count}]uint8 "{_go_quote(data)}{cut}"'

    def _value(self, name: str, address: int, vtype: Type, depth: int) -> Variable:
        try:
            return self._read(name, address, vtype, depth)
        except BadRead as err:
            return Variable(name, f"(unreadable {err})", vtype.name)
        except (Unsupported, struct.error, ValueError) as err:
            return Variable(name, f"(unreadable: {err})", vtype.name)

    def _read(self, name: str, address: int, vtype: Type, depth: int) -> Variable:
        kind, memory = vtype.kind, self.memory
        if kind == "bool":
            return Variable(name, "true" if memory.uint(address, 1) else "false", vtype.name)
        if kind in ("float32", "float64"):
            value = struct.unpack("<f" if vtype.size == 4 else "<d", memory.read(address, vtype.size))[0]
            return Variable(name, repr(value), vtype.name)
        if kind == "string":
            pointer, length = memory.words(address, 2)
            text = memory.read(pointer, min(length, MAX_STRING)).decode("utf-8", "replace") if length else ""
            cut = f"...+{length - MAX_STRING} more" if length > MAX_STRING else ""
            return Variable(name, f'"{text}{cut}"', vtype.name)
        if kind == "ptr" and vtype.target:
            pointer = memory.u64(address)
            if pointer == 0:
                return Variable(name, "nil", vtype.name)
            if depth <= 0:
                return Variable(name, f"({vtype.name})({pointer:#x})", vtype.name)
            pointee = self.layouts.deref(vtype)
            child = self._value(f"*{name}", pointer, pointee, depth - 1)
            return Variable(name, f"({vtype.name})({pointer:#x})", vtype.name, children=(child,))
        if kind in INTEGER_KINDS and vtype.size in (1, 2, 4, 8):
            value = memory.sint(address, vtype.size) if vtype.signed else memory.uint(address, vtype.size)
            if kind in _ADDRESS_KINDS:
                return Variable(name, "nil" if value == 0 else f"{value:#x}", vtype.name)
            return Variable(name, str(value), vtype.name)
        if kind == "slice":
            pointer, length, capacity = memory.words(address, 3)
            array = next((f for f in vtype.fields if f.name == "array"), None)
            elem = self.layouts.deref(array.type) if array is not None and array.type.target else None
            value = f"{vtype.name} len: {length}, cap: {capacity}"
            if pointer == 0 or elem is None or depth <= 0 or length > 1 << 40:
                return Variable(name, value + ("" if pointer else ", nil"), vtype.name)
            if elem.kind == "uint8":
                return Variable(name, f"{value} {self._bytes(pointer, length).partition(' ')[2]}", vtype.name)
            shown = min(length, MAX_ELEMENTS)
            children = tuple(self._value(f"[{i}]", pointer + i * elem.size, elem, depth - 1) for i in range(shown))
            if length > shown:
                value += f" ({length - shown} more not shown)"
            return Variable(name, value, vtype.name, children=children)
        if kind == "array" and vtype.elem is not None:
            shown = min(vtype.count, MAX_ELEMENTS)
            children = tuple(self._value(f"[{i}]", address + i * vtype.elem.size, vtype.elem, depth - 1)
                             for i in range(shown)) if depth > 0 else ()
            more = f" ({vtype.count - shown} more not shown)" if vtype.count > shown else ""
            return Variable(name, f"{vtype.name}{more}" if children else f"{vtype.name} at {address:#x}",
                            vtype.name, children=children)
        if kind == "interface":
            first, data = memory.words(address, 2)
            if first == 0:
                return Variable(name, "nil", vtype.name)
            return Variable(name, f"{vtype.name} (type word {first:#x}, data {data:#x})", vtype.name)
        if kind == "struct":
            if depth <= 0:
                return Variable(name, f"{vtype.name} at {address:#x}", vtype.name)
            children = tuple(self._value(f.name, address + f.offset, f.type, depth - 1)
                             for f in vtype.fields if f.name != "_")
            return Variable(name, f"{vtype.name} at {address:#x}" if children else f"{vtype.name} {{}}", vtype.name,
                            children=children)
        return Variable(name, f"({kind}, {vtype.size} bytes at {address:#x})", vtype.name)


def _go_quote(data: bytes) -> str:
    """Bytes as inside a Go string literal: printable ASCII as is, the rest escaped."""
    out = []
    for byte in data:
        if byte in (0x22, 0x5C):
            out.append("\\" + chr(byte))
        elif 0x20 <= byte < 0x7F:
            out.append(chr(byte))
        else:
            out.append(f"\\x{byte:02x}")
    return "".join(out)
