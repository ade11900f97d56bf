"""Runtime type descriptors: internal/abi.Type (runtime._type before Go
1.21), the kind-specific descriptors around it, and itabs.

    types = RuntimeTypes(memory, layouts, exe, bias)
    rt = types.at(address)        # RType: name, size, ptrdata, kind, elem, fields ...
    types.name(address)           # "map[int64]*main.Session", as reflect prints it
    types.itab_type(itab)         # the dynamic type of a non-empty interface
    types.gc_mask(address)        # the pointer words of one value, as the GC sees them

Every layout is DWARF's (internal/abi.PtrType, SliceType, ArrayType,
ChanType, MapType, StructType and StructField, or their runtime.* names
before Go 1.21); a descriptor that does not make sense raises Unsupported.

Names are stored once per module: moduledata.types + Str is a name (a flag
byte, a varint length, the bytes); TFlagExtraStar says the name is a
pointer type's, with its leading '*' to drop.

GC masks: GCData is a bitmap of PtrBytes/8 bits, except
- Go <= 1.23, kind & kindGCProg: GCData is a GC program;
- Go 1.24+, TFlag & TFlagGCMaskOnDemand: GCData is a **byte the runtime
  fills on first use (getGCMaskOnDemand), nil in a core until then.
In both the mask is built here from the type's structure, the way the
runtime builds it (fields at their offsets, array elements repeated), which
is the same bitmap by construction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..dwarf import Layouts, Type
from ..elfimage import ElfImage
from ..errors import BadRead, Unsupported
from ..memory import Memory

# reflect.Kind (internal/abi.Kind), masked by kindMask.
KINDS = ("invalid", "bool", "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64",
         "uintptr", "float32", "float64", "complex64", "complex128", "array", "chan", "func", "interface", "map",
         "ptr", "slice", "string", "struct", "unsafe.Pointer")
KIND_MASK = 31
MAX_NAME = 1 << 12
MAX_FIELDS = 1 << 14
MAX_MASK_WORDS = 1 << 28


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    type: int  # address of the field's runtime type
    offset: int
    embedded: bool = False


@dataclass(frozen=True, slots=True)
class RType:
    """One runtime type descriptor, decoded."""

    address: int
    name: str
    size: int
    ptrdata: int
    kind: str
    tflag: int
    gcdata: int
    gcprog: bool  # GCData is a GC program (Go <= 1.23)
    on_demand: bool  # TFlagGCMaskOnDemand (Go 1.24+)
    direct_iface: bool  # stored directly in an interface's data word
    elem: int = 0  # ptr, slice, array, chan, map (value)
    key: int = 0  # map
    length: int = 0  # array
    group: int = 0  # map: the bucket (Go < 1.24) or group (swiss map) type
    fields: tuple[Field, ...] = ()

    @property
    def has_pointers(self) -> bool:
        return self.ptrdata != 0


class RuntimeTypes:
    """The runtime type descriptors of one core."""

    def __init__(self, memory: Memory, layouts: Layouts, exe: ElfImage, bias: int) -> None:
        self.memory, self.layouts = memory, layouts
        self.abi = layouts.has("internal/abi.Type")
        self.type = layouts.type("internal/abi.Type" if self.abi else "runtime._type")
        t = self.type
        self._size = _first(t, "Size_", "size")
        self._ptrdata = _first(t, "PtrBytes", "ptrdata")
        self._tflag = _first(t, "TFlag", "tflag")
        self._kind = _first(t, "Kind_", "kind")
        self._gcdata = _first(t, "GCData", "gcdata")
        self._str = _first(t, "Str", "str")
        self._read_size = max(self._str + 4, self._gcdata + 8)
        moduledata = exe.symbol("runtime.firstmoduledata")
        if moduledata is None:
            raise Unsupported(f"{exe.path}: no runtime.firstmoduledata symbol")
        md = layouts.type("runtime.moduledata")
        try:
            self.types_base = memory.u64(moduledata[0] + bias + md.field("types")[0])
            self.types_end = memory.u64(moduledata[0] + bias + md.field("etypes")[0])
        except BadRead as err:
            raise Unsupported(f"runtime.firstmoduledata unreadable: {err}") from None
        self.extra_star = self._const("internal/abi.TFlagExtraStar", "runtime.tflagExtraStar", default=2)
        self.on_demand_flag = self._const("internal/abi.TFlagGCMaskOnDemand", default=0)
        self.gcprog_flag = self._const("runtime.kindGCProg", default=0)
        self.direct_kind_flag = self._const("runtime.kindDirectIface", default=0)
        self.direct_tflag = self._const("internal/abi.TFlagDirectIface", default=0)
        self._descriptors: dict[str, Type | None] = {}
        self._cache: dict[int, RType] = {}
        self._names: dict[int, str] = {}
        self._masks: dict[int, np.ndarray] = {}
        itab = "internal/abi.ITab" if layouts.has("internal/abi.ITab") else "runtime.itab"
        self._itab_type = _first(layouts.type(itab), "Type", "_type")

    def _const(self, *names: str, default: int) -> int:
        for name in names:
            if self.layouts.has_constant(name):
                return self.layouts.constant(name)
        return default

    def _descriptor(self, abi_name: str, runtime_name: str) -> Type | None:
        key = abi_name
        if key not in self._descriptors:
            name = abi_name if self.abi else runtime_name
            self._descriptors[key] = self.layouts.type(name) if self.layouts.has(name) else None
        return self._descriptors[key]

    def in_module(self, address: int) -> bool:
        return self.types_base <= address < self.types_end

    # Names

    def name(self, address: int) -> str:
        """The type's name as reflect prints it ("" for 0)."""
        if address == 0:
            return ""
        found = self._names.get(address)
        if found is None:
            raw = self.memory.read(address, self._read_size)
            name_off = int.from_bytes(raw[self._str:self._str + 4], "little", signed=True)
            tflag = raw[self._tflag]
            found = self._name_at(self.types_base + name_off)
            if tflag & self.extra_star and found.startswith("*"):
                found = found[1:]
            self._names[address] = found
        return found

    def _name_at(self, at: int) -> str:
        """A name record (flag byte, varint length, bytes)."""
        if at == 0:
            return ""
        length, shift, pos = 0, 0, at + 1
        for _ in range(5):
            byte = self.memory.uint(pos, 1)
            pos += 1
            length |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                break
        if length > MAX_NAME:
            raise Unsupported(f"a type name of {length} bytes at {at:#x}")
        return self.memory.read(pos, length).decode("utf-8", "replace")

    # Descriptors

    def size_of(self, address: int) -> int:
        """Size_ of a descriptor, also of the runtime's unrolled stand-ins."""
        return self.memory.u64(address + self._size)

    def at(self, address: int) -> RType:
        """The descriptor at address (cached); Unsupported when it makes no sense."""
        found = self._cache.get(address)
        if found is not None:
            return found
        try:
            found = self._decode(address)
        except BadRead as err:
            raise Unsupported(f"runtime type at {address:#x} unreadable: {err}") from None
        self._cache[address] = found
        return found

    def _decode(self, address: int) -> RType:
        if address == 0 or address % 8:
            raise Unsupported(f"no runtime type at {address:#x}")
        memory = self.memory
        size = memory.u64(address + self._size)
        ptrdata = memory.u64(address + self._ptrdata)
        tflag = memory.uint(address + self._tflag, 1)
        raw_kind = memory.uint(address + self._kind, 1)
        gcdata = memory.u64(address + self._gcdata)
        kind_index = raw_kind & KIND_MASK
        if kind_index >= len(KINDS) or kind_index == 0 or ptrdata > size or size > 1 << 48:
            raise Unsupported(f"runtime type at {address:#x} makes no sense (kind {raw_kind}, size {size}, "
                              f"ptrdata {ptrdata})")
        kind = KINDS[kind_index]
        gcprog = bool(self.gcprog_flag and raw_kind & self.gcprog_flag)
        on_demand = bool(self.on_demand_flag and tflag & self.on_demand_flag)
        direct = bool((self.direct_kind_flag and raw_kind & self.direct_kind_flag)
                      or (self.direct_tflag and tflag & self.direct_tflag))
        if not self.direct_kind_flag and not self.direct_tflag:
            direct = kind == "ptr" or (size == 8 and ptrdata == 8 and kind in ("map", "chan", "func", "unsafe.Pointer"))
        extra: dict = {}
        if kind in ("ptr", "slice", "chan"):
            desc = self._descriptor({"ptr": "internal/abi.PtrType", "slice": "internal/abi.SliceType",
                                     "chan": "internal/abi.ChanType"}[kind],
                                    {"ptr": "runtime.ptrtype", "slice": "runtime.slicetype",
                                     "chan": "runtime.chantype"}[kind])
            if desc is not None:
                extra["elem"] = memory.u64(address + _first(desc, "Elem", "elem"))
        elif kind == "array":
            desc = self._descriptor("internal/abi.ArrayType", "runtime.arraytype")
            if desc is not None:
                extra["elem"] = memory.u64(address + _first(desc, "Elem", "elem"))
                extra["length"] = memory.u64(address + _first(desc, "Len", "len"))
        elif kind == "map":
            desc = self._map_descriptor()
            if desc is not None:
                extra["key"] = memory.u64(address + _first(desc, "Key", "key"))
                extra["elem"] = memory.u64(address + _first(desc, "Elem", "elem"))
                extra["group"] = memory.u64(address + _first(desc, "Group", "Bucket", "bucket"))
        elif kind == "struct":
            extra["fields"] = self._fields(address)
        return RType(address, self.name(address), size, ptrdata, kind, tflag, gcdata, gcprog, on_demand, direct,
                     **extra)

    def _map_descriptor(self) -> Type | None:
        for abi_name in ("internal/abi.MapType", "internal/abi.SwissMapType", "internal/abi.OldMapType"):
            if self.layouts.has(abi_name):
                return self.layouts.type(abi_name)
        return self._descriptor("internal/abi.MapType", "runtime.maptype")

    def _fields(self, address: int) -> tuple[Field, ...]:
        desc = self._descriptor("internal/abi.StructType", "runtime.structtype")
        sf = self._descriptor("internal/abi.StructField", "runtime.structfield")
        if desc is None or sf is None:
            raise Unsupported("DWARF has no struct type descriptor layout")
        pointer, count = self.memory.words(address + _first(desc, "Fields", "fields"), 2)
        if count > MAX_FIELDS:
            raise Unsupported(f"runtime struct type at {address:#x} claims {count} fields")
        name_at = _first(sf, "Name", "name")
        typ_at = _first(sf, "Typ", "typ")
        anon = sf.has("offsetAnon")
        offset_at = _first(sf, "Offset", "offset", "offsetAnon")
        fields = []
        raw = self.memory.read(pointer, sf.size * count) if count else b""
        for i in range(count):
            base = i * sf.size
            name_ptr = int.from_bytes(raw[base + name_at:base + name_at + 8], "little")
            typ = int.from_bytes(raw[base + typ_at:base + typ_at + 8], "little")
            offset = int.from_bytes(raw[base + offset_at:base + offset_at + 8], "little")
            embedded = False
            if anon:
                embedded, offset = bool(offset & 1), offset >> 1
            name = self._name_at(name_ptr)
            fields.append(Field(name, typ, offset, embedded))
        return tuple(fields)

    # Interfaces

    def itab_type(self, itab: int) -> int:
        """The dynamic type (*abi.Type) an itab records."""
        return self.memory.u64(itab + self._itab_type)

    # GC masks

    def gc_mask(self, address: int) -> np.ndarray:
        """bool per word of the type's first ptrdata bytes: a pointer the GC follows."""
        found = self._masks.get(address)
        if found is not None:
            return found
        if not self.in_module(address):
            # Go 1.22-1.23: the runtime's own stand-in for a type with a GC
            # program (heapSetType): size, PtrBytes and an unrolled bitmap.
            unrolled = self._const("internal/abi.TFlagUnrolledBitmap", default=0)
            tflag = self.memory.uint(address + self._tflag, 1)
            if unrolled and tflag & unrolled:
                words = self.memory.u64(address + self._ptrdata) // 8
                if words > MAX_MASK_WORDS:
                    raise Unsupported(f"an unrolled GC bitmap of {words} words at {address:#x}")
                raw = np.frombuffer(self.memory.read(self.memory.u64(address + self._gcdata), (words + 7) // 8),
                                    dtype=np.uint8)
                mask = np.unpackbits(raw, bitorder="little")[:words].astype(bool)
                self._masks[address] = mask
                return mask
        rt = self.at(address)
        words = rt.ptrdata // 8
        if words > MAX_MASK_WORDS:
            raise Unsupported(f"runtime type {rt.name} has {words} pointer words")
        mask = None
        if not rt.gcprog:
            source = rt.gcdata
            if rt.on_demand:
                source = self.memory.u64(rt.gcdata) if rt.gcdata else 0
            if source:
                raw = np.frombuffer(self.memory.read(source, (words + 7) // 8), dtype=np.uint8)
                mask = np.unpackbits(raw, bitorder="little")[:words].astype(bool)
        if mask is None:
            mask = self.structural_mask(address)[:words]
        self._masks[address] = mask
        return mask

    def structural_mask(self, address: int, depth: int = 0) -> np.ndarray:
        """The pointer words of a value of this type, from its structure:
        what the runtime's buildGCMask and the compiler's GC programs
        describe, built from the same facts."""
        if depth > 64:
            raise Unsupported(f"runtime type at {address:#x} nests more than 64 deep")
        rt = self.at(address)
        words = rt.size // 8
        if not rt.ptrdata:
            return np.zeros(words, dtype=bool)
        kind = rt.kind
        mask = np.zeros(words, dtype=bool)
        if kind in ("ptr", "map", "chan", "func", "unsafe.Pointer", "string", "slice"):
            mask[0] = True
        elif kind == "interface":
            mask[:2] = True
        elif kind == "array":
            if rt.length and rt.elem:
                elem = self.structural_mask(rt.elem, depth + 1)
                if len(elem) * rt.length != words:
                    raise Unsupported(f"runtime type {rt.name}: {rt.length} elements of {len(elem)} words "
                                      f"in {words}")
                mask = np.tile(elem, rt.length)
        elif kind == "struct":
            for field in rt.fields:
                inner = self.structural_mask(field.type, depth + 1)
                start = field.offset // 8
                if start + len(inner) > words:
                    raise Unsupported(f"runtime type {rt.name}: field {field.name} lies past its end")
                mask[start:start + len(inner)] |= inner
        else:
            raise Unsupported(f"runtime type {rt.name} of kind {kind} claims pointers")
        return mask


def _first(struct: Type, *paths: str) -> int:
    for path in paths:
        if struct.has(path):
            return struct.field(path)[0]
    raise Unsupported(f"DWARF: {struct.name} has none of {', '.join(paths)}")
