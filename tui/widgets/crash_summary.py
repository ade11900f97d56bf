"""The crash summary across the top: what Go printed as the program died,
then what Go cannot show (your frame and its line, the fault, versions)."""

from __future__ import annotations

import re

from rich.text import Text
from textual.widgets import Static

from ..analysis.heapview import suspect_lines, summary_line
from ..model import HEADER_CUT_NOTE, BuildInfo, Crash, CrashKind, Frame, Snapshot, signal_name
from ..model.heap import HeapState, HeapStatus

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
    if crash.sender is not None:
        pid, uid = crash.sender
        return f"{signal_name(crash.fault_signal) or text} sent by pid {pid}" + (f" (uid {uid})" if uid is not None else "")
    if crash.fault_signal:
        text = f"{signal_name(crash.fault_signal)}"
        if crash.fault_address is not None:
            text += f" at 0x{crash.fault_address:x}"
        text += f", then {signal_name(crash.signal) or 'abort'}"
    return text


# A header longer than this (a runtime hex dump) is cut on screen; the
# report has it whole.
HEADER_LINES = 6
_HEADER_WORD = re.compile(r"^(\t?)((?:fatal error|panic): |SIG[A-Z]+: |runtime: )?(.*)$", re.S)


def header_text(crash: Crash) -> Text:
    """The lines Go printed before the first goroutine, as it printed them
    (a tab, 4 columns); without a header (a live core, an unknown crash),
    the crash kind and message."""
    text = Text()
    lines = list(crash.header)
    if not lines:
        text.append(crash.kind.value, _KIND_STYLE[crash.kind])
        # A runtime error's value already starts with "runtime error: " (as
        # Go prints it); say it once.
        message = crash.message.removeprefix(f"{crash.kind.value}: ")
        if message:
            text.append(": ")
            text.append(message, "bold")
        return text
    if crash.header_cut:
        text.append(HEADER_CUT_NOTE + "\n", "dim")
    shown = lines[:HEADER_LINES]
    for number, line in enumerate(shown):
        indent, word, rest = _HEADER_WORD.match(line).groups()
        text.append(indent.replace("\t", "    "))
        if word:
            text.append(word, _KIND_STYLE[crash.kind] if number == len(shown) - 1 or not indent else "bold")
        text.append(rest.replace("\t", "    "), "bold")
        if number < len(shown) - 1:
            text.append("\n")
    if len(lines) > len(shown):
        text.append(f"\n… {len(lines) - len(shown)} more lines (--report json has them all)", "dim")
    return text


def crash_line(snapshot: Snapshot) -> Text:
    """What crashed and where, on one line (above another screen): the last
    line Go printed, and the goroutine and frame it points at."""
    crash = snapshot.crash
    header = [line for line in crash.header if line.strip()]
    text = Text()
    if header:
        text.append(header[-1].strip(), _KIND_STYLE[crash.kind])
    else:
        text.append(crash.kind.value, _KIND_STYLE[crash.kind])
        message = crash.message.removeprefix(f"{crash.kind.value}: ")
        if message:
            text.append(f": {message}", "bold")
    if crash.goroutine_id is not None:
        text.append(f"  in goroutine {crash.goroutine_id}", "dim")
    frame = crash.c_frame or crash.frame
    if frame is not None:
        text.append("  at ", "dim")
        text.append(f"{frame.location.short()} {frame.function}", "bold cyan")
    return text


def summary_text(snapshot: Snapshot, source_line: str | None = None) -> Text:
    """What Go printed, then what Go cannot show: where in your code, the
    line itself, the fault address, the versions."""
    crash, target = snapshot.crash, snapshot.target
    text = header_text(crash)
    text.append("\n")
    # Go printed the fatal value's type and address only: here it is.
    detail = next((link.detail for link in reversed(crash.chain) if link.detail and link.value == crash.message), "")
    if detail:
        text.append("  value ", "dim")
        text.append(detail, "bold")
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
        if crash.raised_in is not None and crash.frame is not None and crash.raised_in != crash.frame:
            text.append("  (raised in ", "dim")
            text.append(crash.raised_in.function)
            text.append(")", "dim")
    if source_line and source_line.strip():
        text.append("\n")
        text.append(f"  ▶ {crash.frame.line if crash.frame else ''}  ", "bold red")
        text.append(source_line.strip(), "bold")
    text.append("\n")
    text.append("signal ", "dim")
    text.append(describe_signal(snapshot))
    text.append("   Go ", "dim")
    text.append(target.go_version or "?")
    text.append("   Delve ", "dim")
    text.append(target.delve_version or "?")
    text.append("\n")
    if target.build is not None:
        text.append("built from ", "dim")
        text.append(_built_from(target.build))
        text.append("   i: build info\n", "dim")
    text.append(f"{target.executable}  ", "dim")
    text.append(target.core, "dim")
    for warning in snapshot.warnings:
        text.append("\n")
        text.append(f"⚠ {warning}", "bold yellow")
    return text


def _built_from(build: BuildInfo) -> str:
    """The main module, its version and VCS revision (dirty or not)."""
    text = build.main.path or build.path
    if build.main.version and build.main.version != "(devel)":
        text += f" {build.main.version}"
    if build.vcs is not None and build.vcs.revision:
        text += f" @ {build.vcs.revision[:12]}" + (" (modified)" if build.vcs.modified else "")
    extras = [key for key in ("-trimpath",) if build.settings.get(key) == "true"]
    if build.deps:
        extras.append(f"{len(build.deps)} dependencies")
    return text + (f"  ({', '.join(extras)})" if extras else "")


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

    _shown = Text()
    _heap = Text()
    _deadlock = Text()

    def show(self, snapshot: Snapshot, source_line: str | None = None) -> None:
        self._shown = summary_text(snapshot, source_line)
        self._draw()

    def show_deadlock(self, summary: tuple[str, ...]) -> None:
        """Under the header of an "all goroutines are asleep": on what, biggest first."""
        self._deadlock = deadlock_text(summary)
        self._draw()

    def show_heap(self, status: HeapStatus, story: bool = False) -> None:
        """The heap's line: the runtime's figures at once, ours once read;
        story: the heap is why it died (out of memory, at its limit), so its
        leak suspects follow."""
        line = summary_line(status)
        style = "bold yellow" if "⚠" in line else ("dim" if status.state is not HeapState.READ else "")
        self._heap = Text("\n") + Text(line, style) if line else Text()
        if story and status.reading is not None:
            for suspect in suspect_lines(status.reading)[:SUSPECT_LINES]:
                self._heap.append("\n  leak suspect: ", "bold magenta")
                self._heap.append(suspect)
        self._draw()

    def _draw(self) -> None:
        if self._shown:
            self.update(self._shown + self._heap + self._deadlock)


# Leak suspects under the heap's line when the heap is why it died (the Memory screen has them all).
SUSPECT_LINES = 3
# A deadlock's summary on screen: its biggest objects (w groups them all).
DEADLOCK_LINES = 4


def deadlock_text(summary: tuple[str, ...]) -> Text:
    text = Text("\neveryone waits:", "bold magenta")
    for line in summary[:DEADLOCK_LINES]:
        text.append(f"\n  {line}")
    if len(summary) > DEADLOCK_LINES:
        text.append(f"\n  … {len(summary) - DEADLOCK_LINES} more (w groups goroutines by what they wait on)", "dim")
    return text
