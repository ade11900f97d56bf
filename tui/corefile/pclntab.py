"""Go's own symbol table, .gopclntab, read from the executable file.

Two header formats: Go 1.18-1.19 (magic 0xfffffff0) and Go 1.20+
(0xfffffff1, whose _func and inline tree carry start lines). A PC finds its
function through the functab (sorted entry offsets from runtime.text); a
function's pc-value tables (SP delta, file, line, PCDATA) are the runtime's
varint streams, decoded here (decode_pcvalue, read_varint) the way
runtime.pcvalue/step do. Inlined calls come from FUNCDATA_InlTree indexed by
PCDATA_InlTreeIndex, unwound like the runtime's inlineUnwinder.

All PCs here are static (link-time) addresses: the caller removes a PIE's
load bias first.
"""

from __future__ import annotations

import bisect
import struct
from array import array
from dataclasses import dataclass

from .elfimage import ElfImage
from .errors import Unsupported

ARGS_SIZE_UNKNOWN = -0x80000000
GO118_MAGIC = 0xFFFFFFF0
GO120_MAGIC = 0xFFFFFFF1
PCDATA_INL_TREE_INDEX = 2
FUNCDATA_INL_TREE = 3

# _func: entryOff nameOff args deferreturn pcsp pcfile pcln npcdata cuOffset
# [startLine (1.20+)] funcID flag _ nfuncdata
_FUNC118 = struct.Struct("<IiiIIIIII BBBB")
_FUNC120 = struct.Struct("<IiiIIIIIIi BBBB")
# inlinedCall: 1.18-1.19 {parent int16, funcID, _, file, line, func_, parentPc};
# 1.20+ {funcID, _[3], nameOff, parentPc, startLine}.
_INL118 = struct.Struct("<hBBiiii")
_INL120 = struct.Struct("<B3xiii")

_U32 = struct.Struct("<I")


def read_varint(buf, pos: int) -> tuple[int, int]:
    """An unsigned LEB128 varint at buf[pos] -> (value, next pos)."""
    value = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
        if shift > 35:
            raise Unsupported("pclntab varint longer than 5 bytes")


def decode_pcvalue(buf, pos: int, entry: int, quantum: int, limit: int = 1 << 20):
    """Yield (start pc, end pc, value) of a pc-value table from its start.

    Each step is a zig-zag value delta then a pc delta (in quanta); a zero
    value delta after the first step ends the table, as in runtime.step.
    """
    pc = entry
    value = -1
    first = True
    for _ in range(limit):
        byte = buf[pos]
        if byte == 0 and not first:
            return
        if byte < 0x80:
            uvdelta = byte
            pos += 1
        else:
            uvdelta, pos = read_varint(buf, pos)
        value += -(uvdelta & 1) ^ (uvdelta >> 1)
        byte = buf[pos]
        if byte < 0x80:
            pcdelta = byte
            pos += 1
        else:
            pcdelta, pos = read_varint(buf, pos)
        start = pc
        pc += pcdelta * quantum
        first = False
        yield start, pc, value
    raise Unsupported("pc-value table does not end")


@dataclass(frozen=True, slots=True)
class Func:
    """One _func record (static addresses)."""

    entry: int
    end: int
    name: str
    offset: int  # of the _func record in the function table
    pcsp: int
    pcfile: int
    pcln: int
    npcdata: int
    cu_offset: int
    start_line: int
    func_id: int
    nfuncdata: int
    args: int = 0  # bytes of arguments and results (ARGS_SIZE_UNKNOWN: a reflect stub's)


class Pclntab:
    def __init__(self, exe: ElfImage, text_start: int, gofunc: int | None) -> None:
        self.exe = exe
        self.text_start = text_start
        self.gofunc = gofunc
        section = exe.sections.get(".gopclntab")
        if section is not None:
            self._base, size = section.offset, section.size
        else:
            found = exe.symbols("runtime.pclntab", "runtime.epclntab")
            if len(found) != 2:
                raise Unsupported(f"{exe.path}: no .gopclntab section or runtime.pclntab symbol")
            start, end = found["runtime.pclntab"][0], found["runtime.epclntab"][0]
            self._base, size = exe.file_offset(start, end - start), end - start
        if self._base + size > exe.size:
            raise Unsupported(f"{exe.path}: .gopclntab lies past the end of the file")
        self.data = memoryview(exe.data)[self._base:self._base + size]
        try:
            self._parse_header()
        except (struct.error, IndexError, ValueError) as err:
            raise Unsupported(f"{exe.path}: corrupt pclntab header ({err})") from None
        self._funcs: dict[int, Func] = {}
        self._names: dict[int, str] = {}
        self._files: dict[int, str] = {}
        self._tables: dict[int, list[tuple[int, int, int]]] = {}

    def _parse_header(self) -> None:
        data = self.data
        if len(data) < 8:
            raise Unsupported("pclntab shorter than its header")
        magic = _U32.unpack_from(data, 0)[0]
        if magic not in (GO118_MAGIC, GO120_MAGIC):
            raise Unsupported(f"pclntab magic {magic:#x}: only Go 1.18+ (0xfffffff0, 0xfffffff1) is read natively")
        if data[4] != 0 or data[5] != 0 or data[7] != 8:
            raise Unsupported(f"pclntab header pads {data[4]},{data[5]}, pointer size {data[7]}: not a 64-bit table")
        self.version = "1.20" if magic == GO120_MAGIC else "1.18"
        self.quantum = data[6]
        words = struct.unpack_from("<8Q", data, 8)
        self.nfunc, self.nfiles = words[0], words[1]
        self.funcnametab, self.cutab, self.filetab, self.pctab, self.functab = words[3:8]
        size = len(data)
        for name, off in (("funcnametab", self.funcnametab), ("cutab", self.cutab), ("filetab", self.filetab),
                          ("pctab", self.pctab), ("functab", self.functab)):
            if not 0 < off < size:
                raise Unsupported(f"pclntab {name} offset {off:#x} outside the table ({size:#x} bytes)")
        if self.functab + (2 * self.nfunc + 1) * 4 > size or self.nfunc <= 0:
            raise Unsupported(f"pclntab claims {self.nfunc} functions, more than it holds")
        table = array("I")
        table.frombytes(bytes(data[self.functab:self.functab + (2 * self.nfunc + 1) * 4]))
        self._entry_offsets = table[0::2]  # nfunc + 1: the last is the end of text
        self._func_offsets = table[1::2]
        self._func_struct = _FUNC120 if self.version == "1.20" else _FUNC118
        self._inl_struct = _INL120 if self.version == "1.20" else _INL118
        if any(self._entry_offsets[i] > self._entry_offsets[i + 1] for i in range(0, self.nfunc, max(1, self.nfunc // 64))):
            raise Unsupported("pclntab functab is not sorted")

    # Functions

    def find(self, pc: int) -> Func | None:
        """The function holding static pc, or None (outside Go's text)."""
        try:
            return self._find(pc)
        except (struct.error, IndexError, ValueError, OverflowError) as err:
            raise Unsupported(f"pclntab corrupt near pc {pc:#x} ({type(err).__name__}: {err})") from None

    def _find(self, pc: int) -> Func | None:
        off = pc - self.text_start
        entries = self._entry_offsets
        if off < 0 or off >= entries[-1]:
            return None
        i = bisect.bisect_right(entries, off) - 1
        if i < 0 or i >= self.nfunc:
            return None
        return self._func(i)

    def _func(self, i: int) -> Func:
        func = self._funcs.get(i)
        if func is None:
            func = self._funcs[i] = self._read_func(i)
        return func

    def _read_func(self, i: int) -> Func:
        base = self.functab + self._func_offsets[i]
        try:
            fields = self._func_struct.unpack_from(self.data, base)
        except struct.error:
            raise Unsupported(f"pclntab function record {i} lies outside the table") from None
        if self.version == "1.20":
            entry_off, name_off, args, _, pcsp, pcfile, pcln, npcdata, cu, start_line, func_id, _, _, nfuncdata = fields
        else:
            entry_off, name_off, args, _, pcsp, pcfile, pcln, npcdata, cu, func_id, _, _, nfuncdata = fields
            start_line = 0
        if entry_off != self._entry_offsets[i]:
            raise Unsupported(f"pclntab function {i}: entry {entry_off:#x} differs from functab's {self._entry_offsets[i]:#x}")
        entry = self.text_start + entry_off
        name = self.name(name_off)
        if "[...]" in name:
            # Go 1.18-1.19 shorten type arguments in pclntab; DWARF (what
            # Delve shows) and the ELF symbol keep them.
            name = self.exe.names_at({entry}).get(entry, name)
        return Func(entry, self.text_start + self._entry_offsets[i + 1], name,
                    base, pcsp, pcfile, pcln, npcdata, cu, start_line, func_id, nfuncdata, args)

    def functions(self):
        """Every function, in address order (for lookups by name)."""
        for i in range(self.nfunc):
            yield self._func(i)

    def name(self, name_off: int) -> str:
        name = self._names.get(name_off)
        if name is None:
            start = self.funcnametab + name_off
            end = self._cstring_end(start)
            name = self._names[name_off] = bytes(self.data[start:end]).decode("utf-8", "replace")
        return name

    def _cstring_end(self, start: int) -> int:
        if not 0 <= start < len(self.data):
            raise Unsupported(f"pclntab string at {start:#x} outside the table")
        end = self.exe.data.find(b"\0", self._base + start, self._base + len(self.data))
        return len(self.data) if end < 0 else end - self._base

    # pc-value tables

    def table(self, off: int) -> list[tuple[int, int, int]]:
        """A decoded pc-value table as (start, end, value) relative to the
        function's entry, cached by offset (the linker shares equal tables
        between functions)."""
        rows = self._tables.get(off)
        if rows is None:
            try:
                rows = list(decode_pcvalue(self.data, self.pctab + off, 0, self.quantum))
            except IndexError:
                raise Unsupported(f"pc-value table at {off:#x} runs past the pclntab") from None
            self._tables[off] = rows
        return rows

    def value(self, off: int, func: Func, pc: int) -> int:
        """The table's value at static pc; -1 when there is no table or pc is not covered."""
        if off == 0:
            return -1
        rows = self.table(off)
        rel = pc - func.entry
        lo, hi = 0, len(rows)
        while lo < hi:
            mid = (lo + hi) // 2
            if rows[mid][1] <= rel:
                lo = mid + 1
            else:
                hi = mid
        if lo < len(rows) and rows[lo][0] <= rel:
            return rows[lo][2]
        return -1

    def sp_delta(self, func: Func, pc: int) -> int:
        try:
            return self.value(func.pcsp, func, pc)
        except (struct.error, IndexError, ValueError, OverflowError) as err:
            raise Unsupported(f"pclntab SP table of {func.name} corrupt ({type(err).__name__}: {err})") from None

    def file_line(self, func: Func, pc: int) -> tuple[str, int]:
        try:
            return self._file_line(func, pc)
        except (struct.error, IndexError, ValueError, OverflowError) as err:
            raise Unsupported(f"pclntab line table of {func.name} corrupt ({type(err).__name__}: {err})") from None

    def _file_line(self, func: Func, pc: int) -> tuple[str, int]:
        fileno = self.value(func.pcfile, func, pc)
        line = self.value(func.pcln, func, pc)
        if fileno < 0 or line < 0:
            return "?", 0
        return self.file(func.cu_offset + fileno), line

    def file(self, cu_index: int) -> str:
        name = self._files.get(cu_index)
        if name is None:
            at = self.cutab + 4 * cu_index
            if not 0 <= at <= len(self.data) - 4:
                raise Unsupported(f"pclntab cu index {cu_index} outside cutab")
            off = _U32.unpack_from(self.data, at)[0]
            if off == 0xFFFFFFFF:
                name = "?"
            else:
                start = self.filetab + off
                name = bytes(self.data[start:self._cstring_end(start)]).decode("utf-8", "replace")
            self._files[cu_index] = name
        return name

    def pcdata_offset(self, func: Func, index: int) -> int:
        if index >= func.npcdata:
            return 0
        return _U32.unpack_from(self.data, func.offset + self._func_struct.size + 4 * index)[0]

    def funcdata_address(self, func: Func, index: int) -> int | None:
        """Static address of a funcdata (gofunc + offset), None when absent."""
        if index >= func.nfuncdata or self.gofunc is None:
            return None
        off = _U32.unpack_from(self.data, func.offset + self._func_struct.size + 4 * func.npcdata + 4 * index)[0]
        return None if off == 0xFFFFFFFF else self.gofunc + off

    # Inlining

    def inline_stack(self, func: Func, pc: int) -> list[tuple[str, str, int]]:
        """(function, file, line) innermost first at static pc, the inlined
        calls expanded; the last entry is the physical function itself."""
        try:
            return self._inline_stack(func, pc)
        except (struct.error, IndexError, ValueError, OverflowError) as err:
            raise Unsupported(f"pclntab inline tree of {func.name} corrupt ({type(err).__name__}: {err})") from None

    def _inline_stack(self, func: Func, pc: int) -> list[tuple[str, str, int]]:
        frames = []
        index_table = self.pcdata_offset(func, PCDATA_INL_TREE_INDEX)
        tree = self.funcdata_address(func, FUNCDATA_INL_TREE) if index_table else None
        at = pc
        if tree is not None and func.entry <= pc < func.end:
            for _ in range(1024):
                ix = self.value(index_table, func, at)
                if ix < 0:
                    break
                name_off, parent_pc = self._inlined_call(tree, ix)
                file, line = self._file_line(func, at)
                frames.append((self.name(name_off), file, line))
                at = func.entry + parent_pc
            else:
                raise Unsupported(f"inline tree of {func.name} does not end")
        file, line = self._file_line(func, at)
        frames.append((func.name, file, line))
        return frames

    def _inlined_call(self, tree: int, ix: int) -> tuple[int, int]:
        size = self._inl_struct.size
        offset = self.exe.file_offset(tree + ix * size, size)
        fields = self._inl_struct.unpack_from(self.exe.data, offset)
        if self.version == "1.20":
            _, name_off, parent_pc, _ = fields
        else:
            _, _, _, _, _, name_off, parent_pc = fields
        return name_off, parent_pc
