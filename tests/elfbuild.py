"""Small synthetic ELF files for the native reader's unit tests: an
executable with sections and segments, a core with segments and notes, and
a Go pclntab (both header formats) with inlined calls."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

ET_EXEC, ET_DYN, ET_CORE = 2, 3, 4
PT_LOAD, PT_NOTE = 1, 4
SHT_PROGBITS, SHT_SYMTAB, SHT_STRTAB = 1, 2, 3


@dataclass
class Seg:
    p_type: int
    vaddr: int
    data: bytes
    memsz: int | None = None


@dataclass
class Sec:
    name: str
    sh_type: int
    data: bytes
    addr: int = 0
    link: int = 0


def build_elf(e_type: int, segments: list[Seg] = (), sections: list[Sec] = (), entry: int = 0,
              machine: int = 62) -> bytes:
    """An ELF64 little-endian file: header, program headers, the segments'
    and sections' bytes, then section headers."""
    phoff = 64
    body = bytearray(b"\0" * (phoff + 56 * len(segments)))
    placed_segments = []
    for seg in segments:
        # Loadable bytes sit at a file offset congruent to their address
        # modulo the page size, as the kernel maps them.
        while len(body) % 16 or (seg.p_type == PT_LOAD and len(body) % 0x1000 != seg.vaddr % 0x1000):
            body.append(0)
        placed_segments.append((seg, len(body)))
        body += seg.data
    sec_list = [Sec("", 0, b"")] + list(sections) + [None]
    names = bytearray(b"\0")
    name_offsets = []
    for sec in sec_list[1:-1]:
        name_offsets.append(len(names))
        names += sec.name.encode() + b"\0"
    shstr_name = len(names)
    names += b".shstrtab\0"
    sec_list[-1] = Sec(".shstrtab", SHT_STRTAB, bytes(names))
    name_offsets.append(shstr_name)
    placed_sections = [(sec_list[0], 0, 0)]
    for sec, name_off in zip(sec_list[1:], name_offsets):
        while len(body) % 8:
            body.append(0)
        placed_sections.append((sec, len(body), name_off))
        body += sec.data
    while len(body) % 8:
        body.append(0)
    shoff = len(body)
    for sec, offset, name_off in placed_sections:
        body += struct.pack("<IIQQQQIIQQ", name_off, sec.sh_type, 0, sec.addr, offset, len(sec.data), sec.link, 0, 8,
                            24 if sec.sh_type == SHT_SYMTAB else 0)
    for i, (seg, offset) in enumerate(placed_segments):
        memsz = len(seg.data) if seg.memsz is None else seg.memsz
        struct.pack_into("<IIQQQQQQ", body, phoff + 56 * i, seg.p_type, 5, offset, seg.vaddr, seg.vaddr,
                         len(seg.data), memsz, 0x1000)
    header = struct.pack("<16sHHIQQQIHHHHHH", b"\x7fELF\x02\x01\x01" + b"\0" * 9, e_type, machine, 1, entry,
                         phoff if segments else 0, shoff, 0, 64, 56, len(segments), 64, len(placed_sections),
                         len(placed_sections) - 1)
    body[:64] = header
    return bytes(body)


def symtab(symbols: dict[str, tuple[int, int]]) -> tuple[Sec, Sec]:
    """(.symtab, .strtab) sections holding the named (value, size) symbols
    as functions in section 1. Put them at section indexes n, n+1 and link
    the first to the second with link=n+1."""
    strings = bytearray(b"\0")
    entries = bytearray(b"\0" * 24)
    for name, (value, size) in symbols.items():
        entries += struct.pack("<IBBHQQ", len(strings), 0x12, 0, 1, value, size)
        strings += name.encode() + b"\0"
    return Sec(".symtab", SHT_SYMTAB, bytes(entries)), Sec(".strtab", SHT_STRTAB, bytes(strings))


def note(owner: bytes, n_type: int, desc: bytes) -> bytes:
    name = owner + b"\0"
    pad = lambda b: b + b"\0" * (-len(b) % 4)  # noqa: E731
    return struct.pack("<III", len(name), len(desc), n_type) + pad(name) + pad(desc)


def prstatus(tid: int, rip: int = 0, rsp: int = 0, rbp: int = 0, fs_base: int = 0) -> bytes:
    regs = [0] * 27
    regs[4], regs[16], regs[19], regs[21] = rbp, rip, rsp, fs_base
    desc = bytearray(336)
    struct.pack_into("<I", desc, 32, tid)
    struct.pack_into("<27Q", desc, 112, *regs)
    return note(b"CORE", 1, bytes(desc))


def auxv(pairs: dict[int, int]) -> bytes:
    return note(b"CORE", 6, b"".join(struct.pack("<QQ", k, v) for k, v in pairs.items()) + struct.pack("<QQ", 0, 0))


def file_note(entries: list[tuple[int, int, int, str]], page: int = 4096) -> bytes:
    desc = struct.pack("<QQ", len(entries), page)
    desc += b"".join(struct.pack("<QQQ", start, end, offset // page) for start, end, offset, _ in entries)
    desc += b"".join(name.encode() + b"\0" for *_, name in entries)
    return note(b"CORE", 0x46494C45, desc)


# pclntab


from tui.analysis.pprof import uvarint  # noqa: E402  (LEB128: pclntab's varints are protobuf's)


def pcvalue(runs: list[tuple[int, int]], quantum: int = 1) -> bytes:
    """A pc-value table of (value, length in bytes) runs, as cmd/link writes
    it: zig-zag value delta, pc delta in quanta, a 0 to end."""
    out = bytearray()
    previous = -1
    for value, length in runs:
        delta = value - previous
        out += uvarint(((delta << 1) ^ (delta >> 31)) & 0xFFFFFFFF)
        out += uvarint(length // quantum)
        previous = value
    out.append(0)
    return bytes(out)


@dataclass
class InlinedCall:
    name: str
    parent_pc: int  # offset from the function's entry
    file_index: int = 0  # 1.18 form only
    line: int = 0  # 1.18 form only
    parent: int = -1  # 1.18 form only


@dataclass
class GoFunc:
    name: str
    entry: int  # offset from text start
    size: int
    files: list[tuple[int, int]]  # (file index in its CU, length) runs
    lines: list[tuple[int, int]]  # (line, length) runs
    sp: list[tuple[int, int]]  # (sp delta, length) runs
    inline_index: list[tuple[int, int]] = field(default_factory=list)  # (tree index, length) runs
    inlined: list[InlinedCall] = field(default_factory=list)
    start_line: int = 1


def pclntab(funcs: list[GoFunc], files: list[str], version: str = "1.20",
            gofunc_base: int = 0) -> tuple[bytes, bytes]:
    """(the .gopclntab bytes, the go:func.* bytes holding the inline trees)
    for functions of one compile unit whose files are `files`."""
    names = bytearray(b"\0")
    name_off: dict[str, int] = {}

    def name(text: str) -> int:
        if text not in name_off:
            name_off[text] = len(names)
            names.extend(text.encode() + b"\0")
        return name_off[text]

    filetab = bytearray()
    cutab = bytearray()
    for f in files:
        cutab += struct.pack("<I", len(filetab))
        filetab += f.encode() + b"\0"
    pctab = bytearray(b"\0")  # offset 0 means "no table"
    gofunc = bytearray()
    records = []
    for fn in funcs:
        tables = []
        for runs in (fn.sp, fn.files, fn.lines):
            tables.append(len(pctab))
            pctab += pcvalue(runs)
        pcdata = [0, 0, 0]
        funcdata = [0xFFFFFFFF] * 4
        if fn.inlined:
            pcdata[2] = len(pctab)
            pctab += pcvalue(fn.inline_index)
            funcdata[3] = len(gofunc)
            for call in fn.inlined:
                if version == "1.20":
                    gofunc += struct.pack("<B3xiii", 0, name(call.name), call.parent_pc, 1)
                else:
                    gofunc += struct.pack("<hBBiiii", call.parent, 0, 0, call.file_index, call.line, name(call.name),
                                          call.parent_pc)
        records.append((fn, tables, pcdata, funcdata))
    ptr_words = 8
    header_size = 8 + 8 * ptr_words
    funcname_off = header_size
    cu_off = funcname_off + len(names)
    filetab_off = cu_off + len(cutab)
    pctab_off = filetab_off + len(filetab)
    functab_off = pctab_off + len(pctab)
    nfunc = len(funcs)
    functab = bytearray()
    blobs = bytearray()
    base = (2 * nfunc + 1) * 4
    for fn, (pcsp, pcfile, pcln), pcdata, funcdata in records:
        functab += struct.pack("<II", fn.entry, base + len(blobs))
        if version == "1.20":
            blobs += struct.pack("<IiiIIIIIIiBBBB", fn.entry, name(fn.name), 0, 0, pcsp, pcfile, pcln, len(pcdata), 0,
                                 fn.start_line, 0, 0, 0, len(funcdata))
        else:
            blobs += struct.pack("<IiiIIIIIIBBBB", fn.entry, name(fn.name), 0, 0, pcsp, pcfile, pcln, len(pcdata), 0,
                                 0, 0, 0, len(funcdata))
        blobs += struct.pack(f"<{len(pcdata)}I", *pcdata) + struct.pack(f"<{len(funcdata)}I", *funcdata)
    end = max(fn.entry + fn.size for fn in funcs)
    functab += struct.pack("<I", end)
    # Names were added while building records: lay the table out again now.
    cu_off = funcname_off + len(names)
    filetab_off = cu_off + len(cutab)
    pctab_off = filetab_off + len(filetab)
    functab_off = pctab_off + len(pctab)
    magic = 0xFFFFFFF1 if version == "1.20" else 0xFFFFFFF0
    header = struct.pack("<IBBBB", magic, 0, 0, 1, 8)
    header += struct.pack("<8Q", nfunc, len(files), 0, funcname_off, cu_off, filetab_off, pctab_off, functab_off)
    table = header + bytes(names) + bytes(cutab) + bytes(filetab) + bytes(pctab) + bytes(functab) + bytes(blobs)
    return table, bytes(gofunc)
