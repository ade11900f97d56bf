"""Why did it die? Pure reasoning over a parsed backtrace and a few values."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .model import Backtrace, Crash, CrashKind, Frame, Goroutine
from .parse.values import one_line

PANIC_FUNCTION = "runtime.gopanic"
SIGNAL_FUNCTION = "runtime.dieFromSignal"
SIGPANIC_FUNCTION = "runtime.sigpanic"
# A fatal error (deadlock, concurrent map writes) throws instead of panicking.
FATAL_FUNCTIONS = ("runtime.throw", "runtime.fatal", "runtime.fatalthrow")
# Helpers the compiler calls for runtime errors that are not signals.
_RUNTIME_ERROR_HELPER = re.compile(r"^runtime\.(sigpanic|panic\w+|goPanic\w+)$")

# boundsError codes (runtime/error.go) and the message Go prints for each.
_BOUNDS_FORMATS = {
    0: "index out of range [{x}] with length {y}",
    1: "slice bounds out of range [:{x}] with length {y}",
    2: "slice bounds out of range [:{x}] with capacity {y}",
    3: "slice bounds out of range [{x}:{y}]",
    4: "slice bounds out of range [:{x}] with length {y}",
    5: "slice bounds out of range [:{x}] with capacity {y}",
    6: "slice bounds out of range [{x}:{y}:]",
    7: "slice bounds out of range [{x}:{y}:]",
    8: "slice bounds out of range [{x}:{y}]",
}


@dataclass(frozen=True)
class CrashEvidence:
    """What the backend read off the core, before any interpretation.

    panic_value: `print p.arg` of the gopanic frame; fatal_message: the `s`
    argument of runtime.throw/fatal; signal: runtime.dieFromSignal's `sig`;
    fault_signal/fault_address: gp.sig/gp.sigcode1 in runtime.sigpanic.
    """

    backtrace: Backtrace
    selected_goroutine: int | None
    panic_value: str | None = None
    fatal_message: str | None = None
    signal: int | None = None
    fault_signal: int | None = None
    fault_address: int | None = None


def panic_frame(backtrace: Backtrace) -> Frame | None:
    return backtrace.find(PANIC_FUNCTION)


def fatal_frame(backtrace: Backtrace) -> Frame | None:
    for frame in backtrace.frames:
        if frame.function in FATAL_FUNCTIONS:
            # runtime.fatalthrow is called by throw/fatal: prefer those,
            # which hold the message.
            if frame.function == "runtime.fatalthrow":
                continue
            return frame
    return None


def focus_goroutine(selected: int | None, goroutines: tuple[Goroutine, ...]) -> int | None:
    """The goroutine the user should look at first.

    The crashing one when the crash ran on a goroutine; otherwise (a
    deadlock, thrown from the scheduler's system stack) the main goroutine if
    it sits in user code, else the first goroutine that does.
    """
    if selected is not None:
        return selected
    user = [g for g in goroutines if g.id is not None and not g.is_runtime]
    for goroutine in user:
        if goroutine.id == 1:
            return 1
    return user[0].id if user else None


def analyse(evidence: CrashEvidence, focus_backtrace: Backtrace) -> Crash:
    backtrace = evidence.backtrace
    panicking = panic_frame(backtrace)
    fatal = fatal_frame(backtrace)
    if panicking is not None:
        message, runtime_error = panic_message(evidence.panic_value)
        helpers = [f for f in backtrace.frames if f.index > panicking.index and _RUNTIME_ERROR_HELPER.match(f.function)]
        kind = CrashKind.RUNTIME_ERROR if runtime_error or helpers else CrashKind.PANIC
    elif fatal is not None:
        kind = CrashKind.FATAL_ERROR
        message = unquote(evidence.fatal_message) if evidence.fatal_message else ""
    else:
        kind, message = CrashKind.UNKNOWN, ""
    return Crash(
        kind=kind,
        message=message,
        signal=evidence.signal,
        goroutine_id=evidence.selected_goroutine,
        focus_goroutine_id=focus_backtrace.goroutine_id,
        frame=focus_backtrace.first_user_frame(),
        fault_signal=evidence.fault_signal,
        fault_address=evidence.fault_address,
    )


_IFACE = re.compile(r"^interface \{\}\((?P<type>.*?)\) (?P<value>.*)$", re.S)
_FIELD = re.compile(r"(\w+): (-?\d+|true|false)")


def panic_message(value: str | None) -> tuple[str, bool]:
    """The panic value as Go would print it, and whether it is a runtime error.

    Go 1.18+ preprints error and Stringer values into a string before
    crashing, so most values arrive as `interface {}(string) "..."`.
    """
    if not value:
        return "", False
    match = _IFACE.match(value.strip())
    if not match:
        return one_line(value), False
    dynamic, text = match["type"], match["value"].strip()
    if dynamic == "string":
        message = unquote(text)
        return message, message.startswith("runtime error: ")
    if dynamic == "runtime.boundsError":
        fields = dict(_FIELD.findall(text))
        template = _BOUNDS_FORMATS.get(int(fields.get("code", -1)))
        if template:
            return "runtime error: " + template.format(**fields), True
    if dynamic in ("runtime.errorString", "runtime.plainError"):
        return "runtime error: " + unquote(text), True
    return f"{dynamic} {one_line(text)}", dynamic.startswith("runtime.")


_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[abfnrtv\\'\"])")
_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\", "'": "'", '"': '"'}


def unquote(text: str) -> str:
    """A Go-quoted string as Delve prints it, without quotes and escapes.

    Delve's elision (`"abc...+936 more"`) is kept as it is.
    """
    text = text.strip()
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        return text

    def replace(match: re.Match) -> str:
        code = match[1]
        if code[0] in "xuU":
            return chr(int(code[1:], 16))
        return _SIMPLE_ESCAPES[code]

    return _ESCAPE.sub(replace, text[1:-1])
