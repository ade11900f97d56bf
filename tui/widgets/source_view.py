"""The source pane: a highlighted file with the frame's line marked.

A Line-API ScrollView: only the visible lines are turned into Strips, so a
7,000-line runtime file costs no more than a 20-line one.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ..model import Location
from ..model.views import SourceFile
from .keys import row_keys

MARK = "▶"
_GUTTER_STYLE = Style(color="#75715e")
_MARK_STYLE = Style(color="#ff5f5f", bold=True)
_MARKED_LINE = Style(bgcolor="#3a2a2a")
_FOUND_LINE = Style(bgcolor="#1f3a5a", underline=True)
# On a light theme: the same marks, light.
_MARKED_LINE_LIGHT = Style(bgcolor="#ffe0e0")
_FOUND_LINE_LIGHT = Style(bgcolor="#d8e8ff", underline=True)


class SourceView(ScrollView, can_focus=True):
    """Shows a SourceFile; `marked_line` is 1-based, 0 for none."""

    BINDINGS = row_keys("source", "scroll_down", "scroll_up") + [
        Binding("slash", "search", "Search", id="source.search", tooltip="Search this file (n / N: next / previous)"),
        Binding("n", "next_match(1)", "Next", show=False, id="source.next", tooltip="Next match of the search"),
        Binding("N", "next_match(-1)", "Previous", show=False, id="source.previous",
                tooltip="Previous match of the search"),
    ]
    DEFAULT_CSS = """
    SourceView { background: $surface; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._lines: tuple[Text | str, ...] = ()
        self._notice: tuple[Text, ...] = (Text("loading…", style="dim"),)
        self.marked_line = 0
        self.path = ""
        self._width = 0
        # The search (`/` here): its text and the line of the match shown.
        self.search_text = ""
        self.found_line = 0

    def show(self, source: SourceFile, location: Location) -> None:
        self.found_line = 0
        self.path = source.path or source.requested
        self.marked_line = location.line
        if source.lines:
            self._lines = source.lines
            self._width = source.width
            self._notice = ()
        else:
            self._lines = ()
            self._notice = (
                Text(source.missing_reason or "no source", style="bold yellow"),
                Text(""),
                Text(f"{MARK} {location.file or '?'}:{location.line} {location.function}", style="bold"),
            )
        self._resize()
        self.centre_on_mark()

    @property
    def fully_highlighted(self) -> bool:
        """Every line on show is highlighted (a large file's lines away from
        the frame are plain text until its background pass is done)."""
        return all(not isinstance(line, str) for line in self._lines)

    def restyle(self, source: SourceFile) -> None:
        """The same file, highlighted anew: where the view is stays."""
        if (source.path or source.requested) == self.path and len(source.lines) == len(self._lines):
            self._lines = source.lines
            self.refresh()

    def clear(self) -> None:
        self._lines, self._notice, self.marked_line = (), (Text("loading…", style="dim"),), 0
        self._resize()

    @property
    def gutter_width(self) -> int:
        return len(str(len(self._lines))) + 3

    def _resize(self) -> None:
        if self._lines:
            rows, width = len(self._lines), self._width
        else:
            rows, width = len(self._notice), max((line.cell_len for line in self._notice), default=0)
        self.virtual_size = Size(width + self.gutter_width, rows)
        self.refresh()

    def centre_on_mark(self) -> None:
        if self.marked_line and self._lines:
            target = max(0, self.marked_line - 1 - self.size.height // 2)
            # force: coming from a file short enough to need no scrollbar,
            # Textual refuses to scroll until the next layout shows one.
            # immediate: no frame drawn at the old offset in the new file.
            self.scroll_to(y=target, animate=False, force=True, immediate=True)

    def on_resize(self) -> None:
        self.centre_on_mark()

    @property
    def mark_visible(self) -> bool:
        """Whether the marked line is inside the window (for tests)."""
        top = self.scroll_offset.y
        return top < self.marked_line <= top + self.size.height

    @dataclass
    class SearchWanted(Message):
        """`/` in this pane: the screen asks for the text, then calls search()."""

        current: str
        """The search text so far."""

    def action_search(self) -> None:
        self.post_message(self.SearchWanted(self.search_text))

    def search(self, text: str) -> None:
        """Find `text` from the marked line on (n / N go on from there)."""
        if text:
            self.search_text = text
            self.found_line = 0
            self.action_next_match(1)

    def action_next_match(self, step: int) -> None:
        if not self.search_text or not self._lines:
            return
        found = self.find(self.search_text, self.found_line or self.marked_line or 1, step,
                          first=not self.found_line)
        if not found:
            self.notify(f"{self.search_text!r} is not in this file", severity="warning", markup=False)
            return
        self.found_line = found
        self.scroll_to(y=max(0, found - 1 - self.size.height // 2), animate=False, force=True, immediate=True)
        self.refresh()

    def find(self, text: str, start: int, step: int = 1, first: bool = False) -> int:
        """The 1-based line after (or before) `start`, wrapping around, that
        contains text (case-insensitive); `first` counts start itself; 0 if none."""
        needle, count = text.lower(), len(self._lines)
        for offset in range(0 if first else 1, count + 1):
            number = (start - 1 + step * offset) % count + 1
            if needle in self.line_text(number).lower():
                return number
        return 0

    def line_text(self, number: int) -> str:
        """The plain text of a 1-based line (for tests and search)."""
        if not 0 < number <= len(self._lines):
            return ""
        line = self._lines[number - 1]
        return line if isinstance(line, str) else line.plain

    def render_line(self, y: int) -> Strip:
        # Every segment gets a style (the widget's own underneath): NO_COLOR's
        # monochrome filter cannot take a segment without one.
        return self._line(y).apply_style(self.rich_style)

    def _line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.size.width
        if not self._lines:
            if index >= len(self._notice):
                return Strip.blank(width)
            segments = list(self._notice[index].render(self.app.console))
            return Strip(segments).crop_extend(scroll_x, scroll_x + width, None)
        if index >= len(self._lines):
            return Strip.blank(width)
        number = index + 1
        marked = number == self.marked_line
        digits = len(str(len(self._lines)))
        gutter = [
            Segment(f"{MARK} " if marked else "  ", _MARK_STYLE if marked else _GUTTER_STYLE),
            Segment(f"{number:>{digits}} ", _MARK_STYLE if marked else _GUTTER_STYLE),
        ]
        line = self._lines[index]
        body = list((Text(line) if isinstance(line, str) else line).render(self.app.console))
        light = not self.app.current_theme.dark
        if marked:
            line_style = _MARKED_LINE_LIGHT if light else _MARKED_LINE
        elif number == self.found_line:
            line_style = _FOUND_LINE_LIGHT if light else _FOUND_LINE
        else:
            line_style = None
        strip = Strip(gutter + body).crop_extend(scroll_x, scroll_x + width, line_style)
        if line_style is not None:
            strip = strip.apply_style(line_style)
        return strip
