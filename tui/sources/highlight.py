"""Reading a frame's source file and highlighting it (Pygments), for the
source pane. Delve's `list` silently prints nothing when a file is missing,
so we read and highlight files ourselves and use Delve only for the location.
"""

from __future__ import annotations

import functools
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from pygments.lexers import get_lexer_for_filename
from pygments.lexers.asm import GasLexer
from pygments.lexers.c_cpp import CLexer
from pygments.lexers.go import GoLexer
from pygments.styles import get_style_by_name
from pygments.util import ClassNotFound
from rich.style import Style
from rich.text import Text

from ..model import Frame, Instruction
from .locate import SourceContext
from .resolve import find

# locate's reason for a module missing from the cache names the command.
_DOWNLOAD = re.compile(r"`(go mod download [^`]+)`")

_MAX_BYTES = 8 << 20
# Pygments styles for dark and light Textual themes.
DARK_STYLE = "monokai"
LIGHT_STYLE = "friendly"
_LEXERS = {".go": GoLexer, ".s": GasLexer, ".c": CLexer, ".h": CLexer}
# Files of more lines than this are highlighted around the frame first:
# Pygments takes ~0.15 ms a line of Go (more for assembly), so a whole
# runtime file (signal_unix.go, 1.5k lines) would cost a keypress 0.2 s.
_LARGE = 300
_WINDOW = 60  # lines either side: more than a tall source pane shows
_LATER = 0.5
_GENTLE_TOKENS, _GENTLE_PAUSE = 300, 0.0005
_CACHED_FILES = 64


@dataclass(frozen=True)
class SourceFile:
    """A source file as the source pane shows it.

    requested is the path DWARF gave; path the file we found (None when
    none); lines the highlighted lines (plain str where a large file is not
    highlighted yet); missing_reason says why not.
    """

    requested: str
    path: str | None
    lines: tuple[Text | str, ...] = ()
    missing_reason: str = ""
    width: int = 0  # the widest line, in cells
    marked_line: int = 0  # a disassembly's line to mark (a source file's is the frame's)
    style: str = ""  # the Pygments style it was highlighted in
    origin: str = ""  # where it was found: checkout, GOROOT, module cache ... (sources/locate.py)
    warning: str = ""  # e.g. GOROOT is another Go than the target's: lines may not match
    # A missing module's `go mod download mod@version` (the pane offers to run it).
    download: str = ""


# (path, mtime, style): a file highlighted for one theme is not another's.
_Key = tuple[str, int, str]


class Highlighter:
    """Highlighted files, cached by file, modification time and style.

    A large file seen for the first time is highlighted around the frame's
    line at once, and whole on a background thread (so the first visit to
    runtime/proc.go, 8k lines and ~0.6 s of Pygments, does not hold up the
    panes); `on_highlighted(path)` is called from that thread when it is
    done, and load() returns it whole from then on.
    """

    def __init__(self, context: SourceContext | None = None,
                 on_highlighted: Callable[[str], None] | None = None) -> None:
        self.context = context
        self.on_highlighted = on_highlighted
        self.style = DARK_STYLE
        self._origins: dict[str, str] = {}
        self._cache: dict[_Key, tuple[tuple[Text, ...], int]] = {}
        self._warming: set[_Key] = set()
        self._lock = threading.Lock()

    def origin(self, requested: str) -> str:
        """Where a frame's file comes from on this machine (checkout, GOROOT,
        module cache ...), "" when it is not here. Asked once per file."""
        with self._lock:
            known = self._origins.get(requested)
        if known is None:
            found = find(requested, self.context)
            known = str(found.origin) if found.path is not None else ""
            with self._lock:
                self._origins[requested] = known
        return known

    def forget_origins(self) -> None:
        """Files may have appeared (a module downloaded): look again."""
        with self._lock:
            self._origins.clear()

    def origins(self, files) -> dict[str, str]:
        return {file: self.origin(file) for file in dict.fromkeys(files)}

    def use_light(self, light: bool) -> bool:
        """Highlight for a light or a dark background; True if that changed."""
        wanted = LIGHT_STYLE if light else DARK_STYLE
        if wanted == self.style:
            return False
        self.style = wanted
        return True

    def load(self, requested: str, line: int = 0) -> SourceFile:
        found = find(requested, self.context)
        path = found.path
        if path is None:
            download = _DOWNLOAD.search(found.missing)
            return SourceFile(requested, None, (), found.missing or f"{requested or 'unknown file'} is not on this machine",
                              download=download[1] if download else "")
        origin = {"origin": str(found.origin), "warning": found.warning}
        style = self.style
        try:
            stat = path.stat()
            if stat.st_size > _MAX_BYTES:
                return SourceFile(requested, str(path), (), f"{path} is larger than 8 MiB; not shown")
            key = (str(path), stat.st_mtime_ns, style)
            cached = self._cache.get(key)
            if cached is None:
                code = path.read_text(encoding="utf-8", errors="replace")
                if line and code.count("\n") > _LARGE:
                    lines, width = _around(code, str(path), line, style)
                    self._highlight_later(key, code)
                    return SourceFile(requested, str(path), lines, width=width, style=style, **origin)
                cached = self._remember(key, _highlight_all(code, str(path), style))
            return SourceFile(requested, str(path), cached[0], width=cached[1], style=style, **origin)
        except OSError as err:
            return SourceFile(requested, str(path), (), f"cannot read {path}: {err.strerror}")

    def _remember(self, key: _Key, value: tuple[tuple[Text, ...], int]) -> tuple[tuple[Text, ...], int]:
        with self._lock:
            if len(self._cache) >= _CACHED_FILES:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = value
        return value

    def _highlight_later(self, key: _Key, code: str) -> None:
        with self._lock:
            if key in self._warming:
                return
            self._warming.add(key)

        def highlight() -> None:
            try:
                self._remember(key, _highlight_all(code, key[0], key[2], gentle=True))
            finally:
                with self._lock:
                    self._warming.discard(key)
            if self.on_highlighted is not None:
                self.on_highlighted(key[0])

        # Later, not now: the panes this window is for should render first
        # (the full pass holds the GIL for a while).
        timer = threading.Timer(_LATER, highlight)
        timer.daemon = True
        timer.start()


def _highlight_all(code: str, filename: str, style: str, gentle: bool = False) -> tuple[tuple[Text, ...], int]:
    lines = highlight_code(code, filename, style, gentle)
    return lines, max((line.cell_len for line in lines), default=0)


def _around(code: str, filename: str, line: int, style: str) -> tuple[tuple[Text | str, ...], int]:
    """Plain lines, with a highlighted window around `line` (1-based)."""
    raw = code.expandtabs(4).split("\n")
    if raw and raw[-1] == "" and code.endswith("\n"):
        raw.pop()
    first = max(0, line - 1 - _WINDOW)
    last = min(len(raw), line + _WINDOW)
    window = highlight_code("\n".join(raw[first:last]) + "\n", filename, style)
    # Plain lines stay str (the view wraps the few it draws): building 8k
    # Text objects would cost more than highlighting the window.
    lines = raw[:first] + list(window) + raw[first + len(window):]
    return tuple(lines), max(map(len, raw), default=0)


def highlight_code(code: str, filename: str = "x.go", style: str = DARK_STYLE, gentle: bool = False) -> tuple[Text, ...]:
    """Pygments tokens -> one rich Text per line. `gentle` (a background
    pass) lets go of the GIL every few hundred tokens: otherwise the UI
    thread waits up to Python's switch interval at each of the many
    times a keypress's work gives up the GIL (every pty read), and a
    keypress during the pass takes 50-200 ms instead of 10."""
    # What Go stacks point at, without get_lexer_for_filename's scan of
    # every installed lexer plugin (~0.4 s on first use).
    known = _LEXERS.get(os.path.splitext(filename)[1])
    try:
        if known:
            lexer = known(stripnl=False, ensurenl=False)
        else:
            lexer = get_lexer_for_filename(filename, stripnl=False, ensurenl=False)
    except ClassNotFound:
        lexer = GoLexer(stripnl=False, ensurenl=False)
    styles = _token_styles(style)
    lines: list[Text] = [Text()]
    for count, (token_type, value) in enumerate(lexer.get_tokens(code.expandtabs(4))):
        if gentle and count % _GENTLE_TOKENS == 0:
            time.sleep(_GENTLE_PAUSE)
        token_style = styles.get(token_type)
        while token_style is None and token_type.parent is not None:
            token_type = token_type.parent
            token_style = styles.get(token_type)
        for i, piece in enumerate(value.split("\n")):
            if i:
                lines.append(Text())
            if piece:
                lines[-1].append(piece, token_style or "")
    if lines and not lines[-1].plain and code.endswith("\n"):
        lines.pop()
    return tuple(lines)


@functools.lru_cache(maxsize=2)
def _token_styles(name: str) -> dict:
    style = get_style_by_name(name)
    result = {}
    for token_type, spec in style:
        result[token_type] = Style(
            color=f"#{spec['color']}" if spec["color"] else None,
            bold=spec["bold"] or None,
            italic=spec["italic"] or None,
        )
    return result


def disassembly(frame: Frame, instructions: Sequence[Instruction], exact: bool = False) -> SourceFile:
    """The frame's function as instructions, for the source pane, with the
    line to mark. exact: the frame's PC is the instruction itself (frame 0,
    or the frame a signal interrupted), not a return address."""
    lines = []
    for instruction in instructions:
        text = Text(f"{instruction.location:<24} ", "dim")
        text.append(f"{instruction.pc:#x}  ", "cyan")
        text.append(instruction.text)
        lines.append(text)
    return SourceFile(f"disassembly of {frame.function}", None, tuple(lines),
                      width=max((line.cell_len for line in lines), default=0),
                      marked_line=_marked(frame, instructions, exact or frame.index == 0))


def _marked(frame: Frame, instructions: Sequence[Instruction], exact: bool) -> int:
    """Where the frame stopped (Delve's `=>`, or its PC); for a caller,
    whose PC is the return address, the call just before it."""
    for number, instruction in enumerate(instructions, 1):
        if instruction.current or (exact and instruction.pc == frame.pc):
            return number
    before = [number for number, instruction in enumerate(instructions, 1) if instruction.pc < frame.pc]
    return before[-1] if before else 1
