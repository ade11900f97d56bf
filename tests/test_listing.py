"""Two dlvs listing one core from opposite ends of runtime.allgs (tui/core/listing.py).

Fakes stand in for dlv here, to reach the failures and races; the real two
dlvs are tested in tests/test_app.py."""

from __future__ import annotations

import threading
import time

import pytest

from tui.core.listing import SharedRange, TwoEndedListing
from tui.debugger.delve import ListingStopped, sequential

pytestmark = pytest.mark.toolchain_independent


class FakeDelve:
    """allgs as a list: a goroutine id, or None for a dead slot (skipped, as
    Delve skips them: a page of COUNT may run past START+COUNT)."""

    def __init__(self, allgs, fail_at_page=None, pause=0.0):
        self.allgs = allgs
        self.fail_at_page = fail_at_page
        self.pause = pause
        self.pages = 0
        self.spans: list[tuple[int, int]] = []  # each page's [start, where it stopped)

    def allgs_length(self):
        return len(self.allgs)

    def goroutine_pages(self, claim):
        page = claim(0)
        while page is not None:
            start, count = page
            if self.pages == self.fail_at_page:
                raise RuntimeError("dlv died")
            time.sleep(self.pause)
            ids, index = [], start
            while index < len(self.allgs) and len(ids) < count:
                if self.allgs[index] is not None:
                    ids.append(self.allgs[index])
                index += 1
            self.pages += 1
            self.spans.append((start, index))
            yield tuple(ids)
            page = claim(index if index < len(self.allgs) else -1)


def pages_from_both_ends(first, second, page_size):
    return TwoEndedListing(first, second, page_size).pages()


def allgs_with_dead_slots(n=5000):
    return [None if i % 13 == 5 else i + 1 for i in range(n)]


def listed(pages):
    return [gid for page in pages for gid in page]


def test_sequential_pages_follow_where_the_last_one_stopped():
    claim = sequential(500)
    assert claim(0) == (0, 500) and claim(731) == (731, 500) and claim(-1) is None


def test_the_two_ends_meet_without_a_gap():
    shared = SharedRange(1200, 500)
    assert shared.claim_low(0) == (0, 500)
    assert shared.claim_high(0) == (700, 500)
    assert shared.claim_low(500) == (500, 200)
    assert shared.claim_high(0) is None and shared.claim_low(700) is None


def test_the_second_pages_up_through_blocks_taken_from_the_top():
    shared = SharedRange(100_000, 500)
    assert shared.claim_high(0) == (95_000, 500)  # a block of ten pages
    assert shared.claim_high(95_530) == (95_530, 500)  # on from where the last page stopped
    assert shared.claim_high(99_800) == (99_800, 200)  # the block's last page ends at the block
    assert shared.claim_high(100_000) == (90_000, 500)  # the next block down
    shared.give_back()  # it failed in that block: the first dlv lists it
    assert shared.high == 95_000


def test_a_low_page_that_ran_past_dead_slots_moves_the_low_end():
    shared = SharedRange(2000, 500)
    shared.claim_low(0)
    assert shared.claim_low(540) == (540, 500)


def test_every_goroutine_is_listed_once_by_the_two_together():
    allgs = allgs_with_dead_slots()
    first, second = FakeDelve(allgs, pause=0.001), FakeDelve(allgs, pause=0.001)
    listing = TwoEndedListing(first, lambda: second, page_size=100)
    ids = listed(listing.pages())
    unwarmed_from = listing.outcome.unwarmed_from
    live = [g for g in allgs if g is not None]
    assert set(ids) == set(live)
    # Read twice only past the top of each block of the second, and where the
    # two met: each time by the dead slots of one page (1 in 13 here).
    blocks = sum(1 for before, page in zip([(None, None)] + second.spans, second.spans) if page[0] != before[1])
    assert blocks < second.pages / 2  # its pages mostly follow on from each other
    assert len(ids) - len(live) <= (blocks + 1) * 8
    assert first.pages > 5 and second.pages > 5
    # what only the second read is what the first must warm its cache with
    assert allgs[unwarmed_from:] and set(allgs[unwarmed_from:]) - {None} <= set(ids)
    assert all(g in set(ids) for g in allgs[:unwarmed_from] if g is not None)


def test_a_second_dlv_that_dies_gives_its_part_back():
    allgs = allgs_with_dead_slots()
    first, second = FakeDelve(allgs, pause=0.001), FakeDelve(allgs, fail_at_page=3, pause=0.001)
    listing = TwoEndedListing(first, lambda: second, 100)
    ids = listed(listing.pages())
    assert set(ids) == {g for g in allgs if g is not None}
    assert second.pages == 3
    # whole all the same, and why the second stopped is kept, not dropped
    assert not listing.outcome.problem and listing.outcome.helper_problem == "the second dlv stopped listing: dlv died"


def test_no_second_dlv_and_a_short_list_take_the_first_alone():
    allgs = allgs_with_dead_slots()
    first = FakeDelve(allgs)
    assert set(listed(pages_from_both_ends(first, lambda: None, page_size=100))) == set(allgs) - {None}
    short = FakeDelve(allgs[:150])
    asked = []
    listing = TwoEndedListing(short, lambda: asked.append(1), page_size=100)
    pages = listed(listing.pages())
    assert len(pages) == len([g for g in allgs[:150] if g is not None]) and not asked
    assert listing.outcome.unwarmed_from is None


def test_a_second_dlv_that_comes_up_late_joins_for_what_is_left():
    allgs = allgs_with_dead_slots()
    first, second = FakeDelve(allgs, pause=0.01), FakeDelve(allgs, pause=0.002)
    up = threading.Event()

    def late():
        up.wait(5)
        return second

    pages = pages_from_both_ends(first, late, page_size=100)
    ids = listed(next(pages) for _ in range(10))
    up.set()
    ids += listed(pages)
    assert set(ids) == set(allgs) - {None}
    assert first.pages > 10 and second.pages > 0


def test_the_second_claims_nothing_more_once_the_listing_is_dropped():
    allgs = allgs_with_dead_slots()
    first, second = FakeDelve(allgs, pause=0.005), FakeDelve(allgs, pause=0.005)
    pages = pages_from_both_ends(first, lambda: second, page_size=100)
    next(pages)
    pages.close()  # the app is closing
    time.sleep(0.05)
    stopped_at = second.pages
    time.sleep(0.1)
    assert second.pages == stopped_at < 25


def test_a_list_done_before_the_second_dlv_is_up_does_not_wait_for_it():
    allgs = allgs_with_dead_slots(1000)
    first = FakeDelve(allgs)
    never = threading.Event()

    def still_starting():
        never.wait(10)
        return None

    started = time.monotonic()
    ids = listed(pages_from_both_ends(first, still_starting, page_size=100))
    never.set()
    assert set(ids) == set(allgs) - {None}
    assert time.monotonic() - started < 5


class GarbageAfter(FakeDelve):
    """Delve reads a whole page of nothing at `page`: allgs is garbage there."""

    def __init__(self, allgs, garbage_at_page, **kwargs):
        super().__init__(allgs, **kwargs)
        self.garbage_at_page = garbage_at_page

    def goroutine_pages(self, claim):
        for number, page in enumerate(super().goroutine_pages(claim)):
            if number == self.garbage_at_page:
                yield (None,)
                raise ListingStopped(f"goroutine listing stopped at page {number}")
            yield page


def test_garbage_allgs_ends_the_listing_with_the_reason_and_the_second_stops_claiming():
    allgs = allgs_with_dead_slots()
    first, second = GarbageAfter(allgs, garbage_at_page=2, pause=0.001), FakeDelve(allgs, pause=0.02)
    listing = TwoEndedListing(first, lambda: second, page_size=100)
    pages = list(listing.pages())
    assert listing.outcome.problem == "goroutine listing stopped at page 2"
    assert listing.outcome.unwarmed_from is None
    assert (None,) in pages
    time.sleep(0.1)
    claimed = second.pages
    time.sleep(0.1)
    assert second.pages == claimed  # nothing more is claimed once the first saw garbage
