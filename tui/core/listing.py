"""The goroutine list of a huge core, read by two dlvs at once.

Almost all of a listing's time is dlv converting goroutines for its API
(about 0.1 ms each), on one CPU and a bit. Two dlvs on the same core page
runtime.allgs from opposite ends and meet where the work is split evenly,
whatever each one's speed: the first pages from index 0 upwards, the
second takes blocks from the end downwards. A goroutine read twice (a page
runs past dead slots) is dropped by id when it is indexed.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass
from typing import Callable, Iterator

from ..debugger.delve import PAGE_SIZE, ListingStopped, Page, sequential
from .backend import Lister


class SharedRange:
    """The indices of runtime.allgs that neither dlv has claimed yet: [low, high).

    A page of COUNT goroutines runs past START+COUNT by the dead slots it
    skips. Going up, the first dlv's next page simply starts there. The
    second takes blocks from the top and pages each block upwards, so only
    a block's last page can run into goroutines it already listed.
    """

    BLOCK_PAGES = 10

    def __init__(self, length: int, page_size: int) -> None:
        self.low, self.high = 0, length
        self.page_size = page_size
        self._block: tuple[int, int] | None = None  # the second dlv's, [start, end)
        self.second_claimed = False
        self._lock = threading.Lock()

    def claim_low(self, next_start: int) -> tuple[int, int] | None:
        with self._lock:
            if next_start < 0:  # the first dlv reached the end of allgs
                self.low = max(self.low, self.high)
                return None
            self.low = max(self.low, next_start)
            if self.low >= self.high:
                return None
            start, self.low = self.low, min(self.low + self.page_size, self.high)
            return start, self.low - start

    def claim_high(self, next_start: int) -> tuple[int, int] | None:
        with self._lock:
            if self._block is not None:
                block_start, block_end = self._block
                if block_start < next_start < block_end:  # on up through the block
                    return next_start, min(self.page_size, block_end - next_start)
                self._block = None
            if self.low >= self.high:
                return None
            # Half of what is left, at most BLOCK_PAGES pages: the two ends
            # then finish together, whatever each one's speed.
            span = min(self.BLOCK_PAGES * self.page_size, max(self.page_size, (self.high - self.low) // 2))
            end, self.high = self.high, max(self.low, self.high - span)
            self._block = (self.high, end)
            self.second_claimed = True
            return self.high, min(self.page_size, end - self.high)

    def give_back(self) -> None:
        """The second dlv failed: its unfinished block goes to the first."""
        with self._lock:
            if self._block is not None:
                self.high = max(self.high, self._block[1])
                self._block = None

    def close(self) -> None:
        """Nobody claims anything more (the app is closing)."""
        with self._lock:
            self.low = self.high
            self._block = None


_DONE = object()


@dataclass(frozen=True)
class ListingOutcome:
    """What a finished listing learned besides its pages.

    problem: why it stopped short ("" when complete); unwarmed_from: the
    allgs index from which only the second dlv read the goroutines (the
    first should warm its cache from there, see Delve.warm_cache), or None;
    helper_problem: why the second dlv stopped listing, if it failed (the
    first took its pages over).
    """

    problem: str = ""
    unwarmed_from: int | None = None
    helper_problem: str = ""


class TwoEndedListing:
    """Every goroutine's page, from `first` and the helper that `second()`
    returns once it is up (None: there is none). The first starts at once;
    the second joins when it can. After pages() is exhausted, `outcome`
    says how it ended."""

    def __init__(self, first: Lister, second: Callable[[], Lister | None], page_size: int | None = None) -> None:
        self.first = first
        self.second = second
        self.page_size = page_size or PAGE_SIZE
        self.outcome = ListingOutcome()
        self._shared: SharedRange | None = None
        self._helper_problem = ""

    def close(self) -> None:
        """Nobody claims anything more (we are closing)."""
        if self._shared is not None:
            self._shared.close()

    def pages(self) -> Iterator[Page]:
        try:
            yield from self._pages()
        except ListingStopped as stopped:
            self.outcome = ListingOutcome(str(stopped))

    def _pages(self) -> Iterator[Page]:
        first, page_size = self.first, self.page_size
        length = first.allgs_length()
        if length is None or length <= 2 * page_size:  # two pages: not worth a second dlv
            yield from first.goroutine_pages(sequential(page_size))
            return
        shared = self._shared = SharedRange(length, page_size)
        handed_over: queue.Queue = queue.Queue()

        def list_high_end() -> None:
            # The second dlv's pages cross threads through the queue; when it
            # fails, its unfinished block goes back to the first dlv.
            try:
                helper = self.second()
                if helper is not None and helper is not first:
                    for page in helper.goroutine_pages(shared.claim_high):
                        handed_over.put(page)
            except Exception as err:  # said in the outcome; the first lists its part
                self._helper_problem = f"the second dlv stopped listing: {err}"
                shared.give_back()
            finally:
                handed_over.put(_DONE)

        threading.Thread(target=list_high_end, name="list-high-end", daemon=True).start()
        try:
            second_done = False
            try:
                for page in first.goroutine_pages(shared.claim_low):
                    yield page
                    second_done = (yield from _drain(handed_over, block=False)) or second_done
            except ListingStopped:
                shared.close()  # allgs is garbage: the second claims nothing more
                yield from _drain(handed_over, block=False)
                raise
            # The first is done; the second claims nothing more. Its pages are
            # waited for only if it took some: a short list does not wait for a
            # second dlv that is still starting.
            if not second_done and shared.second_claimed:
                yield from _drain(handed_over, block=True)
            else:
                yield from _drain(handed_over, block=False)
            if shared.low < shared.high:  # the second dlv gave some back
                yield from first.goroutine_pages(shared.claim_low)
            self.outcome = ListingOutcome(unwarmed_from=shared.low, helper_problem=self._helper_problem)
        finally:
            shared.close()


def _drain(pages: queue.Queue, block: bool) -> Iterator[Page]:
    """Yield what the second dlv handed over; returns True once it is done."""
    while True:
        try:
            page = pages.get(block=block)
        except queue.Empty:
            return False
        if page is _DONE:
            return True
        yield page
