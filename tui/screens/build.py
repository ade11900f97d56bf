"""`i`: what the executable says of itself (its build info, as `go version
-m` prints it): the main module, every dependency with its version, sum and
replacement, the VCS revision, and the build settings."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ..model import BuildInfo


def build_table(build: BuildInfo | None) -> Table | Text:
    if build is None:
        return Text("This executable has no build info (not a module build, or not a Go program).", "yellow")
    table = Table(show_header=False, expand=True, box=None, padding=(0, 1))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    table.add_row("go", build.go_version)
    table.add_row("path", build.path)
    main = build.main
    table.add_row("main module", f"{main.path} {main.version} {main.sum}".strip())
    if build.vcs is not None:
        vcs = build.vcs
        state = {True: "modified", False: "clean"}.get(vcs.modified, "")
        table.add_row("vcs", " ".join(p for p in (vcs.system, vcs.revision, vcs.time, state) if p))
    for dep in build.deps:
        row = f"{dep.path} {dep.version}"
        if dep.replace is not None:
            row += f"  => {dep.replace.path} {dep.replace.version}".rstrip()
        table.add_row("dep", Text(row + (f"  {dep.sum}" if dep.sum else ""), ""))
    for key, value in build.settings.items():
        if not key.startswith("vcs"):
            table.add_row("build", f"{key}={value}")
    return table


class BuildInfoScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,i", "dismiss", "Close", id="build.close", tooltip="Back to the panes")]
    DEFAULT_CSS = """
    BuildInfoScreen { align: center middle; }
    BuildInfoScreen > VerticalScroll { width: 90%; height: 80%; border: thick $primary; background: $surface; padding: 0 1; }
    """

    def __init__(self, build: BuildInfo | None) -> None:
        super().__init__()
        self.build = build

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = "What the executable was built from · Esc closes"
            yield Static(build_table(self.build), id="build-info")
