"""What a Go executable says about its own build: `go version -m`, in Python.

The go command hands the linker a text (runtime/debug.BuildInfo.String()
between two 16-byte sentinels) and the linker stores it, with the Go
version, in a blob that starts with the 14-byte magic `\\xff Go buildinf:`
at a 16-byte boundary: in the ELF section .go.buildinfo, or else near the
start of the first writable, non-executable PT_LOAD segment. After the
magic come the pointer size (1 byte) and flags (1 byte), then to 32 bytes:

- flags & 2 (Go 1.18 and later): the two strings follow the 32-byte
  header inline, each a uvarint length then its bytes;
- otherwise (Go 1.13 to 1.17): two pointers at offsets 16 and 16+ptrsize
  (endianness: flags & 1) to Go string headers {data pointer, length} in
  the data segment, read by virtual address through the PT_LOAD table.

The module text is lines of `path`, `mod`, `dep`, `=>` (a replacement of
the line above) and `build KEY=VALUE`, tab-separated, with keys and values
Go-quoted where they hold spaces, tabs, quotes or newlines (and keys where
they hold '='). Everything is read by seeking: headers, then the blob.
"""

from __future__ import annotations

import os
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from ..model import BuildInfo, Module, Vcs

MAGIC = b"\xff Go buildinf:"
_ALIGN = 16
_HEADER = 32
_CHUNK = 1 << 20
_FLAG_BIG_ENDIAN, _FLAG_INLINE = 0x1, 0x2
# cmd/go/internal/modload's infoStart and infoEnd frame the module text.
_SENTINEL = 16
_PT_LOAD, _PF_X, _PF_W = 1, 0x1, 0x2
# More than this for one string is not from a sane binary.
_MAX_STRING = 64 << 20


class BuildInfoError(Exception):
    """The file has no usable build info. str() is one line: the file and what is wrong."""


class NoBuildInfo(BuildInfoError):
    """A readable executable without the build info blob (not a Go program)."""


def read_build_info(path: str | os.PathLike) -> BuildInfo:
    """The build info of a Go executable (ELF), by seeking only.

    Raises NoBuildInfo for an executable without it, BuildInfoError for a
    file that cannot be read as ELF or a blob that does not parse.
    """
    p = Path(path)
    version, modinfo = read_raw(p)
    return parse_modinfo(modinfo, version, where=str(p))


def read_raw(path: str | os.PathLike) -> tuple[str, str]:
    """(Go version, module text without its sentinels; "" when absent)."""
    p = Path(path)
    try:
        with open(p, "rb") as f:
            image = _Image.load(f, p)
            return image.build_info()
    except FileNotFoundError:
        raise BuildInfoError(f"{p}: no such file; check the path") from None
    except IsADirectoryError:
        raise BuildInfoError(f"{p} is a directory; pass the Go executable") from None
    except PermissionError:
        raise BuildInfoError(f"{p}: permission denied; run as a user who can read it") from None
    except OSError as err:
        raise BuildInfoError(f"{p}: cannot read ({err.strerror})") from None
    except struct.error:
        raise BuildInfoError(f"{p} is truncated inside its ELF headers; the file is damaged") from None


@dataclass(frozen=True)
class _Load:
    vaddr: int
    offset: int
    filesz: int
    memsz: int
    flags: int


class _Image:
    """The few parts of an ELF executable the blob lives in."""

    def __init__(self, f, p: Path, endian: str, loads: list[_Load], section: tuple[int, int] | None) -> None:
        self.f, self.p, self.endian, self.loads, self.section = f, p, endian, loads, section

    @classmethod
    def load(cls, f, p: Path) -> "_Image":
        head = f.read(64)
        if not head.startswith(b"\x7fELF"):
            raise BuildInfoError(f"{p} is not an ELF file; pass a Go executable built for Linux")
        ei_class, ei_data = head[4], head[5]
        if ei_class not in (1, 2) or ei_data not in (1, 2):
            raise BuildInfoError(f"{p}: corrupt ELF header (class {ei_class}, data {ei_data}); the file is damaged")
        is64, endian = ei_class == 2, "<" if ei_data == 1 else ">"
        fmt = endian + ("HHIQQQIHHHHHH" if is64 else "HHIIIIIHHHHHH")
        (_, _, _, _, phoff, shoff, _, _, phentsize, phnum, shentsize, shnum,
         shstrndx) = struct.unpack_from(fmt, head, 16)
        loads = []
        if phnum and phentsize:
            f.seek(phoff)
            table = f.read(phnum * phentsize)
            # Elf64_Phdr: type flags offset vaddr paddr filesz memsz; Elf32: type offset vaddr paddr filesz memsz flags.
            for i in range(min(phnum, len(table) // phentsize)):
                if is64:
                    p_type, flags, offset, vaddr, _, filesz, memsz = struct.unpack_from(endian + "IIQQQQQ", table,
                                                                                        i * phentsize)
                else:
                    p_type, offset, vaddr, _, filesz, memsz, flags = struct.unpack_from(endian + "IIIIIII", table,
                                                                                        i * phentsize)
                if p_type == _PT_LOAD:
                    loads.append(_Load(vaddr, offset, filesz, memsz, flags))
        return cls(f, p, endian, loads, _find_section(f, endian, is64, shoff, shentsize, shnum, shstrndx,
                                                       b".go.buildinfo"))

    def build_info(self) -> tuple[str, str]:
        start, size = self.section or self._data_segment()
        if not size:
            raise self._none()
        at = self._search(start, size)
        header = self.read(at, _HEADER)
        if len(header) < _HEADER:
            raise self._none()
        pointer_size, flags = header[14], header[15]
        if flags & _FLAG_INLINE:
            version, after = self._varint_string(at + _HEADER)
            modinfo, _ = self._varint_string(after)
        else:
            endian = ">" if flags & _FLAG_BIG_ENDIAN else "<"
            if pointer_size not in (4, 8):
                raise self._none()
            word = endian + ("Q" if pointer_size == 8 else "I")
            version = self._go_string(struct.unpack_from(word, header, 16)[0], word, pointer_size)
            modinfo = self._go_string(struct.unpack_from(word, header, 16 + pointer_size)[0], word, pointer_size)
        if not version:
            raise self._none()
        # Framed by 16 bytes either side, not UTF-8: strip them as bytes.
        if len(modinfo) > 2 * _SENTINEL and modinfo[-_SENTINEL - 1] == 0x0A:
            modinfo = modinfo[_SENTINEL:-_SENTINEL]
        else:
            modinfo = b""
        return version.decode("utf-8", "surrogateescape"), modinfo.decode("utf-8", "surrogateescape")

    def _none(self) -> NoBuildInfo:
        return NoBuildInfo(f"{self.p} has no Go build info: it is not a Go executable "
                           f"(or one built before Go 1.13)")

    def _data_segment(self) -> tuple[int, int]:
        for load in self.loads:
            if load.flags & (_PF_X | _PF_W) == _PF_W:
                return load.vaddr, load.memsz
        return 0, 0

    def read(self, vaddr: int, size: int) -> bytes:
        """Up to size bytes at a virtual address, within its segment's file bytes."""
        for load in self.loads:
            if load.vaddr <= vaddr < load.vaddr + load.filesz:
                self.f.seek(load.offset + vaddr - load.vaddr)
                return self.f.read(min(size, load.vaddr + load.filesz - vaddr))
        return b""

    def _search(self, start: int, size: int) -> int:
        """The first 16-byte aligned magic in [start, start+size)."""
        end = start + size
        at = (start + _ALIGN - 1) & ~(_ALIGN - 1)
        while at < end:
            chunk = self.read(at, min(_CHUNK, end - at))
            if not chunk:
                break
            found = chunk.find(MAGIC)
            while found >= 0:
                if found % _ALIGN == 0:
                    return at + found
                found = chunk.find(MAGIC, found + 1)
            # at is aligned, so an aligned magic never straddles two chunks of 1 MiB.
            at += len(chunk)
        raise self._none()

    def _varint_string(self, vaddr: int) -> tuple[bytes, int]:
        head = self.read(vaddr, 10)
        length, shift, used = 0, 0, 0
        for byte in head:
            used += 1
            length |= (byte & 0x7F) << shift
            if not byte & 0x80:
                break
            shift += 7
        else:
            raise self._none()
        if length > _MAX_STRING:
            raise self._none()
        data = self.read(vaddr + used, length)
        if len(data) < length:
            raise self._none()
        return data, vaddr + used + length

    def _go_string(self, vaddr: int, word: str, pointer_size: int) -> bytes:
        header = self.read(vaddr, 2 * pointer_size)
        if len(header) < 2 * pointer_size:
            return b""
        data_at, length = struct.unpack_from(word, header, 0)[0], struct.unpack_from(word, header, pointer_size)[0]
        if length > _MAX_STRING:
            return b""
        data = self.read(data_at, length)
        return data if len(data) == length else b""


def _find_section(f, endian: str, is64: bool, shoff: int, shentsize: int, shnum: int, shstrndx: int,
                  wanted: bytes) -> tuple[int, int] | None:
    """(sh_addr, sh_size) of the named section, None when there is none."""
    if not shoff or not shentsize:
        return None
    fmt = endian + ("IIQQQQ" if is64 else "IIIIII")  # name type flags addr offset size
    if shnum == 0:  # >= 0xff00 sections: the count is section 0's sh_size
        f.seek(shoff)
        shnum = struct.unpack_from(fmt, f.read(shentsize))[5]
    f.seek(shoff)
    table = f.read(shnum * shentsize)
    rows = [struct.unpack_from(fmt, table, i * shentsize) for i in range(len(table) // shentsize)]
    if shstrndx >= len(rows):
        return None
    _, _, _, _, names_at, names_size = rows[shstrndx]
    f.seek(names_at)
    names = f.read(min(names_size, 1 << 20))
    for name_at, _, _, addr, _, size in rows:
        end = names.find(b"\0", name_at)
        if names[name_at:end if end >= 0 else len(names)] == wanted:
            return addr, size
    return None


# --- the module text -------------------------------------------------------

def parse_modinfo(text: str, go_version: str = "", where: str = "") -> BuildInfo:
    """runtime/debug.ParseBuildInfo's reading of the module text: a line
    ends with '\\n' (a last line without one is ignored), unknown lines are
    skipped. Raises BuildInfoError naming the line for a malformed one."""
    path, main = "", Module("")
    deps: list[Module] = []
    settings: dict[str, str] = {}
    # The module a `=>` line replaces: ("main", None) or ("dep", index).
    last: tuple[str, int | None] | None = None
    lines = text.split("\n")[:-1]
    for number, line in enumerate(lines, 1):
        try:
            if line.startswith("path\t"):
                path = line[5:]
            elif line.startswith("mod\t"):
                main, last = _module_line(line[4:]), ("main", None)
            elif line.startswith("dep\t"):
                deps.append(_module_line(line[4:]))
                last = ("dep", len(deps) - 1)
            elif line.startswith("=>\t"):
                columns = line[3:].split("\t")
                if len(columns) != 3:
                    raise ValueError(f"expected 3 columns for replacement; got {len(columns)}")
                if last is None:
                    raise ValueError("replacement with no module on previous line")
                replacement = Module(*columns)
                if last[0] == "main":
                    main = Module(main.path, main.version, main.sum, replacement)
                else:
                    dep = deps[last[1]]
                    deps[last[1]] = Module(dep.path, dep.version, dep.sum, replacement)
                last = None
            elif line.startswith("build\t"):
                key, value = _setting(line[6:])
                settings[key] = value
        except ValueError as err:
            prefix = f"{where}: " if where else ""
            raise BuildInfoError(f"{prefix}could not parse Go build info: line {number}: {err}") from None
    vcs = None
    if "vcs" in settings:
        modified = {"true": True, "false": False}.get(settings.get("vcs.modified", ""))
        vcs = Vcs(settings["vcs"], settings.get("vcs.revision", ""), settings.get("vcs.time", ""), modified)
    return BuildInfo(go_version, path, main, tuple(deps), MappingProxyType(settings), vcs)


def _module_line(rest: str) -> Module:
    columns = rest.split("\t")
    if len(columns) not in (2, 3):
        raise ValueError(f"expected 2 or 3 columns; got {len(columns)}")
    return Module(columns[0], columns[1], columns[2] if len(columns) == 3 else "")


_NEEDS_QUOTES_KEY = re.compile(r"[= \t\r\n\"`]")
_NEEDS_QUOTES_VALUE = re.compile(r"[ \t\r\n\"`]")


def _setting(kv: str) -> tuple[str, str]:
    if not kv:
        raise ValueError("build line missing '='")
    if kv[0] == "=":
        raise ValueError("build line with missing key")
    if kv[0] in "\"`":
        end = _quoted_end(kv)
        if end < 0:
            raise ValueError("invalid quoted key in build line")
        if end == len(kv):
            raise ValueError("build line missing '=' after quoted key")
        if kv[end] != "=":
            raise ValueError(f"unexpected character after quoted key: {kv[end]!r}")
        key, raw = go_unquote(kv[:end]), kv[end + 1:]
    else:
        key, sep, raw = kv.partition("=")
        if not sep:
            raise ValueError("build line missing '=' after key")
        if _NEEDS_QUOTES_KEY.search(key):
            raise ValueError(f"unquoted key {key!r} must be quoted")
    if raw and raw[0] in "\"`":
        return key, go_unquote(raw)
    if _NEEDS_QUOTES_VALUE.search(raw):
        raise ValueError(f"unquoted value {raw!r} must be quoted")
    return key, raw


def _quoted_end(text: str) -> int:
    """The index just past the Go quoted string text starts with, -1 if none."""
    quote = text[0]
    i = 1
    while i < len(text):
        ch = text[i]
        if ch == quote:
            return i + 1
        if ch == "\n":
            return -1
        if ch == "\\" and quote == '"':
            i += 2
            continue
        i += 1
    return -1


_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
                   "\\": "\\", '"': '"'}


def go_unquote(text: str) -> str:
    """strconv.Unquote for the two forms strconv.Quote and raw strings
    take: "..." with Go's escapes, `...` verbatim. ValueError otherwise.
    \\x and octal escapes are bytes (Go strings are bytes): a run of them
    is decoded as UTF-8, invalid bytes kept as surrogate escapes."""
    if len(text) < 2 or text[0] != text[-1] or text[0] not in "\"`":
        raise ValueError(f"invalid quoted value {text!r}")
    body = text[1:-1]
    if text[0] == "`":
        if "`" in body:
            raise ValueError(f"invalid quoted value {text!r}")
        return body.replace("\r", "")
    if "\n" in body:
        raise ValueError(f"invalid quoted value {text!r}")
    out = bytearray()
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == '"':
            raise ValueError(f"invalid quoted value {text!r}")
        if ch != "\\":
            out += ch.encode("utf-8", "surrogateescape")
            i += 1
            continue
        if i + 1 >= len(body):
            raise ValueError(f"invalid quoted value {text!r}")
        kind = body[i + 1]
        if kind in _SIMPLE_ESCAPES:
            out += _SIMPLE_ESCAPES[kind].encode()
            i += 2
        elif kind in "xuU":
            digits = {"x": 2, "u": 4, "U": 8}[kind]
            code = body[i + 2:i + 2 + digits]
            if len(code) != digits or not all(c in "0123456789abcdefABCDEF" for c in code):
                raise ValueError(f"invalid quoted value {text!r}")
            value = int(code, 16)
            if kind == "x":
                out.append(value)
            else:
                if value > 0x10FFFF or 0xD800 <= value < 0xE000:
                    raise ValueError(f"invalid quoted value {text!r}")
                out += chr(value).encode("utf-8")
            i += 2 + digits
        elif kind in "01234567":
            code = body[i + 1:i + 4]
            if len(code) != 3 or not all(c in "01234567" for c in code) or int(code, 8) > 255:
                raise ValueError(f"invalid quoted value {text!r}")
            out.append(int(code, 8))
            i += 4
        else:
            raise ValueError(f"invalid quoted value {text!r}")
    return out.decode("utf-8", "surrogateescape")


def format_modinfo(info: BuildInfo) -> str:
    """The module text back (runtime/debug.BuildInfo.String without the go
    line), for tests and the report. Settings are quoted as Go quotes them
    only for the cases Go's own values hit (spaces, tabs, quotes)."""
    out: list[str] = []
    if info.path:
        out.append(f"path\t{info.path}\n")

    def module(word: str, m: Module) -> None:
        out.append(f"{word}\t{m.path}\t{m.version}")
        if m.replace is None:
            out.append(f"\t{m.sum}\n")
        else:
            out.append("\n")
            module("=>", m.replace)

    if info.main != Module(""):
        module("mod", info.main)
    for dep in info.deps:
        module("dep", dep)
    for key, value in info.settings.items():
        key = _go_quote(key) if not key or _NEEDS_QUOTES_KEY.search(key) else key
        value = _go_quote(value) if _NEEDS_QUOTES_VALUE.search(value) else value
        out.append(f"build\t{key}={value}\n")
    return "".join(out)


def _go_quote(text: str) -> str:
    escapes = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v",
               "\\": "\\\\", '"': '\\"'}
    out = []
    for ch in text:
        if ch in escapes:
            out.append(escapes[ch])
        elif ch.isprintable() or ch == " ":
            out.append(ch)
        elif "\udc80" <= ch <= "\udcff":  # a byte that was not UTF-8
            out.append(f"\\x{ord(ch) - 0xDC00:02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}" if ord(ch) >= 0x80 else f"\\x{ord(ch):02x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return '"' + "".join(out) + '"'
