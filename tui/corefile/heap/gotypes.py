"""Go types as the heap typer needs them: a name as Go writes it, the size
of one element, and where a value holds references and to what.

    table = TypeTable(layouts, runtime_types)
    tid = table.from_die(die_offset)        # a DWARF type (globals, locals, fields)
    tid = table.from_runtime(address)       # a runtime type (interfaces, malloc headers)
    info = table[tid]                       # TypeInfo: name, size, slots

A heap object of type T holds one T or an array of them: the typer reads
T's slots every T.size bytes across the object (what the runtime does
with a type's GC mask). Slots are grouped by what they reference:
- PTR: a pointer to a value of the target type (its object, at an offset
  that is a multiple of the target's size, takes that type);
- SLICE: a slice's array pointer (the target is the element array, named
  `[]T`); STRING: a string's bytes (named `string`);
- EFACE, IFACE: an interface, whose type word (a *_type, or an itab and
  its type) says what the data word points to;
- FUNC: a func value, a closure, named after its function;
- SWISS: a Go 1.24+ map's directory pointer, one group when dirLen is 0,
  else an array of *table;
- CHANBUF: a channel's buffer, an array of its element type.

Types come from DWARF when it has them (names with full import paths);
a runtime type maps to its DWARF type through DW_AT_go_runtime_type, and
is decoded from its descriptor when DWARF has none. The runtime's own
synthesized DWARF names are rewritten as a Go programmer reads them:
hash<K,V> and map<K,V> -> map[K]V, bucket<K,V> -> map.bucket[K]V,
table<K,V> -> map.table[K]V, noalg.map.group[K]V -> map.group[K]V,
hchan<T> -> chan T.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..dwarf import Layouts
from ..errors import BadRead, Unsupported
from ..runtime.types import RuntimeTypes

PTR, SLICE, STRING, EFACE, IFACE, FUNC, SWISS, CHANBUF = range(8)
SLOT_NAMES = ("ptr", "slice", "string", "eface", "iface", "func", "swiss", "chanbuf")
MAX_SLOTS = 1 << 16
MAX_DEPTH = 48
NONE = -1


@dataclass
class TypeInfo:
    name: str
    size: int  # one element: the object is tiled with it
    # (kind, target type id or NONE) -> offsets (int64 array) within one element
    slots: dict[tuple[int, int], np.ndarray] = field(default_factory=dict)
    # SWISS: (dirLen offset - dirPtr offset, group type, directory type)
    swiss: tuple[int, int, int] | None = None
    key: object = None
    truncated: bool = False  # more slots than MAX_SLOTS: the rest not followed

    @property
    def has_slots(self) -> bool:
        return bool(self.slots)


def go_name(name: str) -> str:
    """A DWARF type name as a Go programmer writes it."""
    if name.startswith("noalg."):
        name = name[len("noalg."):]
    for prefix, made in (("hash<", "map[{0}]{1}"), ("map<", "map[{0}]{1}"), ("bucket<", "map.bucket[{0}]{1}"),
                         ("table<", "map.table[{0}]{1}"), ("hchan<", "chan {0}"), ("groupReference<", "map.groups[{0}]{1}")):
        if name.startswith(prefix) and name.endswith(">"):
            parts = _split(name[len(prefix):-1])
            if len(parts) == made.count("{"):
                return made.format(*parts)
    return name


def _split(inner: str) -> list[str]:
    """K,V at the top level of a synthesized name (brackets, braces and parens nest)."""
    depth, parts, start = 0, [], 0
    for i, ch in enumerate(inner):
        if ch == "<" and inner[i + 1:i + 2] == "-":
            continue  # a channel's direction, not a bracket
        if ch in "[{(<":
            depth += 1
        elif ch in "]})>":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(inner[start:i])
            start = i + 1
    parts.append(inner[start:])
    return parts


class TypeTable:
    """Every type the typer has met, by id."""

    def __init__(self, layouts: Layouts, types: RuntimeTypes) -> None:
        self.layouts, self.types = layouts, types
        self.infos: list[TypeInfo] = []
        self._ids: dict[object, int] = {}
        self._closures: dict[int, int] = {}
        self.notes: list[str] = []
        self.string = self._synthetic("string (bytes)", 1)

    def __getitem__(self, tid: int) -> TypeInfo:
        return self.infos[tid]

    def __len__(self) -> int:
        return len(self.infos)

    def names(self) -> list[str]:
        return [info.name for info in self.infos]

    def _add(self, key: object, info: TypeInfo) -> int:
        info.key = key
        self._ids[key] = len(self.infos)
        self.infos.append(info)
        return len(self.infos) - 1

    def _synthetic(self, name: str, size: int) -> int:
        key = ("synthetic", name)
        found = self._ids.get(key)
        return found if found is not None else self._add(key, TypeInfo(name, max(size, 1)))

    def array_of(self, tid: int) -> int:
        """Several elements of tid in one object, named []T (an allocation
        whose header records its element type)."""
        key = ("array", tid)
        found = self._ids.get(key)
        if found is None:
            info = self.infos[tid]
            found = self._add(key, TypeInfo(f"[]{info.name}", info.size, info.slots, info.swiss))
        return found

    def element_die(self, tid: int) -> int | None:
        """The DWARF type (DIE offset) of one element of tid's objects, for
        reading an instance as a Go value; None when DWARF has none."""
        for _ in range(8):
            key = self.infos[tid].key
            if not isinstance(key, tuple):
                return None
            if key[0] in ("die", "backing", "chanbuf"):
                return key[1]
            if key[0] != "array":
                return None
            tid = key[1]
        return None

    def closure(self, function: str) -> int:
        """A func literal's closure object, named after its function."""
        return self._synthetic(f"closure {function}", 8)

    # DWARF

    def from_die(self, offset: int) -> int:
        key = ("die", offset)
        found = self._ids.get(key)
        if found is not None:
            return found
        raw = self.layouts.raw(offset)
        name = go_name(raw.get("name") or "?")
        kind = raw["kind"]
        if kind == "typedef":
            target = raw.get("type")
            gokind = raw.get("gokind", "")
            if target is None:
                raise Unsupported(f"DWARF typedef {name} has no type")
            if gokind == "interface":
                return self._add(key, TypeInfo(name, 16, {(self._iface_kind(target), NONE): np.zeros(1, np.int64)}))
            if gokind in ("map", "chan") or raw.get("rtype"):
                # The typedef is the Go type (map[K]V, chan T, a named
                # interface): keep its name over its runtime representation.
                inner = self.from_die(target)
                info = self.infos[inner]
                if info.name == name:
                    self._ids[key] = inner
                    return inner
                if gokind == "chan":
                    self._chan_buffer(target, raw.get("elem"))
                return self._add(key, TypeInfo(name, info.size, info.slots, info.swiss))
            tid = self.from_die(target)
            self._ids[key] = tid
            return tid
        # Reserve the id first: types refer to themselves through pointers.
        tid = self._add(key, TypeInfo(name, max(raw.get("size", 0), 1)))
        info = self.infos[tid]
        if kind == "array":
            elem = raw.get("type")
            count = raw.get("count", 0)
            if elem is not None and count:
                inner = self.from_die(elem)
                info.size = max(self.infos[inner].size, 1)
                info.slots = self.infos[inner].slots
                info.swiss = self.infos[inner].swiss
            return tid
        slots: dict[tuple[int, int], list[int]] = {}
        self._collect(offset, 0, slots, 0, info)
        info.slots = {k: np.asarray(sorted(v), dtype=np.int64) for k, v in slots.items()}
        if name.startswith("map[") and raw["kind"] == "struct":
            self._swiss(offset, info)
        return tid

    def _collect(self, offset: int, base: int, slots: dict, depth: int, info: TypeInfo) -> None:
        """The slots of the DWARF type at offset, placed at base."""
        if depth > MAX_DEPTH:
            raise Unsupported(f"DWARF type {info.name} nests more than {MAX_DEPTH} deep")
        if sum(len(v) for v in slots.values()) > MAX_SLOTS:
            info.truncated = True
            return
        raw = self.layouts.raw(offset)
        kind = raw["kind"]
        if kind == "typedef":
            if raw.get("type") is None:
                return
            if raw.get("gokind") == "interface":
                slots.setdefault((self._iface_kind(raw["type"]), NONE), []).append(base)
                return
            if raw.get("gokind") == "chan":
                self._chan_buffer(raw["type"], raw.get("elem"))
            self._collect(raw["type"], base, slots, depth + 1, info)
            return
        if kind == "ptr":
            target = raw.get("type")
            if target is not None:
                slots.setdefault((PTR, self.from_die(target)), []).append(base)
            return
        if kind == "slice":
            elem = raw.get("elem")
            if elem is None:
                array = next((f for f in raw.get("fields", ()) if f[0] == "array"), None)
                elem = self.layouts.raw(array[2]).get("type") if array else None
            if elem is not None:
                slots.setdefault((SLICE, self._backing(elem)), []).append(base)
            return
        if kind == "string":
            slots.setdefault((STRING, self.string), []).append(base)
            return
        if kind == "interface":
            names = [f[0] for f in raw.get("fields", ())]
            slots.setdefault((IFACE if "tab" in names else EFACE, NONE), []).append(base)
            return
        if kind == "func":
            slots.setdefault((FUNC, NONE), []).append(base)
            return
        if kind in ("map", "chan"):
            target = raw.get("type")
            if target is not None:
                slots.setdefault((PTR, self.from_die(target)), []).append(base)
            return
        if kind == "struct":
            for _name, field_offset, field_type in raw.get("fields", ()):
                self._collect(field_type, base + field_offset, slots, depth + 1, info)
            return
        if kind == "array":
            elem, count = raw.get("type"), raw.get("count", 0)
            if elem is None or not count:
                return
            size = self.layouts.raw(elem).get("size", 0) or self.infos[self.from_die(elem)].size
            inner: dict = {}
            self._collect(elem, 0, inner, depth + 1, info)
            if not inner:
                return
            if count * sum(len(v) for v in inner.values()) > MAX_SLOTS:
                info.truncated = True
                count = max(1, MAX_SLOTS // max(1, sum(len(v) for v in inner.values())))
            for k, offsets in inner.items():
                for i in range(count):
                    slots.setdefault(k, []).extend(base + i * size + o for o in offsets)
            return
        # Scalars hold no references.

    def _iface_kind(self, offset: int) -> int:
        """EFACE for interface {} ({_type, data}), IFACE for one with methods ({tab, data})."""
        for _ in range(8):
            raw = self.layouts.raw(offset)
            if raw["kind"] == "typedef" and raw.get("type") is not None:
                offset = raw["type"]
                continue
            names = [f[0] for f in raw.get("fields", ())]
            return IFACE if "tab" in names else EFACE
        return EFACE

    def _backing(self, elem_die: int) -> int:
        """The array a []T points to: T tiled, named []T."""
        key = ("backing", elem_die)
        found = self._ids.get(key)
        if found is not None:
            return found
        elem = self.from_die(elem_die)
        info = self.infos[elem]
        return self._add(key, TypeInfo(f"[]{info.name}", info.size, info.slots, info.swiss))

    def _chan_buffer(self, hchan_pointer: int, elem_die: int | None) -> None:
        """hchan<T>.buf: the channel's buffer, an array of T (when T has
        pointers; otherwise it is part of the hchan's own object)."""
        if elem_die is None:
            return
        raw = self.layouts.raw(hchan_pointer)
        hchan = raw.get("type") if raw["kind"] == "ptr" else None
        if hchan is None:
            return
        fields = {f[0]: f[1] for f in self.layouts.raw(hchan).get("fields", ())}
        if "buf" not in fields:
            return
        elem = self.from_die(elem_die)
        elem_info = self.infos[elem]
        key = ("chanbuf", elem_die)
        buffer = self._ids.get(key)
        if buffer is None:
            buffer = self._add(key, TypeInfo(f"chan {elem_info.name} (buffer)", elem_info.size, elem_info.slots,
                                             elem_info.swiss))
        # The hchan struct the chan type points to carries the buffer slot.
        header = self.from_die(hchan)
        slots = dict(self.infos[header].slots)
        slots[(CHANBUF, buffer)] = np.asarray([fields["buf"]], dtype=np.int64)
        self.infos[header].slots = slots

    def _swiss(self, offset: int, info: TypeInfo) -> bool:
        """Go 1.24+ map<K,V>: dirPtr is one group (dirLen 0) or a directory of *table."""
        fields = {f[0]: (f[1], f[2]) for f in self.layouts.raw(offset).get("fields", ())}
        if "dirPtr" not in fields or "dirLen" not in fields:
            return False
        dir_at, dir_type = fields["dirPtr"]
        raw = self.layouts.raw(dir_type)
        if raw["kind"] != "ptr" or raw.get("type") is None:
            return False
        directory = self.from_die(raw["type"])  # *table<K,V>, tiled: the directory
        table_raw = self.layouts.raw(raw["type"])
        group = NONE
        if table_raw["kind"] == "ptr" and table_raw.get("type") is not None:
            group = self._group_of(table_raw["type"])
        directory_name = f"[]*{info.name.replace('map[', 'map.table[', 1)}"
        dir_id = self._add(("swissdir", offset), TypeInfo(directory_name, 8, self.infos[directory].slots))
        info.slots = {k: v for k, v in info.slots.items() if not (k[0] == PTR and dir_at in v)}
        info.swiss = (fields["dirLen"][0] - dir_at, group, dir_id)
        info.slots[(SWISS, NONE)] = np.asarray([dir_at], dtype=np.int64)
        return True

    def _group_of(self, table_die: int) -> int:
        """The group type of a table<K,V> (table.groups.data points to groups)."""
        for name, _off, ftype in self.layouts.raw(table_die).get("fields", ()):
            if name != "groups":
                continue
            for inner, _o, itype in self.layouts.raw(ftype).get("fields", ()):
                if inner == "data":
                    raw = self.layouts.raw(itype)
                    if raw["kind"] == "ptr" and raw.get("type") is not None:
                        return self.from_die(raw["type"])
        return NONE

    # Runtime types

    def from_runtime(self, address: int) -> int:
        """The type of a runtime type descriptor (by DWARF where it can)."""
        key = ("rt", address)
        found = self._ids.get(key)
        if found is not None:
            return found
        die = None
        if self.types.in_module(address):
            die = self.layouts.runtime_type_die(address - self.types.types_base)
        if die is not None:
            tid = self.from_die(die)
            self._ids[key] = tid
            return tid
        try:
            rt = self.types.at(address)
        except (Unsupported, BadRead) as err:
            self.notes.append(f"runtime type at {address:#x} unreadable: {err}")
            tid = self._add(key, TypeInfo(f"(type at {address:#x})", 8))
            return tid
        tid = self._add(key, TypeInfo(rt.name or f"(type at {address:#x})", max(rt.size, 1)))
        info = self.infos[tid]
        if rt.kind == "array" and rt.elem:
            inner = self.from_runtime(rt.elem)
            info.size = self.infos[inner].size
            info.slots = self.infos[inner].slots
            return tid
        slots: dict = {}
        self._collect_runtime(address, 0, slots, 0, info)
        info.slots = {k: np.asarray(sorted(v), dtype=np.int64) for k, v in slots.items()}
        return tid

    def _collect_runtime(self, address: int, base: int, slots: dict, depth: int, info: TypeInfo) -> None:
        if depth > MAX_DEPTH or sum(len(v) for v in slots.values()) > MAX_SLOTS:
            info.truncated = True
            return
        rt = self.types.at(address)
        if not rt.ptrdata:
            return
        die = self.layouts.runtime_type_die(address - self.types.types_base) if self.types.in_module(address) else None
        if die is not None and depth:
            self._collect(die, base, slots, depth, info)
            return
        kind = rt.kind
        if kind == "ptr" and rt.elem:
            slots.setdefault((PTR, self.from_runtime(rt.elem)), []).append(base)
        elif kind == "slice" and rt.elem:
            key = ("backing-rt", rt.elem)
            backing = self._ids.get(key)
            if backing is None:
                elem = self.from_runtime(rt.elem)
                e = self.infos[elem]
                backing = self._add(key, TypeInfo(f"[]{e.name}", e.size, e.slots))
            slots.setdefault((SLICE, backing), []).append(base)
        elif kind == "string":
            slots.setdefault((STRING, self.string), []).append(base)
        elif kind == "interface":
            # Empty interfaces have no methods: their descriptor is shorter.
            slots.setdefault((EFACE if rt.name == "interface {}" else IFACE, NONE), []).append(base)
        elif kind == "func":
            slots.setdefault((FUNC, NONE), []).append(base)
        elif kind == "struct":
            for f in rt.fields:
                if f.name == "overflow" and rt.name.startswith("map.bucket[") and self.types.at(f.type).kind == "unsafe.Pointer":
                    # runtime/map.go: a bucket's overflow is the next bucket of
                    # its map (Go 1.22-1.23 describe it as an unsafe.Pointer).
                    slots.setdefault((PTR, self.from_runtime(address)), []).append(base + f.offset)
                    continue
                self._collect_runtime(f.type, base + f.offset, slots, depth + 1, info)
        elif kind == "array" and rt.elem and rt.length:
            elem = self.types.at(rt.elem)
            inner: dict = {}
            self._collect_runtime(rt.elem, 0, inner, depth + 1, info)
            for k, offsets in inner.items():
                for i in range(min(rt.length, MAX_SLOTS)):
                    slots.setdefault(k, []).extend(base + i * elem.size + o for o in offsets)
        # map, chan and unsafe.Pointer without DWARF: their objects stay untyped.
