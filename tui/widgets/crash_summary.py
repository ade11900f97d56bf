"""The crash summary across the top: why the program died, in four lines."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from ..model import CrashKind, Frame, Snapshot, signal_name

_KIND_STYLE = {
    CrashKind.PANIC: "bold red",
    CrashKind.RUNTIME_ERROR: "bold red",
    CrashKind.FATAL_ERROR: "bold magenta",
    CrashKind.FATAL_SIGNAL: "bold magenta",
    CrashKind.NO_CRASH: "bold green",
    CrashKind.UNKNOWN: "bold yellow",
}


def describe_signal(snapshot: Snapshot) -> str:
    crash = snapshot.crash
    if crash.kind is CrashKind.NO_CRASH:
        return "none"
    text = signal_name(crash.signal) or "unknown"
    if crash.fault_signal:
        text = f"{signal_name(crash.fault_signal)}"
        if crash.fault_address is not None:
            text += f" at 0x{crash.fault_address:x}"
        text += f", then {signal_name(crash.signal) or 'abort'}"
    return text


def summary_text(snapshot: Snapshot) -> Text:
    crash, target = snapshot.crash, snapshot.target
    text = Text()
    text.append(crash.kind.value, _KIND_STYLE[crash.kind])
    # A runtime error's value already starts with "runtime error: " (as Go
    # prints it); say it once.
    message = crash.message.removeprefix(f"{crash.kind.value}: ")
    if message:
        text.append(": ")
        text.append(message, "bold")
    text.append("\n")
    if crash.kind is CrashKind.NO_CRASH:
        text.append("showing ", "dim")
        text.append(f"goroutine {crash.focus_goroutine_id}", "bold")
    elif crash.goroutine_id is not None:
        text.append("crashed in ", "dim")
        text.append(f"goroutine {crash.goroutine_id}", "bold")
    else:  # a deadlock: the runtime threw on the scheduler's stack
        text.append("crashed on ", "dim")
        text.append("the system stack (no goroutine)", "bold")
        if crash.focus_goroutine_id is not None:
            text.append(f"; showing goroutine {crash.focus_goroutine_id}", "dim")
    if crash.c_frame is not None:
        text.append(" in C code", "bold magenta")
        _append_place(text, crash.c_frame)
        text.append(", called from Go", "dim")
        _append_place(text, crash.go_caller)
    else:
        _append_place(text, crash.frame)
    text.append("\n")
    text.append("signal ", "dim")
    text.append(describe_signal(snapshot))
    text.append("   Go ", "dim")
    text.append(target.go_version or "?")
    text.append("   Delve ", "dim")
    text.append(target.delve_version or "?")
    text.append("\n")
    text.append(f"{target.executable}  ", "dim")
    text.append(target.core, "dim")
    for warning in snapshot.warnings:
        text.append("\n")
        text.append(f"⚠ {warning}", "bold yellow")
    return text


def _append_place(text: Text, frame: Frame | None) -> None:
    text.append("  at ", "dim")
    if frame:
        text.append(f"{frame.file}:{frame.line}", "bold cyan")
        text.append(f" {frame.function}")
    else:
        text.append("no user frame found", "yellow")


class CrashSummary(Static):
    DEFAULT_CSS = """
    CrashSummary { height: auto; padding: 0 1; background: $boost; border-bottom: solid $primary; }
    """

    def show(self, snapshot: Snapshot) -> None:
        self.update(summary_text(snapshot))
