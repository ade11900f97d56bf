"""Typed Delve commands on top of one CommandRunner and the pure parsers.

Every command names its goroutine and frame (`goroutine G frame F args`), so
Delve's own selection never changes and no command depends on the one before.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Iterator

from . import crash as crash_rules
from . import elf
from .listing import PAGE_SIZE, Claim, Page, sequential
from .model import Backtrace, Frame, FrameState, Goroutine, Instruction, Snapshot, Target, Variable
from .parse import ParseError
from .parse.values import parse_value
from .parse.delve import (
    command_error,
    parse_backtrace,
    parse_current_goroutine,
    parse_disassembly,
    parse_frame_offsets,
    parse_goroutine_page,
    parse_goroutines,
    parse_listing_pc,
    parse_memory_words,
    page_next_start,
    parse_print,
    parse_stack_page,
    parse_string_array,
    parse_variables,
    parse_version,
)
from .source import resolve as resolve_source
from .session import CommandRunner, PromptSession, ReplaySession, SessionError
from .startup import OpenError, check_inputs, explain_startup_failure, no_debug_info_warning

DLV_VERSION = "v1.27.2"
INSTALL_HINT = f"go install github.com/go-delve/delve/cmd/dlv@{DLV_VERSION}"
PROMPT = "(dlv) "
# Delve's defaults cut strings at 64 bytes and arrays at 64 values; a
# post-mortem wants a little more, without flooding the pty.
_CONFIG = ("config max-string-len 256", "config max-array-values 256")
PAGES_SCRIPT = Path(__file__).parent / "star" / "pages.star"
# Whole stacks cost dlv ~0.3 ms a goroutine: pages of 100 hold the pty for
# ~35 ms, the longest a keypress waits behind them.
STACK_PAGE_SIZE = 100
STACK_DEPTH = 64


_UNKNOWN = object()


# A dlv chosen once for every run (e.g. an older Delve for older Go cores).
DLV_VARIABLE = "GOCORE_TUI_DLV"


def find_dlv(explicit: str | None = None) -> str:
    """--dlv, else $GOCORE_TUI_DLV, else the dlv set-up installed beside our
    interpreter, else PATH."""
    for chosen, source in ((explicit, "--dlv"), (os.environ.get(DLV_VARIABLE), DLV_VARIABLE)):
        if chosen:
            if not (os.path.isfile(chosen) and os.access(chosen, os.X_OK)):
                raise OpenError(f"{chosen}: not an executable dlv (check {source})")
            return chosen
    beside = Path(sys.executable).parent / "dlv"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("dlv")
    if found:
        return found
    raise OpenError(f"dlv not found: install Delve with `{INSTALL_HINT}` (or `make setup`), or pass --dlv PATH")


def dlv_version(dlv: str) -> str:
    try:
        result = subprocess.run([dlv, "version"], capture_output=True, text=True, timeout=30, env=_dlv_env())
        return parse_version(result.stdout)
    except (OSError, subprocess.SubprocessError, ParseError):
        return ""


def _dlv_env() -> dict[str, str]:
    env = dict(os.environ)
    # TERM=dumb turns off both colour and Delve's pager (which would wait
    # on `--More--` forever); a private config dir keeps a user's aliases,
    # colours and substitute-path rules out of our parsing.
    env["TERM"] = "dumb"
    env.pop("DELVE_PAGER", None)
    env["XDG_CONFIG_HOME"] = _private_config_dir()
    return env


def _private_config_dir() -> str:
    """An empty config home of our own (dlv writes its default config.yml there)."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = os.path.join(cache, "gocore-tui", "dlv-config")
    try:
        os.makedirs(path, exist_ok=True)
        return path
    except OSError:
        return tempfile.mkdtemp(prefix="gocore-tui-dlv-")


class Delve:
    """A `dlv core` session. All methods block: call them off the UI thread."""

    def __init__(self, runner: CommandRunner, target: Target) -> None:
        self.runner = runner
        self.target = target
        self.open_seconds = 0.0
        self.input_warnings: tuple[str, ...] = ()
        # From the files themselves: the signal the core's notes record
        # (0 for gcore's dump of a live process) and whether the optimizer
        # was on (DWARF producer flags).
        self.core_signal: int | None = None
        self.optimized = False
        self.listing_problem = ""
        # Where this dlv's goroutine cache stops short of the list (listing.py).
        self.unwarmed_from: int | None = None
        self._wait_reasons: tuple[str, ...] | None = None
        self._paging_ready = False
        self._selected: int | None | object = _UNKNOWN
        self.dlv_path = ""

    @classmethod
    def open(cls, executable: str, core: str, dlv: str | None = None, startup_timeout: float = 120.0,
             force: bool = False) -> "Delve":
        """Check the inputs, spawn `dlv core`, and configure it.

        Raises OpenError with a one-line message for every bad input; no dlv
        is left running when it does.
        """
        executable, core = os.path.abspath(executable), os.path.abspath(core)
        input_warnings = check_inputs(executable, core, force)
        dlv_path = find_dlv(dlv)
        version = dlv_version(dlv_path)
        started = time.monotonic()
        try:
            session = PromptSession([dlv_path, "core", executable, core], PROMPT, env=_dlv_env(), startup_timeout=startup_timeout)
        except SessionError as err:
            raise OpenError(explain_startup_failure(str(err), executable, core, version)) from None
        except OSError as err:
            raise OpenError(f"{dlv_path}: cannot run dlv ({err.strerror})") from None
        try:
            warning = no_debug_info_warning(session.banner, executable)
            if warning:
                raise OpenError(warning)
            for command in _CONFIG:
                session.run(command)
            delve = cls(session, Target(executable, core, delve_version=version))
            delve.target = Target(executable, core, delve._go_version(), version)
            delve.open_seconds = time.monotonic() - started
            delve.input_warnings = input_warnings
            delve.dlv_path = dlv_path
            delve.core_signal, delve.optimized = _build_facts(executable, core)
            return delve
        except BaseException:
            session.close()
            raise

    def lister(self) -> "Delve":
        """A second dlv session on the same core, for the whole stacks, so
        the user's commands never wait behind their pages. It starts at the
        lowest CPU priority (nice 19) beside the first screen, and waits.
        A recorded session (replay) lists itself."""
        if not isinstance(self.runner, PromptSession) or not self.dlv_path:
            return self
        nice = shutil.which("nice")
        argv = [self.dlv_path, "core", self.target.executable, self.target.core]
        session = PromptSession([nice, "-n", "19", *argv] if nice else argv, PROMPT, env=_dlv_env(),
                                startup_timeout=120)
        try:
            for command in _CONFIG:
                session.run(command)
        except BaseException:
            session.close()
            raise
        return Delve(session, self.target)

    def _go_version(self) -> str:
        try:
            return crash_rules.unquote(parse_print(self.runner.run("print runtime.buildVersion")))
        except ParseError:
            return ""

    @staticmethod
    def _scope(goroutine_id: int | None, frame_index: int | None = None) -> str:
        # No goroutine (a crash on a system stack): the current thread's frames.
        scope = "" if goroutine_id is None else f"goroutine {goroutine_id} "
        if frame_index is not None:
            scope += f"frame {frame_index} "
        return scope

    def goroutines(self) -> tuple[Goroutine, ...]:
        """Every goroutine: through the paged API listing, or Delve's
        `goroutines` text where Starlark is not available."""
        if not self._load_paging():
            items, _total = parse_goroutines(self.runner.run("goroutines", timeout=600))
            return items
        return tuple(g for page in self.goroutine_pages() for g in page)

    def _load_paging(self) -> bool:
        """Source the paging script once; False where this dlv cannot."""
        if not self._paging_ready:
            self._paging_ready = command_error(self.runner.run(f"source {PAGES_SCRIPT}")) is None
        return self._paging_ready

    def current_goroutine(self) -> int | None:
        """The goroutine the core stopped in (asked once: a core never moves)."""
        if self._selected is _UNKNOWN:
            self._selected = parse_current_goroutine(self.runner.run("goroutine"))
        return self._selected

    def wait_reasons(self) -> tuple[str, ...]:
        """The target's own runtime.waitReasonStrings: names change between
        Go releases, so they are read from the binary, not from a table."""
        if self._wait_reasons is None:
            try:
                self._wait_reasons = parse_string_array(self.runner.run("print runtime.waitReasonStrings"))
            except ParseError:
                self._wait_reasons = ()
        return self._wait_reasons

    def goroutine_pages(self, claim: Claim | None = None) -> Iterator[Page]:
        """The goroutine list a page at a time. Each page is one command, so
        the user's commands get the pty between pages. `claim` says where
        each page starts (see listing.py); by default, where the last stopped."""
        if not self._load_paging():
            raise ParseError(f"this dlv cannot run {PAGES_SCRIPT.name}")
        claim = claim or sequential(PAGE_SIZE)
        wait_reasons = self.wait_reasons()
        selected = self.current_goroutine()
        places: dict = {}
        page = claim(0)
        # Page k is parsed on a second thread while dlv produces page k+1:
        # waiting on the pty releases the GIL, so the two overlap.
        with ThreadPoolExecutor(max_workers=1) as parser:
            pending = None
            while page is not None or pending is not None:
                output = None
                if page is not None:
                    start, count = page
                    output = self._background(f"gocore_page {int(start)} {int(count)}")
                if pending is not None:
                    items, _ = pending.result()
                    if items and all(g.id is None for g in items):
                        # A whole page Delve cannot read: allgs is garbage (a core
                        # from another binary, or damaged); it would never end.
                        self.listing_problem = (
                            f"goroutine listing stopped at {pending_start}: Delve could not read a whole page of "
                            f"goroutines ({items[0].unreadable}); is the core from this executable?")
                        yield items[:1]
                        return
                    yield items
                    pending = None
                if output is None:
                    break
                next_start = page_next_start(output)
                if next_start is None:
                    raise ParseError("goroutine page without a NEXT line", output)
                if 0 <= next_start <= start:
                    raise ParseError(f"goroutine listing made no progress at {start}")
                pending = parser.submit(parse_goroutine_page, output, wait_reasons, selected, places)
                pending_start, page = start, claim(next_start)

    def allgs_length(self) -> int | None:
        """len(runtime.allgs): the index range a listing covers (dead slots included)."""
        try:
            return int(parse_print(self.runner.run("print len(runtime.allgs)")))
        except (ParseError, ValueError):
            return None

    def warm_cache(self, chunk: int = 10_000) -> None:
        """Read into this dlv's goroutine cache the goroutines only the second
        dlv listed, so switching to one is as quick as to any other. In
        background chunks: the user's commands go first."""
        start = self.unwarmed_from
        self.unwarmed_from = None
        while start is not None and start >= 0:
            start = page_next_start(self._background(f"gocore_warm {int(start)} {int(chunk)}"))

    def stack_pages(self, page_size: int = STACK_PAGE_SIZE, depth: int = STACK_DEPTH):
        """Every goroutine's whole stack, a page at a time: ((id, stack), ...)
        per page, for grouping by stack once the list is complete."""
        if not self._load_paging():
            raise ParseError(f"this dlv cannot run {PAGES_SCRIPT.name}")
        places: dict = {}
        start = 0
        while start >= 0:
            output = self._background(f"gocore_stacks {start} {int(page_size)} {int(depth)}")
            stacks, next_start = parse_stack_page(output, places)
            if 0 <= next_start <= start:
                raise ParseError(f"stack listing made no progress at {start}")
            yield stacks
            start = next_start

    def _background(self, command: str) -> str:
        """A page of a listing: it gives way to the user's commands."""
        return self.runner.run(command, timeout=120, background=True)

    def backtrace(self, goroutine_id: int | None, depth: int = 50) -> Backtrace:
        output = self.runner.run(f"{self._scope(goroutine_id)}stack {int(depth)}")
        return parse_backtrace(output, goroutine_id)

    def frame_state(self, goroutine_id: int | None, frame_index: int) -> FrameState:
        scope = self._scope(goroutine_id, frame_index)
        # The short form (one line a variable, three struct fields, nested
        # values elided) costs ~1 ms where -v can cost 50 ms on a runtime
        # frame; an elided value is printed in full when it is expanded.
        try:
            args = parse_variables(self.runner.run(f"{scope}args"), "arg")
            local_vars = parse_variables(self.runner.run(f"{scope}locals"), "local")
        except ParseError as err:
            return FrameState(goroutine_id, frame_index, error=str(err))
        return FrameState(goroutine_id, frame_index, args, local_vars)

    def expand(self, goroutine_id: int | None, frame_index: int, variable: Variable) -> Variable:
        """The variable printed in full (`print EXPR`), for a tree node the
        user opened; its children carry expressions of their own."""
        output = self.runner.run(f"{self._scope(goroutine_id, frame_index)}print {variable.expr}")
        error = command_error(output)
        if error:
            return replace(variable, children=(Variable("(cannot load)", error, kind=variable.kind),), partial=False)
        full = parse_value(variable.name, parse_print(output), variable.kind, variable.shadowed, variable.expr)
        return replace(full, partial=False, children=full.children or (replace(full, name="value", children=()),))

    def evaluate(self, goroutine_id: int | None, frame_index: int | None, expression: str) -> str | None:
        """`print EXPR` in a frame (None: the goroutine's); None when Delve cannot evaluate it."""
        try:
            return parse_print(self.runner.run(f"{self._scope(goroutine_id, frame_index)}print {expression}"))
        except ParseError:
            return None

    def _int(self, goroutine_id: int | None, frame_index: int | None, expression: str) -> int | None:
        value = self.evaluate(goroutine_id, frame_index, expression)
        try:
            return int(value, 0) if value is not None else None
        except ValueError:
            return None

    def crash_stack(self, selected: int | None) -> tuple[Backtrace, Backtrace | None]:
        """(the stack that holds the crash, the goroutine's own stack when that differs).

        Older Delve (1.20) shows a goroutine that crashed on the system stack
        (a throw from newstack, a signal in C code) from its saved state,
        without the throw; `-mode simple` unwinds the thread as it is.
        """
        goroutine = self.backtrace(selected)
        if selected is None or crash_rules.has_crash_frames(goroutine):
            return goroutine, None
        output = self.runner.run(f"{self._scope(selected)}stack -mode simple 50")
        if command_error(output):
            return goroutine, None
        try:
            thread = parse_backtrace(output, selected)
        except ParseError:
            return goroutine, None
        return (thread, goroutine) if crash_rules.has_crash_frames(thread) else (goroutine, None)

    def evidence(self, selected: int | None) -> crash_rules.CrashEvidence:
        """Read what the crash left behind on the crashing stack."""
        backtrace, own_stack = self.crash_stack(selected)
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
            panic_value = self.evaluate(selected, panicking.index, "p.arg") or self.evaluate(selected, panicking.index, "e")
        elif fatal is not None:
            fatal_message = self.evaluate(selected, fatal.index, "s")
            if fatal_message is None or fatal_message.startswith("(unreadable"):
                fatal_message = self._message_from_closure(selected, fatal) or fatal_message
            site = crash_rules.thrower(backtrace)
            if site is not None and (fatal_message is None or fatal_message.startswith("(unreadable")):
                # The runtime is optimized even in a -N -l build: `s` is
                # often gone, but the call site in GOROOT says it.
                throw_site = _source_line(site.file, site.line)
            if site is not None and site.function == crash_rules.STACK_GROWTH_FUNCTION:
                max_stack = self._int(selected, site.index, "runtime.maxstacksize")
        if sigpanic is not None:
            fault_signal = self._int(selected, sigpanic.index, "gp.sig")
            fault_address = self._int(selected, sigpanic.index, "gp.sigcode1")
            if fault_signal is None:
                # Go 1.19's optimized sigpanic keeps no `gp`: Delve's
                # runtime.curg is the same g; a signal in C code arrived on
                # the thread's g0 instead. Asked without a frame: Delve 1.20
                # cannot address the frames of a thread's system stack.
                for owner in ("runtime.curg", "runtime.curg.m.g0"):
                    fault_signal = self._int(selected, None, f"{owner}.sig") or None
                    if fault_signal is not None:
                        fault_address = self._int(selected, None, f"{owner}.sigcode1")
                        break
        elif trampoline is not None:
            fault_signal = self._int(selected, trampoline.index, "sig")
            fault_address = self._int(selected, trampoline.index, "info.si_addr")
        return crash_rules.CrashEvidence(
            backtrace=backtrace,
            selected_goroutine=selected,
            panic_value=panic_value,
            fatal_message=fatal_message,
            signal=self._int(selected, dying.index, "sig") if dying else None,
            fault_signal=fault_signal,
            fault_address=fault_address,
            throw_site=throw_site,
            max_stack=max_stack,
            core_signal=self.core_signal,
            goroutine_backtrace=own_stack,
        )

    def _message_from_closure(self, goroutine_id: int | None, fatal: Frame) -> str | None:
        """runtime.throw/fatal's message when `s` itself is unreadable.

        Go 1.19 keeps `s` only in a register where the core stopped (Delve:
        "could not find loclist entry"), but throw and fatal first built
        `systemstack(func() { print("fatal error: ", s, "\\n") })`'s closure on
        their own frame: {code pointer, s.ptr, s.len}. The closure is found
        by its code pointer (the func1's entry), so no other word is taken
        for a string.
        """
        scope = self._scope(goroutine_id)
        try:
            frame_addresses = parse_frame_offsets(self.runner.run(f"{scope}stack -offsets {fatal.index}"))
            entry = parse_listing_pc(self.runner.run(f"list {fatal.function}.func1"))
        except ParseError:
            return None
        if not 0 < fatal.index < len(frame_addresses):
            return None
        # The frame lies between its callee's frame address and its own.
        low, high = frame_addresses[fatal.index - 1], frame_addresses[fatal.index]
        count = (high - low) // 8
        if not 3 <= count <= 64:
            return None
        try:
            words = parse_memory_words(self.runner.run(f"x -count {count} -size 8 -x {low:#x}"))
        except ParseError:
            return None
        for offset in range(len(words) - 2):
            code, pointer, length = words[offset:offset + 3]
            # `list` shows the PC after the closure's prologue, a few bytes in.
            if 0 <= entry - code < 32 and pointer and 0 < length <= 1 << 16:
                return self.evaluate(goroutine_id, fatal.index, f"*(*string)({low + 8 * (offset + 1):#x})")
        return None

    def _main_goroutine(self) -> int | None:
        """Goroutine 1 (main), if the core still has it."""
        output = self.runner.run("goroutine 1 stack 1")
        return None if command_error(output) else 1

    def snapshot(self, goroutines: tuple[Goroutine, ...] | None = None) -> Snapshot:
        """Everything the first screen shows.

        Without a goroutine list, the crash, its backtrace, source and
        variables come first (a few commands, whatever the core's size) and
        Snapshot.goroutines is empty: the list is paged in behind.
        """
        started = time.monotonic()
        if goroutines is None:
            selected = self.current_goroutine()
            focus = selected if selected is not None else self._main_goroutine()
        else:
            selected = next((g.id for g in goroutines if g.selected), None)
            focus = crash_rules.focus_goroutine(selected, goroutines)
        evidence = self.evidence(selected)
        if focus == selected:
            focus_backtrace = evidence.goroutine_backtrace or evidence.backtrace
        else:
            focus_backtrace = self.backtrace(focus)
        crash = crash_rules.analyse(evidence, focus_backtrace)
        frame_index = crash.frame.index if crash.frame else 0
        warnings = list(self.input_warnings)
        if self.optimized:
            warnings.append(crash_rules.OPTIMIZED_WARNING)
        if self.listing_problem:
            warnings.append(self.listing_problem)
        if focus_backtrace.truncated:
            warnings.append("backtrace cut at 50 frames")
        return Snapshot(
            target=self.target,
            crash=crash,
            goroutines=goroutines or (),
            backtrace=focus_backtrace,
            frame=self.frame_state(focus, frame_index),
            warnings=tuple(warnings),
            crash_backtrace=None if focus_backtrace is evidence.backtrace else evidence.backtrace,
            seconds=self.open_seconds + time.monotonic() - started,
        )

    @property
    def alive(self) -> bool:
        """False once dlv has died or been stopped (a recording never dies)."""
        is_alive = getattr(self.runner, "is_alive", None)
        return is_alive() if is_alive is not None else True

    def disassemble(self, goroutine_id: int | None, frame_index: int) -> tuple[Instruction, ...]:
        """The instructions of a frame's function."""
        return parse_disassembly(self.runner.run(f"{self._scope(goroutine_id, frame_index)}disassemble"))

    def run_raw(self, command: str) -> str:
        """A command typed by the user; its failure comes back as text."""
        output = self.runner.run(command)
        error = command_error(output)
        return f"error: {error}" if error else output

    def close(self) -> None:
        self.runner.close()


def _build_facts(executable: str, core: str) -> tuple[int | None, bool]:
    """(signal in the core's notes, optimized build) read off the files."""
    try:
        core_signal = elf.check_core(core).signal
    except elf.InputError:
        core_signal = None
    producers = elf.go_producers(executable, enough=" -N")
    return core_signal, crash_rules.optimized_build(producers)


def _source_line(file: str, line: int) -> str | None:
    path = resolve_source(file)
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


def replay(path: str) -> Delve:
    """A Delve answering from a transcript recorded by tests/record_transcript.py."""
    runner = ReplaySession.load(path)
    meta = runner.meta
    delve = Delve(runner, Target(meta["executable"], meta["core"], meta["go_version"], meta["delve_version"]))
    delve.open_seconds = meta.get("delve_seconds", 0.0)  # what the recorded session took
    return delve
