"""The address space of a dumped process: the core's PT_LOAD segments, and
under them the executable's own.

Linux dumps anonymous and written memory in full but keeps only the first
page of file-backed read-only mappings (the ELF header of text and rodata):
a read there falls back to the executable's PT_LOAD segments, moved by the
load bias of a PIE (AT_ENTRY of the core's auxv minus e_entry). Where both
hold an address the core wins, as in Delve's spliced memory.

The threads of the core (NT_PRSTATUS) are read here too: their ids and the
registers the goroutine reader needs (rip, rsp, rbp, fs_base).
"""

from __future__ import annotations

import bisect
import mmap
import struct
from dataclasses import dataclass

from .elfimage import ET_CORE, ET_DYN, EM_X86_64, PT_LOAD, ElfImage
from .errors import BadRead, Unsupported

NT_PRSTATUS, NT_AUXV, NT_FILE = 1, 6, 0x46494C45
AT_ENTRY = 9

# elf_prstatus on x86_64: pr_pid at 32, pr_reg (user_regs_struct, 27
# words) at 112.
_PRSTATUS_PID = 32
_PRSTATUS_REGS = 112
_REGS = struct.Struct("<27Q")
_REG_INDEX = {"rbp": 4, "rip": 16, "rsp": 19, "fs_base": 21}

U64 = struct.Struct("<Q")
U32 = struct.Struct("<I")
_INT = {1: struct.Struct("<B"), 2: struct.Struct("<H"), 4: U32, 8: U64}
_SINT = {1: struct.Struct("<b"), 2: struct.Struct("<h"), 4: struct.Struct("<i"), 8: struct.Struct("<q")}


# user_regs_struct's order, as NT_PRSTATUS keeps it.
USER_REGS = ("r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax", "rcx", "rdx", "rsi", "rdi",
             "orig_rax", "rip", "cs", "eflags", "rsp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs")


@dataclass(frozen=True, slots=True)
class Thread:
    """One OS thread of the core: its id (the LWP Delve calls the thread)
    and registers (all of user_regs_struct in regs, by USER_REGS' names)."""

    tid: int
    rip: int
    rsp: int
    rbp: int
    fs_base: int
    regs: tuple[int, ...] = ()

    def register(self, name: str) -> int:
        return self.regs[USER_REGS.index(name)]


class Memory:
    """Reads of the dumped address space. Every failure is a BadRead."""

    def __init__(self, core: ElfImage, exe: ElfImage) -> None:
        if core.e_type != ET_CORE:
            raise Unsupported(f"{core.path} is not a core dump (e_type {core.e_type})")
        if core.machine != EM_X86_64 or exe.machine != EM_X86_64:
            raise Unsupported(f"only amd64 cores are read natively (core e_machine {core.machine}, "
                              f"executable e_machine {exe.machine})")
        self.core = core
        self.exe = exe
        self.threads: list[Thread] = []
        self.mapped_files: list[tuple[int, int, int, str]] = []  # start, end, file offset, name
        auxv: dict[int, int] = {}
        try:
            for owner, n_type, desc in core.notes():
                if owner != b"CORE":
                    continue
                if n_type == NT_PRSTATUS and len(desc) >= _PRSTATUS_REGS + _REGS.size:
                    tid = U32.unpack_from(desc, _PRSTATUS_PID)[0]
                    regs = _REGS.unpack_from(desc, _PRSTATUS_REGS)
                    self.threads.append(Thread(tid, *(regs[_REG_INDEX[r]] for r in ("rip", "rsp", "rbp", "fs_base")),
                                               regs=regs))
                elif n_type == NT_AUXV:
                    words = len(desc) // 16
                    for i in range(words):
                        key, value = struct.unpack_from("<QQ", desc, 16 * i)
                        auxv.setdefault(key, value)
                elif n_type == NT_FILE:
                    self.mapped_files = _file_note(desc)
        except struct.error as err:
            raise Unsupported(f"{core.path}: corrupt notes ({err})") from None
        self.bias = self._load_bias(auxv)
        self._build()

    def _load_bias(self, auxv: dict[int, int]) -> int:
        if self.exe.e_type != ET_DYN:
            return 0
        if AT_ENTRY in auxv:
            return auxv[AT_ENTRY] - self.exe.entry
        # No auxv: where NT_FILE says the main executable (its first entry)
        # was mapped, against the PT_LOAD holding that file offset.
        if self.mapped_files:
            start, _, offset, name = self.mapped_files[0]
            for seg in self.exe.load_segments():
                if seg.offset & ~0xFFF <= offset < seg.offset + max(seg.filesz, 1):
                    return start - offset - (seg.vaddr - seg.offset)
        raise Unsupported(f"{self.core.path}: a PIE core without auxv or NT_FILE: its load address is unknown")

    def _build(self) -> None:
        """Sorted, disjoint (start, end, buffer, delta) pieces: address a
        is byte a - delta of buffer."""
        core_pieces = []
        for s in self.core.segments:
            if s.type == PT_LOAD and s.filesz:
                if s.offset + s.filesz > self.core.size:
                    raise Unsupported(f"{self.core.path} is truncated: segment {s.vaddr:#x} ends past the file")
                core_pieces.append((s.vaddr, s.vaddr + s.filesz, self.core.data, s.vaddr - s.offset))
        core_pieces.sort(key=lambda p: p[0])
        pieces = list(core_pieces)
        core_starts = [p[0] for p in core_pieces]
        for s in self.exe.load_segments():
            if not s.filesz or s.offset + s.filesz > self.exe.size:
                continue
            start, end = s.vaddr + self.bias, s.vaddr + self.bias + s.filesz
            delta = start - s.offset
            # The parts of [start, end) no core piece covers.
            cursor = start
            i = max(bisect.bisect_right(core_starts, start) - 1, 0)
            while cursor < end and i < len(core_pieces):
                c_start, c_end = core_pieces[i][0], core_pieces[i][1]
                if c_end <= cursor:
                    i += 1
                    continue
                if c_start >= end:
                    break
                if c_start > cursor:
                    pieces.append((cursor, c_start, self.exe.data, delta))
                cursor = max(cursor, c_end)
                i += 1
            if cursor < end:
                pieces.append((cursor, end, self.exe.data, delta))
        pieces.sort(key=lambda p: p[0])
        self._starts = [p[0] for p in pieces]
        self._ends = [p[1] for p in pieces]
        self._bufs = [p[2] for p in pieces]
        self._deltas = [p[3] for p in pieces]

    def segments(self) -> tuple[list[int], list[int], list, list[int]]:
        """(starts, ends, buffers, deltas) of the mapped pieces, sorted by start:
        address a of piece i is at offset a - deltas[i] of buffers[i]. For
        the vectorised reads (arrays.py), which search them all at once."""
        return self._starts, self._ends, self._bufs, self._deltas

    def pieces(self) -> list[tuple[int, int, str]]:
        """(start, end, "core" | "exe") of every piece, for tests and diagnostics."""
        return [(s, e, "core" if b is self.core.data else "exe")
                for s, e, b in zip(self._starts, self._ends, self._bufs)]

    def locate(self, address: int, size: int) -> tuple[object, int]:
        """(buffer, offset) holding [address, address+size), for unpack_from."""
        i = bisect.bisect_right(self._starts, address) - 1
        if i >= 0 and address + size <= self._ends[i] and size >= 0:
            return self._bufs[i], address - self._deltas[i]
        raise BadRead(address, size)

    def span(self, address: int) -> tuple[int, int, object, int]:
        """(start, end, buffer, delta) of the piece holding address: for a
        reader that makes many reads in one region (a stack)."""
        i = bisect.bisect_right(self._starts, address) - 1
        if i >= 0 and address < self._ends[i]:
            return self._starts[i], self._ends[i], self._bufs[i], self._deltas[i]
        raise BadRead(address, 1)

    def read(self, address: int, size: int) -> bytes:
        if size <= 0:
            return b""
        i = bisect.bisect_right(self._starts, address) - 1
        if i >= 0 and address + size <= self._ends[i]:
            offset = address - self._deltas[i]
            return self._bufs[i][offset:offset + size]
        # Across adjacent pieces (a core segment next to an executable's).
        out = bytearray()
        at = address
        while len(out) < size:
            i = bisect.bisect_right(self._starts, at) - 1
            if i < 0 or at >= self._ends[i]:
                raise BadRead(address, size)
            take = min(self._ends[i] - at, size - len(out))
            offset = at - self._deltas[i]
            out += self._bufs[i][offset:offset + take]
            at += take
        return bytes(out)

    def u64(self, address: int) -> int:
        i = bisect.bisect_right(self._starts, address) - 1
        if i >= 0 and address + 8 <= self._ends[i]:
            return U64.unpack_from(self._bufs[i], address - self._deltas[i])[0]
        raise BadRead(address, 8)

    def uint(self, address: int, size: int) -> int:
        codec = _INT.get(size)
        if codec is None:
            return int.from_bytes(self.read(address, size), "little")
        buf, offset = self.locate(address, size)
        return codec.unpack_from(buf, offset)[0]

    def sint(self, address: int, size: int) -> int:
        codec = _SINT.get(size)
        if codec is None:
            return int.from_bytes(self.read(address, size), "little", signed=True)
        buf, offset = self.locate(address, size)
        return codec.unpack_from(buf, offset)[0]

    def words(self, address: int, count: int) -> tuple[int, ...]:
        if count <= 0:
            return ()
        buf, offset = self.locate(address, 8 * count)
        return struct.unpack_from(f"<{count}Q", buf, offset)

    def go_string(self, address: int, limit: int = 1 << 20) -> str:
        """The Go string header (ptr, len) at address, decoded."""
        pointer, length = self.words(address, 2)
        if length == 0:
            return ""
        if length > limit:
            raise Unsupported(f"string at {address:#x} claims {length} bytes")
        return self.read(pointer, length).decode("utf-8", "replace")

    def release(self) -> None:
        """Drop the core's pages from this process's resident set (they stay
        in the page cache): a walk over a multi-GB core keeps a small RSS."""
        try:
            self.core.data.madvise(mmap.MADV_DONTNEED)
        except (AttributeError, OSError, ValueError):
            pass

    def close(self) -> None:
        self._bufs = []


def _file_note(desc: memoryview) -> list[tuple[int, int, int, str]]:
    """NT_FILE: count, page size, count x (start, end, page offset), names."""
    count, page = struct.unpack_from("<QQ", desc, 0)
    names_at = 16 + 24 * count
    if names_at > len(desc):
        return []
    names = bytes(desc[names_at:]).split(b"\0")
    out = []
    for i in range(count):
        start, end, offset = struct.unpack_from("<QQQ", desc, 16 + 24 * i)
        name = names[i].decode("utf-8", "surrogateescape") if i < len(names) else ""
        out.append((start, end, offset * page, name))
    return out
