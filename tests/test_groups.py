"""The paged goroutine listing (recorded from dlv 1.27.2) and its buckets."""

from pathlib import Path

import pytest

from tui.analysis.groups import GoroutineIndex, matches
from tui.parse import ParseError
from tui.parse.delve import (
    page_next_start,
    parse_current_goroutine,
    parse_goroutine_page,
    parse_stack_page,
    parse_string_array,
)

pytestmark = pytest.mark.toolchain_independent

DATA = Path(__file__).parent / "data" / "dlv"


def recorded(name: str) -> str:
    return (DATA / f"{name}.txt").read_text()


@pytest.fixture(scope="module")
def index():
    reasons = parse_string_array(recorded("many_goroutines.waitreasons"))
    crashing = parse_current_goroutine(recorded("many_goroutines.goroutine"))
    places: dict = {}
    first, next_start = parse_goroutine_page(recorded("many_goroutines.page0"), reasons, crashing, places)
    assert (len(first), next_start) == (300, 300)
    rest, next_start = parse_goroutine_page(recorded("many_goroutines.page1"), reasons, crashing, places)
    assert next_start == -1
    built = GoroutineIndex(crashing)
    built.add(first)
    built.add(rest)
    return built


def test_wait_reasons_come_from_the_target():
    reasons = parse_string_array(recorded("many_goroutines.waitreasons"))
    assert reasons[0] == "" and "chan receive" in reasons and "sleep" in reasons


def test_every_goroutine_is_listed_and_places_are_shared(index):
    assert len(index) == 355
    readers = [g for g in index.by_id.values() if g.location.function == "main.idle"]
    assert len(readers) == 200
    assert len({id(g.location) for g in readers}) == 1


def test_buckets_sum_to_the_total_biggest_first(index):
    buckets = index.buckets()
    assert sum(b.count for b in buckets) == len(index)
    counts = [b.count for b in buckets]
    assert counts == sorted(counts, reverse=True)
    top = {b.location.function: b for b in buckets[:3]}
    assert (top["main.idle"].count, top["main.idle"].state) == (200, "chan receive")
    assert top["time.Sleep"].count == 100
    assert top["sync.(*Mutex).Lock"].count == 50


def test_the_crashing_goroutine_bucket_is_marked(index):
    (crashed,) = [b for b in index.buckets() if b.crashing]
    assert crashed.ids == (index.crashing,) and crashed.location.function == "main.crash"
    assert index.by_id[index.crashing].state == "running"


def test_filter_narrows_buckets_and_flat_list(index):
    assert [b.location.function for b in index.buckets("mutex")] == ["sync.(*Mutex).Lock"]
    assert len(index.flat("chan receive")) == 200
    assert [g.id for g in index.flat(str(index.crashing))][0] == index.crashing
    assert index.buckets("no such thing") == []


def test_hiding_runtime_goroutines(index):
    shown = index.buckets(hide_runtime=True)
    assert all(not b.runtime_only for b in shown)
    assert sum(b.count for b in shown) + index.runtime_count() == len(index)
    assert index.runtime_count() > 0


def test_filter_matches_id_function_file_and_reason(index):
    goroutine = index.by_id[index.crashing]
    assert matches(goroutine, "main.crash") and matches(goroutine, "many_goroutines/main.go")
    assert matches(goroutine, "running") and not matches(goroutine, "select")


def test_a_page_without_its_end_marker_is_a_parse_error():
    with pytest.raises(ParseError):
        parse_goroutine_page("G\t1\t0\t4\t14\t2\t3\t4\t\n")
    with pytest.raises(ParseError):
        parse_goroutine_page("G\t1\t0\t4\t14\t2\t3\t4\t\nNEXT\t-1\n")  # PCs never described
    assert page_next_start("L\t1\tx.go\t3\tmain.f\nNEXT\t250\n") == 250
    assert page_next_start("G\t1\n") is None


@pytest.fixture(scope="module")
def split():
    """tests/fixtures/split_stacks: 30 goroutines parked on one line by two call paths."""
    reasons = parse_string_array(recorded("split_stacks.waitreasons"))
    goroutines, next_start = parse_goroutine_page(recorded("split_stacks.page"), reasons)
    assert next_start == -1
    stacks, next_start = parse_stack_page(recorded("split_stacks.stacks"))
    assert next_start == -1
    return goroutines, stacks


def test_whole_stacks_split_a_bucket_by_call_path(split):
    goroutines, stacks = split
    index = GoroutineIndex()
    index.add(goroutines)
    (parked,) = [b for b in index.buckets() if b.location and b.location.function == "main.park"]
    assert parked.count == 30 and parked.via == ""
    index.add_stacks(stacks)
    assert index.stacks_known == len(index.by_id)
    parts = [b for b in index.buckets() if b.location and b.location.function == "main.park"]
    assert [(b.count, b.via) for b in parts] == [(20, "main.viaRight"), (10, "main.viaLeft")]
    assert set(parts[0].ids) | set(parts[1].ids) == set(parked.ids)
    assert sum(b.count for b in index.buckets()) == len(index)
    # A member's bucket key finds its part (the list expands it on reveal).
    assert index.bucket_key(parts[1].ids[0]) == parts[1].key != parts[0].key
    # Once stacks are read, the filter finds callers too.
    assert [(b.count, b.via) for b in index.buckets("viaLeft")] == [(10, "main.viaLeft")]
    assert len(index.flat("viaright")) == 20
    assert [b.count for b in index.buckets("main.park")] == [20, 10]


def test_stacks_still_unknown_stay_apart_from_the_known(split):
    goroutines, stacks = split
    index = GoroutineIndex()
    index.add(goroutines)
    index.add_stacks(stacks[:5])  # a first page of stacks only
    counts = sorted(b.count for b in index.buckets() if b.location and b.location.function == "main.park")
    assert sum(counts) == 30
    unread = [b for b in index.buckets() if b.via == "(stack not read)"]
    assert unread and all(b.count > 0 for b in unread)


def test_a_stack_page_without_its_end_marker_is_a_parse_error():
    with pytest.raises(ParseError):
        parse_stack_page("L\t1\tx.go\t3\tmain.f\nS\t7\t1\n")
    with pytest.raises(ParseError):
        parse_stack_page("S\t7\t1,2\nNEXT\t-1\n")  # PCs never described
