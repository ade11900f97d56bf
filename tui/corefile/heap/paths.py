"""The shortest path from a root to an object, as a Go programmer reads it:

    main.registry → [1234] main.Session → .child main.Child → .data []uint8 (48 B)

Each hop is the field or element of the holder that points into the next
object, found by reading the holder's words and named by its DWARF type;
a map's own memory (its header, directory, tables, groups or buckets) is
one hop, named by the key of the entry (a number or a string, as Go
prints it). The path is the reading's shortest-path tree (HeapReading.parent).
"""

from __future__ import annotations

import numpy as np

from ...model.heap import HeapReading
from ..dwarf import Layouts, Type
from ..errors import BadRead, Unsupported
from ..memory import Memory

MAX_HOPS = 64
SMALL_OBJECTS = 32768  # the biggest size class: larger objects have no header
MAX_SCAN = 1 << 24  # bytes of a holder searched for the pointer
_MAP_INTERNAL = ("map[", "map.group[", "[]map.group[", "map.table[", "[]*map.table[", "map.bucket[",
                 "[]map.bucket[", "internal/runtime/maps.", "[]*internal/runtime/maps.", "runtime.mapextra", "map.groups[")


def node_chain(reading: HeapReading, node: int) -> list[int]:
    """Nodes along the shortest-path tree from the root that reaches node
    first (a global, a frame's variable ...) to node."""
    chain = [node]
    while len(chain) < 1 << 24:
        parent = int(reading.parent[chain[-1]])
        if parent < 0 or parent == reading.root_node:
            break
        chain.append(parent)
    chain.reverse()
    first_object = next((i for i, n in enumerate(chain) if n < reading.object_nodes), len(chain))
    return chain[max(0, first_object - 1):]


class PathNamer:
    def __init__(self, memory: Memory, layouts: Layouts, reading: HeapReading) -> None:
        self.memory, self.layouts, self.reading = memory, layouts, reading

    def describe(self, node: int) -> tuple[str, ...]:
        """The hops from a root to node, each as text (the first: the root)."""
        r = self.reading
        chain = node_chain(r, node)
        hops: list[str] = []
        start = 0
        if chain and chain[0] >= r.object_nodes:
            source = r.root_of_node(chain[0])
            hops.append(source.label if source is not None else "(roots)")
            start = 1
        else:
            hops.append("(roots)")
        if len(chain) - start > MAX_HOPS:
            hops.append(f"… {len(chain) - start - MAX_HOPS} hops …")
            start = len(chain) - MAX_HOPS
        in_map = False
        for index in range(start, len(chain)):
            held = chain[index]
            name = self._type(held)
            holder = chain[index - 1] if index > 0 and chain[index - 1] < r.object_nodes else None
            if name.startswith(_MAP_INTERNAL) and index + 1 < len(chain):
                if not in_map:  # the map itself: one hop, however many arrays it keeps
                    hops.append(f"{self._accessor(holder, held) if holder is not None else ''} {name}".strip())
                in_map = True
                continue
            if in_map:
                hops.append(f"{self._map_key(holder, held) or 'map value'} {name}")
                in_map = False
                continue
            hops.append(f"{self._accessor(holder, held) if holder is not None else ''} {name}".strip())
        hops[-1] += f" ({int(r.size[node]) if node < r.object_nodes else 0} B)"
        return tuple(hops)

    def text(self, node: int) -> str:
        return " → ".join(self.describe(node))

    # Naming

    def _type(self, node: int) -> str:
        r = self.reading
        if node >= r.object_nodes:
            root = r.root_of_node(node)
            return root.label if root is not None else "(roots)"
        return r.types[r.row[node]].name

    def _offset(self, holder: int, held: int) -> int | None:
        """Where in holder a word points into held."""
        r = self.reading
        base, size = int(r.address[holder]), int(r.size[holder])
        lo, hi = int(r.address[held]), int(r.address[held]) + int(r.size[held])
        try:
            data = np.frombuffer(self.memory.read(base, min(size, MAX_SCAN)), dtype="<u8")
        except (BadRead, Unsupported):
            return None
        found = np.flatnonzero((data >= np.uint64(lo)) & (data < np.uint64(hi)))
        return int(found[0]) * 8 if len(found) else None

    def _header(self, node: int) -> int:
        """Bytes of malloc header before the object's elements (Go 1.22+:
        a small object above minSizeForMallocHeader that has pointers, as a
        holder on a path has)."""
        header, above = self.reading.malloc_header
        size = int(self.reading.size[node])
        return header if header and above < size <= SMALL_OBJECTS else 0

    def _element(self, node: int) -> Type | None:
        r = self.reading
        die = r.types[r.row[node]].die
        if die is None:
            return None
        try:
            return self.layouts.type_at(die)
        except Unsupported:
            return None

    def _accessor(self, holder: int, held: int) -> str:
        offset = self._offset(holder, held)
        element = self._element(holder)
        if offset is None or element is None or element.size <= 0:
            return ""
        header = self._header(holder)
        inner = offset - header
        count = (int(self.reading.size[holder]) - header) // element.size
        index, within = divmod(inner, element.size)
        text = f"[{index}]" if count >= 2 else ""
        return text + _field_path(element, within)

    def _map_key(self, holder: int | None, held: int) -> str:
        """[key] of the map entry whose value points into held (a group's or
        bucket's slot), when the key is a number or a string."""
        if holder is None:
            return ""
        offset = self._offset(holder, held)
        element = self._element(holder)
        if offset is None or element is None or element.size <= 0:
            return ""
        header = self._header(holder)
        index, within = divmod(offset - header, element.size)
        base = int(self.reading.address[holder]) + header + index * element.size
        try:
            key_at, key_type = _key_of(element, within)
            if key_type is None:
                return ""
            return f"[{_key_text(self.memory, base + key_at, key_type)}]"
        except (BadRead, Unsupported, ValueError):
            return ""


def _field_path(vtype: Type, offset: int) -> str:
    """.a.b[3].c of the word at offset inside a value of vtype."""
    out = ""
    for _ in range(16):
        if vtype.kind == "struct":
            field = next((f for f in reversed(vtype.fields) if f.offset <= offset), None)
            if field is None:
                break
            out += f".{field.name}"
            offset -= field.offset
            vtype = field.type
        elif vtype.kind == "array" and vtype.elem is not None and vtype.elem.size:
            index, offset = divmod(offset, vtype.elem.size)
            out += f"[{index}]"
            vtype = vtype.elem
        else:
            break
    return out


def _key_of(element: Type, offset: int) -> tuple[int, Type | None]:
    """A map group's (Go 1.24+: slots[i].elem) or bucket's (values[i]) value
    at offset: where its key is, and its type."""
    if element.kind != "struct":
        return 0, None
    fields = {f.name: f for f in element.fields}
    if "slots" in fields and fields["slots"].type.elem is not None:
        slots = fields["slots"]
        slot = slots.type.elem
        index = (offset - slots.offset) // slot.size
        key = next((f for f in slot.fields if f.name == "key"), None)
        return (slots.offset + index * slot.size + key.offset, key.type) if key else (0, None)
    values = fields.get("elems") or fields.get("values")  # the bucket's values, by either name
    if "keys" in fields and values is not None and values.type.elem is not None:
        elems, keys = values, fields["keys"]
        index = (offset - elems.offset) // elems.type.elem.size
        return keys.offset + index * keys.type.elem.size, keys.type.elem
    return 0, None


def _key_text(memory: Memory, address: int, key: Type) -> str:
    if key.kind == "string":
        pointer, length = memory.words(address, 2)
        text = memory.read(pointer, min(length, 64)).decode("utf-8", "replace")
        return f'"{text}"' + ("…" if length > 64 else "")
    if key.kind in ("int", "int8", "int16", "int32", "int64") and key.size in (1, 2, 4, 8):
        return str(memory.sint(address, key.size))
    if key.kind in ("uint", "uint8", "uint16", "uint32", "uint64", "uintptr") and key.size in (1, 2, 4, 8):
        return str(memory.uint(address, key.size))
    raise ValueError("a key of another kind")
