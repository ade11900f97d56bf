"""The goroutine list and every whole stack read straight from the core file
(tui/corefile), at the speed of reading it: every g and every stack at
once (corefile/batch.py), handed over as GoroutineTable pages, no object
per goroutine. What it cannot read alone (goroutines running on a thread at
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
from ..model.table import GoroutineTable, StacksById
from .backend import Backend

# Whole stacks compared with Delve's before the first page is handed over.
CHECKED_STACKS = 3

class NativeUnavailable(Exception):
    """str() says why the list comes through dlv instead."""


class NativeListing:
    """Use as a context manager: the core stays open after pages() for
    read_waits(), and is closed on the way out."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.selected: int | None = None
        self.labels: dict[int, dict[str, str] | None] = {}
        self.from_dlv = 0  # goroutines Delve completed (on a thread at the crash)
        self._native: NativeCore | None = None
        self._stacks = StacksById()  # every whole stack, for read_waits (not unwound twice)

    def __enter__(self) -> "NativeListing":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._native is not None:
            self._native.close()
            self._native = None
        self._stacks = StacksById()

    @property
    def counts(self):
        """What the batch did (corefile/batch.py Counts), once pages() ran; else None."""
        native = self._native
        return native.batch.counts if native is not None and native.batch is not None else None

    def pages(self) -> Iterator[GoroutineTable]:
        """Every goroutine with its whole stack, a GoroutineTable at a time, in allgs order."""
        target = self.backend.target
        try:
            native = self._native = NativeCore.open(target.executable, target.core)
        except (Unsupported, OSError) as err:
            raise NativeUnavailable(f"the core cannot be read natively ({err})") from None
        try:
            checked = False
            for page in native.pages():
                table = page.table.with_rows({row: self._from_dlv(page.table.goroutine(row)) for row in page.why})
                self._stacks.add(table)
                if not checked:
                    # Parked goroutines: Delve unwinds them from g.sched as the native
                    # reader does (one on a thread, or in C, it unwinds from the
                    # thread, and stops where C code has no frame pointers).
                    self._check(table, set(page.why))
                    checked = True
                yield table
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
            self._stacks = StacksById()
        return Waits(reading, analyse(reading, deadlock))

    def _from_dlv(self, goroutine: Goroutine) -> tuple[Goroutine, tuple[Location, ...] | None]:
        """A goroutine on a thread: its stack and user location as Delve unwinds them."""
        self.from_dlv += 1
        try:
            backtrace = self.backend.backtrace(goroutine.id)
        except Exception as err:  # Delve could not read it either: listed as such
            return replace(goroutine, unreadable=f"(unreadable {err})"), None
        # The goroutine's own frames only: not its thread's above them.
        own = backtrace.own_frames
        places = tuple(Location(f.file, f.line, f.function) for f in own)
        user = next((i for i, f in enumerate(own) if not f.is_runtime), None)
        location = places[user] if user is not None else (places[0] if places else None)
        return replace(goroutine, location=location, pc=own[user].pc if user is not None else 0), places

    def _check(self, table: GoroutineTable, completed: set[int]) -> None:
        """A few whole stacks against Delve's: one disagreement, and none of
        the native answer is used."""
        checked = 0
        for row in range(len(table)):
            if checked >= CHECKED_STACKS:
                break
            stack = table.stack_of(row)
            if row in completed or stack is None or table.thread[row] or table.texts[table.status[row]] == "syscall":
                continue
            checked += 1
            goroutine_id = int(table.id[row])
            try:
                theirs = self.backend.backtrace(goroutine_id)
            except Exception as err:
                raise NativeUnavailable(f"Delve could not read goroutine {goroutine_id} to check the native "
                                        f"listing against ({err})") from None
            mine = [(place.function, place.line) for place in stack]
            delve = [(frame.function, frame.line) for frame in theirs.own_frames]
            common = min(len(mine), len(delve))
            if mine[:common] != delve[:common]:
                raise NativeUnavailable(f"the native listing disagrees with Delve on goroutine {goroutine_id}'s "
                                        f"stack ({mine[:common]} vs {delve[:common]})")
