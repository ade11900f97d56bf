"""Two dlvs listing one core from opposite ends of runtime.allgs (tui/core/listing.py).

Fakes stand in for dlv here, to reach the failures and races; the real two
dlvs are tested in tests/test_app.py."""

from __future__ import annotations

import threading

import pytest

from tui.core.listing import SharedRange, TwoEndedListing
from tui.debugger.delve import ListingStopped, sequential
from waiting import HANG, wait_for

pytestmark = pytest.mark.toolchain_independent


class FakeDelve:
    """allgs as a list: a goroutine id, or None for a dead slot (skipped, as
    Delve skips them: a page of COUNT may run past START+COUNT).

    When a page is read is the test's to say, never the machine's speed: a
    `turnstile` (a semaphore) lets one page through per permit; `turns`
    (a TakingTurns and this dlv's place in it) makes two dlvs page in turn.
    `finished` is set once goroutine_pages() has returned or was closed."""

    def __init__(self, allgs, fail_at_page=None, turnstile: threading.Semaphore | None = None,
                 turns: tuple["TakingTurns", int] | None = None):
        self.allgs = allgs
        self.fail_at_page = fail_at_page
        self.turnstile = turnstile
        self.turns = turns
        self.pages = 0
        self.spans: list[tuple[int, int]] = []  # each page's [start, where it stopped)
        self.finished = threading.Event()

    def allgs_length(self):
        return len(self.allgs)

    def goroutine_pages(self, claim):
        try:
            page = claim(0)
            while page is not None:
                start, count = page
                if self.turnstile is not None:
                    assert self.turnstile.acquire(timeout=HANG), "the test never let this page through"
                if self.turns is not None:
                    self.turns[0].wait_for_turn(self.turns[1])
                if self.pages == self.fail_at_page:
                    raise RuntimeError("dlv died")
                ids, index = [], start
                while index < len(self.allgs) and len(ids) < count:
                    if self.allgs[index] is not None:
                        ids.append(self.allgs[index])
                    index += 1
                self.pages += 1
                self.spans.append((start, index))
                if self.turns is not None:
                    self.turns[0].done_with_turn(self.turns[1])
                yield tuple(ids)
                page = claim(index if index < len(self.allgs) else -1)
        finally:
            if self.turns is not None:
                self.turns[0].leave(self.turns[1])
            self.finished.set()


class TakingTurns:
    """Two dlvs that read a page each in turn (0 first), whatever the
    machine's load: the two ends meet as they would at equal speeds. One that
    has stopped paging holds the other up no longer."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._turn = 0
        self._gone: set[int] = set()

    def wait_for_turn(self, who: int) -> None:
        with self._changed:
            assert self._changed.wait_for(lambda: self._turn == who or 1 - who in self._gone, timeout=HANG), \
                f"dlv {who} never got its turn"

    def done_with_turn(self, who: int) -> None:
        with self._changed:
            self._turn = 1 - who
            self._changed.notify_all()

    def leave(self, who: int) -> None:
        with self._changed:
            self._gone.add(who)
            self._changed.notify_all()


def taking_turns(first: dict, second: dict) -> tuple[FakeDelve, FakeDelve]:
    turns = TakingTurns()
    return FakeDelve(turns=(turns, 0), **first), FakeDelve(turns=(turns, 1), **second)


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
    first, second = taking_turns({"allgs": allgs}, {"allgs": allgs})
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
    first, second = taking_turns({"allgs": allgs}, {"allgs": allgs, "fail_at_page": 3})
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
    gate = threading.Semaphore(0)
    first, second = FakeDelve(allgs), FakeDelve(allgs, turnstile=gate)
    up = threading.Event()

    def late():
        assert up.wait(HANG)
        return second

    pages = pages_from_both_ends(first, late, page_size=100)
    ids = listed(next(pages) for _ in range(10))
    assert first.pages == 10 and second.pages == 0
    up.set()
    gate.release()  # the second's first page, while the first waits
    wait_for(lambda: second.pages == 1, "the late second dlv never read a page")
    while first.pages == 10:  # and the first's next one, the second held
        ids += listed([next(pages)])
    gate.release(1000)
    ids += listed(pages)
    assert set(ids) == set(allgs) - {None}
    assert first.pages > 10 and second.pages > 0


def test_the_second_claims_nothing_more_once_the_listing_is_dropped():
    allgs = allgs_with_dead_slots()
    gate = threading.Semaphore(1)
    first, second = FakeDelve(allgs), FakeDelve(allgs, turnstile=gate)
    pages = pages_from_both_ends(first, lambda: second, page_size=100)
    next(pages)
    wait_for(lambda: second.pages == 1, "the second dlv never read a page")
    pages.close()  # the app is closing
    gate.release(1000)  # let it read all it wants
    assert second.finished.wait(HANG)
    # The page it had claimed before the drop, at most: of 50 pages
    assert second.pages <= 2


def test_a_list_done_before_the_second_dlv_is_up_does_not_wait_for_it():
    allgs = allgs_with_dead_slots(1000)
    first = FakeDelve(allgs)
    up = threading.Event()

    def still_starting():
        up.wait(HANG)
        return None

    ids = listed(pages_from_both_ends(first, still_starting, page_size=100))
    assert not up.is_set()  # the list was done while the second dlv was still starting
    up.set()
    assert set(ids) == set(allgs) - {None}


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
    gate = threading.Semaphore(1)
    first, second = GarbageAfter(allgs, garbage_at_page=2), FakeDelve(allgs, turnstile=gate)
    listing = TwoEndedListing(first, lambda: second, page_size=100)
    pages = list(listing.pages())
    assert listing.outcome.problem == "goroutine listing stopped at page 2"
    assert listing.outcome.unwarmed_from is None
    assert (None,) in pages
    claimed = second.pages
    gate.release(1000)  # let it read all it wants
    assert second.finished.wait(HANG)
    # nothing more is claimed once the first saw garbage: the page it had claimed, at most
    assert second.pages <= claimed + 1
