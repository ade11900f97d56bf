"""C code in a dumped process: which ELF image holds a pc (the executable,
or a shared library the core's NT_FILE note says was mapped), its unwind
table (cfi.py), and the name and place of a C frame.

A shared library is read from this machine's disk, where the core says it
was mapped from; its first page, which the core keeps, must be the file's
(a library upgraded since the crash is not read). A C function is named
by the image's ELF symbols; its file:line comes from the DWARF line table
of the executable (cgo code built with -g) where it has one.
"""

from __future__ import annotations

import bisect
import os
from dataclasses import dataclass, field

from ..model import Location
from .cfi import CfiError, FrameTable
from .elfimage import ElfImage
from .errors import BadRead, Unsupported

# DW_LANG_* of C (and C++, whose frames cgo code may call into).
_C_LANGUAGES = frozenset({0x01, 0x02, 0x04, 0x0C, 0x1A, 0x1D, 0x21, 0x2C})
_PAGE = 4096


@dataclass
class CodeImage:
    """One ELF image mapped into the process at bias (runtime = static + bias)."""

    path: str
    image: ElfImage
    bias: int
    table: FrameTable | None = None
    functions: list[tuple[int, int, str]] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    lines: list[tuple[int, str, int]] | None = None  # (static address, file, line), sorted

    def function(self, static: int) -> str:
        i = bisect.bisect_right(self.starts, static) - 1
        if i >= 0:
            value, size, name = self.functions[i]
            if static < value + max(size, 1) or size == 0:
                return name
        return ""


class CodeModules:
    """The executable and the shared libraries of one core."""

    def __init__(self, memory, exe: ElfImage, layouts=None) -> None:
        self.memory = memory
        self.exe = exe
        self.layouts = layouts
        self._images: dict[str, CodeImage | None] = {}
        # (start, end, path, base) of each file mapping, by start.
        mappings = []
        bases: dict[str, int] = {}
        for start, end, offset, name in memory.mapped_files:
            if offset == 0 and name not in bases:
                bases[name] = start
            mappings.append((start, end, name))
        self._mappings = sorted((start, end, name, bases.get(name)) for start, end, name in mappings)
        self._starts = [m[0] for m in self._mappings]

    def close(self) -> None:
        for image in self._images.values():
            if image is not None and image.image is not self.exe:
                image.image.close()
        self._images = {}

    def image_of(self, pc: int) -> CodeImage | None:
        """The image whose mapping holds runtime pc (None: none, or unreadable)."""
        i = bisect.bisect_right(self._starts, pc) - 1
        if i < 0:
            return None
        start, end, path, base = self._mappings[i]
        if pc >= end or base is None:
            return None
        if path not in self._images:
            self._images[path] = self._open(path, base)
        return self._images[path]

    def _open(self, path: str, base: int) -> CodeImage | None:
        if os.path.realpath(path) == os.path.realpath(self.exe.path):
            image, bias = self.exe, self.memory.bias
        else:
            try:
                image = ElfImage(path, "shared library")
            except Unsupported:
                return None
            try:
                if self.memory.read(base, _PAGE) != bytes(image.data[:_PAGE]):
                    image.close()
                    return None  # not the library that was mapped (upgraded since)
            except BadRead:
                pass  # the core did not keep its first page: trust the path
            first = min((s.vaddr - s.offset for s in image.load_segments() if s.offset == 0), default=0)
            bias = base - first
        code = CodeImage(path, image, bias)
        try:
            code.table = FrameTable.of(image)
            code.functions = image.function_symbols()
        except (CfiError, Unsupported):
            pass
        code.starts = [value for value, _, _ in code.functions]
        return code

    def location(self, pc: int, exact: bool) -> Location | None:
        """A C frame's Location: its function (ELF symbol, else the image's
        name and offset) and, from the executable's DWARF line table, file
        and line; exact: pc is where it stopped (else a return address, looked up at pc-1)."""
        image = self.image_of(pc)
        if image is None:
            return None
        static = pc - image.bias - (0 if exact else 1)
        name = image.function(static) or f"{os.path.basename(image.path)}+{static:#x}"
        file, line = self._line(image, static)
        return Location(file, line, name)

    def _line(self, image: CodeImage, static: int) -> tuple[str, int]:
        if image.image is not self.exe or self.layouts is None:
            return "", 0
        if image.lines is None:
            image.lines = self._c_lines()
        rows = image.lines
        i = bisect.bisect_right(rows, (static, "\uffff", 1 << 62)) - 1
        if i >= 0 and rows[i][2] > 0 and rows[i][1]:
            return rows[i][1], rows[i][2]
        return "", 0

    def _c_lines(self) -> list[tuple[int, str, int]]:
        """The executable's DWARF line rows of its C compile units (cgo
        preambles and .c files): (address, file, line), sorted; an end of
        sequence is a row with line 0."""
        rows: list[tuple[int, str, int]] = []
        try:
            dwarf = self.layouts.dwarf_info()
            for cu in dwarf.iter_CUs():
                language = cu.get_top_DIE().attributes.get("DW_AT_language")
                if language is None or language.value not in _C_LANGUAGES:
                    continue
                program = dwarf.line_program_for_CU(cu)
                if program is None:
                    continue
                header = program.header
                version = header["version"]
                files = header["file_entry"]
                directories = header["include_directory"]
                for entry in program.get_entries():
                    state = entry.state
                    if state is None:
                        continue
                    if state.end_sequence:
                        rows.append((state.address, "", 0))
                        continue
                    rows.append((state.address, _file_name(files, directories, state.file, version), state.line))
        except Exception:  # pyelftools on DWARF it does not model: no lines, names still
            return sorted(rows)
        rows.sort()
        return rows


def _file_name(files, directories, index: int, version: int) -> str:
    at = index if version >= 5 else index - 1
    if not 0 <= at < len(files):
        return ""
    entry = files[at]
    name = entry.name.decode("utf-8", "replace") if isinstance(entry.name, bytes) else str(entry.name)
    if name.startswith("/"):
        return name
    dir_at = entry.dir_index if version >= 5 else entry.dir_index - 1
    if 0 <= dir_at < len(directories):
        directory = directories[dir_at]
        directory = directory.decode("utf-8", "replace") if isinstance(directory, bytes) else str(directory)
        return os.path.join(directory, name)
    return name
