"""The goroutine list and every whole stack read straight from the core file
(tui/corefile), at the speed of reading it: no dlv API conversion per
goroutine. What it cannot read alone (goroutines running on a thread at
the crash) it asks the first dlv for; before it hands anything over it
checks a few stacks against Delve's own. Anything unsupported, or any
disagreement, raises NativeUnavailable: the caller lists through dlv
instead, and says why.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable, Iterator

from ..analysis.blocking import analyse
from ..analysis.waitview import Waits
from ..corefile.errors import Stopped, Unsupported
from ..corefile.native import Listing, NativeCore
from ..corefile.waits import read_waits
from ..model import Goroutine, Location
from .backend import Backend

# Goroutines a message carries: 100k goroutines in 20 messages.
PAGE_SIZE = 5000
# Whole stacks compared with Delve's before the first page is handed over.
CHECKED_STACKS = 3
STACK_DEPTH = 64
# When the list comes through dlv: Delve has no notion of what a goroutine waits on.
WAITS_NEED_THE_CORE = "what goroutines wait on is read from the core file only"

Stack = tuple[int, tuple[Location, ...]]


class NativeUnavailable(Exception):
    """str() says why the list comes through dlv instead."""


class NativeListing:
    """Use as a context manager: the core stays open after pages() for
    read_waits(), and is closed on the way out."""

    def __init__(self, backend: Backend, page_size: int = PAGE_SIZE) -> None:
        self.backend = backend
        self.page_size = page_size
        self.selected: int | None = None
        self.labels: dict[int, dict[str, str] | None] = {}
        self.from_dlv = 0  # goroutines Delve completed (on a thread at the crash)
        self._native: NativeCore | None = None
        self._stacks: dict[int, tuple[Location, ...]] = {}  # every whole stack, for read_waits (not unwound twice)

    def __enter__(self) -> "NativeListing":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._native is not None:
            self._native.close()
            self._native = None
        self._stacks = {}

    def pages(self) -> Iterator[tuple[tuple[Goroutine, ...], tuple[Stack, ...]]]:
        """(goroutines, their whole stacks) a page at a time, in allgs order."""
        target = self.backend.target
        try:
            native = self._native = NativeCore.open(target.executable, target.core)
        except (Unsupported, OSError) as err:
            raise NativeUnavailable(f"the core cannot be read natively ({err})") from None
        try:
            yield from self._pages(native)
        except Unsupported as err:
            self.close()
            raise NativeUnavailable(f"reading the core natively stopped ({err})") from None
        finally:
            self.selected = native.selected
            self.labels = native.labels_by_id

    def read_waits(self, deadlock: bool, stop: Callable[[], bool] | None = None) -> Waits | None:
        """What every goroutine waits on, from the core pages() read (its
        stacks and labels reused); deadlock: the runtime said all
        goroutines are asleep. NativeUnavailable when it cannot be read;
        None when stop() said to stop (we are quitting)."""
        if self._native is None:
            raise NativeUnavailable("the core is not open natively")
        try:
            reading = read_waits(self._native, Listing(stacks=self._stacks, labels=self.labels), stop=stop)
        except Stopped:
            return None
        except Unsupported as err:
            raise NativeUnavailable(f"what goroutines wait on cannot be read ({err})") from None
        finally:
            self._stacks = {}
        return Waits(reading, analyse(reading, deadlock))

    def _pages(self, native: NativeCore) -> Iterator[tuple[tuple[Goroutine, ...], tuple[Stack, ...]]]:
        goroutines: list[Goroutine] = []
        stacks: list[Stack] = []
        checked = False
        for goroutine, stack, why in native.iter_listing(STACK_DEPTH):
            if why:
                goroutine, stack = self._from_dlv(goroutine)
            goroutines.append(goroutine)
            if goroutine.id is not None and stack is not None:
                stacks.append((goroutine.id, stack))
                self._stacks[goroutine.id] = stack
            if len(goroutines) >= self.page_size:
                if not checked:
                    self._check(stacks)
                    checked = True
                yield tuple(goroutines), tuple(stacks)
                goroutines, stacks = [], []
        if not checked:
            self._check(stacks)
        yield tuple(goroutines), tuple(stacks)

    def _from_dlv(self, goroutine: Goroutine) -> tuple[Goroutine, tuple[Location, ...] | None]:
        """A goroutine on a thread: its stack and user location as Delve unwinds them."""
        self.from_dlv += 1
        try:
            backtrace = self.backend.backtrace(goroutine.id)
        except Exception as err:  # Delve could not read it either: listed as such
            return replace(goroutine, unreadable=f"(unreadable {err})"), None
        places = tuple(Location(f.file, f.line, f.function) for f in backtrace.frames)
        user = next((i for i, f in enumerate(backtrace.frames) if not f.is_runtime), None)
        location = places[user] if user is not None else (places[0] if places else None)
        return replace(goroutine, location=location, pc=backtrace.frames[user].pc if user is not None else 0), places

    def _check(self, stacks: list[Stack]) -> None:
        """A few whole stacks against Delve's: one disagreement, and none of
        the native answer is used."""
        for goroutine_id, stack in stacks[:CHECKED_STACKS]:
            try:
                theirs = self.backend.backtrace(goroutine_id)
            except Exception as err:
                raise NativeUnavailable(f"Delve could not read goroutine {goroutine_id} to check the native "
                                        f"listing against ({err})") from None
            mine = [(place.function, place.line) for place in stack]
            delve = [(frame.function, frame.line) for frame in theirs.frames]
            common = min(len(mine), len(delve))
            if mine[:common] != delve[:common]:
                raise NativeUnavailable(f"the native listing disagrees with Delve on goroutine {goroutine_id}'s "
                                        f"stack ({mine[:common]} vs {delve[:common]})")
