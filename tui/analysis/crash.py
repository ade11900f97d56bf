"""Why did it die? Pure reasoning over a parsed backtrace and a few values."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..model import SIGNAL_DESCRIPTIONS, Backtrace, Crash, CrashKind, Frame, Goroutine, signal_name
from ..parse.values import one_line, unquote
from .header import PanicRecord, backlog_report, chain_links, killer, panic_lines, signal_lines
from .header import fatal_message as header_fatal_message
from .owncode import OwnCode

PANIC_FUNCTION = "runtime.gopanic"
SIGNAL_FUNCTION = "runtime.dieFromSignal"
SIGPANIC_FUNCTION = "runtime.sigpanic"
# A fatal error (deadlock, concurrent map writes) throws instead of panicking.
FATAL_FUNCTIONS = ("runtime.throw", "runtime.fatal", "runtime.fatalthrow")
# A signal the runtime did not turn into a panic (a fault in C code) is
# handled here, on the trampoline called with the signal's context.
HANDLER_FUNCTION = "runtime.sighandler"
TRAMPOLINE_FUNCTIONS = ("runtime.sigtrampgo", "runtime.sigtramp", "runtime.cgoSigtramp")
# cmd/cgo's Go wrapper around each C function: main._Cfunc_name.
CGO_WRAPPER = "._Cfunc_"
# runtime.newstack throws "stack overflow" past runtime.maxstacksize.
STACK_GROWTH_FUNCTION = "runtime.newstack"
OPTIMIZED_WARNING = ("optimized build (compiled without -gcflags=all=\"-N -l\"): "
                     "variables may be unreadable or optimized away")
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
    fault_signal/fault_address: gp.sig/gp.sigcode1 in runtime.sigpanic, or
    sig/info.si_addr of the signal trampoline for a fault in C code.
    throw_site: the source line that called throw/fatal, read when `s` is
    unreadable (the runtime is optimized even in a -N -l build).
    max_stack: runtime.maxstacksize, read for a stack overflow.
    core_signal: the signal the core's notes say dumped it (0: gcore).
    """

    backtrace: Backtrace
    selected_goroutine: int | None
    panic_value: str | None = None
    fatal_message: str | None = None
    signal: int | None = None
    fault_signal: int | None = None
    fault_address: int | None = None
    throw_site: str | None = None
    max_stack: int | None = None
    core_signal: int | None = None
    # The goroutine's own stack, when the crash is on another (the thread's).
    goroutine_backtrace: Backtrace | None = None
    # No Go compile unit was built with -N (DWARF producer flags).
    optimized: bool = False
    # The crashing goroutine's panics (newest first) and what the runtime
    # printed before it began to crash (runtime.printBacklog).
    chain: tuple[PanicRecord, ...] = ()
    backlog: str = ""
    # The messages of other goroutines that threw at the same time (each
    # printed its own `fatal error:` line before Go printed the traceback).
    also_threw: tuple[str, ...] = ()
    # (pid, uid) of the process that sent the fatal signal (si_code <= 0).
    sender: tuple[int, int | None] | None = None


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


def thrower(backtrace: Backtrace) -> Frame | None:
    """The function that called throw/fatal: where the reason is written."""
    fatal = fatal_frame(backtrace)
    if fatal is None:
        return None
    return next((f for f in backtrace.frames if f.index > fatal.index and f.function not in FATAL_FUNCTIONS), None)


def signal_trampoline(backtrace: Backtrace) -> Frame | None:
    """The trampoline that received a signal runtime.sighandler could not
    turn into a panic; its arguments hold the signal and its address."""
    handler = backtrace.find(HANDLER_FUNCTION)
    if handler is None:
        return None
    return next((f for f in backtrace.frames if f.index > handler.index and f.function in TRAMPOLINE_FUNCTIONS), None)


def c_fault(backtrace: Backtrace) -> tuple[Frame | None, Frame | None]:
    """(innermost C frame, Go caller) when a signal arrived in C code.

    Below the trampoline comes the interrupted code; Delve unwinds through
    it, asmcgocall and the cgo wrapper back to the Go function calling C.
    """
    anchor = signal_trampoline(backtrace) or backtrace.find(SIGPANIC_FUNCTION)
    if anchor is None:
        return None, None
    below = [f for f in backtrace.frames if f.index > anchor.index]
    interrupted = next((f for f in below if f.function not in TRAMPOLINE_FUNCTIONS), None)
    if interrupted is None or not interrupted.is_c:
        return None, None
    # The innermost C frame with a known place: abort() and raise() in a
    # libc without line tables are not where the program went wrong.
    c_frames = [f for f in below[below.index(interrupted):] if f.is_c]
    placed = next((f for f in c_frames if f.file and f.line > 0), interrupted)
    return placed, go_caller_of_c(backtrace)


def go_caller_of_c(backtrace: Backtrace) -> Frame | None:
    """The Go function below the cgo wrapper: the one whose call went into C."""
    wrapper = next((f for f in backtrace.frames if CGO_WRAPPER in f.function), None)
    if wrapper is None:
        return None
    return next((f for f in backtrace.frames if f.index > wrapper.index and not f.is_runtime and not f.is_c), None)


def has_crash_frames(backtrace: Backtrace) -> bool:
    """Does this stack hold the crash itself (a panic, a throw, a signal)?"""
    return any(f is not None for f in (panic_frame(backtrace), fatal_frame(backtrace), signal_trampoline(backtrace)))


def optimized_build(producers: tuple[str, ...]) -> bool:
    """True when no Go compile unit was compiled with -N (optimizer off).

    cmd/compile writes its flags into DW_AT_producer
    ("Go cmd/compile go1.26.8; -N -l regabi"); a -gcflags=all="-N -l" build
    has them on user packages (the runtime keeps -l only).
    """
    go = [p for p in producers if p.startswith("Go cmd/compile")]
    return bool(go) and not any("-N" in p.partition(";")[2].split() for p in go)


_THROW_CALL = re.compile(r'\b(?:throw|fatal)\("((?:[^"\\]|\\.)*)"')


def throw_literal(source_line: str | None) -> str:
    """The message of a `throw("...")` call written on a line of source."""
    match = _THROW_CALL.search(source_line or "")
    return unquote(f'"{match[1]}"') if match else ""


def thrown_message(evidence: CrashEvidence, backtrace: Backtrace) -> str:
    """A throw's message read from its frames (the print backlog is read
    first; this is for when it was not kept)."""
    message = evidence.fatal_message
    if message and not message.startswith("(unreadable"):
        message = unquote(message)
    else:
        message = throw_literal(evidence.throw_site)
    return message


def signal_message(number: int | None) -> str:
    """The line Go prints for a fatal signal: "SIGSEGV: segmentation violation"."""
    name = signal_name(number)
    description = SIGNAL_DESCRIPTIONS.get(number or 0)
    return f"{name}: {description}" if name and description else name


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


def analyse(evidence: CrashEvidence, focus_backtrace: Backtrace, go_version: str = "",
            own: OwnCode | None = None) -> Crash:
    """Why it died, as Go said it (the header) and more. go_version is the
    target's (runtime.buildVersion); own tells the program's own code."""
    own = own or OwnCode()
    backtrace = evidence.backtrace
    panicking = panic_frame(backtrace)
    fatal = fatal_frame(backtrace)
    c_frame, go_caller = c_fault(backtrace)
    if c_frame is not None and go_caller is None:
        # Delve stopped the thread's stack in C: the goroutine's own stack
        # still shows the call into C.
        go_caller = go_caller_of_c(focus_backtrace)
    links = chain_links(evidence.chain, go_version)
    header: tuple[str, ...] = ()
    header_cut = False
    # A throw inside a panic (a deferred Unlock of an unlocked mutex, an
    # Error method that panics while the value is printed) is what killed
    # the program: the innermost of the two wins.
    thrown = fatal is not None and (panicking is None or fatal.index < panicking.index)
    if thrown:
        kind = CrashKind.FATAL_ERROR
        report, header_cut = backlog_report(evidence.backlog)
        message = header_fatal_message(report) or thrown_message(evidence, backtrace)
        header = report or thrown_header(evidence, backtrace, message)
        if evidence.also_threw:
            header = with_every_throw(header, (message, *evidence.also_threw))
    elif panicking is not None:
        last = killer(links, go_version)
        if last is not None:
            message, runtime_error = last.value, last.value.startswith("runtime error: ")
        else:
            message, runtime_error = panic_message(evidence.panic_value)
        kind = CrashKind.RUNTIME_ERROR if runtime_error or _raised_by_runtime(backtrace, panicking) else CrashKind.PANIC
        header = panic_lines(links, go_version) if links else ((f"panic: {message}",) if message else ())
    elif signal_trampoline(backtrace) is not None:
        kind, message = CrashKind.FATAL_SIGNAL, signal_message(evidence.fault_signal)
        header = signal_lines(message, in_cgo=c_frame is not None)
    elif evidence.core_signal == 0 and evidence.signal is None and backtrace.find(SIGNAL_FUNCTION) is None:
        # No signal in the core's notes and none on the stack: dumped alive.
        kind, message = CrashKind.NO_CRASH, "core of a live process (gcore)"
    else:
        kind, message = CrashKind.UNKNOWN, ""
    frame = own.frame(focus_backtrace)
    raised_in = focus_backtrace.first_user_frame()
    return Crash(
        kind=kind,
        message=message,
        # dieFromSignal's `sig` when Delve can read it, else the kernel's
        # record of the signal that dumped the core (0: none, a live dump).
        signal=evidence.signal if evidence.signal is not None else (evidence.core_signal or None),
        goroutine_id=evidence.selected_goroutine,
        focus_goroutine_id=focus_backtrace.goroutine_id,
        frame=frame,
        fault_signal=evidence.fault_signal,
        fault_address=evidence.fault_address,
        sender=evidence.sender,
        c_frame=c_frame,
        go_caller=go_caller,
        header=header,
        header_cut=header_cut,
        chain=links,
        raised_in=raised_in,
    )


def _raised_by_runtime(backtrace: Backtrace, panicking: Frame) -> bool:
    """The compiler's runtime-error helpers (runtime.panicIndex, sigpanic,
    ...) right under the innermost gopanic: the runtime raised it."""
    for frame in backtrace.frames[panicking.index + 1:]:
        if not frame.is_runtime:
            return False
        if _RUNTIME_ERROR_HELPER.match(frame.function):
            return True
    return False


def with_every_throw(header: tuple[str, ...], messages: tuple[str, ...]) -> tuple[str, ...]:
    """Each goroutine that threw (messages: one each) printed its `fatal
    error:` line before the first of them took the traceback; the print
    backlog keeps only those printed before the first began to die. The
    missing ones follow."""
    missing = [message for message in messages if message]  # an unreadable one cannot be shown
    for line in header:
        text = line.removeprefix("fatal error: ")
        if text != line and text in missing:
            missing.remove(text)
    return (*header, *(f"fatal error: {message}" for message in missing))


def thrown_header(evidence: CrashEvidence, backtrace: Backtrace, message: str) -> tuple[str, ...]:
    """A throw's lines when the runtime's print backlog did not keep them:
    the diagnostics Go prints before the throws we know, then the message."""
    site = thrower(backtrace)
    before: tuple[str, ...] = ()
    if message == "stack overflow" and evidence.max_stack and site and site.function == STACK_GROWTH_FUNCTION:
        before = (f"runtime: goroutine stack exceeds {evidence.max_stack}-byte limit",)
    elif message == "fault" and evidence.fault_address is not None:
        before = (f"unexpected fault address 0x{evidence.fault_address:x}",)
    lines = message.split("\n")
    return (*before, f"fatal error: {lines[0]}", *(f"\t{line}" for line in lines[1:]))


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
