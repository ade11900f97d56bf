"""Every goroutine of one core, as one stream of events, for the TUI and
the report alike: read from the core file (tui/corefile), else through
the debugger's own listing.

    source = GoroutineSource(backend, helpers)
    for event in source.read(deadlock=False):
        ...  # Listed pages, then ListDone, then StacksRead pages and
             # StacksDone (through dlv), then WaitsKnown

From the core file each page brings its whole stacks, and the waits come
after the list. Through dlv (a core the native reader cannot read), two
dlvs page allgs from both ends (core/listing.py), then the second reads
the whole stacks; nobody can say what goroutines wait on. A failure is
raised as SourceFailed, saying which part of the work it cut.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Callable, Iterator, Protocol

from ..analysis.waitview import Waits
from ..model import GoroutineStack
from .backend import Backend, Lister
from .listing import TwoEndedListing

if TYPE_CHECKING:
    from ..model.table import GoroutineTable

# When the list comes through dlv: Delve has no notion of what a goroutine waits on.
WAITS_NEED_THE_CORE = "what goroutines wait on is read from the core file only"


class Part(Enum):
    """What a source is reading: a failure cuts that part short."""

    LIST = "list"
    STACKS = "stacks"
    WAITS = "waits"


class SourceFailed(Exception):
    """Reading stopped in `part`; `cause` is the debugger's or reader's error."""

    def __init__(self, part: Part, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.part = part
        self.cause = cause


@dataclass(frozen=True)
class Listed:
    """A page of goroutines as columns (tui/model/table.py), with their
    whole stacks when the core file was read."""

    table: "GoroutineTable"


@dataclass(frozen=True)
class ThroughDlv:
    """The core file cannot be read natively (why): the list comes through dlv."""

    why: str


@dataclass(frozen=True)
class ListDone:
    """The list is whole, or stopped short (problem says why). stacks_done:
    every whole stack came with it. warm_from: through two dlvs, the allgs
    index from which only the second read the goroutines (the first should
    read them into its cache, Lister.warm_cache), else None. helper_problem:
    why the second dlv stopped listing, if it failed (the first listed its
    part: the list is whole all the same)."""

    problem: str = ""
    stacks_done: bool = False
    warm_from: int | None = None
    helper_problem: str = ""


@dataclass(frozen=True)
class StacksRead:
    """Whole stacks of a page of goroutines (through dlv)."""

    stacks: tuple[GoroutineStack, ...]


@dataclass(frozen=True)
class StacksDone:
    """Every whole stack is in (through dlv)."""


@dataclass(frozen=True)
class WaitsKnown:
    """What every goroutine waits on, or None and why it is not known."""

    waits: Waits | None
    problem: str = ""


Event = Listed | ThroughDlv | ListDone | StacksRead | StacksDone | WaitsKnown


class Helpers(Protocol):
    """Where a second dlv comes from for the listings (core/session.py's CoreSession)."""

    def start_helper(self) -> None: ...

    def helper(self) -> Lister | None: ...

    def retire_helper(self) -> None: ...


class NoHelpers:
    """One dlv for everything (a report)."""

    def start_helper(self) -> None:
        pass

    def helper(self) -> Lister | None:
        return None

    def retire_helper(self) -> None:
        pass


class GoroutineSource:
    """See the module's doc. stop() is asked between pages: True ends the
    stream (we are quitting)."""

    def __init__(self, backend: Backend, helpers: Helpers | None = None, read_natively: bool = True,
                 stop: Callable[[], bool] = lambda: False) -> None:
        self.backend = backend
        self.helpers = helpers or NoHelpers()
        self.read_natively = read_natively
        self.stop = stop

    def read(self, deadlock: bool = False) -> Iterator[Event]:
        """deadlock: the runtime said all goroutines are asleep (the waits'
        summary then says on what)."""
        if self.read_natively:
            # Imported here: the core reader is a tenth of the app's import
            # time, and the first screen does not wait for it.
            from .native import NativeListing, NativeUnavailable

            with NativeListing(self.backend) as listing:
                try:
                    for table in listing.pages():
                        if self.stop():
                            return
                        yield Listed(table)
                except NativeUnavailable as why:
                    yield ThroughDlv(str(why))
                except Exception as err:
                    raise SourceFailed(Part.LIST, err) from err
                else:
                    yield ListDone(stacks_done=True)
                    yield self._waits(listing, deadlock)
                    return
        yield from self.through_dlv()

    def _waits(self, listing, deadlock: bool) -> WaitsKnown:
        from .native import NativeUnavailable

        try:
            waits = listing.read_waits(deadlock, stop=self.stop)
        except NativeUnavailable as why:
            return WaitsKnown(None, str(why))
        except Exception as err:
            raise SourceFailed(Part.WAITS, err) from err
        return WaitsKnown(waits)

    def through_dlv(self) -> Iterator[Event]:
        """The list from dlv (two of them on a long list), then the stacks."""
        lister = self.backend.lister()
        if lister is None:
            yield ListDone("this debugger cannot list goroutines")
            return
        from ..model.table import GoroutineTable  # numpy: imported once a list comes

        yield WaitsKnown(None, WAITS_NEED_THE_CORE)
        self.helpers.start_helper()
        listing = TwoEndedListing(lister, self.helpers.helper)
        try:
            for page in listing.pages():
                if self.stop():  # we are closing: stop asking dlv
                    listing.close()
                    return
                yield Listed(GoroutineTable.of(page))
        except Exception as err:
            self.helpers.retire_helper()
            raise SourceFailed(Part.LIST, err) from err
        outcome = listing.outcome
        problem = outcome.problem
        yield ListDone(problem, warm_from=outcome.unwarmed_from, helper_problem=outcome.helper_problem)
        if problem:  # a list cut short (allgs is garbage): no stacks either
            self.helpers.retire_helper()
            return
        yield from self.stacks_through_dlv()

    def stacks_through_dlv(self) -> Iterator[Event]:
        """Whole stacks, from the helper dlv when there is one: they split
        groups whose members got to the same place by different calls."""
        try:
            lister = self.helpers.helper() or self.backend.lister()
            if lister is None:
                return
            for stacks in lister.stack_pages():
                if self.stop():
                    return
                yield StacksRead(stacks)
        except Exception as err:
            raise SourceFailed(Part.STACKS, err) from err
        finally:
            self.helpers.retire_helper()
        yield StacksDone()
