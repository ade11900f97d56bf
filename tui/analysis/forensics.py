"""Reading what a crash left on the core: the crashing stack, the panic
value or fatal message, the signal and its address, and the first screen's
Snapshot. Blocking (it asks dlv); the reasoning itself is crash.py's."""

from __future__ import annotations

import time

from ..debugger import elf
from ..debugger.delve import Delve
from ..model import Backtrace, Frame, Goroutine, Snapshot
from ..parse import ParseError
from ..sources.resolve import resolve
from . import crash as crash_rules


def crash_stack(delve: Delve, selected: int | None) -> tuple[Backtrace, Backtrace | None]:
    """(the stack that holds the crash, the goroutine's own stack when that differs).

    Older Delve (1.20) shows a goroutine that crashed on the system stack
    (a throw from newstack, a signal in C code) from its saved state,
    without the throw; `-mode simple` unwinds the thread as it is.
    """
    goroutine = delve.backtrace(selected)
    if selected is None or crash_rules.has_crash_frames(goroutine):
        return goroutine, None
    try:
        thread = delve.backtrace(selected, simple=True)
    except ParseError:
        return goroutine, None
    return (thread, goroutine) if crash_rules.has_crash_frames(thread) else (goroutine, None)


def evidence(delve: Delve, selected: int | None) -> crash_rules.CrashEvidence:
    """Read what the crash left behind on the crashing stack."""
    backtrace, own_stack = crash_stack(delve, selected)
    # A frame of the thread's stack is addressed in the goroutine's own
    # stack's numbering (`frame N` knows no other), or not at all.
    addressable = own_stack or backtrace

    def index_of(frame: Frame | None) -> int | None:
        return None if frame is None else addressable_index(frame, backtrace, addressable)

    panicking = crash_rules.panic_frame(backtrace)
    fatal = crash_rules.fatal_frame(backtrace)
    dying = backtrace.find(crash_rules.SIGNAL_FUNCTION)
    sigpanic = backtrace.find(crash_rules.SIGPANIC_FUNCTION)
    trampoline = crash_rules.signal_trampoline(backtrace)
    panic_value = fatal_message = throw_site = max_stack = None
    fault_signal = fault_address = None
    if panicking is not None:
        # gopanic's own argument `e` is often unreadable in cores (its
        # register is reused); the _panic record `p` keeps the value.
        index = index_of(panicking)
        panic_value = delve.evaluate(selected, index, "p.arg") or delve.evaluate(selected, index, "e")
    elif fatal is not None:
        fatal_message = delve.evaluate(selected, index_of(fatal), "s")
        if fatal_message is None or fatal_message.startswith("(unreadable"):
            fatal_message = message_from_closure(delve, selected, fatal, index_of(fatal)) or fatal_message
        site = crash_rules.thrower(backtrace)
        if site is not None and (fatal_message is None or fatal_message.startswith("(unreadable")):
            # The runtime is optimized even in a -N -l build: `s` is
            # often gone, but the call site in GOROOT says it.
            throw_site = source_line(site.file, site.line)
        if site is not None and site.function == crash_rules.STACK_GROWTH_FUNCTION:
            max_stack = delve.evaluate_int(selected, index_of(site), "runtime.maxstacksize")
    if sigpanic is not None:
        fault_signal = delve.evaluate_int(selected, index_of(sigpanic), "gp.sig")
        fault_address = delve.evaluate_int(selected, index_of(sigpanic), "gp.sigcode1")
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
        fault_signal = delve.evaluate_int(selected, index_of(trampoline), "sig")
        fault_address = delve.evaluate_int(selected, index_of(trampoline), "info.si_addr")
    core_signal, optimized = target_facts(delve.target.executable, delve.target.core)
    return crash_rules.CrashEvidence(
        backtrace=backtrace,
        selected_goroutine=selected,
        panic_value=panic_value,
        fatal_message=fatal_message,
        signal=delve.evaluate_int(selected, index_of(dying), "sig") if dying else None,
        fault_signal=fault_signal,
        fault_address=fault_address,
        throw_site=throw_site,
        max_stack=max_stack,
        core_signal=core_signal,
        goroutine_backtrace=own_stack,
        optimized=optimized,
    )


def addressable_index(frame: Frame, shown: Backtrace, addressable: Backtrace) -> int | None:
    """The index `frame N` commands take for a frame of `shown`.

    A stack unwound in `-mode simple` numbers its frames differently from
    the goroutine's own stack, which is what `frame N` addresses: the frame
    is found there by PC and function; None when it is not there (a frame
    of the system stack, whose variables Delve cannot read by index).
    """
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


def read_snapshot(delve: Delve, goroutines: tuple[Goroutine, ...] | None = None,
                  warnings: tuple[str, ...] = ()) -> Snapshot:
    """Everything the first screen shows.

    Without a goroutine list, the crash, its backtrace, source and
    variables come first (a few commands, whatever the core's size) and
    Snapshot.goroutines is empty: the list is paged in behind.
    """
    started = time.monotonic()
    selected = delve.current_goroutine()
    if goroutines is None:
        focus = selected if selected is not None else (1 if delve.has_goroutine(1) else None)
    else:
        focus = crash_rules.focus_goroutine(selected, goroutines)
    found = evidence(delve, selected)
    if focus == selected:
        focus_backtrace = found.goroutine_backtrace or found.backtrace
    else:
        focus_backtrace = delve.backtrace(focus)
    crash = crash_rules.analyse(found, focus_backtrace)
    frame_index = crash.frame.index if crash.frame else 0
    notes = list(delve.input_warnings)
    if found.optimized:
        notes.append(crash_rules.OPTIMIZED_WARNING)
    notes += warnings
    if focus_backtrace.truncated:
        notes.append("backtrace cut at 50 frames")
    return Snapshot(
        target=delve.target,
        crash=crash,
        goroutines=goroutines or (),
        backtrace=focus_backtrace,
        frame=delve.frame_state(focus, frame_index),
        warnings=tuple(notes),
        crash_backtrace=None if focus_backtrace is found.backtrace else found.backtrace,
        seconds=delve.open_seconds + time.monotonic() - started,
    )
