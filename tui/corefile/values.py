"""Values of the target's memory read by their DWARF types: the generic
"field X of struct T at address A" that features built on the goroutine
list need (what a goroutine waits on: its sudog, the channel, the mutex),
and the pprof labels of a goroutine.

Decoded values are plain Python: int for integers, pointers, channels,
maps and funcs (an address); bool; str for strings; Slice for slices;
a dict for a struct (field name -> value); a list for an array;
(type or itab address, data address) for an interface.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from .dwarf import Layouts, Type
from .errors import BadRead, Unsupported
from .memory import Memory

INTEGER_KINDS = frozenset({"int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64",
                           "uintptr", "ptr", "unsafe.Pointer", "chan", "map", "func", "base"})
MAX_STRING = 1 << 16
MAX_ELEMENTS = 4096
# Delve's cap on label entries it reads (maxGoroutinesLabelEntries).
MAX_LABELS = 64
# tophash values below this are empty or evacuated cells (runtime/map.go before Go 1.24).
_MIN_TOPHASH = 5


@dataclass(frozen=True, slots=True)
class Slice:
    pointer: int
    length: int
    capacity: int
    elem: Type | None


class Values:
    def __init__(self, memory: Memory, layouts: Layouts) -> None:
        self.memory = memory
        self.layouts = layouts

    def type(self, name: str) -> Type:
        return self.layouts.type(name)

    def field(self, address: int, type_name: str, path: str, depth: int = 1):
        """The value of field `path` (dotted) of the struct `type_name` at address."""
        offset, ftype = self.layouts.type(type_name).field(path)
        return self.read(address + offset, ftype, depth)

    def read(self, address: int, vtype: Type, depth: int = 1):
        """A value of type vtype at address; structs and arrays nested more
        than `depth` deep come back as their address."""
        kind = vtype.kind
        memory = self.memory
        if kind == "bool":
            return memory.uint(address, 1) != 0
        if kind in INTEGER_KINDS:
            if vtype.size not in (1, 2, 4, 8):
                raise Unsupported(f"{vtype.name} is {vtype.size} bytes, not an integer")
            return memory.sint(address, vtype.size) if vtype.signed else memory.uint(address, vtype.size)
        if kind in ("float32", "float64"):
            return struct.unpack("<f" if vtype.size == 4 else "<d", memory.read(address, vtype.size))[0]
        if kind == "string":
            return memory.go_string(address, MAX_STRING)
        if kind == "interface":
            return memory.words(address, 2)
        if kind == "slice":
            pointer, length, capacity = memory.words(address, 3)
            elem = None
            array = next((f for f in vtype.fields if f.name == "array"), None)
            if array is not None and array.type.target:
                elem = self.layouts.deref(array.type)
            return Slice(pointer, length, capacity, elem)
        if kind == "struct":
            if depth <= 0:
                return address
            return {f.name: self.read(address + f.offset, f.type, depth - 1) for f in vtype.fields if f.name != "_"}
        if kind == "array":
            if depth <= 0 or vtype.elem is None:
                return address
            if vtype.count > MAX_ELEMENTS:
                raise Unsupported(f"array {vtype.name} of {vtype.count} elements: read it by index")
            step = vtype.elem.size
            return [self.read(address + i * step, vtype.elem, depth - 1) for i in range(vtype.count)]
        raise Unsupported(f"cannot read a value of kind {kind} ({vtype.name})")

    def elements(self, value: Slice, depth: int = 1, limit: int = MAX_ELEMENTS) -> list:
        """The elements of a slice (at most limit)."""
        if value.elem is None:
            raise Unsupported("slice of an unknown element type")
        count = min(value.length, limit)
        if count < 0 or value.length > 1 << 40:
            raise Unsupported(f"slice length {value.length} does not make sense")
        return [self.read(value.pointer + i * value.elem.size, value.elem, depth) for i in range(count)]

    # pprof labels

    def labels(self, pointer: int) -> dict[str, str] | None:
        """A goroutine's pprof labels from its g.labels pointer, as Delve's
        (*G).Labels reads them: a struct holding a sorted list of key/value
        pairs (Go 1.21+), or before that a map[string]string. {} when there
        are none; None when they cannot be read."""
        if pointer == 0:
            return {}
        try:
            label_map = self.layouts.type("runtime/pprof.labelMap")
            if label_map.kind == "struct":
                return self._label_list(pointer, label_map)
            if label_map.kind in ("map", "ptr"):
                return self._label_hmap(self.memory.u64(pointer))
        except (Unsupported, BadRead):
            return None
        return None

    def _label_list(self, pointer: int, label_map: Type) -> dict[str, str] | None:
        current, address = label_map, pointer
        for names in (("LabelSet", "Set"), ("list", "List")):
            found = next((f for f in current.fields if f.name in names), None)
            if found is None:
                return None
            current, address = found.type, address + found.offset
        items = self.read(address, current)
        labels: dict[str, str] = {}
        for element in self.elements(items, depth=1, limit=MAX_LABELS):
            values = list(element.values()) if isinstance(element, dict) else []
            if len(values) >= 2 and isinstance(values[0], str) and isinstance(values[1], str):
                labels[values[0]] = values[1]
        return labels

    def _label_hmap(self, hmap: int) -> dict[str, str] | None:
        """A map[string]string of the pre-1.24 runtime (buckets of 8)."""
        if hmap == 0:
            return {}
        header = self.layouts.type("hash<string,string>")
        bucket = self.layouts.type("bucket<string,string>")
        count = self.read(hmap + header.field("count")[0], header.field("count")[1])
        log2 = self.read(hmap + header.field("B")[0], header.field("B")[1])
        buckets = self.memory.u64(hmap + header.field("buckets")[0])
        if self.memory.u64(hmap + header.field("oldbuckets")[0]) or log2 > 16 or count > 1 << 20:
            return None  # growing, or not a label map: Delve reads those, we do not
        tophash_at = bucket.field("tophash")[0]
        keys_at, keys = bucket.field("keys")
        values_at, _ = bucket.field("values")
        overflow_at = bucket.field("overflow")[0]
        slots = keys.count or 8
        labels: dict[str, str] = {}
        for i in range(1 << log2):
            address = buckets + i * bucket.size
            for _ in range(1024):
                if address == 0:
                    break
                tophash = self.memory.read(address + tophash_at, slots)
                for slot in range(slots):
                    if tophash[slot] >= _MIN_TOPHASH:
                        key = self.memory.go_string(address + keys_at + 16 * slot, MAX_STRING)
                        labels[key] = self.memory.go_string(address + values_at + 16 * slot, MAX_STRING)
                address = self.memory.u64(address + overflow_at)
        return labels
