"""What the app needs from a debugger on one core: the Backend protocol,
the Lister protocol of a debugger that lists goroutines itself, and their
implementations on a real dlv (Delve plus the forensics that read the
crash off it). Tests give the app a fake instead."""

from __future__ import annotations

from typing import Iterator, Protocol

from ..analysis.forensics import read_snapshot
from ..analysis.gostacks import GoStacks
from ..analysis.owncode import OwnCode
from ..debugger.delve import Claim, Delve, Page
from ..model import Backtrace, FrameState, GoroutineStack, Instruction, Snapshot, Target, Variable


class Backend(Protocol):
    """One debugger session on one core, as the panes need it. Every method
    blocks (call it off the UI thread). A method that fails raises the
    debugger's error (tui.debugger.session.SessionError when the session
    died or hung, tui.parse.ParseError when its answer made no sense);
    `alive` then says whether the session can still answer."""

    target: Target

    @property
    def alive(self) -> bool:
        """False once the debugger has died or been closed."""

    def snapshot(self) -> Snapshot:
        """The first screen: the crash, its goroutine's backtrace and the
        faulting frame's variables (no goroutine list)."""

    def backtrace(self, goroutine_id: int | None, slot: int | None = None) -> Backtrace:
        """A goroutine's whole stack, innermost first (None: the crashing
        thread's). slot: the goroutine's index in runtime.allgs, when known:
        the debugger finds it there instead of reading allgs from the start."""

    def frame_state(self, goroutine_id: int | None, frame_index: int) -> FrameState:
        """A frame's args and locals, in the debugger's frame numbering.
        Returns a FrameState with `error` set when it cannot read them."""

    def expand(self, goroutine_id: int | None, frame_index: int, variable: Variable) -> Variable:
        """The variable printed in full, its children filled in (a tree node
        the user opened)."""

    def evaluate(self, goroutine_id: int | None, frame_index: int | None, expression: str) -> str | None:
        """An expression's value as the debugger prints it; None when it
        cannot be evaluated there."""

    def disassemble(self, goroutine_id: int | None, frame_index: int) -> tuple[Instruction, ...]:
        """The instructions of the frame's function."""

    def run(self, command: str) -> str:
        """A command the user typed in the console; its failure comes back
        as text, not raised."""

    def lister(self) -> "Lister | None":
        """The debugger's own goroutine listing, for a core the native reader
        cannot read; None when this backend has none."""

    def close(self) -> None:
        """End the session and reap the debugger; idempotent."""


class Lister(Protocol):
    """A debugger session that lists a core's goroutines a page at a time
    (Delve's API, through its Starlark). Blocking, like Backend."""

    def allgs_length(self) -> int | None:
        """len(runtime.allgs): the index range a listing covers (None: unknown)."""

    def goroutine_pages(self, claim: Claim) -> Iterator[Page]:
        """The pages `claim` hands out, as they are read. Raises
        tui.debugger.delve.ListingStopped when allgs is garbage."""

    def stack_pages(self) -> Iterator[tuple[GoroutineStack, ...]]:
        """Every goroutine's whole stack, a page at a time."""

    def goroutines(self) -> tuple[Page, str]:
        """Every goroutine at once, and why the list stopped short ("" when whole)."""

    def warm_cache(self, start: int) -> None:
        """Read allgs from `start` on into this session's goroutine cache
        (another session listed them), so that a switch to one is quick."""

    def spawn_helper(self) -> "Lister | None":
        """Another session on the same core, at the lowest CPU priority, for
        the listings (None: cannot start one)."""

    def close(self) -> None: ...


class DelveBackend:
    """A real `dlv core` as a Backend."""

    def __init__(self, delve: Delve) -> None:
        self.delve = delve
        self.target = delve.target
        self.own = OwnCode.of(delve.target.build)
        # Delve's stacks as Go printed them (its lines, where it starts each goroutine).
        self.stacks = GoStacks(delve)
        self._reached: set[int] = set()

    @property
    def alive(self) -> bool:
        return self.delve.alive

    def snapshot(self) -> Snapshot:
        return read_snapshot(self.delve, stacks=self.stacks)

    def backtrace(self, goroutine_id: int | None, slot: int | None = None) -> Backtrace:
        # dlv finds a goroutine by reading allgs from the start (seconds at
        # 100k) unless it is in its cache: read just that g into it first.
        if goroutine_id is not None and slot is not None and goroutine_id not in self._reached:
            self.delve.cache_goroutine_at(slot)
            self._reached.add(goroutine_id)
        return self.own.mark(self.stacks.apply(self.delve.backtrace(goroutine_id), slot))

    def frame_state(self, goroutine_id: int | None, frame_index: int) -> FrameState:
        return self.delve.frame_state(goroutine_id, frame_index)

    def expand(self, goroutine_id: int | None, frame_index: int, variable: Variable) -> Variable:
        return self.delve.expand(goroutine_id, frame_index, variable)

    def evaluate(self, goroutine_id: int | None, frame_index: int | None, expression: str) -> str | None:
        return self.delve.evaluate(goroutine_id, frame_index, expression)

    def disassemble(self, goroutine_id: int | None, frame_index: int) -> tuple[Instruction, ...]:
        return self.delve.disassemble(goroutine_id, frame_index)

    def run(self, command: str) -> str:
        return self.delve.run_raw(command)

    def lister(self) -> "DelveLister":
        return DelveLister(self.delve)

    def close(self) -> None:
        self.stacks.close()
        self.delve.close()


class DelveLister:
    """A dlv session's goroutine listing, as a Lister."""

    def __init__(self, delve: Delve) -> None:
        self.delve = delve

    def allgs_length(self) -> int | None:
        return self.delve.allgs_length()

    def goroutine_pages(self, claim: Claim) -> Iterator[Page]:
        return self.delve.goroutine_pages(claim)

    def stack_pages(self) -> Iterator[tuple[GoroutineStack, ...]]:
        return self.delve.stack_pages()

    def goroutines(self) -> tuple[Page, str]:
        return self.delve.goroutines()

    def warm_cache(self, start: int) -> None:
        self.delve.warm_cache(start)

    def spawn_helper(self) -> "DelveLister | None":
        helper = self.delve.spawn_helper()
        return DelveLister(helper) if helper is not None else None

    def close(self) -> None:
        self.delve.close()
