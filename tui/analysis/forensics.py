"""Reading what a crash left on the core: the crashing stack, the panic
value or fatal message, the signal and its address, and the first screen's
Snapshot. Blocking (it asks dlv); the reasoning itself is crash.py's."""

from __future__ import annotations

import contextlib
import re
import time
from dataclasses import replace

from ..debugger import elf
from ..debugger.delve import Delve
from ..model import Backtrace, Frame, FrameState, Goroutine, Snapshot
from ..parse import ParseError
from ..parse.values import unquote
from ..sources.resolve import resolve
from . import crash as crash_rules
from .header import BACKLOG_BYTES, PanicRecord, backlog_report
from .gostacks import GoStacks
from .owncode import OwnCode
from .panicvalue import kind_from_delve


def crash_stack(delve: Delve, selected: int | None, stacks: GoStacks | None = None) -> tuple[Backtrace, Backtrace | None]:
    """(the stack that holds the crash, the goroutine's own stack when that differs).

    Read from the core file where it can be (stacks): the goroutine's
    thread from its registers, through the signal handler, the system
    stack and C code. Else Delve's: older Delve (1.20) shows a goroutine
    that crashed on the system stack (a throw from newstack, a signal in C
    code) from its saved state, without the throw; `-mode simple` unwinds
    the thread as it is.
    """
    goroutine = delve.backtrace(selected)
    if stacks is not None:
        goroutine = stacks.apply(goroutine)
    if selected is None or crash_rules.has_crash_frames(goroutine) or not goroutine.indexed:
        return goroutine, None
    try:
        thread = delve.backtrace(selected, simple=True)
    except ParseError:
        return goroutine, None
    return (thread, goroutine) if crash_rules.has_crash_frames(thread) else (goroutine, None)


def evidence(delve: Delve, selected: int | None, stacks: GoStacks | None = None) -> crash_rules.CrashEvidence:
    """Read what the crash left behind on the crashing stack."""
    backtrace, own_stack = crash_stack(delve, selected, stacks)
    frames = FrameReader(delve, selected, backtrace, own_stack)
    panicking = crash_rules.panic_frame(backtrace)
    fatal = crash_rules.fatal_frame(backtrace)
    dying = backtrace.find(crash_rules.SIGNAL_FUNCTION)
    sigpanic = backtrace.find(crash_rules.SIGPANIC_FUNCTION)
    trampoline = crash_rules.signal_trampoline(backtrace)
    panic_value = fatal_message = throw_site = max_stack = None
    fault_signal = fault_address = sender = None
    chain = read_chain(delve, selected) if panicking is not None else ()
    backlog = read_backlog(delve) if fatal is not None else ""
    if panicking is not None and not chain:
        # gopanic's own argument `e` is often unreadable in cores (its
        # register is reused); the _panic record `p` keeps the value.
        panic_value = frames.value(panicking, "p.arg") or frames.value(panicking, "e")
    if fatal is not None and not backlog_report(backlog)[0]:
        # The runtime's print backlog lost the report (or has none): read
        # the message off throw's frames.
        fatal_message = frames.value(fatal, "s")
        if fatal_message is None or fatal_message.startswith("(unreadable"):
            fatal_message = message_from_closure(delve, selected, fatal, frames.index(fatal)) or fatal_message
        site = crash_rules.thrower(backtrace)
        if site is not None and (fatal_message is None or fatal_message.startswith("(unreadable")):
            # The runtime is optimized even in a -N -l build: `s` is
            # often gone, but the call site in GOROOT says it.
            throw_site = source_line(site.file, site.line)
        if site is not None and site.function == crash_rules.STACK_GROWTH_FUNCTION:
            max_stack = delve.evaluate_int(selected, None, "runtime.maxstacksize")
    if sigpanic is not None:
        fault_signal = frames.integer(sigpanic, "gp.sig")
        fault_address = frames.integer(sigpanic, "gp.sigcode1")
        if fault_signal is None:
            # Go 1.19's optimized sigpanic keeps no `gp`: Delve's
            # runtime.curg is the same g; a signal in C code arrived on
            # the thread's g0 instead. Asked without a frame: Delve 1.20
            # cannot address the frames of a thread's system stack.
            for owner in ("runtime.curg", "runtime.curg.m.g0"):
                fault_signal = delve.evaluate_int(selected, None, f"{owner}.sig") or None
                if fault_signal is not None:
                    fault_address = delve.evaluate_int(selected, None, f"{owner}.sigcode1")
                    break
    elif trampoline is not None:
        fault_signal = frames.integer(trampoline, "sig")
        fault_address = frames.integer(trampoline, "info.si_addr")
        code = frames.integer(trampoline, "info.si_code")
        if fault_signal is None and backtrace.signal_under(trampoline) is not None:
            # Read from the kernel's signal frame (a stack read from the core file).
            fault_signal, code, fault_address = backtrace.signal_under(trampoline)
        if fault_signal is not None and code is not None and fault_address is not None:
            info = elf.SigInfo.from_fields(fault_signal, code, fault_address)
            if info.pid is not None:  # sent by a process (kill, tgkill): no fault address
                sender, fault_address = (info.pid, info.uid), None
    core_signal, optimized = target_facts(delve.target.executable, delve.target.core)
    return crash_rules.CrashEvidence(
        chain=chain,
        backlog=backlog,
        backtrace=backtrace,
        selected_goroutine=selected,
        panic_value=panic_value,
        fatal_message=fatal_message,
        signal=frames.integer(dying, "sig") if dying else None,
        fault_signal=fault_signal,
        fault_address=fault_address,
        throw_site=throw_site,
        max_stack=max_stack,
        core_signal=core_signal,
        goroutine_backtrace=own_stack,
        optimized=optimized,
        sender=sender,
    )


# A chain deeper than this is cut (a panic loop would be a very long header).
CHAIN_DEPTH = 32
# Long enough for a multi-line panic value (a wrapped error with a stack).
VALUE_LENGTH = 4096
# The kinds printpanicval prints by value; any other type by its address.
_BY_VALUE = {"bool", "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64",
             "uintptr", "float32", "float64", "complex64", "complex128", "string"}
_BASIC_VALUE = re.compile(r"^(?:interface \{\}|any|error)\((?:%s)\) " % "|".join(sorted(_BY_VALUE)))


def read_chain(delve: Delve, goroutine_id: int | None) -> tuple[PanicRecord, ...]:
    """The crashing goroutine's _panic records, newest first, read through
    Delve's runtime.curg (the goroutine's g, whatever frame is selected:
    frame locals of the optimized runtime are not to be relied on)."""
    if goroutine_id is None:
        return ()
    records = []
    path = "runtime.curg._panic"
    with delve.strings_up_to(VALUE_LENGTH):
        for _ in range(CHAIN_DEPTH):
            try:
                fields = delve.fields(goroutine_id, path)
            except ParseError:
                break  # nil: the end of the chain (or no chain at all)
            value = fields.get("arg", "")
            if value.endswith("{"):  # a composite value, printed over several lines
                value = delve.evaluate(goroutine_id, None, f"{path}.arg") or value
            kind = address = None
            if value and not _BASIC_VALUE.match(value) and not value.endswith(" nil"):
                kind, address = _dynamic_type(delve, goroutine_id, f"{path}.arg")
            records.append(PanicRecord(value, kind, address, fields.get("recovered") == "true",
                                       fields.get("repanicked") == "true", fields.get("goexit") == "true"))
            path += ".link"
    return tuple(records)


def _dynamic_type(delve: Delve, goroutine_id: int, interface: str) -> tuple[str | None, int | None]:
    """(kind, data pointer) of an interface value, through its eface."""
    eface = f"(*runtime.eface)(uintptr(&{interface}))"
    kind = None
    # Kind_ since Go 1.21 (internal/abi.Type); the runtime's own kind byte before.
    for field in ("Kind_", "kind"):
        text = delve.evaluate(goroutine_id, None, f"{eface}._type.{field}")
        if text is not None:
            try:
                kind = kind_from_delve(text)
                break
            except ParseError:
                continue
    data = delve.evaluate(goroutine_id, None, f"{eface}.data")
    match = re.search(r"0x[0-9a-f]+", data or "")
    return kind, int(match[0], 16) if match else None


def read_backlog(delve: Delve) -> str:
    """runtime.printBacklog in the order it was written: the last 512 bytes
    the runtime printed before it started to crash ("" where unreadable)."""
    address = delve.address_of("runtime.printBacklog")
    index = delve.evaluate_int(None, None, "runtime.printBacklogIndex")
    if address is None or index is None:
        return ""
    try:
        ring = delve.memory_bytes(address, BACKLOG_BYTES)
    except ParseError:
        return ""
    index %= len(ring) or 1
    return (ring[index:] + ring[:index]).decode("utf-8", "replace")


class FrameReader:
    """Reads a name in a frame of the crashing stack, however Delve can.

    A frame of the thread's stack (Delve 1.20's `-mode simple`) is asked in
    the goroutine's own stack's numbering (`frame N` knows no other); one
    that is not there (a frame of the signal or system stack) is read off
    `stack -mode simple -full`, and a field of a pointer it holds through
    that pointer's address.
    """

    def __init__(self, delve: Delve, goroutine_id: int | None, stack: Backtrace, own_stack: Backtrace | None) -> None:
        self.delve, self.goroutine_id, self.stack = delve, goroutine_id, stack
        self.addressable = own_stack or stack
        self._full: dict[int, dict[str, str]] | None = None

    def index(self, frame: Frame) -> int | None:
        return addressable_index(frame, self.stack, self.addressable)

    def value(self, frame: Frame, expression: str) -> str | None:
        index = self.index(frame)
        if index is None and not self.stack.indexed:
            return None  # a frame Delve does not have (C code it could not unwind)
        if index is not None or not self.stack.simple:
            return self.delve.evaluate(self.goroutine_id, index, expression)
        name, _, path = expression.partition(".")
        value = self._variables().get(frame.index, {}).get(name)
        if value is None or not path:
            return value
        pointer = _TYPED_POINTER.match(value)
        return self.delve.evaluate(self.goroutine_id, None, f"{pointer[0]}.{path}") if pointer else None

    def integer(self, frame: Frame, expression: str) -> int | None:
        value = self.value(frame, expression)
        try:
            return int(value, 0) if value is not None else None
        except ValueError:
            return None

    def _variables(self) -> dict[int, dict[str, str]]:
        if self._full is None:
            try:
                self._full = self.delve.stack_variables(self.goroutine_id, len(self.stack.frames), simple=True)
            except ParseError:
                self._full = {}
        return self._full


# `(*runtime.siginfo)(0xc00000f4b0)`: a pointer as `stack -full` prints it.
_TYPED_POINTER = re.compile(r"^\(\*[\w./]+\)\(0x[0-9a-f]+\)$")


def addressable_index(frame: Frame, shown: Backtrace, addressable: Backtrace) -> int | None:
    """The index `frame N` commands take for a frame of `shown`.

    A stack unwound in `-mode simple` numbers its frames differently from
    the goroutine's own stack, which is what `frame N` addresses: the frame
    is found there by PC and function; None when it is not there (a frame
    of the system stack, whose variables Delve cannot read by index).
    """
    if not shown.indexed:
        return frame.delve_index
    if not shown.simple:
        return frame.index
    for candidate in addressable.frames:
        if candidate.pc == frame.pc and candidate.function == frame.function:
            return candidate.index
    return None


def message_from_closure(delve: Delve, goroutine_id: int | None, fatal: Frame, index: int | None) -> str | None:
    """runtime.throw/fatal's message when `s` itself is unreadable.

    Go 1.19 keeps `s` only in a register where the core stopped (Delve:
    "could not find loclist entry"), but throw and fatal first built
    `systemstack(func() { print("fatal error: ", s, "\\n") })`'s closure on
    their own frame: {code pointer, s.ptr, s.len}. The closure is found
    by its code pointer (the func1's entry), so no other word is taken
    for a string.
    """
    if index is None:
        return None
    try:
        frame_addresses = delve.frame_addresses(goroutine_id, index)
        entry = delve.function_pc(f"{fatal.function}.func1")
    except ParseError:
        return None
    if not 0 < index < len(frame_addresses):
        return None
    # The frame lies between its callee's frame address and its own.
    low, high = frame_addresses[index - 1], frame_addresses[index]
    count = (high - low) // 8
    if not 3 <= count <= 64:
        return None
    try:
        words = delve.memory_words(low, count)
    except ParseError:
        return None
    for offset in range(len(words) - 2):
        code, pointer, length = words[offset:offset + 3]
        # `list` shows the PC after the closure's prologue, a few bytes in.
        if 0 <= entry - code < 32 and pointer and 0 < length <= 1 << 16:
            return delve.evaluate(goroutine_id, index, f"*(*string)({low + 8 * (offset + 1):#x})")
    return None


def target_facts(executable: str, core: str) -> tuple[int | None, bool]:
    """(signal in the core's notes, optimized build) read off the files."""
    try:
        core_signal = elf.check_core(core).signal
    except elf.InputError:
        core_signal = None
    producers = elf.go_producers(executable, enough=" -N")
    return core_signal, crash_rules.optimized_build(producers)


def source_line(file: str, line: int) -> str | None:
    path = resolve(file)
    if path is None or line < 1:
        return None
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for number, text in enumerate(f, 1):
                if number == line:
                    return text
    except OSError:
        return None
    return None


SYSTEM_STACK_FRAME = ("this frame ran on the thread's system stack, outside the goroutine's own stack: "
                      "Delve cannot address it to read its variables")

# The signal the runtime relays to every thread when it crashes
# (GOTRACEBACK=crash): the last thread to get it dumps the core.
SIGQUIT = 3
# How many threads are examined for the one the signal really hit.
THREAD_PROBES = 32


def find_signalled_thread(delve: Delve) -> None:
    """Make current the thread that took the fatal signal, when the core
    was dumped by another.

    A signal the runtime does not turn into a panic (a kill -ABRT) is
    handled on the thread it hit: it prints its report, then relays
    SIGQUIT from thread to thread for their stacks, and the last one to
    get it dumps the core (Go 1.19 does so). Delve then starts on that
    last thread, which runs no goroutine and holds the relayed SIGQUIT.
    The first thread is the one whose m began to die (startpanic_m set
    its m.dying); relayed ones did not.
    """
    if delve.current_goroutine() is not None:
        return
    try:
        stack = delve.backtrace(None, simple=True)
    except ParseError:
        return
    if _handled_signal(delve, stack) != SIGQUIT:
        return
    thread_id = _dying_thread(delve)
    if thread_id is not None:
        try:
            delve.switch_thread(thread_id)
        except ParseError:
            pass


def _dying_thread(delve: Delve) -> int | None:
    """The thread of the m whose crash began (startpanic_m set its dying),
    found by walking runtime.allm."""
    path = "runtime.allm"
    for _ in range(THREAD_PROBES):
        dying = delve.evaluate_int(None, None, f"{path}.dying")
        if dying is None:
            return None  # the end of allm (nil), or unreadable
        if dying > 0:
            return delve.evaluate_int(None, None, f"{path}.procid")
        path += ".alllink"
    return None


def _handled_signal(delve: Delve, stack: Backtrace) -> int | None:
    """The signal runtime.sighandler was handling on the current thread's stack."""
    handler = stack.find(crash_rules.HANDLER_FUNCTION)
    return delve.evaluate_int(None, handler.index, "sig") if handler is not None else None


def exact_lines(delve: Delve, backtrace: Backtrace) -> Backtrace:
    """The backtrace with the line of each frame a signal interrupted (its
    callee is runtime.sigpanic) taken at its PC itself, as Go's traceback
    takes it: Delve 1.20 looks it up at PC-1, as for a return address, and
    in optimized code that can be the next line."""
    if not backtrace.indexed:
        return backtrace  # read from the core file: Go's lines already
    frames = list(backtrace.frames)
    for position, frame in enumerate(frames):
        if position == 0 or frames[position - 1].function != crash_rules.SIGPANIC_FUNCTION or not frame.pc:
            continue
        try:
            file, line = delve.place_of(frame.pc)
        except ParseError:
            continue
        if line and file == frame.file and line != frame.line:
            frames[position] = replace(frame, line=line)
    return replace(backtrace, frames=tuple(frames))


def first_thrower(delve: Delve, selected: int | None) -> tuple[int | None, tuple[tuple[int, str], ...]]:
    """The goroutine Go printed first when several threw at once, made
    current, and the others with their messages.

    Each thrower prints its `fatal error:` line, then they take turns at
    the traceback (runtime.dopanic_m): each but the last prints and waits
    forever, and the last crashes the process, on its own thread. The core
    stops there, while Go's stderr begins with the first. With two the
    first is the other one; with more, their order is not in the core (the
    lowest id is taken).
    """
    throwers = delve.throwers() if selected is not None else {}
    if selected not in throwers or len(throwers) < 2:
        return selected, ()
    first = min(goroutine for goroutine in throwers if goroutine != selected)
    try:
        delve.switch_thread(throwers[first])
    except ParseError:
        return selected, ()
    if delve.current_goroutine() != first:  # the goroutine left that thread meanwhile: stay
        with contextlib.suppress(ParseError):
            delve.switch_thread(throwers[selected])  # back where the core stopped
        return selected, ()
    return first, tuple((goroutine, _thrown_message(delve, goroutine)) for goroutine in sorted(throwers)
                        if goroutine != first)


def _thrown_message(delve: Delve, goroutine_id: int) -> str:
    """The message of a goroutine's runtime.throw/fatal ("" if unreadable)."""
    try:
        backtrace = delve.backtrace(goroutine_id)
    except ParseError:
        return ""
    fatal = crash_rules.fatal_frame(backtrace)
    if fatal is None:
        return ""
    value = delve.evaluate(goroutine_id, fatal.index, "s") or ""
    if not value.startswith('"'):
        value = message_from_closure(delve, goroutine_id, fatal, fatal.index) or ""
    if value.startswith('"'):
        return unquote(value)
    # The call site in GOROOT says it, or its caller's (sync.fatal's is `fatal(s)`).
    callers = [frame for frame in backtrace.frames if frame.index > fatal.index][:2]
    return next((message for frame in callers if (message := crash_rules.throw_literal(
        source_line(frame.file, frame.line)))), "")


def _goroutines(others: tuple[tuple[int, str], ...]) -> str:
    ids = [str(goroutine) for goroutine, _ in others]
    return f"goroutine {ids[0]}" if len(ids) == 1 else f"goroutines {', '.join(ids)}"


def read_snapshot(delve: Delve, goroutines: tuple[Goroutine, ...] | None = None,
                  warnings: tuple[str, ...] = (), stacks: GoStacks | None = None) -> Snapshot:
    """Everything the first screen shows.

    Without a goroutine list, the crash, its backtrace, source and
    variables come first (a few commands, whatever the core's size) and
    Snapshot.goroutines is empty: the list is paged in behind. stacks:
    Go's rules for Delve's backtraces (one is made, and closed, if not given).
    """
    if stacks is None:
        stacks = GoStacks(delve)
        try:
            return read_snapshot(delve, goroutines, warnings, stacks)
        finally:
            stacks.close()
    started = time.monotonic()
    find_signalled_thread(delve)
    selected = delve.current_goroutine()
    found = evidence(delve, selected, stacks)
    if crash_rules.fatal_frame(found.backtrace) is not None:
        first, others = first_thrower(delve, selected)
        if first != selected:
            selected = first
            found = replace(evidence(delve, selected, stacks), also_threw=tuple(message for _, message in others))
            warnings += (f"{_goroutines(others)} threw at the same time; Go printed goroutine {first} first",)
    if goroutines is None:
        focus = selected if selected is not None else (1 if delve.has_goroutine(1) else None)
    else:
        focus = crash_rules.focus_goroutine(selected, goroutines)
    own = OwnCode.of(delve.target.build)

    def as_go_printed(backtrace: Backtrace) -> Backtrace:
        return own.mark(stacks.apply(exact_lines(delve, backtrace)))

    crash_stack = as_go_printed(found.backtrace)
    goroutine_stack = as_go_printed(found.goroutine_backtrace) if found.goroutine_backtrace else None
    if focus != selected:
        focus_backtrace = as_go_printed(delve.backtrace(focus))
    elif goroutine_stack is not None and goroutine_stack.first_user_frame() is not None:
        focus_backtrace = goroutine_stack
    else:
        # The crashing stack itself, also when Delve 1.20 could not unwind
        # the goroutine's own past a signal frame but the thread's stack
        # goes on to the program's code.
        focus_backtrace = crash_stack
    found = replace(found, backtrace=crash_stack)
    crash = crash_rules.analyse(found, focus_backtrace, delve.target.go_version, own)
    frame_index = crash.frame.index if crash.frame else 0
    state_index = frame_index
    if crash.frame is not None:
        state_index = addressable_index(crash.frame, focus_backtrace, goroutine_stack or focus_backtrace)
    notes = list(delve.input_warnings)
    if found.optimized:
        notes.append(crash_rules.OPTIMIZED_WARNING)
    notes += warnings
    if focus_backtrace.truncated:
        notes.append(f"backtrace cut at {len(focus_backtrace.frames)} frames")
    return Snapshot(
        target=delve.target,
        crash=crash,
        goroutines=goroutines or (),
        backtrace=focus_backtrace,
        frame=(delve.frame_state(focus, state_index) if state_index is not None
               else FrameState(focus, frame_index, error=SYSTEM_STACK_FRAME)),
        warnings=tuple(notes),
        crash_backtrace=None if focus_backtrace is crash_stack else crash_stack,
        seconds=delve.open_seconds + time.monotonic() - started,
    )
