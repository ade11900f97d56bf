"""ELF headers, segments, sections, notes and symbols of a file held in a
buffer (an mmap): the little the native reader needs, and nothing that
reads more of a file than it asks for.

Only 64-bit little-endian files are accepted (amd64 and arm64 Linux); the
native reader supports amd64 alone, and says so through Unsupported.
"""

from __future__ import annotations

import mmap
import os
import struct
from dataclasses import dataclass
from typing import Iterator

from .errors import Unsupported

ET_EXEC, ET_DYN, ET_CORE = 2, 3, 4
PT_LOAD, PT_NOTE, PT_TLS = 1, 4, 7
SHT_SYMTAB, SHT_NOTE, SHT_DYNSYM = 2, 7, 11
STT_FUNC = 2
EM_X86_64 = 62
PN_XNUM = 0xFFFF

_EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
_PHDR = struct.Struct("<IIQQQQQQ")
_SHDR = struct.Struct("<IIQQQQIIQQ")
_SYM = struct.Struct("<IBBHQQ")
_NOTE = struct.Struct("<III")


@dataclass(frozen=True, slots=True)
class Segment:
    type: int
    flags: int
    offset: int
    vaddr: int
    filesz: int
    memsz: int
    align: int


@dataclass(frozen=True, slots=True)
class Section:
    name: str
    type: int
    flags: int
    addr: int
    offset: int
    size: int
    link: int


class ElfImage:
    """One ELF file, mapped read-only. Raises Unsupported for anything
    that is not a well-formed 64-bit little-endian ELF."""

    def __init__(self, path: str | os.PathLike, role: str) -> None:
        self.path = os.fspath(path)
        self.role = role
        try:
            with open(self.path, "rb") as f:
                size = os.fstat(f.fileno()).st_size
                if size < _EHDR.size:
                    raise Unsupported(f"{self.path}: {role} too short for an ELF header ({size} bytes)")
                self.data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except OSError as err:
            raise Unsupported(f"{self.path}: cannot map the {role} ({err.strerror})") from None
        self.size = size
        try:
            self._parse_header()
        except struct.error as err:
            raise Unsupported(f"{self.path}: corrupt ELF headers ({err})") from None
        self._symbols: dict[str, tuple[int, int]] | None = None

    def _parse_header(self) -> None:
        (ident, self.e_type, self.machine, _, self.entry, phoff, shoff, _, _, phentsize, phnum,
         shentsize, shnum, shstrndx) = _EHDR.unpack_from(self.data, 0)
        if ident[:4] != b"\x7fELF":
            raise Unsupported(f"{self.path}: the {self.role} is not an ELF file")
        if ident[4] != 2 or ident[5] != 1:
            raise Unsupported(f"{self.path}: only 64-bit little-endian ELF is read natively "
                              f"(class {ident[4]}, data {ident[5]})")
        self.sections: dict[str, Section] = {}
        self._section_list: list[Section] = []
        if shoff and shentsize >= _SHDR.size:
            if shnum == 0:
                shnum = _SHDR.unpack_from(self.data, shoff)[5]
            if phnum == PN_XNUM:
                phnum = _SHDR.unpack_from(self.data, shoff)[7]
            self._check_range(shoff, shnum * shentsize, "section headers")
            raw = [_SHDR.unpack_from(self.data, shoff + i * shentsize) for i in range(shnum)]
            names = b""
            if shstrndx < shnum:
                _, _, _, _, str_off, str_size, *_ = raw[shstrndx]
                self._check_range(str_off, str_size, "section names")
                names = self.data[str_off:str_off + str_size]
            for name_off, sh_type, flags, addr, offset, size, link, _, _, _ in raw:
                end = names.find(b"\0", name_off)
                name = names[name_off:end if end >= 0 else len(names)].decode("ascii", "replace")
                section = Section(name, sh_type, flags, addr, offset, size, link)
                self._section_list.append(section)
                self.sections.setdefault(name, section)
        self.segments: list[Segment] = []
        if phoff and phnum:
            if phentsize < _PHDR.size:
                raise Unsupported(f"{self.path}: program header entries of {phentsize} bytes")
            self._check_range(phoff, phnum * phentsize, "program headers")
            for i in range(phnum):
                p_type, flags, offset, vaddr, _, filesz, memsz, align = _PHDR.unpack_from(self.data, phoff + i * phentsize)
                self.segments.append(Segment(p_type, flags, offset, vaddr, filesz, memsz, align))

    def _check_range(self, offset: int, size: int, what: str) -> None:
        if offset < 0 or size < 0 or offset + size > self.size:
            raise Unsupported(f"{self.path}: the {self.role}'s {what} lie past its end "
                              f"({offset:#x}+{size:#x} > {self.size:#x}); the file is truncated or corrupt")

    def section_bytes(self, name: str) -> memoryview:
        """The bytes of a section as stored (no decompression)."""
        section = self.sections.get(name)
        if section is None:
            raise Unsupported(f"{self.path}: no {name} section")
        self._check_range(section.offset, section.size, name)
        return memoryview(self.data)[section.offset:section.offset + section.size]

    def notes(self) -> Iterator[tuple[bytes, int, memoryview]]:
        """(owner, type, desc) of every note in PT_NOTE segments (or SHT_NOTE sections)."""
        view = memoryview(self.data)
        spans = [(s.offset, s.filesz) for s in self.segments if s.type == PT_NOTE]
        if not spans:
            spans = [(s.offset, s.size) for s in self._section_list if s.type == SHT_NOTE]
        for offset, size in spans:
            if offset + size > self.size:
                continue
            pos, end = offset, offset + size
            while pos + _NOTE.size <= end:
                namesz, descsz, n_type = _NOTE.unpack_from(self.data, pos)
                pos += _NOTE.size
                name_end = pos + namesz
                desc = (name_end + 3) & ~3
                desc_end = desc + descsz
                if desc_end > end:
                    break
                yield bytes(view[pos:name_end]).rstrip(b"\0"), n_type, view[desc:desc_end]
                pos = (desc_end + 3) & ~3

    def symbol(self, name: str) -> tuple[int, int] | None:
        """(value, size) of a symbol of .symtab, or None."""
        return self.symbols(name).get(name)

    def symbols(self, *wanted: str) -> dict[str, tuple[int, int]]:
        """(value, size) of the named symbols that .symtab holds.

        Finds each name in .strtab first and then only the entries that
        point at it, so a symbol table of a million entries costs one scan
        in C (iter_unpack), not a million Python string decodings.
        """
        symtab = next((s for s in self._section_list if s.type == SHT_SYMTAB), None)
        if symtab is None or symtab.link >= len(self._section_list):
            return {}
        strtab = self._section_list[symtab.link]
        self._check_range(symtab.offset, symtab.size, ".symtab")
        self._check_range(strtab.offset, strtab.size, ".strtab")
        strings = self.data[strtab.offset:strtab.offset + strtab.size]
        offsets: dict[int, str] = {}
        for name in wanted:
            needle = b"\0" + name.encode() + b"\0"
            at = strings.find(needle)
            while at >= 0:
                offsets[at + 1] = name
                at = strings.find(needle, at + 1)
        found: dict[str, tuple[int, int]] = {}
        if not offsets:
            return found
        count = symtab.size // _SYM.size
        table = memoryview(self.data)[symtab.offset:symtab.offset + count * _SYM.size]
        for st_name, _info, _other, shndx, value, size in _SYM.iter_unpack(table):
            name = offsets.get(st_name)
            if name is not None and shndx != 0 and name not in found:
                found[name] = (value, size)
        return found

    def names_at(self, addresses: set[int]) -> dict[int, str]:
        """The names of the function symbols (STT_FUNC) at the given values."""
        symtab = next((s for s in self._section_list if s.type == SHT_SYMTAB), None)
        if symtab is None or symtab.link >= len(self._section_list) or not addresses:
            return {}
        strtab = self._section_list[symtab.link]
        self._check_range(symtab.offset, symtab.size, ".symtab")
        self._check_range(strtab.offset, strtab.size, ".strtab")
        count = symtab.size // _SYM.size
        table = memoryview(self.data)[symtab.offset:symtab.offset + count * _SYM.size]
        found: dict[int, str] = {}
        for st_name, info, _other, _shndx, value, _size in _SYM.iter_unpack(table):
            if value in addresses and info & 0xF == 2 and value not in found:
                start = strtab.offset + st_name
                end = self.data.find(b"\0", start, strtab.offset + strtab.size)
                found[value] = self.data[start:end if end >= 0 else strtab.offset + strtab.size].decode("utf-8", "replace")
        return found

    def function_symbols(self) -> list[tuple[int, int, str]]:
        """(value, size, name) of every defined function symbol of .symtab
        and .dynsym (a shared library may keep only the latter), sorted by value."""
        found: dict[int, tuple[int, int, str]] = {}
        for table_type in (SHT_SYMTAB, SHT_DYNSYM):
            table_section = next((s for s in self._section_list if s.type == table_type), None)
            if table_section is None or table_section.link >= len(self._section_list):
                continue
            strtab = self._section_list[table_section.link]
            self._check_range(table_section.offset, table_section.size, "symbol table")
            self._check_range(strtab.offset, strtab.size, "symbol names")
            count = table_section.size // _SYM.size
            table = memoryview(self.data)[table_section.offset:table_section.offset + count * _SYM.size]
            end_of_strings = strtab.offset + strtab.size
            for st_name, info, _other, shndx, value, size in _SYM.iter_unpack(table):
                if info & 0xF != STT_FUNC or shndx == 0 or not value or value in found:
                    continue
                start = strtab.offset + st_name
                end = self.data.find(b"\0", start, end_of_strings)
                found[value] = (value, size, self.data[start:end if end >= 0 else end_of_strings].decode(
                    "utf-8", "replace"))
        return sorted(found.values())

    def object_symbols(self, sections: tuple[str, ...]) -> list[tuple[int, int, str]]:
        """(value, size, name) of the sized data symbols (STT_OBJECT) that
        lie in the named sections (.data, .bss ...), sorted by value."""
        symtab = next((s for s in self._section_list if s.type == SHT_SYMTAB), None)
        if symtab is None or symtab.link >= len(self._section_list):
            return []
        wanted = {i for i, s in enumerate(self._section_list) if s.name in sections}
        strtab = self._section_list[symtab.link]
        self._check_range(symtab.offset, symtab.size, ".symtab")
        self._check_range(strtab.offset, strtab.size, ".strtab")
        count = symtab.size // _SYM.size
        table = memoryview(self.data)[symtab.offset:symtab.offset + count * _SYM.size]
        end_of_strings = strtab.offset + strtab.size
        found = []
        for st_name, info, _other, shndx, value, size in _SYM.iter_unpack(table):
            if size and info & 0xF == 1 and shndx in wanted:
                start = strtab.offset + st_name
                end = self.data.find(b"\0", start, end_of_strings)
                found.append((value, size, self.data[start:end if end >= 0 else end_of_strings].decode("utf-8", "replace")))
        found.sort()
        return found

    def load_segments(self) -> list[Segment]:
        return [s for s in self.segments if s.type == PT_LOAD]

    def file_offset(self, vaddr: int, size: int) -> int:
        """The file offset of static address vaddr (in a PT_LOAD's file part)."""
        for s in self.segments:
            if s.type == PT_LOAD and s.vaddr <= vaddr and vaddr + size <= s.vaddr + s.filesz:
                return s.offset + (vaddr - s.vaddr)
        raise Unsupported(f"{self.path}: static address {vaddr:#x} is in no loaded part of the {self.role}")

    def close(self) -> None:
        try:
            self.data.close()
        except (BufferError, ValueError):
            pass  # a memoryview still points into it; the GC unmaps it later
