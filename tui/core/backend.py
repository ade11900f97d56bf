"""What the app needs from a debugger on one core: the Backend protocol,
and the one implementation that is a real dlv (Delve plus the forensics
that read the crash off it). Tests give the app a fake instead."""

from __future__ import annotations

from typing import Iterator, Protocol

from ..analysis.forensics import read_snapshot
from ..analysis.gostacks import GoStacks
from ..analysis.owncode import OwnCode
from ..debugger.delve import Claim, Delve, Page
from ..model import Backtrace, FrameState, Goroutine, Instruction, Snapshot, Target, Variable


class Backend(Protocol):
    """One debugger session on one core. Every method blocks (call it off
    the UI thread) and may raise; a dead backend says so through `alive`."""

    target: Target

    @property
    def alive(self) -> bool: ...

    def snapshot(self) -> Snapshot:
        """The first screen: the crash, its backtrace and frame (no goroutine list)."""

    def backtrace(self, goroutine_id: int | None) -> Backtrace: ...

    def reach(self, goroutine_id: int, slot: int | None) -> None:
        """Make the goroutine quick to find: slot is its index in allgs (None: unknown)."""

    def frame_state(self, goroutine_id: int | None, frame_index: int) -> FrameState: ...

    def expand(self, goroutine_id: int | None, frame_index: int, variable: Variable) -> Variable: ...

    def evaluate(self, goroutine_id: int | None, frame_index: int | None, expression: str) -> str | None: ...

    def disassemble(self, goroutine_id: int | None, frame_index: int) -> tuple[Instruction, ...]: ...

    def run(self, command: str) -> str:
        """A command the user typed (the console); failures come back as text."""

    def spawn_helper(self) -> "Backend | None":
        """Another session on the same core, for listings (None: cannot)."""

    def allgs_length(self) -> int | None: ...

    def goroutines(self) -> tuple[tuple[Goroutine, ...], str]:
        """Every goroutine, and why the list stopped short ("" when whole)."""

    def goroutine_pages(self, claim: Claim | None = None) -> Iterator[Page]: ...

    def stack_pages(self) -> Iterator[tuple]: ...

    def warm_cache(self, start: int) -> None: ...

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

    def backtrace(self, goroutine_id: int | None) -> Backtrace:
        return self.own.mark(self.stacks.apply(self.delve.backtrace(goroutine_id)))

    def reach(self, goroutine_id: int, slot: int | None) -> None:
        # dlv finds a goroutine by reading allgs from the start (seconds at
        # 100k) unless it is in its cache: read just that g into it.
        if slot is not None and goroutine_id not in self._reached:
            self.delve.cache_goroutine_at(slot)
            self._reached.add(goroutine_id)

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

    def spawn_helper(self) -> "DelveBackend | None":
        helper = self.delve.spawn_helper()
        return DelveBackend(helper) if helper is not None else None

    def allgs_length(self) -> int | None:
        return self.delve.allgs_length()

    def goroutines(self) -> tuple[tuple[Goroutine, ...], str]:
        return self.delve.goroutines()

    def goroutine_pages(self, claim: Claim | None = None) -> Iterator[Page]:
        return self.delve.goroutine_pages(claim)

    def stack_pages(self) -> Iterator[tuple]:
        return self.delve.stack_pages()

    def warm_cache(self, start: int) -> None:
        self.delve.warm_cache(start)

    def close(self) -> None:
        self.stacks.close()
        self.delve.close()
