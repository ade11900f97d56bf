"""Seeded mutations of real Go cores, for tests/test_corruption.py. Pure:
bytes in, descriptions of damaged copies out; nothing here touches a file.

A Case is a list of byte patches and perhaps a cut (the copy ends there),
with what gocore-tui must make of it:
  "corrupt"    a one-line error (exit 2) that says the core is corrupt
  "truncated"  a one-line error (exit 2) that says it was cut off
  "clean"      anything but a crash of gocore-tui: a report (exit 0), or a
               one-line error naming the core (exit 1 or 2)
Families, each from its own random stream (adding cases to one family
leaves the others' cases unchanged):
  header  the ELF header: class, data, type, machine, e_phoff/phentsize/phnum ...
  phdr    program headers: absurd sizes, offsets past the end, overlaps, types
  note    NT_PRSTATUS, NT_PRPSINFO, NT_SIGINFO and NT_FILE: sizes and contents
  data    bytes inside PT_LOAD segments: runtime.allgs, the g structs, the
          crashing thread's stack, the heap
  cut     the file cut at an offset (in the headers, the notes, the data)
  heap    fields of the heap's mspans (startAddr, npages, nelems, elemsize,
          freeindex, allocBits, spanclass, state, largeType): what the heap
          reader must call corrupt in one line while the report goes on
  specials  the spans' lists of specials (finalizers, cleanups: roots of
          the heap): a head pointing anywhere, a list that loops, an offset
          past its span, a kind no release has: the heap reader drops that
          span's specials with a one-line note while the report goes on
Only cases of the note and data families (and a few header ones) reach dlv;
the others stop at gocore-tui's own header checks, in a fraction of the time.

Little-endian ELF64 only (the cores the fixtures make on amd64 and arm64).
"""

from __future__ import annotations

import random
import struct
from dataclasses import dataclass, replace

PT_LOAD, PT_NOTE = 1, 4
NT_PRSTATUS, NT_PRPSINFO = 1, 3
NT_SIGINFO, NT_FILE = 0x53494749, 0x46494C45
EHDR_SIZE, PHDR_SIZE = 64, 56
# The example: a header claiming a 25 PB segment.
ABSURD_SIZES = (25895697898782720, 1 << 63, (1 << 64) - 1, 1 << 50)
# elf_prstatus on x86_64: pr_reg (27 words) at 112; rip is word 16, rsp word 19.
# On arm64: 34 words (x0-x30, sp, pc, pstate), sp word 31, pc word 32.
_PR_REG = 112
_PC_SP = {62: (16, 19), 183: (32, 31)}


@dataclass(frozen=True)
class Segment:
    index: int
    p_type: int
    offset: int
    vaddr: int
    filesz: int
    memsz: int

    @property
    def header(self) -> int:
        """Where its program header starts (e_phoff 64, as every core writer puts it)."""
        return EHDR_SIZE + self.index * PHDR_SIZE


@dataclass(frozen=True)
class Note:
    at: int  # file offset of its header (namesz, descsz, type)
    owner: bytes
    n_type: int
    desc_at: int
    descsz: int


@dataclass(frozen=True)
class Layout:
    size: int
    phnum: int
    segments: tuple[Segment, ...]
    notes: tuple[Note, ...]
    # Filled in by the caller from the executable and the core's own bytes.
    symbols: tuple[tuple[str, int], ...] = ()
    # (vaddr, words) read from the core where data mutations aim: allgs's
    # slice header, and the g pointers it holds.
    words: tuple[tuple[int, tuple[int, ...]], ...] = ()
    machine: int = 62
    thread_sp: int | None = None  # the stack pointer of the first thread (the crashing one)
    # The heap's mspans (their addresses) and the fields to damage: (name, offset, size).
    spans: tuple[int, ...] = ()
    span_fields: tuple[tuple[str, int, int], ...] = ()
    # The specials lists: (the mspan's specials field's address, the first
    # special's address), and runtime.special's next, offset and kind: (name, offset, size).
    specials: tuple[tuple[int, int], ...] = ()
    special_fields: tuple[tuple[str, int, int], ...] = ()

    def loads(self) -> list[Segment]:
        return [s for s in self.segments if s.p_type == PT_LOAD and s.filesz]

    def note_segment(self) -> Segment:
        return next(s for s in self.segments if s.p_type == PT_NOTE)

    def file_offset(self, vaddr: int) -> int | None:
        for s in self.loads():
            if s.vaddr <= vaddr < s.vaddr + s.filesz:
                return s.offset + vaddr - s.vaddr
        return None

    def symbol(self, name: str) -> int | None:
        return dict(self.symbols).get(name)

    def words_at(self, vaddr: int) -> tuple[int, ...]:
        return dict(self.words).get(vaddr, ())

    def notes_of(self, n_type: int) -> list[Note]:
        return [n for n in self.notes if n.owner == b"CORE" and n.n_type == n_type]


@dataclass(frozen=True)
class Case:
    name: str  # "<fixture>/<family>.<what>#<n>": enough to rebuild it
    family: str
    patches: tuple[tuple[int, bytes], ...] = ()
    cut: int | None = None
    expect: str = "clean"  # "corrupt" | "truncated" | "clean"

    @property
    def reaches_dlv(self) -> bool:
        """Expected to get past gocore-tui's header checks (the costly ones)."""
        return self.family in ("note", "data", "heap", "specials") and self.expect == "clean"


def read_layout(head: bytes, size: int) -> Layout:
    """The segments and notes of a core from its first bytes (up to the end
    of its notes: see notes_end)."""
    if head[:4] != b"\x7fELF" or head[4] != 2 or head[5] != 1:
        raise ValueError("not a little-endian ELF64 file")
    machine, = struct.unpack_from("<H", head, 18)
    phoff, = struct.unpack_from("<Q", head, 32)
    phentsize, phnum = struct.unpack_from("<HH", head, 54)
    if phoff != EHDR_SIZE or phentsize != PHDR_SIZE:
        raise ValueError("program headers not where every core writer puts them")
    segments = []
    for i in range(phnum):
        p_type, _flags, offset, vaddr, _paddr, filesz, memsz = struct.unpack_from("<IIQQQQQ", head, phoff + i * 56)
        segments.append(Segment(i, p_type, offset, vaddr, filesz, memsz))
    notes = []
    for seg in segments:
        if seg.p_type != PT_NOTE:
            continue
        pos, end = seg.offset, seg.offset + seg.filesz
        while pos + 12 <= end:
            namesz, descsz, n_type = struct.unpack_from("<III", head, pos)
            name_at = pos + 12
            desc_at = (name_at + namesz + 3) & ~3
            if desc_at + descsz > end:
                break
            notes.append(Note(pos, head[name_at:name_at + namesz].rstrip(b"\0"), n_type, desc_at, descsz))
            pos = (desc_at + descsz + 3) & ~3
    sp = None
    prstatus = [n for n in notes if n.owner == b"CORE" and n.n_type == NT_PRSTATUS]
    if prstatus and machine in _PC_SP:
        sp, = struct.unpack_from("<Q", head, prstatus[0].desc_at + _PR_REG + 8 * _PC_SP[machine][1])
    return Layout(size, phnum, tuple(segments), tuple(notes), machine=machine, thread_sp=sp)


def notes_end(head: bytes) -> int:
    """How many bytes read_layout needs (the header table and every PT_NOTE)."""
    phnum, = struct.unpack_from("<H", head, 56)
    end = EHDR_SIZE + phnum * PHDR_SIZE
    for i in range(phnum):
        p_type, _flags, offset, _vaddr, _paddr, filesz = struct.unpack_from("<IIQQQQ", head, EHDR_SIZE + i * 56)
        if p_type == PT_NOTE:
            end = max(end, offset + filesz)
    return end


def symbols(exe: bytes, names: tuple[str, ...]) -> tuple[tuple[str, int], ...]:
    """(name, value) of the named symbols in an ELF64 executable's .symtab."""
    shoff, = struct.unpack_from("<Q", exe, 40)
    shentsize, shnum = struct.unpack_from("<HH", exe, 58)
    sections = [struct.unpack_from("<IIQQQQII", exe, shoff + i * shentsize) for i in range(shnum)]
    found = {}
    for _name, sh_type, _flags, _addr, offset, size, link, _info in sections:
        if sh_type != 2:  # SHT_SYMTAB
            continue
        strtab = sections[link]
        strings = exe[strtab[4]:strtab[4] + strtab[5]]
        wanted = {name.encode(): name for name in names}
        for at in range(offset, offset + size, 24):
            st_name, = struct.unpack_from("<I", exe, at)
            end = strings.find(b"\0", st_name)
            name = strings[st_name:end]
            if name in wanted:
                found[wanted[name]] = struct.unpack_from("<Q", exe, at + 8)[0]
    return tuple(sorted(found.items()))


# -- the families -----------------------------------------------------------------

def _u16(v: int) -> bytes:
    return struct.pack("<H", v & 0xFFFF)


def _u32(v: int) -> bytes:
    return struct.pack("<I", v & 0xFFFFFFFF)


def _u64(v: int) -> bytes:
    return struct.pack("<Q", v & (1 << 64) - 1)


def header_cases(layout: Layout, rng: random.Random, n: int) -> list[Case]:
    size = layout.size
    made = [
        ("class", (4, bytes([rng.choice((0, 3, 0x7F, 0xFF))])), "corrupt"),
        ("data", (5, bytes([rng.choice((0, 3, 0xFF))])), "corrupt"),
        ("type", (16, _u16(rng.choice((0, 1, 2, 3, 5, 0xFE00, 0xFFFF)))), "clean"),
        ("machine", (18, _u16(rng.choice((3, 40, 183, 243, 0x1234, 0)))), "clean"),
        ("version", (20, _u32(rng.choice((0, 2, 0xFFFFFFFF)))), "clean"),
        ("entry", (24, _u64(rng.getrandbits(64))), "clean"),
        ("phoff.past-end", (32, _u64(size + rng.randrange(1, 1 << 30))), "corrupt"),
        ("phoff.huge", (32, _u64(rng.choice(ABSURD_SIZES))), "corrupt"),
        ("phoff.zero", (32, _u64(0)), "corrupt"),
        ("phoff.misaligned", (32, _u64(EHDR_SIZE + rng.randrange(1, 56))), "clean"),
        ("phoff.into-data", (32, _u64(rng.choice(layout.loads()).offset)), "clean"),
        ("phentsize", (54, _u16(rng.choice((0, 1, 32, 55, 57, 64, 0xFFFF)))), "corrupt"),
        ("phnum.zero", (56, _u16(0)), "corrupt"),
        ("phnum.xnum", (56, _u16(0xFFFF)), "corrupt"),
        ("phnum.fewer", (56, _u16(rng.randrange(1, layout.phnum))), "clean"),
        ("phnum.more", (56, _u16(layout.phnum + rng.randrange(1, 40))), "clean"),
        ("phnum.many", (56, _u16(rng.randrange(0x1000, 0xFFFE))), "clean"),
        ("shoff", (40, _u64(rng.choice((size + 4096, 1 << 62, 8)))), "clean"),
        ("shnum", (60, _u16(rng.randrange(1, 0xFFFF))), "clean"),
        ("ehsize", (52, _u16(rng.choice((0, 1, 0xFFFF)))), "clean"),
    ]
    cases = [Case(f"header.{what}", "header", (patch,), expect=expect) for what, patch, expect in made]
    while len(cases) < n:  # random bytes of the header past the magic
        at = rng.randrange(4, EHDR_SIZE)
        cases.append(Case(f"header.byte@{at}", "header", ((at, bytes([rng.randrange(256)])),)))
    rng.shuffle(cases)
    return cases[:n]


def phdr_cases(layout: Layout, rng: random.Random, n: int) -> list[Case]:
    loads = layout.loads()
    note = layout.note_segment()

    def field(seg: Segment, offset: int, value: int, width: int = 8) -> tuple[int, bytes]:
        return seg.header + offset, _u64(value) if width == 8 else _u32(value)

    def _inside(other: Segment) -> int:  # a page boundary strictly inside another segment's bytes
        return other.offset + 4096 * rng.randrange(max(1, other.filesz // 4096))

    makers = [
        # p_filesz (at 32): more bytes than any process ever had, or than its memory
        ("filesz.absurd", lambda s: (field(s, 32, rng.choice(ABSURD_SIZES)),), "corrupt"),
        ("filesz.beyond-memsz", lambda s: (field(s, 32, s.memsz + 4096 * rng.randrange(1, 1 << 20)),), "corrupt"),
        ("memsz.zero", lambda s: (field(s, 40, 0),), "corrupt"),
        # p_offset (at 8): past the end of the file, far from its neighbours
        ("offset.past-end", lambda s: (field(s, 8, layout.size + rng.randrange(1 << 20, 1 << 40)),), "corrupt"),
        ("offset.absurd", lambda s: (field(s, 8, rng.choice(ABSURD_SIZES)),), "corrupt"),
        # two segments claiming the same bytes of the file, or the same memory
        ("offset.overlap", lambda s: (field(s, 8, _inside(rng.choice([o for o in loads if o != s] or loads))),),
         "corrupt"),
        ("vaddr.overlap", lambda s: (field(s, 16, rng.choice([o for o in loads if o != s] or loads).vaddr),),
         "corrupt"),
        ("filesz.zero", lambda s: (field(s, 32, 0),), "clean"),
        ("filesz.shorter", lambda s: (field(s, 32, max(0, s.filesz - 4096)),), "clean"),
        ("type", lambda s: (field(s, 0, rng.choice((0, 2, 3, 6, 0x6474E551, 0xFFFFFFFF)), 4),), "clean"),
        ("type.note", lambda s: (field(s, 0, PT_NOTE, 4),), "clean"),
        ("vaddr.random", lambda s: (field(s, 16, rng.getrandbits(47) & ~0xFFF),), "clean"),
    ]
    cases = []
    for i in range(n):
        what, make, expect = makers[i % len(makers)]
        seg = rng.choice(loads)
        cases.append(Case(f"phdr.{what}@{seg.index}", "phdr", make(seg), expect=expect))
    # The notes segment itself: gone, or pointing at the data.
    cases[-1] = Case(f"phdr.note-as-load@{note.index}", "phdr", ((note.header, _u32(PT_LOAD)),))
    return cases


def note_cases(layout: Layout, rng: random.Random, n: int) -> list[Case]:
    kinds = [(NT_PRSTATUS, "prstatus"), (NT_PRPSINFO, "prpsinfo"), (NT_SIGINFO, "siginfo"), (NT_FILE, "file")]
    cases = []
    for i in range(n):
        n_type, kind = kinds[i % len(kinds)]
        candidates = layout.notes_of(n_type)
        note = candidates[0] if rng.random() < 0.7 else rng.choice(candidates)  # the crashing thread's, mostly
        how = rng.choice(("descsz", "namesz", "type", "bytes", "fields"))
        if how == "descsz":
            patch = ((note.at + 4, _u32(rng.choice((0, 1, 4, note.descsz // 2, note.descsz + 8, 0xFFFFFFFF)))),)
        elif how == "namesz":
            patch = ((note.at, _u32(rng.choice((0, 3, 64, 0xFFFFFFFF)))),)
        elif how == "type":
            patch = ((note.at + 8, _u32(rng.choice((0, 2, 0xDEADBEEF)))),)
        elif how == "bytes":
            start = note.desc_at + rng.randrange(max(1, note.descsz))
            length = min(rng.choice((1, 8, 64, note.descsz)), note.desc_at + note.descsz - start)
            patch = ((start, rng.randbytes(max(1, length))),)
        else:
            patch = _note_fields(note, kind, rng, layout.machine)
        cases.append(Case(f"note.{kind}.{how}@{note.at:#x}", "note", patch))
    return cases


def _note_fields(note: Note, kind: str, rng: random.Random, machine: int) -> tuple[tuple[int, bytes], ...]:
    d = note.desc_at
    if kind == "prstatus":  # the registers: a wild pc or stack pointer
        pc, sp = _PC_SP.get(machine, _PC_SP[62])
        word = rng.choice((pc, sp, rng.randrange(27)))
        return ((d + _PR_REG + 8 * word, _u64(rng.choice((0, 1, rng.getrandbits(64), rng.getrandbits(47))))),)
    if kind == "file":  # count, page size, then (start, end, page offset) each
        which = rng.choice((0, 8, 16, 24))
        value = rng.choice((0, 1, 1 << 32, 1 << 62, (1 << 64) - 1, rng.getrandbits(64)))
        if which == 0 and rng.random() < 0.5:  # names without their terminators
            return ((d + 16, _u64(value)), (d + note.descsz - 64, b"\xff" * 64))
        return ((d + which, _u64(value)),)
    if kind == "siginfo":  # signo, errno, code, then the address or sender
        return ((d + rng.choice((0, 8, 16)), _u64(rng.getrandbits(64))),)
    return ((d + rng.randrange(max(1, note.descsz - 8)), _u64(rng.getrandbits(64))),)  # prpsinfo


def data_cases(layout: Layout, rng: random.Random, n: int) -> list[Case]:
    allgs = layout.symbol("runtime.allgs")
    allglen = layout.symbol("runtime.allglen")
    header = layout.words_at(allgs) if allgs is not None else ()
    gs = [g for g in layout.words_at(header[0])] if header else []
    gs = [g for g in gs if g and layout.file_offset(g) is not None]
    heap = [s for s in layout.loads() if s.vaddr >> 36 == 0xC]  # Go's heap arena at 0xc000000000
    cases = []

    def at(vaddr: int) -> int | None:
        return layout.file_offset(vaddr)

    def choose(i: int) -> tuple[str, tuple[tuple[int, bytes], ...]] | None:
        kind = i % 6
        if kind == 0 and allgs is not None and at(allgs) is not None:  # the slice header
            word = rng.randrange(3)
            value = rng.choice((0, 1, 1 << 31, 1 << 62, rng.getrandbits(64), rng.getrandbits(47) | 7))
            return f"allgs.{('ptr', 'len', 'cap')[word]}", ((at(allgs) + 8 * word, _u64(value)),)
        if kind == 1 and gs:  # one g pointer of allgs
            slot = rng.randrange(len(gs))
            value = rng.choice((0, 8, rng.getrandbits(64), gs[(slot + 1) % len(gs)], header[0]))
            return f"allgs[{slot}]", ((at(header[0]) + 8 * slot, _u64(value)),)
        if kind == 2 and gs:  # words inside a g: stack bounds, sched sp/pc, goid, status ...
            g = rng.choice(gs)
            offset = rng.choice((0, 8, 56, 64, 72, 144, 152, 160, rng.randrange(0, 400, 8)))
            return f"g@{g:#x}+{offset}", ((at(g) + offset, _u64(rng.getrandbits(64))),)
        if kind == 3 and layout.thread_sp:  # the crashing thread's stack, where its sp points
            sp = layout.thread_sp
            off = at(sp)
            if off is not None:
                start = off + rng.randrange(0, 512, 8)
                return f"stack@{sp:#x}", ((start, rng.randbytes(rng.choice((8, 64, 512, 4096)))),)
        if kind == 4 and heap:  # a page of the heap
            seg = rng.choice(heap)
            page = rng.randrange(max(1, seg.filesz // 4096))
            return f"heap-page@{seg.vaddr + page * 4096:#x}", ((seg.offset + page * 4096, (
                b"\0" if rng.random() < 0.5 else rng.randbytes(1)) * 4096),)
        if kind == 5 and allglen is not None and at(allglen) is not None:
            return "allglen", ((at(allglen), _u64(rng.choice((0, 1 << 40, rng.getrandbits(64))))),)
        seg = rng.choice(layout.loads())  # anywhere in memory
        start = seg.offset + rng.randrange(seg.filesz)
        return f"bytes@{seg.vaddr + start - seg.offset:#x}", ((start, rng.randbytes(min(16, seg.offset + seg.filesz - start))),)

    for i in range(n):
        what, patches = choose(i)
        cases.append(Case(f"data.{what}", "data", patches))
    return cases


def cut_cases(layout: Layout, rng: random.Random, n: int) -> list[Case]:
    notes = layout.note_segment()
    loads = layout.loads()
    table_end = EHDR_SIZE + layout.phnum * PHDR_SIZE
    offsets = [
        ("ehdr", rng.randrange(16, EHDR_SIZE)),
        ("phdrs", rng.randrange(EHDR_SIZE, table_end)),
        ("notes", rng.randrange(notes.offset, notes.offset + notes.filesz)),
        ("first-load", loads[0].offset),
        ("last-byte", layout.size - 1),
    ]
    while len(offsets) < n:
        seg = rng.choice(loads)
        if rng.random() < 0.3:
            if seg.offset + seg.filesz < layout.size:  # the end of the last one is no cut
                offsets.append((f"end-of-load@{seg.index}", seg.offset + seg.filesz))
        else:
            offsets.append((f"in-load@{seg.index}", seg.offset + rng.randrange(1, seg.filesz)))
    return [Case(f"cut.{what}", "cut", cut=offset, expect="truncated") for what, offset in offsets[:n]]


def heap_cases(layout: Layout, rng: random.Random, n: int) -> list[Case]:
    cases = []
    for _ in range(n):
        if layout.spans and layout.span_fields:
            span = rng.choice(layout.spans)
            name, offset, size = rng.choice(layout.span_fields)
            at = layout.file_offset(span + offset)
            if at is not None:
                value = rng.choice((0, 1, (1 << 8 * size) - 1, rng.getrandbits(8 * size), rng.getrandbits(47) & ~7))
                value &= (1 << 8 * size) - 1
                cases.append(Case(f"heap.mspan@{span:#x}.{name}", "heap", ((at, value.to_bytes(size, "little")),)))
                continue
        seg = rng.choice(layout.loads())  # no span known: a word anywhere in memory
        start = seg.offset + rng.randrange(0, max(8, seg.filesz - 8), 8)
        cases.append(Case(f"heap.word@{seg.vaddr + start - seg.offset:#x}", "heap", ((start, _u64(rng.getrandbits(64))),)))
    return cases


def specials_cases(layout: Layout, rng: random.Random, n: int) -> list[Case]:
    cases = []
    fields = dict((name, (offset, size)) for name, offset, size in layout.special_fields)
    for _ in range(n):
        if not layout.specials or set(fields) != {"next", "offset", "kind"}:
            break
        head_at, record = rng.choice(layout.specials)
        damage = rng.choice(("head", "loop", "offset", "kind"))
        if damage == "head":  # the list starts anywhere
            at, value, size = head_at, rng.choice((1, rng.getrandbits(64), rng.getrandbits(47) & ~7)), 8
        elif damage == "loop":  # the first special is its own next
            at, value, size = record + fields["next"][0], record, fields["next"][1]
        elif damage == "offset":  # an object past its span
            at, size = record + fields["offset"][0], fields["offset"][1]
            value = (1 << 8 * size) - 1 - rng.getrandbits(4)
        else:
            at, size = record + fields["kind"][0], fields["kind"][1]
            value = rng.getrandbits(8 * size)
        offset = layout.file_offset(at)
        if offset is not None:
            cases.append(Case(f"specials.{damage}@{record:#x}", "specials",
                              ((offset, (value & ((1 << 8 * size) - 1)).to_bytes(size, "little")),)))
    return cases


FAMILIES = {"header": header_cases, "phdr": phdr_cases, "note": note_cases, "data": data_cases, "cut": cut_cases,
            "heap": heap_cases, "specials": specials_cases}


def campaign(layout: Layout, fixture: str, seed: int, counts: dict[str, int]) -> list[Case]:
    """counts: family -> how many; each family draws from its own stream of `seed`."""
    cases = []
    for family, count in counts.items():
        rng = random.Random(f"{seed}/{fixture}/{family}")
        for n, case in enumerate(FAMILIES[family](layout, rng, count)):
            cases.append(replace(case, name=f"{fixture}/{case.name}#{n}"))
    return cases


def apply(data: bytearray, case: Case) -> bytearray:
    """The damaged copy of a core held in memory (for small checks; the
    campaign writes the patches into a copy on disk instead)."""
    for offset, patch in case.patches:
        data[offset:offset + len(patch)] = patch
    if case.cut is not None:
        del data[case.cut:]
    return data
