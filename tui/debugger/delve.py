"""Typed Delve commands on top of one CommandRunner and the pure parsers.

Every command names its goroutine and frame (`goroutine G frame F args`), so
Delve's own selection never changes and no command depends on the one before.
What the answers mean (why the program died) is analysis/forensics.py's.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterator

from ..model import Backtrace, BuildInfo, FrameState, Goroutine, Instruction, Target, Variable
from ..parse import ParseError
from ..parse.values import parse_value
from ..parse.delve import (
    command_error,
    parse_backtrace,
    parse_current_goroutine,
    parse_disassembly,
    parse_frame_offsets,
    parse_goroutine_page,
    parse_goroutines,
    parse_listing_pc,
    parse_listing_place,
    parse_memory_bytes,
    parse_memory_words,
    page_next_start,
    parse_print,
    parse_stack_page,
    parse_stack_variables,
    parse_string_array,
    parse_struct_fields,
    parse_throwers,
    parse_variables,
)
from ..parse.values import unquote
from .buildinfo import BuildInfoError, read_build_info
from .dlv import ask_dlv_version, dlv_env, dlv_workdir, find_dlv
from .session import CommandRunner, PromptSession, ReplaySession, SessionError
from .startup import OpenError, check_inputs, explain_startup_failure, no_debug_info_warning

PROMPT = "(dlv) "
# Delve's defaults cut strings at 64 bytes and arrays at 64 values; a
# post-mortem wants a little more, without flooding the pty.
_CONFIG = ("config max-string-len 256", "config max-array-values 256")
PAGES_SCRIPT = Path(__file__).parent / "star" / "pages.star"
# Small pages keep the pty free for the user's own commands while a huge
# list loads (a page of 500 takes about 60 ms of dlv's time).
PAGE_SIZE = 500
# Whole stacks cost dlv ~0.3 ms a goroutine: pages of 100 hold the pty for
# ~35 ms, the longest a keypress waits behind them.
STACK_PAGE_SIZE = 100
STACK_DEPTH = 64

# One page's claim: (start index in runtime.allgs, how many goroutines), or
# None when there is nothing more to list; called with where the last
# page stopped (-1: the end of allgs).
Claim = Callable[[int], "tuple[int, int] | None"]
Page = tuple[Goroutine, ...]

_UNKNOWN = object()
# `(*[512]uint8)(0x579c60)`: what `print &X` prints.
_POINTER = re.compile(r"\)\((0x[0-9a-f]+)\)$")


def _build_info(executable: str) -> BuildInfo | None:
    try:
        return read_build_info(executable)
    except BuildInfoError:
        return None


def sequential(page_size: int) -> Claim:
    """One dlv alone: each page starts where the last one stopped."""
    def claim(next_start: int) -> tuple[int, int] | None:
        return None if next_start < 0 else (next_start, page_size)
    return claim


class ListingStopped(Exception):
    """A goroutine listing that cannot go on (allgs is garbage: a core from
    another binary, or damaged). str() says where and why, for the user."""


@dataclass(frozen=True)
class Launch:
    """How to start one more dlv on the same pair (a helper for listings)."""

    dlv: str
    executable: str
    core: str

    def argv(self, nice: bool = False) -> list[str]:
        argv = [self.dlv, "core", self.executable, self.core]
        niced = shutil.which("nice") if nice else None
        return [niced, "-n", "19", *argv] if niced else argv


class Delve:
    """A `dlv core` session. All methods block: call them off the UI thread."""

    def __init__(self, runner: CommandRunner, target: Target, launch: Launch | None = None) -> None:
        self.runner = runner
        self.target = target
        # None for a recording: it cannot start another dlv.
        self.launch = launch
        self.open_seconds = 0.0
        self.input_warnings: tuple[str, ...] = ()
        self._wait_reasons: tuple[str, ...] | None = None
        self._paging_ready = False
        self._selected: int | None | object = _UNKNOWN

    @classmethod
    def open(cls, executable: str, core: str, dlv: str | None = None, startup_timeout: float = 120.0,
             force: bool = False) -> "Delve":
        """Check the inputs, spawn `dlv core`, and configure it.

        Raises OpenError with a one-line message for every bad input; no dlv
        is left running when it does.
        """
        executable, core = os.path.abspath(executable), os.path.abspath(core)
        input_warnings = check_inputs(executable, core, force)
        launch = Launch(find_dlv(dlv), executable, core)
        asking = ask_dlv_version(launch.dlv)
        started = time.monotonic()
        try:
            session = PromptSession(launch.argv(), PROMPT, env=dlv_env(), cwd=dlv_workdir(),
                                    startup_timeout=startup_timeout)
        except SessionError as err:
            raise OpenError(explain_startup_failure(str(err), executable, core, asking())) from None
        except OSError as err:
            asking()
            raise OpenError(f"{launch.dlv}: cannot run dlv ({err.strerror})") from None
        version = asking()
        try:
            warning = no_debug_info_warning(session.banner, executable)
            if warning:
                raise OpenError(warning)
            for command in _CONFIG:
                session.run(command)
            delve = cls(session, Target(executable, core, delve_version=version), launch)
            delve.target = Target(executable, core, delve._go_version(), version, _build_info(executable))
            delve.open_seconds = time.monotonic() - started
            delve.input_warnings = input_warnings
            return delve
        except BaseException:
            session.close()
            raise

    def spawn_helper(self) -> "Delve | None":
        """A second dlv session on the same core, for the listings, so the
        user's commands never wait behind their pages. It starts at the
        lowest CPU priority (nice 19). None for a recording."""
        if self.launch is None:
            return None
        session = PromptSession(self.launch.argv(nice=True), PROMPT, env=dlv_env(), cwd=dlv_workdir(),
                                startup_timeout=120)
        try:
            for command in _CONFIG:
                session.run(command)
        except BaseException:
            session.close()
            raise
        return Delve(session, self.target, self.launch)

    def _go_version(self) -> str:
        try:
            return unquote(parse_print(self.runner.run("print runtime.buildVersion")))
        except ParseError:
            return ""

    @staticmethod
    def _scope(goroutine_id: int | None, frame_index: int | None = None) -> str:
        # No goroutine (a crash on a system stack): the current thread's frames.
        scope = "" if goroutine_id is None else f"goroutine {goroutine_id} "
        if frame_index is not None:
            scope += f"frame {frame_index} "
        return scope

    @property
    def alive(self) -> bool:
        """False once dlv has died or been stopped (a recording never dies)."""
        return self.runner.is_alive()

    def close(self) -> None:
        self.runner.close()

    # -- the goroutine list ------------------------------------------------------

    def goroutines(self) -> tuple[tuple[Goroutine, ...], str]:
        """(every goroutine, why the list stopped short or ""): through the
        paged API listing, or Delve's `goroutines` text where Starlark is
        not available."""
        if not self._load_paging():
            items, _total = parse_goroutines(self.runner.run("goroutines", timeout=600))
            return items, ""
        listed: list[Goroutine] = []
        try:
            for page in self.goroutine_pages():
                listed.extend(page)
        except ListingStopped as stopped:
            return tuple(listed), str(stopped)
        except ParseError as err:  # dlv printed something that is not a page: keep what came before
            return tuple(listed), f"goroutine listing stopped after {len(listed)}: {err}"
        return tuple(listed), ""

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

    def switch_thread(self, thread_id: int) -> None:
        """Make another thread current: what `goroutine` (no id) and commands
        without a goroutine scope see from now on."""
        output = self.runner.run(f"thread {int(thread_id)}")
        if command_error(output):
            raise ParseError(f"cannot switch to thread {thread_id}", output)
        self._selected = _UNKNOWN

    def throwers(self) -> dict[int, int]:
        """The goroutines on a thread that are in a throw: {goroutine: thread}
        ({} where this dlv cannot say)."""
        if not self._load_paging():
            return {}
        output = self.runner.run("gocore_throwers")
        if command_error(output):
            return {}
        try:
            return parse_throwers(output)
        except ParseError:
            return {}

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
        each page starts (see core/listing.py); by default, where the last
        stopped. A page Delve cannot read at all is yielded (its first
        goroutine) and then ListingStopped is raised: allgs is garbage, and
        a listing of it would never end."""
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
                        yield items[:1]
                        raise ListingStopped(
                            f"goroutine listing stopped at {pending_start}: Delve could not read a whole page of "
                            f"goroutines ({items[0].unreadable}); is the core from this executable?")
                    yield items
                    pending = None
                if output is None:
                    break
                next_start = page_next_start(output)
                if next_start is None:
                    error = command_error(output)
                    if error is not None:  # allgs itself is unreadable (a damaged core)
                        raise ListingStopped(f"goroutine listing stopped at {start}: Delve could not read the "
                                             f"goroutines ({error}); is the core from this executable, and whole?")
                    raise ParseError("goroutine page without a NEXT line", output)
                if 0 <= next_start <= start:
                    raise ListingStopped(f"goroutine listing stopped at {start}: Delve's next page would start at "
                                         f"{next_start} (allgs is damaged)")
                pending = parser.submit(parse_goroutine_page, output, wait_reasons, selected, places)
                pending_start, page = start, claim(next_start)

    def allgs_length(self) -> int | None:
        """len(runtime.allgs): the index range a listing covers (dead slots included)."""
        try:
            return int(parse_print(self.runner.run("print len(runtime.allgs)")))
        except (ParseError, ValueError):
            return None

    def warm_cache(self, start: int, chunk: int = 10_000) -> None:
        """Read into this dlv's goroutine cache the goroutines of allgs from
        `start` on (another dlv listed them), so switching to one is as quick
        as to any other. In background chunks: the user's commands go first."""
        while start is not None and start >= 0:
            start = page_next_start(self._background(f"gocore_warm {int(start)} {int(chunk)}"))

    def cache_goroutine_at(self, slot: int) -> None:
        """Read the g at allgs[slot] into this dlv's goroutine cache (one
        command, whatever the list's length): a switch to it is then quick."""
        if self._load_paging():
            self.runner.run(f"gocore_warm {int(slot)} 1")

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

    # -- one goroutine, one frame ----------------------------------------------------

    def backtrace(self, goroutine_id: int | None, depth: int = 50, simple: bool = False) -> Backtrace:
        """`stack`; simple: `-mode simple`, the thread's stack as it is (Delve
        1.20 shows a goroutine that crashed on the system stack only from
        its saved state). ParseError when Delve refuses."""
        mode = "-mode simple " if simple else ""
        output = self.runner.run(f"{self._scope(goroutine_id)}stack {mode}{int(depth)}")
        return parse_backtrace(output, goroutine_id, simple=simple)

    def stack_variables(self, goroutine_id: int | None, depth: int = 50, simple: bool = False) -> dict[int, dict[str, str]]:
        """Each frame's args and locals as `stack -full` prints them: the one
        way to read a frame of a `-mode simple` stack, which `frame N`
        cannot address."""
        mode = "-mode simple " if simple else ""
        return parse_stack_variables(self.runner.run(f"{self._scope(goroutine_id)}stack {mode}-full {int(depth)}",
                                                     timeout=60))

    def has_goroutine(self, goroutine_id: int) -> bool:
        return command_error(self.runner.run(f"goroutine {int(goroutine_id)} stack 1")) is None

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

    def evaluate_int(self, goroutine_id: int | None, frame_index: int | None, expression: str) -> int | None:
        value = self.evaluate(goroutine_id, frame_index, expression)
        try:
            return int(value, 0) if value is not None else None
        except ValueError:
            return None

    def frame_addresses(self, goroutine_id: int | None, frame_index: int) -> tuple[int, ...]:
        """Each frame's canonical frame address up to frame_index (`stack -offsets`)."""
        return parse_frame_offsets(self.runner.run(f"{self._scope(goroutine_id)}stack -offsets {int(frame_index)}"))

    def place_of(self, pc: int) -> tuple[str, int]:
        """(file, line) of exactly this PC (`list *PC`)."""
        return parse_listing_place(self.runner.run(f"list *{pc:#x}"))

    def function_pc(self, function: str) -> int:
        """The PC `list FUNCTION` names (just past its prologue)."""
        return parse_listing_pc(self.runner.run(f"list {function}"))

    def memory_words(self, address: int, count: int) -> tuple[int, ...]:
        return parse_memory_words(self.runner.run(f"x -count {int(count)} -size 8 -x {address:#x}"))

    def fields(self, goroutine_id: int | None, expression: str) -> dict[str, str]:
        """`print *EXPR` of a struct pointer -> its top-level fields' texts;
        ParseError when it is nil or unreadable."""
        return parse_struct_fields(self.runner.run(f"{self._scope(goroutine_id)}print *{expression}"))

    def memory_bytes(self, address: int, count: int) -> bytes:
        return parse_memory_bytes(self.runner.run(f"x -fmt hex -count {int(count)} -size 1 {address:#x}"))

    def address_of(self, expression: str) -> int | None:
        """`print &EXPR` -> the address, or None."""
        value = self.evaluate(None, None, f"&{expression}")
        match = _POINTER.search(value or "")
        return int(match[1], 16) if match else None

    @contextlib.contextmanager
    def strings_up_to(self, length: int):
        """Longer strings for a few commands (a multi-line panic value), then
        back to the session's limit: the panes want short ones."""
        self.runner.run(f"config max-string-len {int(length)}")
        try:
            yield
        finally:
            self.runner.run(_CONFIG[0])

    def disassemble(self, goroutine_id: int | None, frame_index: int) -> tuple[Instruction, ...]:
        """The instructions of a frame's function."""
        return parse_disassembly(self.runner.run(f"{self._scope(goroutine_id, frame_index)}disassemble"))

    def run_raw(self, command: str) -> str:
        """A command typed by the user; its failure comes back as text."""
        output = self.runner.run(command)
        error = command_error(output)
        return f"error: {error}" if error else output


def replay(path: str) -> Delve:
    """A Delve answering from a transcript recorded by tests/record_transcript.py."""
    runner = ReplaySession.load(path)
    meta = runner.meta
    delve = Delve(runner, Target(meta["executable"], meta["core"], meta["go_version"], meta["delve_version"]))
    delve.open_seconds = meta.get("delve_seconds", 0.0)  # what the recorded session took
    return delve
