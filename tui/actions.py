"""What the user's keys ask for beyond moving around: the comparison, the
console and its watches, the disassembly, export, the editor, the Go
traceback and help. Mixed into GocoreApp (it has core, nav, store, ...)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from rich.text import Text
from textual.app import SuspendNotSupported, SystemCommand

from .messages import ComparisonValuesRead, ConsoleAnswered, GdbFinished, ModuleDownloading
from .sources.resolve import find

# The screens and analyses behind a key are imported when the key is first
# pressed: imported here, they were a fifth of the app's import, which is
# the first screen's critical path (dlv is ready before Textual is).

PANE_KEYS = [
    ("↑/↓, j/k", "move in the focused pane"),
    ("enter", "select: a goroutine loads its backtrace, a frame its source and variables; a group expands"),
    ("tab / shift+tab", "next / previous pane"),
    ("/ then n, N (source pane)", "search the file on screen; next / previous match"),
    ("ctrl+p", "command palette: the actions above by name, a goroutine by id, a frame by function"),
]


class ScreenActions:
    console_history: list[str]
    console_log: list[Text]
    watches: list[str]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The console's history and log outlive its screen; watches are
        # expressions evaluated in every frame shown.
        self.console_history, self.console_log, self.watches = [], [], []
        self.export_folder = None  # the current directory, unless a test says otherwise
        self.exported = None
        # `--compare` (the CLI sets it): open on the comparison, once.
        self._opened_on_comparison = False
        # Delve's full values of the faulting frame, once read (else the first screen's).
        self.comparison_values = None

    def show_goroutine(self, goroutine_id: int) -> None:
        """Put a goroutine on screen, its row under the list's cursor."""
        if self.store.list_complete and goroutine_id not in self.store:
            self.notify(f"no goroutine {goroutine_id} in this core", severity="warning")
            return
        self.main.reveal(goroutine_id)
        self.select_goroutine(goroutine_id)

    # -- GDB vs Delve ----------------------------------------------------------------

    def open_comparison_first(self) -> None:
        """`--compare`: the first screen opens straight on the comparison."""
        if self.open_on_comparison and not self._opened_on_comparison and not self.closing:
            self._opened_on_comparison = True
            self.compare()

    def on_gdb_finished(self, message: GdbFinished) -> None:
        self.gdb_run = message.run
        if not message.run.error:
            self.read_comparison_values()
        self.update_comparison()

    def on_comparison_values_read(self, message: ComparisonValuesRead) -> None:
        if message.snapshot is self.snapshot:
            self.comparison_values = message.values
            self.update_comparison()

    def comparison(self):
        """(GdbRun, Comparison or None) once gdb has run, else None. The
        scorecard counts the goroutines listed and the stacks read so far."""
        if self.gdb_run is None or self.snapshot is None:
            return None
        if self.gdb_run.error:
            return self.gdb_run, None
        from .analysis.showdown import score

        return self.gdb_run, score(self.snapshot, self.store.goroutines(), self.gdb_run, self.store.stacks(),
                                   self.comparison_values)

    def compare(self) -> None:
        from .screens.comparison import ComparisonScreen

        self.push_screen(ComparisonScreen(self.comparison()), self._comparison_closed)

    def update_comparison(self) -> None:
        from .screens.comparison import ComparisonScreen

        if not self.closing and isinstance(self.screen, ComparisonScreen):
            self.screen.show(self.comparison())

    def _comparison_closed(self, frame_index: int | None) -> None:
        """The frame the user picked there, on the crashing stack, here."""
        snapshot = self.snapshot
        if frame_index is None or snapshot is None:
            return
        if snapshot.crash_stack is not self.nav.backtrace:
            self.nav.redraw()
            self._show_backtrace(snapshot.crash_stack, frame_index)
        self.select_frame(frame_index)

    # -- the console ----------------------------------------------------------------

    def _dlv_scope(self) -> tuple[int | None, int]:
        """The goroutine and the frame (in Delve's numbering) on screen."""
        state = self.frame_view.state if self.frame_view is not None else None
        return (state.goroutine_id, state.frame_index) if state is not None else (self.nav.goroutine_id, 0)

    def open_console(self) -> None:
        goroutine_id, frame_index = self._dlv_scope()
        scope = f"goroutine {goroutine_id} frame {frame_index}" if goroutine_id is not None else f"frame {frame_index}"
        from .screens.console import ConsoleScreen

        self.push_screen(ConsoleScreen(self.console_history, self.console_log, scope))

    def on_console_screen_submitted(self, message) -> None:
        from .analysis.console import Refused, console_command

        try:
            line = console_command(message.text, *self._dlv_scope())
        except Refused as refused:
            self._console_write(Text(f"> {message.text.strip()}\n", "bold") + Text(str(refused), "yellow"))
            return
        self.send_to_dlv(message.text.strip(), line)

    def on_console_answered(self, message: ConsoleAnswered) -> None:
        self._console_write(Text(f"> {message.sent}\n", "bold") + Text(message.output.rstrip("\n") or "(no output)"))

    def console_says(self, failure: str) -> None:
        self._console_write(Text(f"error: {failure}", "red"))

    def _console_write(self, entry: Text) -> None:
        self.console_log.append(entry)
        from .screens.console import ConsoleScreen

        if not self.closing and isinstance(self.screen, ConsoleScreen):
            self.screen.show(entry)

    def on_console_screen_watch_wanted(self, message) -> None:
        if message.expression not in self.watches:
            self.watches.append(message.expression)
        self.notify(f"watching {message.expression}", timeout=3, markup=False)
        self.evaluate_watches(*self._dlv_scope(), self.nav.generation)

    def on_variables_view_load_wanted(self, message) -> None:
        # The frame whose variables the tree shows, fixed now (not when the
        # worker runs: a quick `u` would print it in another frame).
        self.load_variable(message.node_id, message.variable, message.goroutine_id, message.frame_index,
                           self.nav.generation)

    # -- views of the frame -------------------------------------------------------------

    def toggle_disassembly(self) -> None:
        self.show_disassembly = not self.show_disassembly
        if self.nav.frame is not None:
            self.select_frame(self.nav.frame_index)

    def export(self) -> None:
        view = self.frame_view
        if self.snapshot is None or self.nav.backtrace is None or view is None:
            return
        from .analysis.report import comparison_report, export_markdown, view_report

        comparison = self.comparison()
        scorecard = comparison_report(*comparison) if comparison else None
        report = view_report(self.snapshot, self.nav.backtrace, view.state, self.store.goroutines(),
                             self.highlighter.context, scorecard, frame_index=view.frame_index,
                             index=self.store.index)
        try:
            path = export_markdown(report, self.export_folder or Path.cwd())
        except OSError as err:
            self.notify(f"report not written: {err}", severity="error", markup=False)
            return
        self.exported = path
        self.notify(f"report written to {path}", timeout=8, markup=False)

    def edit(self) -> None:
        frame = self.nav.frame
        if frame is None:
            return
        found = find(frame.file, self.highlighter.context)
        path = found.path
        if path is None:
            self.notify(found.missing or f"{frame.file} is not on this machine", severity="warning", markup=False)
            return
        from .sources.editor import editor_command

        command = editor_command(path, frame.line)
        try:
            try:
                with self.suspend():  # the editor gets the terminal; the TUI comes back after
                    subprocess.run(command)
            except SuspendNotSupported:  # no terminal of ours (headless, a browser): a GUI editor still works
                subprocess.run(command, stdin=subprocess.DEVNULL, timeout=600)
        except (OSError, subprocess.SubprocessError) as err:
            self.notify(f"could not run {command[0]}: {err}", severity="error", markup=False)

    def offer_download(self, command: str) -> None:
        """Ask, then fetch the missing module's source; the user's go.mod is never touched."""
        def answered(yes: bool | None) -> None:
            if yes:
                self.main.say_downloading(f"running {command}…")
                self.fetch_module(command)

        from .screens.confirm import ConfirmScreen

        self.push_screen(ConfirmScreen(f"Run `{command}`?",
                                       "It downloads the module's source into the module cache (GOMODCACHE), "
                                       "from an empty directory: no go.mod or go.sum of yours is read or written."),
                         answered)

    def on_module_downloading(self, message: ModuleDownloading) -> None:
        if self.closing:
            return
        if not message.done:
            self.main.say_downloading(f"downloading: {message.line[:120]}")
            return
        self.main.say_downloading("")
        if message.error:
            self.notify(message.error, severity="error", timeout=10, markup=False)
            return
        self.notify(f"{message.command}: done", timeout=4, markup=False)
        self.highlighter.forget_origins()
        if self.nav.frame is not None:
            self.select_frame(self.nav.frame_index)  # the source is here now

    def show_build_info(self) -> None:
        from .screens.build import BuildInfoScreen

        if self.snapshot is not None:
            self.push_screen(BuildInfoScreen(self.snapshot.target.build))

    def show_traceback(self) -> None:
        from .screens.traceback import TracebackScreen

        if self.go_traceback:
            self.push_screen(TracebackScreen(self.go_traceback))

    def get_system_commands(self, screen):
        """The command palette (ctrl+p) offers the app's own actions too."""
        yield from super().get_system_commands(screen)
        if self.main is not None:
            yield SystemCommand("GDB vs Delve", "Run gdb on the same core and compare, frame by frame", self.compare)
            yield SystemCommand("Go to goroutine", "Jump to a goroutine by id", self.main.action_goto)
            yield SystemCommand("Filter goroutines", "By function, file, wait reason or id", self.main.action_filter)
            yield SystemCommand("Grouped / flat goroutines", "Toggle the goroutine list's grouping",
                                self.main.action_toggle_grouped)

    def action_help(self) -> None:
        keys = [(b.key.replace("question_mark", "?").replace("slash", "/").replace("colon", ":"),
                 b.tooltip or b.description) for b in [*self.main.BINDINGS, *self.BINDINGS]]
        from .screens.help import HelpScreen

        self.push_screen(HelpScreen(keys + PANE_KEYS))

    def action_quit_with_error(self) -> None:
        self.exit(return_code=2)
