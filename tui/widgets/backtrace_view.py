"""The backtrace of the selected goroutine: runtime frames dimmed."""

from __future__ import annotations

from rich.text import Text

from ..model import Backtrace
from .fitted_table import FittedTable
from .keys import row_keys


class BacktraceView(FittedTable):
    """Rows keyed by frame index; the cursor is the selected frame."""

    BINDINGS = row_keys("backtrace")

    DEFAULT_CSS = """
    BacktraceView { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.backtrace: Backtrace | None = None

    def on_mount(self) -> None:
        self.add_columns("#", "function", "location")

    def show(self, backtrace: Backtrace, selected: int) -> None:
        self.backtrace = backtrace
        self.clear()
        # The program's own frames stand out; the runtime's, the standard
        # library's and dependencies' are dimmed (when no frame is known to be
        # the program's own, only the runtime's).
        marked = any(frame.own for frame in backtrace.frames)
        for frame in backtrace.frames:
            style = "bold" if (frame.own if marked else not frame.is_runtime) else "dim"
            where = f"{frame.file.rsplit('/', 1)[-1]}:{frame.line}" if frame.file else "?"
            if frame.error:
                where = f"error: {frame.error}"
            self.add_row(Text(str(frame.index), style), Text(frame.function, style), Text(where, style),
                         key=str(frame.index))
        if backtrace.truncated:
            self.add_row(Text("…", "dim"), Text("(truncated)", "dim"), Text(""), key="truncated")
        self.select(selected)

    def select(self, index: int) -> None:
        if self.backtrace and 0 <= index < len(self.backtrace.frames):
            self.move_cursor(row=index, animate=False, scroll=True)

    @property
    def selected_index(self) -> int | None:
        if not self.backtrace or not self.backtrace.frames:
            return None
        return min(self.cursor_row, len(self.backtrace.frames) - 1)
