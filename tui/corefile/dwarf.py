"""Type layouts from the executable's DWARF, never hard-coded.

Go's linker puts every type DIE in the compile unit named "runtime". One
pass over that unit's top-level entries (pyelftools) indexes type names to
DIE offsets; a struct is parsed from its DIE when first asked for. The
index and the structs read so far are cached per binary (key: its Go build
ID, else the file's hash) as JSON under $XDG_CACHE_HOME/gocore-tui/layouts/,
so a second open reads no DWARF for them at all.

A Type is a plain value: name, kind (Go's reflect kind, from DW_AT_go_kind,
or the DWARF tag's), size, and per kind the element type, the count or the
fields. Struct.field("sched.sp") resolves a dotted path to (offset, Type).
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import tempfile
from dataclasses import dataclass

from .elfimage import ElfImage
from .errors import Unsupported

CACHE_FORMAT = 4
DW_AT_GO_KIND = 0x2900
DW_AT_GO_KEY, DW_AT_GO_ELEM, DW_AT_GO_RUNTIME_TYPE = 0x2901, 0x2902, 0x2904
# The packages whose DW_TAG_constants are indexed (the runtime's layout
# constants: page and arena sizes, span states, type flags).
CONSTANT_UNITS = frozenset({b"runtime", b"internal/abi", b"internal/runtime/gc", b"internal/runtime/maps",
                            b"internal/goarch"})

# reflect.Kind values Go writes as DW_AT_go_kind.
GO_KINDS = {1: "bool", 2: "int", 3: "int8", 4: "int16", 5: "int32", 6: "int64", 7: "uint", 8: "uint8",
            9: "uint16", 10: "uint32", 11: "uint64", 12: "uintptr", 13: "float32", 14: "float64",
            15: "complex64", 16: "complex128", 17: "array", 18: "chan", 19: "func", 20: "interface",
            21: "map", 22: "ptr", 23: "slice", 24: "string", 25: "struct", 26: "unsafe.Pointer"}
SIGNED = {"int", "int8", "int16", "int32", "int64"}
_TAG_KINDS = {"DW_TAG_pointer_type": "ptr", "DW_TAG_structure_type": "struct", "DW_TAG_array_type": "array",
              "DW_TAG_subroutine_type": "func", "DW_TAG_typedef": "typedef", "DW_TAG_base_type": "base",
              "DW_TAG_unspecified_type": "unspecified"}


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    offset: int
    type: "Type"


@dataclass(frozen=True, slots=True)
class Type:
    name: str
    kind: str
    size: int
    signed: bool = False
    elem: "Type | None" = None
    count: int = 0
    fields: tuple[Field, ...] = ()
    target: int = 0  # a pointer's pointee as a DIE offset (Layouts.deref), not followed eagerly

    def field(self, path: str) -> tuple[int, "Type"]:
        """(offset, type) of a dotted field path inside this struct."""
        offset, current = 0, self
        for part in path.split("."):
            found = next((f for f in current.fields if f.name == part), None)
            if found is None:
                raise Unsupported(f"DWARF: {current.name} has no field {part!r} (looking for {self.name}.{path})")
            offset += found.offset
            current = found.type
        return offset, current

    def has(self, path: str) -> bool:
        try:
            self.field(path)
            return True
        except Unsupported:
            return False

    @property
    def is_integer(self) -> bool:
        return self.kind in SIGNED or self.kind in ("uint", "uint8", "uint16", "uint32", "uint64", "uintptr",
                                                   "bool", "ptr", "unsafe.Pointer", "base")


def cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "gocore-tui", "layouts")


def binary_key(exe: ElfImage) -> str:
    """The Go build ID (content-derived) when the binary has one, else a hash of the file."""
    for owner, n_type, desc in exe.notes():
        if owner == b"Go" and n_type == 4:
            return "go-" + hashlib.sha256(bytes(desc)).hexdigest()[:32]
    digest = hashlib.sha256()
    digest.update(memoryview(exe.data))
    return "sha-" + digest.hexdigest()[:32]


class Layouts:
    """Types of one executable, by name, read once from DWARF and cached."""

    def __init__(self, exe: ElfImage, use_cache: bool = True) -> None:
        self.exe = exe
        self.use_cache = use_cache
        self.key = binary_key(exe)
        self._raw: dict[str, dict] = {}  # DIE offset (str) -> raw record
        self._index: dict[str, int] = {}  # type name -> DIE offset
        self._constants: dict[str, int] = {}  # "runtime.pageSize" -> 8192
        self._rtypes: dict[int, int] = {}  # runtime type (offset in moduledata.types) -> DIE offset
        self._globals: dict[str, int] = {}  # global variable -> DIE offset of its type (0: none in DWARF)
        self._types: dict[int, Type] = {}
        self._dwarf = None
        self._dirty = False
        self.from_cache = use_cache and self._load_cache()
        if not self.from_cache:
            self._build_index()
            self._dirty = True

    # The cache

    def _cache_path(self) -> str:
        return os.path.join(cache_dir(), f"{self.key}.json")

    def _load_cache(self) -> bool:
        try:
            with open(self._cache_path(), encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, ValueError):
            return False
        if not isinstance(data, dict) or data.get("format") != CACHE_FORMAT or data.get("key") != self.key:
            return False
        self._index = {k: int(v) for k, v in data.get("index", {}).items()}
        self._raw = data.get("raw", {})
        self._constants = {k: int(v) for k, v in data.get("constants", {}).items()}
        self._rtypes = {int(k): int(v) for k, v in data.get("rtypes", {}).items()}
        self._globals = {k: int(v) for k, v in data.get("globals", {}).items()}
        return bool(self._index)

    def save(self) -> None:
        """Write what was read to the cache (atomically); silent on failure."""
        if not (self.use_cache and self._dirty):
            return
        directory = cache_dir()
        try:
            os.makedirs(directory, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=directory, prefix=".layout-")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump({"format": CACHE_FORMAT, "key": self.key, "index": self._index, "raw": self._raw,
                           "constants": self._constants, "rtypes": self._rtypes, "globals": self._globals}, f)
            os.replace(tmp, self._cache_path())
            self._dirty = False
        except OSError:
            pass

    # DWARF

    def _dwarf_info(self):
        if self._dwarf is None:
            try:
                from elftools.common.exceptions import ELFError
                from elftools.elf.elffile import ELFFile
            except ImportError:  # pragma: no cover - a dependency of the package
                raise Unsupported("pyelftools is not installed: DWARF types cannot be read") from None
            try:
                self._file = open(self.exe.path, "rb")
                elf = ELFFile(self._file)
                if not elf.has_dwarf_info():
                    raise Unsupported(f"{self.exe.path} has no DWARF (stripped): type layouts are unknown")
                self._dwarf = elf.get_dwarf_info()
            except (ELFError, OSError, ValueError) as err:
                raise Unsupported(f"{self.exe.path}: DWARF unreadable ({err})") from None
        return self._dwarf

    def _build_index(self) -> None:
        dwarf = self._dwarf_info()
        typedefs: dict[str, int] = {}
        try:
            for cu in dwarf.iter_CUs():
                top = cu.get_top_DIE()
                name = top.attributes.get("DW_AT_name")
                if name is None or (name.value != b"runtime" and name.value not in CONSTANT_UNITS):
                    continue
                types = name.value == b"runtime"
                for die in top.iter_children():
                    if die.tag == "DW_TAG_constant":
                        self._constant(die)
                        continue
                    if not types or not (die.tag.endswith("_type") or die.tag == "DW_TAG_typedef"):
                        continue
                    rtype = die.attributes.get(DW_AT_GO_RUNTIME_TYPE)
                    if rtype is not None and rtype.value:
                        self._rtypes.setdefault(rtype.value, die.offset)
                    attr = die.attributes.get("DW_AT_name")
                    if attr is None:
                        continue
                    type_name = attr.value.decode("utf-8", "replace")
                    if die.tag == "DW_TAG_typedef":
                        typedefs.setdefault(type_name, die.offset)
                    else:
                        self._index.setdefault(type_name, die.offset)
        except Exception as err:  # pyelftools raises many kinds on corrupt DWARF
            raise Unsupported(f"{self.exe.path}: DWARF unreadable ({type(err).__name__}: {err})") from None
        for type_name, offset in typedefs.items():
            self._index.setdefault(type_name, offset)
        if not self._index:
            raise Unsupported(f"{self.exe.path}: no Go types in DWARF (no runtime compile unit)")

    def _constant(self, die) -> None:
        attrs = die.attributes
        if "DW_AT_name" in attrs and "DW_AT_const_value" in attrs and isinstance(attrs["DW_AT_const_value"].value, int):
            self._constants.setdefault(attrs["DW_AT_name"].value.decode("utf-8", "replace"),
                                       attrs["DW_AT_const_value"].value)

    def constant(self, name: str, default: int | None = None) -> int:
        """A Go constant DWARF records (`runtime.pageSize`); Unsupported
        when it has none and no default is given."""
        value = self._constants.get(name, default)
        if value is None:
            raise Unsupported(f"DWARF has no constant {name}")
        return value

    def has_constant(self, name: str) -> bool:
        return name in self._constants

    def runtime_type_die(self, offset: int) -> int | None:
        """The DIE offset of the type whose runtime type descriptor is at
        this offset from moduledata.types (DW_AT_go_runtime_type)."""
        return self._rtypes.get(offset)

    def remembered_global(self, name: str) -> int | None:
        """A global's type DIE as found before (cached with the layouts):
        None when not looked up yet, 0 when DWARF has none."""
        return self._globals.get(name)

    def remember_global(self, name: str, die: int | None) -> None:
        self._globals[name] = die or 0
        self._dirty = True

    def offset_of(self, name: str) -> int | None:
        """The DIE offset of a named type, or None."""
        return self._index.get(name)

    def raw(self, offset: int) -> dict:
        """The DIE at offset reduced to JSON-able facts: name, kind, size,
        and where present type (the referenced DIE), fields [name, offset,
        DIE], count, gokind (DW_AT_go_kind, typedefs too), rtype
        (DW_AT_go_runtime_type), key and elem (DW_AT_go_key / go_elem)."""
        return self._raw_record(offset)

    def _raw_record(self, offset: int) -> dict:
        key = str(offset)
        raw = self._raw.get(key)
        if raw is not None:
            return raw
        dwarf = self._dwarf_info()
        try:
            die = dwarf.get_DIE_from_refaddr(offset)
            raw = _record(die)
        except Unsupported:
            raise
        except Exception as err:
            raise Unsupported(f"{self.exe.path}: DWARF entry at {offset:#x} unreadable ({type(err).__name__}: {err})") from None
        self._raw[key] = raw
        self._dirty = True
        return raw

    # Types

    def has(self, name: str) -> bool:
        return name in self._index

    def type(self, name: str) -> Type:
        offset = self._index.get(name)
        if offset is None:
            raise Unsupported(f"DWARF has no type {name!r}")
        return self._type_at(offset, 0)

    def _type_at(self, offset: int, depth: int) -> Type:
        known = self._types.get(offset)
        if known is not None:
            return known
        if depth > 64:
            # Structs nest only by value (pointers are not followed): a cycle is corrupt DWARF.
            raise Unsupported(f"DWARF types nest more than 64 deep at {offset:#x}")
        raw = self._raw_record(offset)
        kind = raw["kind"]
        if kind == "typedef":
            if raw.get("type") is None:
                raise Unsupported(f"DWARF typedef {raw['name']} has no type")
            result = self._type_at(raw["type"], depth)
            self._types[offset] = result
            return result
        elem = None
        if kind in ("ptr", "array", "slice", "chan", "map") and raw.get("type") is not None:
            # Pointers are followed lazily by name; their target is not needed for a layout.
            elem = self._type_at(raw["type"], depth + 1) if kind == "array" else None
        fields = ()
        if raw.get("fields"):
            fields = tuple(Field(name, off, self._type_at(type_offset, depth + 1))
                           for name, off, type_offset in raw["fields"])
        target = (raw.get("type") or 0) if kind in ("ptr", "chan", "map", "func") else 0
        result = Type(raw["name"], kind, raw["size"], kind in SIGNED or raw.get("signed", False), elem,
                      raw.get("count", 0), fields, target)
        self._types[offset] = result
        return result

    def type_at(self, offset: int) -> Type:
        """The type whose DIE is at this .debug_info offset (a variable's
        DW_AT_type: names.py reads globals and locals through it)."""
        return self._type_at(offset, 0)

    def dwarf_info(self):
        """pyelftools' DWARFInfo of the executable (opened once; Unsupported when stripped)."""
        return self._dwarf_info()

    def deref(self, pointer: Type) -> Type:
        """The type a pointer type points to."""
        if not pointer.target:
            raise Unsupported(f"DWARF: {pointer.name} points to no known type")
        return self._type_at(pointer.target, 0)

    def pointee(self, pointer_name: str) -> Type:
        """The type a named pointer type points to (`*runtime.g` -> runtime.g)."""
        offset = self._index.get(pointer_name)
        if offset is None:
            raise Unsupported(f"DWARF has no type {pointer_name!r}")
        raw = self._raw_record(offset)
        if raw["kind"] != "ptr" or raw.get("type") is None:
            raise Unsupported(f"DWARF type {pointer_name} is not a pointer")
        return self._type_at(raw["type"], 0)

    def close(self) -> None:
        self.save()
        if self._dwarf is not None:
            self._file.close()
            self._dwarf = None


def _record(die) -> dict:
    """A DIE reduced to what a layout needs, as JSON-able values."""
    attrs = die.attributes
    name_attr = attrs.get("DW_AT_name")
    name = name_attr.value.decode("utf-8", "replace") if name_attr is not None else ""
    kind = _TAG_KINDS.get(die.tag)
    if kind is None:
        raise Unsupported(f"DWARF entry {name or die.offset} is a {die.tag}, not a type")
    go_kind = attrs.get(DW_AT_GO_KIND)
    if go_kind is not None and kind not in ("typedef",):
        kind = GO_KINDS.get(go_kind.value, kind)
    extra = {}
    if go_kind is not None:
        extra["gokind"] = GO_KINDS.get(go_kind.value, "")
    if DW_AT_GO_RUNTIME_TYPE in attrs and attrs[DW_AT_GO_RUNTIME_TYPE].value:
        extra["rtype"] = attrs[DW_AT_GO_RUNTIME_TYPE].value
    for key, attr in (("key", DW_AT_GO_KEY), ("elem", DW_AT_GO_ELEM)):
        if attr in attrs:
            extra[key] = _ref(die, attrs[attr])
    size = attrs["DW_AT_byte_size"].value if "DW_AT_byte_size" in attrs else (8 if kind == "ptr" else 0)
    record = {"name": name, "kind": kind, "size": size, **extra}
    if "DW_AT_encoding" in attrs:
        record["signed"] = attrs["DW_AT_encoding"].value in (5, 6, 13)  # DW_ATE_signed, signed_char, signed_fixed
        if kind == "base":
            record["kind"] = "int64" if record["signed"] else "uint64"
    if "DW_AT_type" in attrs:
        record["type"] = _ref(die, attrs["DW_AT_type"])
    if die.tag == "DW_TAG_structure_type":
        fields = []
        for child in die.iter_children():
            if child.tag != "DW_TAG_member":
                continue
            member = child.attributes
            location = member.get("DW_AT_data_member_location")
            if location is None or not isinstance(location.value, int) or "DW_AT_type" not in member:
                raise Unsupported(f"DWARF: a member of {name} has no constant offset or type")
            member_name = member["DW_AT_name"].value.decode("utf-8", "replace") if "DW_AT_name" in member else ""
            fields.append([member_name, location.value, _ref(child, member["DW_AT_type"])])
        record["fields"] = fields
    elif die.tag == "DW_TAG_array_type":
        for child in die.iter_children():
            if child.tag == "DW_TAG_subrange_type":
                if "DW_AT_count" in child.attributes:
                    record["count"] = child.attributes["DW_AT_count"].value
                elif "DW_AT_upper_bound" in child.attributes:
                    record["count"] = child.attributes["DW_AT_upper_bound"].value + 1
    return record


def _ref(die, attr) -> int:
    """A type reference as an absolute .debug_info offset."""
    if attr.form in ("DW_FORM_ref_addr", "DW_FORM_ref_sig8"):
        return attr.value
    return attr.value + die.cu.cu_offset


def packed(fields: list[tuple[int, int, str, str]], base: int = 0,
           what: str = "runtime.g") -> tuple[struct.Struct, tuple[str, ...]]:
    """One struct.Struct that unpacks, from `base`, fields picked out of a
    DWARF struct: (offset, size, struct code, name), padding skipped between
    them; and the names in the unpacked order."""
    fmt, at = "<", base
    for offset, size, code, _ in sorted(fields):
        if offset < at:
            raise Unsupported(f"DWARF: {what} fields overlap at {offset}")
        if offset > at:
            fmt += f"{offset - at}x"
        fmt += code
        at = offset + size
    return struct.Struct(fmt), tuple(name for *_, name in sorted(fields))
