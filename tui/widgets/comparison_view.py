"""GDB vs Delve on the same core: the verdict, a scorecard, the faulting
frame's variables as each debugger printed them, the two backtraces of the
crashing thread aligned row by row, a goroutine's two stacks (the one the
user picks), what Go's runtime-gdb.py could (not) do, and gdb's raw output
on `r`.

Shows values only (GdbRun, Comparison); the app runs gdb and compares.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Static, TabbedContent, TabPane

from ..analysis.compare import Comparison, GoroutineStacks, Row, RowMark, ValueRow
from ..model import Frame, GdbRun, Location, is_runtime_function

RUNNING = "running gdb on the same core…"

# Short enough for 120 columns; the position (between Delve and gdb) says whose.
MARKS = {
    RowMark.SAME: "=",
    RowMark.WRONG_LINE: "≠ line",
    RowMark.OTHER_FUNCTION: "≠ function",
    RowMark.GDB_UNKNOWN: "? unknown",
    RowMark.GDB_MISSING: "✗ missing",
    RowMark.GDB_ONLY: "+ gdb only",
    RowMark.SIGNAL_HANDLER: "~ signal",
}


THREAD_TAB, GOROUTINES_TAB = "tab-thread", "tab-goroutines"
VALUE_COLUMNS = ("variable", "Delve printed", "gdb printed", "gdb's is")
STACK_COLUMNS = ("#", "function", "file:line")
# Values are cut (with …) so that both columns fit side by side in the
# pane's width; never narrower than this.
VALUE_WIDTH = 24


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _cut(text: str, width: int = VALUE_WIDTH) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _place(location: Location | None) -> str:
    if location is None:
        return ""
    return f"{location.file.rsplit('/', 1)[-1]}:{location.line}" if location.file else ""


def _gdb_verdict(pair: GoroutineStacks) -> str:
    """The goroutine list's gdb column: what gdb printed of its stack."""
    if pair.gdb_whole:
        return "whole"
    if pair.gdb is None:
        return "listed, no stack" if pair.listed_by_gdb else "not listed"
    if pair.gdb.error:
        return "error"
    if pair.gdb.frames and pair.gdb.frames[-1].function == "???":
        return "stops at ??"
    return "other frames" if pair.gdb.frames else "no frames"


def _where(frame: Frame | None) -> str:
    if frame is None:
        return ""
    if frame.error:
        return f"error: {frame.error}"
    return f"{frame.file.rsplit('/', 1)[-1]}:{frame.line}" if frame.file else ""


def _refill(table: DataTable, columns: tuple[str, ...], rows: list[tuple[str, list[Text]]]) -> None:
    """Another stack in the same table: columns sized afresh (clear() keeps
    the widths the last stack needed); the same one updated in place."""
    if [key.value for key in table.rows] == [key for key, _ in rows]:
        _fill(table, rows)
        return
    table.clear(columns=True)
    table.add_columns(*columns)
    for key, cells in rows:
        table.add_row(*cells, key=key)


def _fill(table: DataTable, rows: list[tuple[str, list[Text]]]) -> None:
    """Update cells by key when the rows are the same ones, so the cursor and
    scroll stay put: the app calls show() again as Delve's data completes."""
    if [key.value for key in table.rows] != [key for key, _ in rows]:
        table.clear()
        for key, cells in rows:
            table.add_row(*cells, key=key)
        return
    for key, cells in rows:
        for column, cell in zip(table.columns, cells):
            table.update_cell(key, column, cell, update_width=True)


class ComparisonView(Vertical):
    """The comparison pane. Call show_running(), show() or show_error();
    its screen binds the keys of the actions below."""

    # Cell styles come from the theme through these, not from fixed colours.
    COMPONENT_CLASSES = {
        "comparison-view--better",
        "comparison-view--warning",
        "comparison-view--user",
        "comparison-view--runtime",
        "comparison-view--heading",
    }

    DEFAULT_CSS = """
    ComparisonView { height: 1fr; }
    ComparisonView > #verdict { height: auto; padding: 0 1; background: $boost; text-style: bold; }
    ComparisonView > #body { height: 1fr; }
    ComparisonView #scorecard { height: auto; margin: 1 0 0 0; }
    ComparisonView #values { height: auto; max-height: 12; border: round $primary-muted; }
    ComparisonView #views { height: 1fr; min-height: 8; }
    ComparisonView #views > ContentSwitcher { height: 1fr; }
    ComparisonView TabPane { height: 1fr; padding: 0; }
    ComparisonView #rows { width: auto; max-width: 100%; height: 1fr; min-height: 6; border: round $primary-muted; }
    ComparisonView #picker { width: 42; height: 1fr; border: round $primary-muted; }
    ComparisonView #delve-stack, ComparisonView #gdb-side { width: 1fr; height: 1fr; border: round $primary-muted; }
    ComparisonView #gdb-stack { height: 1fr; }
    ComparisonView #gdb-note { height: auto; padding: 0 1; }
    ComparisonView #rows:focus, ComparisonView #picker:focus, ComparisonView #values:focus { border: round $primary; }
    ComparisonView #findings { height: auto; max-height: 12; padding: 0 1; }
    ComparisonView > #raw { height: 1fr; display: none; }
    ComparisonView #raw-status { height: auto; padding: 0 1; background: $boost; }
    ComparisonView #raw-scroll { height: 1fr; padding: 0 1; }
    ComparisonView.-raw > #raw { display: block; }
    ComparisonView.-raw > #body, ComparisonView.-waiting > #body { display: none; }
    ComparisonView .comparison-view--better { color: $success; text-style: bold; }
    ComparisonView .comparison-view--warning { color: $warning; }
    ComparisonView .comparison-view--user { color: $text-primary; text-style: bold; }
    ComparisonView .comparison-view--runtime { text-style: dim; }
    ComparisonView .comparison-view--heading { text-style: bold underline; }
    """

    class FrameChosen(Message):
        """Posted when the user selects (enter or click) an aligned row that
        has a Delve frame. Handle with `on_comparison_view_frame_chosen`."""

        def __init__(self, comparison_view: ComparisonView, frame_index: int) -> None:
            self.comparison_view = comparison_view
            """The view the row was chosen in."""
            self.frame_index = frame_index
            """The frame's index in Delve's backtrace of the crashing stack
            (the stack gdb's `bt` walks): where to move the main view."""
            super().__init__()

        @property
        def control(self) -> ComparisonView:
            """Alias for comparison_view, for `@on(..., selector)`."""
            return self.comparison_view

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.add_class("-waiting")  # until show(): no tables yet
        self.run: GdbRun | None = None
        self.comparison: Comparison | None = None
        self.folded = True
        self._raw = ""

    def compose(self) -> ComposeResult:
        yield Static(Text(RUNNING, "italic"), id="verdict")
        with Vertical(id="body"):
            card = DataTable(id="scorecard", cursor_type="none", zebra_stripes=True)
            card.can_focus = False  # nothing to select: keep it out of the tab order
            card.add_columns("measure", "Delve", "gdb")
            yield card
            values = DataTable(id="values", cursor_type="row", zebra_stripes=True)
            values.add_columns(*VALUE_COLUMNS)
            values.border_title = "the faulting frame's variables"
            yield values
            with TabbedContent(id="views", initial=THREAD_TAB):
                with TabPane("crashing thread (b)", id=THREAD_TAB):
                    rows = DataTable(id="rows", cursor_type="row", zebra_stripes=False)
                    rows.add_columns("#", "Delve function", "Delve file:line", "mark", "#", "gdb function",
                                     "gdb file:line")
                    rows.border_title = "backtrace of the crashing thread, aligned by PC"
                    rows.border_subtitle = "enter: show the Delve frame in the main view"
                    yield rows
                with TabPane("goroutines (g)", id=GOROUTINES_TAB):
                    with Horizontal():
                        picker = DataTable(id="picker", cursor_type="row", zebra_stripes=True)
                        picker.add_columns("id", "Delve: state", "gdb")
                        picker.border_title = "pick a goroutine (↑/↓)"
                        yield picker
                        delve = DataTable(id="delve-stack", cursor_type="none", zebra_stripes=False)
                        delve.add_columns(*STACK_COLUMNS)
                        yield delve
                        with Vertical(id="gdb-side"):
                            yield Static(id="gdb-note")
                            gdb = DataTable(id="gdb-stack", cursor_type="none", zebra_stripes=False)
                            gdb.add_columns(*STACK_COLUMNS)
                            yield gdb
            yield Static(id="findings")
        with Vertical(id="raw"):
            # The fold status sits outside the text: raw_text() is gdb's output only.
            yield Static(id="raw-status")
            with VerticalScroll(id="raw-scroll"):
                yield Static(id="raw-text")

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"comparison-view--{name}", partial=True)

    # --- the three states -------------------------------------------------

    def show_running(self) -> None:
        """gdb is still running (in the app's background worker)."""
        self._set_state(None, None, Text(RUNNING, "italic"))

    def show_error(self, message: str) -> None:
        """gdb could not run; message says why (and how to install it)."""
        self._set_state(None, None, Text(message, self._style("warning")))

    def show(self, run: GdbRun, comparison: Comparison) -> None:
        """gdb ran: show its numbers and frames beside Delve's."""
        with self.app.batch_update():
            self._set_state(run, comparison, Text(comparison.verdict))
            _fill(self.query_one("#scorecard", DataTable), self._scorecard(run, comparison))
            rows = self.query_one("#rows", DataTable)
            first_fill = rows.row_count == 0
            _fill(rows, [(str(number), self._row_cells(row)) for number, row in enumerate(comparison.rows)])
            user = next((number for number, row in enumerate(comparison.rows) if row.is_user), None)
            if first_fill and user is not None:  # the faulting frame's row in view, under the cursor
                rows.move_cursor(row=user)
            self._show_values(comparison)
            _fill(self.query_one("#picker", DataTable),
                  [(str(pair.id), self._picker_cells(pair)) for pair in comparison.goroutines])
            self._show_picked()
            self.query_one("#findings", Static).update(self._findings(run))
            self._show_raw()

    def _set_state(self, run: GdbRun | None, comparison: Comparison | None, verdict: Text) -> None:
        self.run, self.comparison = run, comparison
        self.query_one("#verdict", Static).update(verdict)
        self.set_class(run is None, "-waiting")
        if run is None and self.has_class("-raw"):
            self.remove_class("-raw")
        self.refresh_bindings()

    # --- content ------------------------------------------------------------

    def _scorecard(self, run: GdbRun, comparison: Comparison) -> list[tuple[str, list[Text]]]:
        d, g = comparison.delve, comparison.gdb
        if run.goroutines:
            seen = f"{g.goroutines_visible} (runtime-gdb.py" + (f", {run.threads} OS threads)" if run.threads else ")")
        else:  # without runtime-gdb.py gdb counts threads, not goroutines
            seen = f"{g.goroutines_visible} (OS threads)"
        # (key, measure, Delve, gdb, Delve's value, gdb's value; higher wins, None: no winner)
        measures = [
            # More frames is not better: gdb prints garbage frames past a stack's end.
            ("frames", "frames printed", str(d.frames), str(g.frames), None, None),
            ("resolved", "frames resolved to a function and line", f"{d.frames_resolved}/{d.frames}",
             f"{g.frames_resolved}/{g.frames}", d.resolved_share, g.resolved_share),
            ("reached", f"reached {comparison.user_frame}", _yes(d.reached_user_frame), _yes(g.reached_user_frame),
             d.reached_user_frame, g.reached_user_frame),
            ("goroutines", "goroutines visible", str(d.goroutines_visible), seen,
             d.goroutines_visible, g.goroutines_visible),
            ("user_locations", "goroutines with a user location", str(d.user_locations), str(g.user_locations),
             d.user_locations, g.user_locations),
            ("goroutine_stacks", "goroutines with their whole stack", str(d.goroutine_stacks),
             str(g.goroutine_stacks), d.goroutine_stacks, g.goroutine_stacks),
            ("values_read", "variables of the faulting frame read as Go values",
             f"{d.values_read}/{len(comparison.values)}", f"{g.values_read}/{len(comparison.values)}",
             d.values_read, g.values_read),
            ("wait_reasons", "goroutines with a wait reason", str(d.wait_reasons), str(g.wait_reasons),
             d.wait_reasons, g.wait_reasons),
            ("panic_value", "panic value recovered", _yes(d.panic_value), _yes(g.panic_value),
             d.panic_value, g.panic_value),
            ("seconds", "seconds", f"{d.seconds:.2f}", f"{g.seconds:.2f}", -d.seconds, -g.seconds),
        ]
        better, plain = self._style("better"), Style()
        return [
            (key, [Text(name), Text(dv, better if a is not None and a > b else plain),
                   Text(gv, better if a is not None and b > a else plain)])
            for key, name, dv, gv, a, b in measures
        ]

    def _row_cells(self, row: Row) -> list[Text]:
        base = self._style("user") if row.is_user else self._style("runtime")
        warning = self._style("warning")
        delve = [str(row.delve.index) if row.delve else "", row.delve.function if row.delve else "", _where(row.delve)]
        gdb = [str(row.gdb.index) if row.gdb else "", row.gdb.function if row.gdb else "", _where(row.gdb)]
        # On a matched row, the gdb cells that say something other than Delve's.
        differs = [False, bool(row.delve and row.gdb and delve[1] != gdb[1]),
                   bool(row.delve and row.gdb and delve[2] != gdb[2])]
        mark = Text(MARKS[row.mark], self._style("runtime") if row.mark is RowMark.SAME else warning)
        return ([Text(cell, base) for cell in delve] + [mark]
                + [Text(cell, base + warning if bad else base) for cell, bad in zip(gdb, differs)])

    def _value_width(self, comparison: Comparison) -> int:
        """Each printed value's share of the table's width, once the name
        and verdict columns (and each column's padding and the border) have theirs."""
        names = max((len(row.name) for row in comparison.values), default=8)
        verdicts = max((len(row.gdb_problem or "not a Go value") + 2 for row in comparison.values), default=10)
        spare = self.size.width - 2 - names - max(verdicts, len("gdb's is")) - 4 * 2
        return max(VALUE_WIDTH, spare // 2)

    def on_resize(self) -> None:
        if self.comparison is not None:  # the values cut to the new width (columns measured anew)
            self.query_one("#values", DataTable).clear(columns=True).add_columns(*VALUE_COLUMNS)
            self._show_values(self.comparison)

    def _show_values(self, comparison: Comparison) -> None:
        table = self.query_one("#values", DataTable)
        table.border_title = f"the variables of {comparison.user_frame}, as each debugger printed them"
        table.border_subtitle = comparison.values_note
        width = self._value_width(comparison)
        rows = [(f"{row.kind}:{row.name}", self._value_cells(row, width)) for row in comparison.values]
        if not rows:
            rows = [("none", [Text("(none)", self._style("runtime")), Text(""), Text(""), Text("")])]
        _fill(table, rows)

    def _value_cells(self, row: ValueRow, width: int) -> list[Text]:
        warning, runtime = self._style("warning"), self._style("runtime")
        if row.gdb_read:
            verdict = Text("a Go value", runtime)
        else:
            verdict = Text(f"✗ {row.gdb_problem or 'not a Go value'}", warning)
        delve = Text(_cut(row.delve, width) if row.delve else "(not printed)", Style() if row.delve_read else warning)
        gdb = Text(_cut(row.gdb, width) if row.gdb else "", Style() if row.gdb_read else warning)
        return [Text(row.name, self._style("user")), delve, gdb, verdict]

    def _picker_cells(self, pair: GoroutineStacks) -> list[Text]:
        gdb = _gdb_verdict(pair)
        return [Text(f"{'✖ ' if pair.crashing else '  '}{pair.id}", self._style("user") if pair.crashing else Style()),
                Text(pair.state), Text(("✓ " if pair.gdb_whole else "✗ ") + gdb,
                                       self._style("better") if pair.gdb_whole else self._style("warning"))]

    def picked(self) -> GoroutineStacks | None:
        """The goroutine under the picker's cursor."""
        if self.comparison is None or not self.comparison.goroutines:
            return None
        picker = self.query_one("#picker", DataTable)
        row = min(max(picker.cursor_row, 0), len(self.comparison.goroutines) - 1)
        return self.comparison.goroutines[row]

    def _show_picked(self) -> None:
        pair = self.picked()
        delve, gdb = self.query_one("#delve-stack", DataTable), self.query_one("#gdb-stack", DataTable)
        side, note = self.query_one("#gdb-side"), self.query_one("#gdb-note", Static)
        if pair is None:
            delve.clear(), gdb.clear(), note.update("")
            return
        user, runtime, warning = self._style("user"), self._style("runtime"), self._style("warning")
        delve.border_title = f"Delve: goroutine {pair.id}"
        delve.border_subtitle = "" if pair.delve else "stack not read yet"
        _refill(delve, STACK_COLUMNS, [(f"{pair.id}:{number}", [Text(str(number), runtime),
                                               Text(place.function if place else "???",
                                                    runtime if place is None or is_runtime_function(place.function) else user),
                                               Text(_place(place))])
                      for number, place in enumerate(pair.delve)])
        stack = pair.gdb
        side.border_title = f"gdb: {stack.source}" if stack is not None else "gdb"
        if stack is None:
            note.update(Text("runtime-gdb.py listed it, but gdb printed no stack for it" if pair.listed_by_gdb
                             else "gdb did not list this goroutine", warning))
        elif stack.error:
            note.update(Text(f"error: {stack.error}", warning))
        elif pair.gdb_whole:
            note.update(Text("the whole stack Delve printed", runtime))
        else:
            note.update(Text("not the whole stack Delve printed", warning))
        frames = stack.frames if stack is not None else ()
        _refill(gdb, STACK_COLUMNS, [(f"{pair.id}:{number}", [Text(str(frame.index), runtime),
                                             Text(frame.function, (runtime if frame.is_runtime else user)
                                                  + (warning if frame.function == "???" else Style())),
                                             Text(_where(frame))])
                    for number, frame in enumerate(frames)])
        gdb.display = bool(frames)

    def _findings(self, run: GdbRun) -> Text:
        warning = self._style("warning")
        text = Text()
        if run.runtime_gdb:
            states: dict[str, int] = {}
            for goroutine in run.goroutines:
                states[goroutine.state] = states.get(goroutine.state, 0) + 1
            text.append(f"runtime-gdb.py's `info goroutines` lists {len(run.goroutines)}")
            if states:
                text.append(": " + ", ".join(f"{n} {state}" for state, n in states.items()))
                if all(is_runtime_function(g.function) for g in run.goroutines):
                    text.append(", each only at a runtime function")
            text.append(".")
            if run.goroutine_stacks:
                # One line: how many of the goroutines gdb listed it could walk, and why not the others.
                failed = [stack for stack in run.goroutine_stacks if stack.error]
                text.append(f"\n`goroutine N bt` for each: {len(run.goroutine_stacks) - len(failed)} printed a stack, "
                            f"{len(failed)} failed", warning if failed else Style())
                if failed:
                    text.append(": " + "; ".join(dict.fromkeys(stack.error for stack in failed)), warning)
                if run.goroutines_untried:
                    text.append(f" ({run.goroutines_untried} more not tried)", warning)
            elif run.goroutine_bt_errors:
                text.append("\n`goroutine N bt` failed, as gdb printed it:", warning)
                for error in run.goroutine_bt_errors:
                    text.append(f"\n  {error}", warning)
        else:
            text.append("runtime-gdb.py not found: gdb ran without Go's goroutine support.", warning)
        # gdb_run_from_outputs sets stopped_early on a timeout too: say the cause.
        if run.timed_out:
            text.append("\ngdb timed out: the numbers come from what it printed before it was stopped.", warning)
        elif run.stopped_early:
            text.append("\ngdb's backtrace stopped early: it ends in an unknown frame (??), "
                        "not at the start of the stack.", warning)
        return text

    def _show_raw(self) -> None:
        run = self.run
        if run is None:
            return
        plain, go = (run.plain_folded, run.go_folded) if self.folded else (run.plain_output, run.go_output)
        if self.folded:
            status = f"{run.folded_lines} noise lines folded (`[New LWP n]`, warnings) — press f to unfold"
        else:
            status = f"all lines as gdb printed them ({run.folded_lines} noise) — press f to fold"
        self.query_one("#raw-status", Static).update(Text(status, self._style("runtime")))
        heading = self._style("heading")
        text = Text()
        text.append("plain gdb: bt, info threads\n", heading)
        text.append(plain.rstrip() + "\n\n")
        text.append(f"gdb with {run.runtime_gdb or 'runtime-gdb.py'}: info goroutines, thread apply all bt\n", heading)
        text.append(go.rstrip() if go.strip() else "(not run: runtime-gdb.py not found)")
        detail = run.detail_folded if self.folded else run.detail_output
        if detail.strip():
            text.append("\n\n")
            text.append("then: goroutine N bt for each goroutine listed; frame N, info args, info locals\n", heading)
            text.append(detail.rstrip())
        self._raw = text.plain
        self.query_one("#raw-text", Static).update(text)

    def raw_text(self) -> str:
        """The raw view's text as shown (folded or not)."""
        return self._raw

    # --- actions and events -------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # None greys the key out in the footer rather than hiding it.
        if action == "toggle_raw":
            return True if self.run is not None else None
        if action == "toggle_fold":
            return True if self.has_class("-raw") else None
        if action == "show_tab":
            return True if self.run is not None else None
        return True

    def focus_shown(self, tries: int = 20) -> None:
        """The focus on what is shown, so arrows scroll it and enter selects:
        once it can take it (a tab just switched to, or the body just shown
        again, is displayed only after a refresh or two)."""
        if self.has_class("-raw"):
            target = self.query_one("#raw-scroll")
        else:
            target = self.query_one("#picker" if self.query_one("#views", TabbedContent).active == GOROUTINES_TAB
                                    else "#rows")
        if target.focusable:
            self.screen.set_focus(target)
        elif tries:
            self.call_after_refresh(self.focus_shown, tries - 1)

    def action_toggle_raw(self) -> None:
        self.set_class(not self.has_class("-raw"), "-raw")
        self.focus_shown()

    def action_show_tab(self, tab: str) -> None:
        self.remove_class("-raw")
        self.query_one("#views", TabbedContent).active = tab
        self.focus_shown()

    def action_toggle_fold(self) -> None:
        self.folded = not self.folded
        self._show_raw()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "picker":
            event.stop()
            self._show_picked()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if self.comparison is None or event.data_table.id != "rows":
            return
        row = self.comparison.rows[int(event.row_key.value)]
        if row.delve is not None:
            self.post_message(self.FrameChosen(self, row.delve.index))
