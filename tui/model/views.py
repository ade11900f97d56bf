"""What the frame panes show: a source file as highlighted for the source
pane, and one frame's view (its variables and its source). Values only:
tui/sources reads and highlights the files, tui/core fills the views."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from rich.text import Text

from . import FrameState


class Pane(Enum):
    """The panes a navigation not yet answered can leave showing an older
    selection (core/navigator.py says which)."""

    BACKTRACE = "backtrace"
    SOURCE = "source"
    VARIABLES = "variables"


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
    origin: str = ""  # where it was found: sources/locate.py's Origin
    warning: str = ""  # e.g. GOROOT is another Go than the target's: lines may not match
    # A missing module's `go mod download mod@version` (the pane offers to run it).
    download: str = ""


@dataclass(frozen=True)
class FrameView:
    """One frame as the source and variables panes show it."""

    goroutine_id: int | None
    frame_index: int
    state: FrameState
    source: SourceFile

    def line_text(self, line: int) -> str | None:
        """The text of a line of the source (None: no source, or a disassembly)."""
        if self.source.marked_line or not 0 < line <= len(self.source.lines):
            return None
        text = self.source.lines[line - 1]
        return text if isinstance(text, str) else text.plain
