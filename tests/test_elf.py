"""tui.debugger.elf on real cores and executables, and on files broken in the ways users break them."""

from __future__ import annotations

import dataclasses
import gzip
import lzma
import os
import platform
import struct
import subprocess

import pytest
from reads import count_reads

from tui.debugger import elf
from tui.cli.corerun import go_env

HOST = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())


def head(path, n):
    with open(path, "rb") as f:
        return f.read(n)


def test_real_cores_and_executables(cores):
    for fixture in cores.values():
        exe = elf.check_executable(fixture.exe)
        core = elf.check_core(fixture.core)
        pie = fixture.name == "pie_panic"  # built with -buildmode=pie
        assert (exe.machine, exe.is_pie, exe.has_debug_info) == (HOST, pie, True), fixture.name
        assert exe.go_build_id and exe.go_build_id.count("/") == 3
        # GOTRACEBACK=crash ends every crash, panic or fatal error, with
        # SIGABRT; gdb's gcore dumps a live process with no signal.
        assert core.signal == (0 if fixture.name == "gcore_live" else 6), fixture.name
        assert core.machine == HOST
        assert core.main_executable == str(fixture.exe)
        assert core.mapped_files[0] == str(fixture.exe)
        assert core.actual_size == fixture.core.stat().st_size
        if fixture.name == "gcore_live":  # gdb writes a section table after the segments
            assert core.expected_size < core.actual_size
        else:
            assert core.expected_size == core.actual_size, fixture.name
        elf.check_pair(exe, core)


def test_only_headers_and_notes_are_read(cores, monkeypatch):
    fixture = cores["goroutine_panic"]
    read = count_reads(monkeypatch, elf)
    elf.check_core(fixture.core)
    assert 0 < sum(read) < 64 * 1024 < fixture.core.stat().st_size


@pytest.mark.toolchain_independent
def test_missing_directory_fifo(tmp_path):
    with pytest.raises(elf.InputError, match=r"^.*/nope: no such file; check the path$"):
        elf.check_core(tmp_path / "nope")
    with pytest.raises(elf.InputError, match="is a directory; pass the Go binary that crashed"):
        elf.check_executable(tmp_path)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(elf.InputError, match="fifo is not a regular file"):
        elf.check_core(fifo)


@pytest.mark.toolchain_independent
def test_unreadable(tmp_path, monkeypatch):
    locked = tmp_path / "core"
    locked.write_bytes(b"\x7fELF")
    locked.chmod(0)
    if os.access(locked, os.R_OK):  # running as root: make open() fail as it would for a user

        def denied(*args):
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr(elf, "open", denied, raising=False)
    with pytest.raises(elf.InputError, match=r"core: permission denied; run as its owner, or `sudo chmod a\+r "):
        elf.check_core(locked)


@pytest.mark.toolchain_independent
def test_empty_and_text_files(tmp_path):
    empty = tmp_path / "empty.core"
    empty.write_bytes(b"")
    with pytest.raises(elf.InputError, match=r"empty.core is empty \(0 bytes\).*ulimit -c unlimited"):
        elf.check_core(empty)
    with pytest.raises(elf.InputError, match=r"empty.core is empty \(0 bytes\); pass the Go binary"):
        elf.check_executable(empty)
    text = tmp_path / "notes.txt"
    text.write_text("package main\n")
    with pytest.raises(elf.InputError, match="notes.txt is not an ELF core dump; pass the core file"):
        elf.check_core(text)
    with pytest.raises(elf.InputError, match="notes.txt is not an ELF file; pass the Go executable"):
        elf.check_executable(text)


def test_compressed_cores(cores, tmp_path):
    header = head(cores["goroutine_panic"].core, 4096)
    cases = {
        "core.gz": (gzip.compress(header), "gzip", "gzip -dc"),
        "core.xz": (lzma.compress(header), "xz", "xz -dc"),
        # zstd and lz4 are not in the standard library: their frame magic is what is checked.
        "core.zst": (b"\x28\xb5\x2f\xfd" + bytes(60), "zstd", "zstd -d"),
        "core.lz4": (b"\x04\x22\x4d\x18" + bytes(60), "lz4", "lz4 -d"),
    }
    for name, (data, tool, command) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(elf.InputError) as err:
            elf.check_core(path)
        assert str(err.value).startswith(f"{path} is a {tool}-compressed core; decompress it first: {command}")
    with pytest.raises(elf.InputError, match="coredumpctl dump"):
        elf.check_core(tmp_path / "core.zst")


def test_wrong_kind_of_elf(cores):
    fixture = cores["goroutine_panic"]
    with pytest.raises(elf.InputError, match="main is an ELF executable, not a core dump"):
        elf.check_core(fixture.exe)
    with pytest.raises(elf.InputError, match="core is a core dump, not an executable"):
        elf.check_executable(fixture.core)


@pytest.mark.parametrize("size", [1 << 20, 4096, 100, 40])
def test_truncated_core(cores, tmp_path, size):
    real = cores["goroutine_panic"].core
    cut = tmp_path / "cut.core"
    cut.write_bytes(head(real, size))
    with pytest.raises(elf.InputError) as err:
        elf.check_core(cut)
    message = str(err.value)
    assert message.startswith(f"{cut} is truncated")
    if size >= 4096:  # past the program headers: the full size is known
        assert f"cut off at {size} of {real.stat().st_size} bytes" in message
        assert "ulimit -c unlimited" in message
    else:
        assert "ulimit -c unlimited" in message or "header" in message


def _go_build(fixture, out, *flags, env=None):
    subprocess.run([fixture.go, "build", *flags, "-o", str(out), "."], cwd=fixture.source.parent,
                   check=True, env=dict(go_env(), **(env or {})))


def test_stripped_executable(cores, tmp_path):
    stripped = tmp_path / "stripped"
    _go_build(cores["goroutine_panic"], stripped, "-ldflags=-s -w")
    with pytest.raises(elf.InputError) as err:
        elf.check_executable(stripped)
    assert str(err.value) == (f"{stripped} has no DWARF debug info (stripped); rebuild without "
                              f"-ldflags=\"-s -w\", e.g. go build -gcflags=all=\"-N -l\"")


def test_architecture_mismatch(cores, tmp_path):
    fixture = cores["goroutine_panic"]
    other = "amd64" if HOST == "arm64" else "arm64"
    foreign = tmp_path / f"main-{other}"
    _go_build(fixture, foreign, env={"GOARCH": other, "CGO_ENABLED": "0"})
    exe = elf.check_executable(foreign)
    assert exe.machine == other
    with pytest.raises(elf.InputError) as err:
        elf.check_pair(exe, elf.check_core(fixture.core))
    assert str(err.value) == (f"{fixture.core} was dumped by a {HOST} process but {foreign} is built for "
                              f"{other}; pass the executable that produced this core")


def _note(owner: bytes, n_type: int, desc: bytes, e: str) -> bytes:
    name = owner + b"\0"
    pad = lambda b: b + bytes(-len(b) % 4)  # noqa: E731
    return struct.pack(e + "III", len(name), len(desc), n_type) + pad(name) + pad(desc)


def craft_core(machine: int, e: str = "<", signal: int = 11, files=("/srv/app", "/lib/libc.so.6"),
               xnum: bool = False, load_size: int = 0x2000) -> bytes:
    """A minimal ELF64 core: a NOTE segment (PRSTATUS, FILE) and one LOAD segment."""
    prstatus = bytearray(0x150)  # struct elf_prstatus; only pr_cursig (offset 12) matters here
    struct.pack_into(e + "ih", prstatus, 0, signal, signal)
    struct.pack_into(e + "h", prstatus, 12, signal)
    table = b"".join(struct.pack(e + "QQQ", 0x400000 * (i + 1), 0x400000 * (i + 1) + 0x1000, 0)
                     for i in range(len(files)))
    file_desc = struct.pack(e + "QQ", len(files), 4096) + table + b"".join(f.encode() + b"\0" for f in files)
    notes = _note(b"CORE", 1, bytes(prstatus), e) + _note(b"CORE", 0x46494C45, file_desc, e)
    phoff, shoff = 64, 64 + 2 * 56
    notes_at = shoff + (64 if xnum else 0)
    load_at = notes_at + len(notes)
    ident = b"\x7fELF" + bytes([2, 1 if e == "<" else 2, 1]) + bytes(9)
    ehdr = ident + struct.pack(e + "HHIQQQIHHHHHH", 4, machine, 1, 0, phoff, shoff if xnum else 0, 0, 64, 56,
                               0xFFFF if xnum else 2, 64 if xnum else 0, 1 if xnum else 0, 0)
    phdrs = (struct.pack(e + "IIQQQQQQ", 4, 0, notes_at, 0, 0, len(notes), 0, 4)
             + struct.pack(e + "IIQQQQQQ", 1, 5, load_at, 0x400000, 0, load_size, load_size, 4096))
    section0 = struct.pack(e + "IIQQQQIIQQ", 0, 0, 0, 0, 0, 0, 0, 2, 0, 0) if xnum else b""
    return ehdr + phdrs + section0 + notes + bytes(load_size)


@pytest.mark.toolchain_independent
@pytest.mark.parametrize("machine, name, e, xnum", [
    (183, "arm64", "<", False),
    (62, "amd64", "<", True),  # PN_XNUM: the segment count lives in section 0
    (22, "s390x", ">", False),  # big-endian
])
def test_crafted_cores(tmp_path, machine, name, e, xnum):
    path = tmp_path / "core"
    data = craft_core(machine, e, xnum=xnum)
    path.write_bytes(data)
    info = elf.check_core(path)
    assert (info.machine, info.signal) == (name, 11)
    assert info.mapped_files == ("/srv/app", "/lib/libc.so.6") and info.main_executable == "/srv/app"
    assert info.expected_size == info.actual_size == len(data)
    path.write_bytes(data[:-100])
    with pytest.raises(elf.InputError, match=f"cut off at {len(data) - 100} of {len(data)} bytes"):
        elf.check_core(path)


def test_check_pair_names_both_files(cores):
    fixture = cores["goroutine_panic"]
    exe = elf.check_executable(fixture.exe)
    core = dataclasses.replace(elf.check_core(fixture.core), machine="riscv64")
    with pytest.raises(elf.InputError, match="dumped by a riscv64 process but .* is built for"):
        elf.check_pair(exe, core)


def _patched(data: bytes, offset: int, fmt: str, value: int) -> bytes:
    out = bytearray(data)
    struct.pack_into(fmt, out, offset, value)
    return bytes(out)


# craft_core's layout: program headers at 64 (NOTE, then LOAD at 120); in a
# header, p_offset is at +8, p_vaddr +16, p_filesz +32, p_memsz +40.
_LOAD = 64 + 56


@pytest.mark.toolchain_independent
@pytest.mark.parametrize("offset, fmt, value, says", [
    (_LOAD + 32, "<Q", 25895697898782720, "segment 1 claims 25895697898782720 bytes"),  # the 25 PB
    (_LOAD + 32, "<Q", 0x3000, "segment 1 holds 12288 bytes of a mapping of 8192"),
    (_LOAD + 40, "<Q", 0, "of a mapping of 0"),
    (_LOAD + 8, "<Q", 1 << 40, "bytes past the data before it"),
    (_LOAD + 8, "<Q", 200, "overlaps segment 0 in the file"),
    (_LOAD + 8, "<Q", 100, "overlaps the ELF and program headers"),
    (_LOAD + 16, "<Q", (1 << 64) - 0x1000, "past the end of the address space"),
    (54, "<H", 40, "program headers are 40 bytes each"),
    (56, "<H", 0, "no program headers"),
    (56, "<H", 0xFFFF, "no section 0"),
    (32, "<Q", 0, "inside the ELF header"),
    (32, "<Q", 1 << 20, "past the end of the file"),
])
def test_a_damaged_header_is_corrupt_not_truncated(tmp_path, offset, fmt, value, says):
    path = tmp_path / "core"
    path.write_bytes(_patched(craft_core(62), offset, fmt, value))
    with pytest.raises(elf.InputError) as err:
        elf.check_core(path)
    message = str(err.value)
    assert message.startswith(f"{path} is corrupt: ") and says in message, message
    assert "truncated" not in message and "cut off at" not in message


@pytest.mark.toolchain_independent
def test_two_segments_mapping_one_address_are_corrupt(tmp_path):
    data = craft_core(62)
    # A second LOAD: the NOTE header turned into one at the LOAD's address.
    data = _patched(_patched(_patched(data, 64, "<I", 1), 64 + 16, "<Q", 0x401000), 64 + 40, "<Q", 0x10000)
    path = tmp_path / "core"
    path.write_bytes(data)
    with pytest.raises(elf.InputError, match="corrupt: segments 1 and 0 both map address 0x401000"):
        elf.check_core(path)


@pytest.mark.toolchain_independent
def test_a_cut_inside_the_program_headers_is_truncated(tmp_path):
    path = tmp_path / "core"
    path.write_bytes(craft_core(62)[:100])
    with pytest.raises(elf.InputError, match=r"is truncated: cut off at 100 of at least 176 bytes"):
        elf.check_core(path)
