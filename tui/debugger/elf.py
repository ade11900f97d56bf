"""Checking an executable and a core dump before dlv sees them.

dlv's own messages for bad input are cryptic (`bad magic number ...`), and a
truncated or mismatched core opens without complaint and shows garbage. Every
check here reads only the ELF header, program/section headers and notes, by
seeking: never the body of a core, which can be gigabytes.
"""

from __future__ import annotations

import os
import re
import stat
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

ET_REL, ET_EXEC, ET_DYN, ET_CORE = 1, 2, 3, 4
PT_LOAD, PT_NOTE = 1, 4
NT_PRSTATUS = 1
NT_SIGINFO = 0x53494749  # "SIGI": the siginfo_t of the signal that dumped the core
NT_FILE = 0x46494C45  # "FILE"
NT_GNU_BUILD_ID = 3
NT_GO_BUILD_ID = 4  # note name "Go", written by cmd/link
PN_XNUM = 0xFFFF  # e_phnum overflow: the real count is in section 0's sh_info

# elf_prstatus starts with elf_siginfo {int signo, code, errno}, then short
# pr_cursig: offset 12 on x86_64 and aarch64 alike (and on 32-bit targets).
_PR_CURSIG_OFFSET = 12
NT_PRPSINFO = 3
# elf_prpsinfo: 4 chars, unsigned long pr_flag, pr_uid, pr_gid, then pid_t
# pr_pid (the process: NT_PRSTATUS's pr_pid is a thread's). 32-bit x86 and
# ARM have 16-bit uids there.
_PSINFO_PID_64 = 24
_PSINFO_PID_32 = {3: 12, 40: 12}  # by e_machine; 16 for the other 32-bit targets

# siginfo_t codes (include/uapi/asm-generic/siginfo.h). At or below 0 a
# process sent the signal (kill, tgkill, sigqueue ...) and si_pid/si_uid
# say who; above 0 the kernel raised it for a fault, at si_addr.
SI_CODES = {0: "SI_USER", 0x80: "SI_KERNEL", -1: "SI_QUEUE", -2: "SI_TIMER", -3: "SI_MESGQ",
            -4: "SI_ASYNCIO", -5: "SI_SIGIO", -6: "SI_TKILL"}
_FAULT_CODES = {
    4: {1: "ILL_ILLOPC", 2: "ILL_ILLOPN", 3: "ILL_ILLADR", 4: "ILL_ILLTRP", 5: "ILL_PRVOPC", 6: "ILL_PRVREG",
        7: "ILL_COPROC", 8: "ILL_BADSTK"},
    5: {1: "TRAP_BRKPT", 2: "TRAP_TRACE", 3: "TRAP_BRANCH", 4: "TRAP_HWBKPT"},
    7: {1: "BUS_ADRALN", 2: "BUS_ADRERR", 3: "BUS_OBJERR", 4: "BUS_MCEERR_AR", 5: "BUS_MCEERR_AO"},
    8: {1: "FPE_INTDIV", 2: "FPE_INTOVF", 3: "FPE_FLTDIV", 4: "FPE_FLTOVF", 5: "FPE_FLTUND", 6: "FPE_FLTRES",
        7: "FPE_FLTINV", 8: "FPE_FLTSUB"},
    11: {1: "SEGV_MAPERR", 2: "SEGV_ACCERR", 3: "SEGV_BNDERR", 4: "SEGV_PKUERR"},
}
_EM_MIPS = 8  # MIPS's siginfo_t has si_code before si_errno

MACHINES = {3: "386", 8: "mips", 20: "ppc", 21: "ppc64", 22: "s390x", 40: "arm",
            62: "amd64", 183: "arm64", 243: "riscv64", 258: "loong64"}

_E_TYPES = {ET_REL: "relocatable object", ET_EXEC: "executable", ET_DYN: "executable (PIE or shared object)",
            ET_CORE: "core dump"}

# Magic numbers of compressors cores are commonly stored with, and how to undo them.
_COMPRESSED = (
    (b"\x28\xb5\x2f\xfd", "zstd", "zstd -d {p} -o core (systemd-coredump stores cores so: "
                                  "`coredumpctl dump PID -o core` does it for you)"),
    (b"\x04\x22\x4d\x18", "lz4", "lz4 -d {p} core"),
    (b"\x1f\x8b", "gzip", "gzip -dc {p} > core"),
    (b"\xfd7zXZ\x00", "xz", "xz -dc {p} > core"),
)

# Notes larger than this are not from a sane core; don't allocate for them.
_MAX_NOTES = 64 << 20
# No process has more memory than this (256 TiB: the 48-bit address space of
# amd64 and arm64): a segment claiming more is a damaged header, not a core
# that was cut off.
_MAX_SEGMENT = 1 << 48
# Core writers (the kernel, gdb's gcore) lay the segments out back to back,
# after the headers and notes, each at most a page from the one before
# (64 KiB pages on some arm64 and ppc64 kernels). A segment further from its
# neighbour than this has a damaged offset.
_MAX_GAP = 1 << 20
_EHDR_SIZE = {True: 64, False: 52}
_PHDR_SIZE = {True: 56, False: 32}


class InputError(Exception):
    """A file we cannot use. str() is one line: the file, the problem, what to do."""


class MismatchError(InputError):
    """The core was dumped by another executable (--force opens it anyway)."""


@dataclass(frozen=True)
class ExecutableInfo:
    path: Path
    machine: str
    is_pie: bool
    has_debug_info: bool
    build_id: str | None  # NT_GNU_BUILD_ID as hex
    go_build_id: str | None  # the "Go" note, as `go tool buildid` prints it


@dataclass(frozen=True)
class SigInfo:
    """The NT_SIGINFO note: the siginfo_t of the signal that dumped the core.

    For a signal a process sent (code <= 0: SI_USER from kill(2), SI_TKILL
    from tgkill, as Go's runtime aborts itself under GOTRACEBACK=crash,
    SI_QUEUE ...) pid and uid are the sender's and addr is None: the word
    where a fault address would be is the sender's pid. For one the kernel
    raised for a fault (code > 0: SEGV_MAPERR ...) addr is si_addr and pid
    and uid are None.

    In a Go core dumped under GOTRACEBACK=crash this is always the
    runtime's own abort (SIGABRT, SI_TKILL, pid = CoreInfo.pid), whatever
    started the crash: the runtime caught the first signal (a `kill -ABRT`,
    a fault) and raised SIGABRT at itself. That first signal's siginfo is
    in memory only: the `info` of runtime.sigtrampgo on the thread that
    took it (from_fields reads it; the other threads' handlers hold the
    runtime's SIGQUIT relay, SI_USER from the process itself); a fault's
    address also in g.sigcode1. Only a
    signal the runtime does not catch (SIG_DFL: a C program's fault) is
    described here directly. gdb's gcore records the SIGSTOP of its
    attach (SI_KERNEL) though nothing crashed; pr_cursig is 0 then.
    """

    signo: int
    code: int
    errno: int = 0
    pid: int | None = None
    uid: int | None = None
    addr: int | None = None

    @classmethod
    def from_fields(cls, signo: int, code: int, word: int, errno: int = 0, endian: str = "<") -> "SigInfo":
        """From the fields Go's runtime declares for its siginfo on 64-bit
        targets (si_signo, si_errno, si_code, si_addr), as Delve prints
        `info` in runtime.sigtrampgo: the siginfo the handler got. A Go
        core's NT_SIGINFO is not that one when the runtime caught the
        signal and raised SIGABRT at itself (GOTRACEBACK=crash). si_addr
        is the union's first word: for a sent signal it holds si_pid, si_uid."""
        raw = struct.pack(endian + "iiiiQ", signo, errno, code, 0, word & (1 << 64) - 1)
        info = parse_siginfo(raw, endian, True)
        assert info is not None
        return info

    @property
    def sent(self) -> bool:
        """Sent by a process (kill, tgkill, sigqueue), not raised by the kernel for a fault."""
        return self.code <= 0

    @property
    def code_name(self) -> str:
        """SI_USER, SI_TKILL, SEGV_MAPERR ...; `si_code N` when unknown."""
        name = SI_CODES.get(self.code) if self.code <= 0 or self.code == 0x80 else \
            _FAULT_CODES.get(self.signo, {}).get(self.code)
        return name or f"si_code {self.code}"


@dataclass(frozen=True)
class CoreInfo:
    path: Path
    machine: str
    signal: int | None  # pr_cursig of the first thread
    mapped_files: tuple[str, ...]  # NT_FILE names, in mapping order
    main_executable: str | None  # first NT_FILE entry
    expected_size: int  # end of the furthest segment
    actual_size: int
    # The first bytes of the main executable's mapping as the core holds
    # them (the kernel dumps ELF header pages), or b"" when not dumped.
    main_image_head: bytes = b""
    # The first NT_SIGINFO note (the kernel writes one, with the notes of
    # the thread that took the signal; gdb's gcore one a thread). None
    # when the core has none.
    siginfo: SigInfo | None = None
    # pr_pid of NT_PRPSINFO: the process that dumped (a SI_TKILL whose
    # siginfo.pid is this one was raised by the process itself).
    pid: int | None = None


@dataclass(frozen=True)
class _Header:
    e_type: int
    machine: int
    is64: bool
    endian: str  # struct prefix: "<" or ">"
    phoff: int
    phentsize: int
    phnum: int
    shoff: int
    shentsize: int
    shnum: int
    shstrndx: int


@dataclass(frozen=True)
class _Segment:
    p_type: int
    offset: int
    filesz: int
    vaddr: int = 0
    memsz: int = 0
    index: int = 0

    @property
    def end(self) -> int:
        return self.offset + self.filesz


def machine_name(e_machine: int) -> str:
    return MACHINES.get(e_machine, f"e_machine {e_machine}")


def check_executable(path: str | os.PathLike) -> ExecutableInfo:
    p = Path(path)
    with _open(p, "executable") as f:
        head = _read_ident(f, p, "executable")
        if not head.startswith(b"\x7fELF"):
            raise InputError(f"{p} is not an ELF file; pass the Go executable that crashed (a Linux binary)")
        h = _header(f, p, head)
        if h.e_type == ET_CORE:
            raise InputError(f"{p} is a core dump, not an executable; pass the Go binary first, then the core")
        if h.e_type not in (ET_EXEC, ET_DYN):
            kind = _E_TYPES.get(h.e_type, f"file of e_type {h.e_type}")
            raise InputError(f"{p} is an ELF {kind}, not an executable; pass the Go binary that crashed")
        sections = _sections(f, p, h)
        names = {name for name, _, _, _ in sections}
        if ".debug_info" not in names and ".zdebug_info" not in names:
            raise InputError(f"{p} has no DWARF debug info (stripped); rebuild without -ldflags=\"-s -w\", "
                             f"e.g. go build -gcflags=all=\"-N -l\"")
        build_id = go_build_id = None
        for name, sh_type, offset, size in sections:
            if sh_type == 7 and size <= _MAX_NOTES:  # SHT_NOTE
                f.seek(offset)
                for owner, n_type, desc in _notes(f.read(size), h.endian):
                    if owner == b"GNU" and n_type == NT_GNU_BUILD_ID:
                        build_id = desc.hex()
                    elif owner == b"Go" and n_type == NT_GO_BUILD_ID:
                        go_build_id = desc.rstrip(b"\0").decode("utf-8", "replace")
        return ExecutableInfo(p, machine_name(h.machine), h.e_type == ET_DYN, True, build_id, go_build_id)


def check_core(path: str | os.PathLike) -> CoreInfo:
    p = Path(path)
    with _open(p, "core") as f:
        head = _read_ident(f, p, "core")
        if not head.startswith(b"\x7fELF"):
            for magic, tool, how in _COMPRESSED:
                if head.startswith(magic):
                    raise InputError(f"{p} is a {tool}-compressed core; decompress it first: {how.format(p=p)}")
            raise InputError(f"{p} is not an ELF core dump; pass the core file the kernel wrote "
                             f"(see /proc/sys/kernel/core_pattern)")
        h = _header(f, p, head)
        if h.e_type != ET_CORE:
            kind = "executable" if h.e_type in (ET_EXEC, ET_DYN) else _E_TYPES.get(h.e_type, "file")
            raise InputError(f"{p} is an ELF {kind}, not a core dump; pass the core file the program left")
        actual = os.fstat(f.fileno()).st_size
        _check_table(p, h, actual)
        segments = _segments(f, p, h, actual)
        _check_layout(p, h, segments)
        expected = max([h.phoff + h.phnum * h.phentsize] + [s.offset + s.filesz for s in segments])
        if actual < expected:
            raise InputError(f"{p} is truncated: cut off at {actual} of {expected} bytes; "
                             f"raise the limit with `ulimit -c unlimited` (and check free disk space), "
                             f"then crash the program again")
        signal, files, mappings, siginfo, pid = None, (), (), None, None
        for seg in segments:
            if seg.p_type != PT_NOTE or seg.filesz > _MAX_NOTES:
                continue
            f.seek(seg.offset)
            for owner, n_type, desc in _notes(f.read(seg.filesz), h.endian):
                if owner != b"CORE":
                    continue
                if n_type == NT_PRSTATUS and signal is None and len(desc) >= _PR_CURSIG_OFFSET + 2:
                    (signal,) = struct.unpack_from(h.endian + "h", desc, _PR_CURSIG_OFFSET)
                elif n_type == NT_PRPSINFO and pid is None:
                    at = _PSINFO_PID_64 if h.is64 else _PSINFO_PID_32.get(h.machine, 16)
                    if len(desc) >= at + 4:
                        (pid,) = struct.unpack_from(h.endian + "i", desc, at)
                elif n_type == NT_FILE and not files:
                    files, mappings = _file_note(desc, h)
                elif n_type == NT_SIGINFO and siginfo is None:
                    siginfo = parse_siginfo(desc, h.endian, h.is64, h.machine)
        head = _main_image_head(f, segments, files, mappings)
        return CoreInfo(p, machine_name(h.machine), signal, files, files[0] if files else None, expected, actual, head,
                        siginfo, pid)


def parse_siginfo(desc: bytes, endian: str = "<", is64: bool = True, e_machine: int = 62) -> SigInfo | None:
    """A siginfo_t as the kernel lays it out: int si_signo, si_errno,
    si_code (MIPS: si_code, si_errno), then the union, 8-aligned on 64-bit
    targets: {pid_t si_pid; uid_t si_uid} for a sent signal, void *si_addr
    for a fault. None when desc is too short to be one."""
    union = 16 if is64 else 12
    if len(desc) < union + 8:
        return None
    signo, second, third = struct.unpack_from(endian + "iii", desc, 0)
    errno, code = (third, second) if e_machine == _EM_MIPS else (second, third)
    if code <= 0:
        pid, uid = struct.unpack_from(endian + "iI", desc, union)
        return SigInfo(signo, code, errno, pid=pid, uid=uid)
    (addr,) = struct.unpack_from(endian + ("Q" if is64 else "I"), desc, union)
    return SigInfo(signo, code, errno, addr=addr)


_HEAD_BYTES = 4096


def _main_image_head(f, segments: list[_Segment], files: tuple[str, ...], mappings: tuple) -> bytes:
    """The core's copy of the main executable's first page, if it has one."""
    if not files:
        return b""
    for name, (start, _end, file_page) in zip(files, mappings):
        if name == files[0] and file_page == 0:
            for seg in segments:
                if seg.p_type == PT_LOAD and seg.vaddr == start and seg.filesz:
                    f.seek(seg.offset)
                    return f.read(min(seg.filesz, _HEAD_BYTES))
    return b""


def image_matches(exe: ExecutableInfo, core: CoreInfo) -> bool | None:
    """Does the core's copy of the executable's first page equal the file's?

    None when the core did not keep that page (then nobody can tell).
    Delve has no such check: a wrong pair opens and shows garbage.
    """
    if not core.main_image_head:
        return None
    with open(exe.path, "rb") as f:
        return f.read(len(core.main_image_head)) == core.main_image_head


def check_pair(exe: ExecutableInfo, core: CoreInfo) -> None:
    """dlv's own mismatch error prints raw structs; say which file is which."""
    if exe.machine != core.machine:
        raise InputError(f"{core.path} was dumped by a {core.machine} process but {exe.path} is built for "
                         f"{exe.machine}; pass the executable that produced this core")
    if image_matches(exe, core) is False:
        ran = f" (the core says it ran {core.main_executable})" if core.main_executable else ""
        raise MismatchError(f"{core.path} was not dumped by {exe.path}{ran}: the executable's first page differs "
                         f"from the core's copy; pass the exact binary that crashed, or --force to open anyway")


def _open(p: Path, role: str):
    what = "the Go binary that crashed" if role == "executable" else "the core file itself"
    try:
        mode = p.stat().st_mode
    except FileNotFoundError:
        raise InputError(f"{p}: no such file; check the path") from None
    except PermissionError:
        raise InputError(f"{p}: permission denied; run as a user who can read it") from None
    if stat.S_ISDIR(mode):
        raise InputError(f"{p} is a directory; pass {what}")
    if not stat.S_ISREG(mode):
        raise InputError(f"{p} is not a regular file; pass {what}")
    try:
        return open(p, "rb")
    except PermissionError:
        # Kernel-written cores are mode 0600, owned by the crashed process's user.
        raise InputError(f"{p}: permission denied; run as its owner, or `sudo chmod a+r {p}`") from None
    except OSError as err:
        raise InputError(f"{p}: cannot read ({err.strerror})") from None


def _read_ident(f, p: Path, role: str) -> bytes:
    head = f.read(64)
    if not head:
        if role == "core":
            raise InputError(f"{p} is empty (0 bytes): the kernel did not write the core; "
                             f"run `ulimit -c unlimited` before the program crashes")
        raise InputError(f"{p} is empty (0 bytes); pass the Go binary that crashed")
    return head


def _header(f, p: Path, head: bytes) -> _Header:
    ei_class, ei_data = head[4], head[5]
    if ei_class not in (1, 2) or ei_data not in (1, 2):
        raise InputError(f"{p}: corrupt ELF header (class {ei_class}, data {ei_data}); the file is damaged")
    is64, endian = ei_class == 2, "<" if ei_data == 1 else ">"
    # Elf32/64_Ehdr after e_ident: type machine version entry phoff shoff
    # flags ehsize phentsize phnum shentsize shnum shstrndx.
    fmt = endian + ("HHIQQQIHHHHHH" if is64 else "HHIIIIIHHHHHH")
    if len(head) < 16 + struct.calcsize(fmt):
        raise InputError(f"{p} is truncated inside its ELF header ({len(head)} bytes); the file is damaged")
    (e_type, machine, _, _, phoff, shoff, _, _, phentsize, phnum, shentsize, shnum,
     shstrndx) = struct.unpack_from(fmt, head, 16)
    h = _Header(e_type, machine, is64, endian, phoff, phentsize, phnum, shoff, shentsize, shnum, shstrndx)
    if phnum == PN_XNUM and shoff:
        # More than 65534 segments (cores of big processes): count in sh_info of section 0.
        sh0 = _read_at(f, p, shoff, shentsize)
        real = struct.unpack_from(endian + "I", sh0, 44 if is64 else 28)[0]
        h = _Header(e_type, machine, is64, endian, phoff, phentsize, real, shoff, shentsize, shnum, shstrndx)
    return h


def _read_at(f, p: Path, offset: int, size: int) -> bytes:
    f.seek(offset)
    data = f.read(size)
    if len(data) < size:
        size_now = os.fstat(f.fileno()).st_size
        raise InputError(f"{p} is truncated: cut off at {size_now} bytes, inside its ELF headers; "
                         f"copy it again in full (for a core: `ulimit -c unlimited`, then crash again)")
    return data


def _corrupt(p: Path, what: str) -> InputError:
    return InputError(f"{p} is corrupt: {what}; the file is damaged, not cut off: copy it again from where "
                      f"it was written, or crash the program again for a new core")


def _check_table(p: Path, h: _Header, actual: int) -> None:
    """The program header table of a core: where every core writer puts it,
    in entries of the size the ELF class has. Only a table that starts
    inside the file and runs past its end is a cut-off."""
    if not h.phnum:
        raise _corrupt(p, "it has no program headers (e_phnum 0), so no memory and no threads")
    if h.phnum == PN_XNUM:
        raise _corrupt(p, "e_phnum says the segment count is in section 0, but there is no section 0")
    if h.phentsize != _PHDR_SIZE[h.is64]:
        raise _corrupt(p, f"its program headers are {h.phentsize} bytes each (e_phentsize), not "
                          f"{_PHDR_SIZE[h.is64]}")
    if h.phoff < _EHDR_SIZE[h.is64]:
        raise _corrupt(p, f"its program headers start at {h.phoff} (e_phoff), inside the ELF header")
    if h.phoff > actual:
        raise _corrupt(p, f"its program headers start at {h.phoff} (e_phoff), past the end of the file "
                          f"({actual} bytes)")
    table = h.phoff + h.phnum * h.phentsize
    if actual < table:
        raise InputError(f"{p} is truncated: cut off at {actual} of at least {table} bytes; "
                         f"raise the limit with `ulimit -c unlimited`, then crash the program again")


def _check_layout(p: Path, h: _Header, segments: list[_Segment]) -> None:
    """Sizes and places a core writer could have written. A header that
    fails them is damaged; one that passes and ends past the file's end
    is a core that was cut off (which check_core then says)."""
    for seg in segments:
        if seg.filesz > _MAX_SEGMENT or seg.offset > _MAX_SEGMENT:
            raise _corrupt(p, f"segment {seg.index} claims {seg.filesz} bytes at offset {seg.offset}, more than "
                              f"any process's memory")
        if seg.p_type == PT_LOAD and seg.filesz > seg.memsz:
            raise _corrupt(p, f"segment {seg.index} holds {seg.filesz} bytes of a mapping of {seg.memsz}")
        if seg.p_type == PT_LOAD and seg.vaddr + seg.memsz > 1 << (64 if h.is64 else 32):
            raise _corrupt(p, f"segment {seg.index} maps {seg.memsz} bytes at {seg.vaddr:#x}, past the end of "
                              f"the address space")
    # In the file: after the headers, back to back, never two on the same bytes.
    previous_end, previous = h.phoff + h.phnum * h.phentsize, None
    for seg in sorted((s for s in segments if s.filesz), key=lambda s: s.offset):
        if seg.offset < previous_end:
            where = f"segment {previous.index}" if previous else "the ELF and program headers"
            raise _corrupt(p, f"segment {seg.index} (offset {seg.offset}) overlaps {where} in the file")
        if seg.offset - previous_end > _MAX_GAP:
            raise _corrupt(p, f"segment {seg.index} starts at offset {seg.offset}, {seg.offset - previous_end} "
                              f"bytes past the data before it, where no core writer puts a segment")
        previous_end, previous = seg.end, seg
    # In memory: one mapping per address.
    loads = sorted((s for s in segments if s.p_type == PT_LOAD and s.memsz), key=lambda s: s.vaddr)
    for before, seg in zip(loads, loads[1:]):
        if seg.vaddr < before.vaddr + before.memsz:
            raise _corrupt(p, f"segments {before.index} and {seg.index} both map address {seg.vaddr:#x}")


def _segments(f, p: Path, h: _Header, actual: int) -> list[_Segment]:
    if not h.phnum:
        return []
    raw = _read_at(f, p, h.phoff, h.phnum * h.phentsize)
    # Elf64_Phdr: type flags offset vaddr paddr filesz memsz ...;
    # Elf32: type offset vaddr paddr filesz memsz ...
    fmt, fields = (h.endian + "IIQQQQQ", (0, 2, 5, 3, 6)) if h.is64 else (h.endian + "IIIIII", (0, 1, 4, 2, 5))
    out = []
    for i in range(h.phnum):
        values = struct.unpack_from(fmt, raw, i * h.phentsize)
        out.append(_Segment(*(values[k] for k in fields), index=i))
    return out


def _sections(f, p: Path, h: _Header) -> list[tuple[str, int, int, int]]:
    """(name, sh_type, offset, size) of each section; [] when there is no table."""
    if not h.shoff or not h.shentsize:
        return []
    count = h.shnum
    fmt, fields = (h.endian + "IIQQQQ", (0, 1, 4, 5)) if h.is64 else (h.endian + "IIIIII", (0, 1, 4, 5))
    if count == 0:  # >= 0xff00 sections: the count is in section 0's sh_size
        count = struct.unpack_from(fmt, _read_at(f, p, h.shoff, h.shentsize))[5]
    raw = _read_at(f, p, h.shoff, count * h.shentsize)
    rows = [tuple(struct.unpack_from(fmt, raw, i * h.shentsize)[k] for k in fields) for i in range(count)]
    if h.shstrndx >= count:
        return [("", t, o, s) for _, t, o, s in rows]
    _, _, str_off, str_size = rows[h.shstrndx]
    names = _read_at(f, p, str_off, str_size)
    return [(_cstr(names, n), t, o, s) for n, t, o, s in rows]


def _notes(data: bytes, endian: str):
    """Yield (owner, type, desc) from a note segment; stop at anything malformed."""
    pos = 0
    while pos + 12 <= len(data):
        namesz, descsz, n_type = struct.unpack_from(endian + "III", data, pos)
        pos += 12
        name_end = pos + namesz
        desc_start = (name_end + 3) & ~3
        desc_end = desc_start + descsz
        if desc_end > len(data):
            return
        yield data[pos:name_end].rstrip(b"\0"), n_type, data[desc_start:desc_end]
        pos = (desc_end + 3) & ~3


def _file_note(desc: bytes, h: _Header) -> tuple[tuple[str, ...], tuple[tuple[int, int, int], ...]]:
    # NT_FILE: count, page_size, count x (start, end, file_ofs in pages), then count names.
    word = "Q" if h.is64 else "I"
    size = 8 if h.is64 else 4
    if len(desc) < 2 * size:
        return (), ()
    count = struct.unpack_from(h.endian + word, desc, 0)[0]
    names_at = 2 * size + 3 * size * count
    if names_at > len(desc):
        return (), ()
    mappings = tuple(struct.unpack_from(h.endian + word * 3, desc, 2 * size + 3 * size * i) for i in range(count))
    names = desc[names_at:].split(b"\0")[:count]
    return tuple(n.decode("utf-8", "surrogateescape") for n in names), mappings


def _cstr(table: bytes, offset: int) -> str:
    end = table.find(b"\0", offset)
    return table[offset:end if end >= 0 else len(table)].decode("ascii", "replace")


_PRODUCER = re.compile(rb"Go cmd/compile [^\0]{0,200}\0")
_CHUNK = 1 << 20


def go_producers(path: str | os.PathLike, enough: str = "") -> tuple[str, ...]:
    """The distinct DW_AT_producer strings of Go compile units.

    Reads .debug_info (zlib-compressed as SHF_COMPRESSED or .zdebug_info
    by Go's linker) a chunk at a time, and stops at the first producer
    containing `enough`. () when there is no readable DWARF.
    """
    p = Path(path)
    try:
        with open(p, "rb") as f:
            h = _header(f, p, f.read(64))
            sections = {name: (offset, size) for name, _, offset, size in _sections(f, p, h)}
            name = ".debug_info" if ".debug_info" in sections else ".zdebug_info"
            if name not in sections:
                return ()
            offset, size = sections[name]
            f.seek(offset)
            head = f.read(min(size, 24))
            decompress, skip = _dwarf_decompressor(head, h)
            f.seek(offset + skip)
            found: dict[str, None] = {}
            tail, left = b"", size - skip
            while left > 0:
                raw = f.read(min(_CHUNK, left))
                if not raw:
                    break
                left -= len(raw)
                data = tail + decompress(raw)
                for match in _PRODUCER.finditer(data):
                    producer = match[0][:-1].decode("utf-8", "replace")
                    found[producer] = None
                    if enough and enough in producer:
                        return tuple(found)
                tail = data[-256:]
            return tuple(found)
    except (OSError, InputError, zlib.error, struct.error):
        return ()


def _dwarf_decompressor(head: bytes, h: _Header):
    """(chunk -> bytes, bytes of header to skip) for a debug section."""
    if head.startswith(b"ZLIB"):  # .zdebug_*: "ZLIB" and a big-endian size
        return zlib.decompressobj().decompress, 12
    chdr = 24 if h.is64 else 12
    if len(head) >= chdr and struct.unpack_from(h.endian + "I", head, 0)[0] == 1:  # ELFCOMPRESS_ZLIB
        return zlib.decompressobj().decompress, chdr
    return (lambda raw: raw), 0
