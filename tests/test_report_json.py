"""The JSON report's text: the same document json.dumps would write, indented,
but with the lists that grow with the goroutine count one element a line
(encoded in C: 100k goroutines' report in a fraction of indent='s time)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tui.analysis.groups import GoroutineIndex
from tui.analysis.report import GoroutineItems, _goroutine, to_json
from tui.model import Goroutine, Location
from tui.parse.delve import parse_current_goroutine, parse_goroutine_page, parse_string_array

pytestmark = pytest.mark.toolchain_independent

ITEM = {"id": 7, "state": "chan receive", "location": {"file": "/src/ä.go", "line": 3, "function": "main.f"},
        "waiting_on": {"kind": "chan receive", "address": "0xc0", "type": "chan int", "name": "results in main"},
        "wait_minutes": None, "labels": {"role": "a\nb \"quoted\""}}


def report(items: list, groups: list | None = None, blocking: list | None = None) -> dict:
    return {"schema": "gocore-tui/report/2", "crash": {"header": ["panic: boom", "\tpanic: again"], "chain": []},
            "goroutines": {"total": len(items), "items": items, "groups": groups}, "blocking": blocking,
            "warnings": [], "comparison": None}


def test_it_is_the_document_with_one_goroutine_a_line():
    items = [dict(ITEM, id=i) for i in range(1, 4)]
    doc = report(items, groups=[{"count": 3, "ids": [1, 2, 3], "frames": []}], blocking=[{"count": 3}])
    text = to_json(doc)
    assert json.loads(text) == doc
    lines = text.splitlines()
    assert [json.loads(line.strip().rstrip(",")) for line in lines if line.startswith('      {"id"')] == items
    assert '    "groups": [' in lines and '  "blocking": [' in lines
    assert '  "schema": "gocore-tui/report/2",' in lines  # the rest stays indented by two
    assert '      "panic: boom",' in lines
    assert text.endswith("}\n")


@given(st.lists(st.fixed_dictionaries({"id": st.integers(), "state": st.text(), "labels": st.dictionaries(
    st.text(), st.text(), max_size=3)}), max_size=5), st.one_of(st.none(), st.lists(st.dictionaries(
        st.text(), st.integers(), max_size=3), max_size=3)))
def test_any_report_reads_back_as_itself(items, blocking):
    doc = report(items, blocking=blocking)
    assert json.loads(to_json(doc)) == doc


def recorded_index() -> GoroutineIndex:
    """many_goroutines' 355 goroutines as dlv 1.27.2 listed them, one more
    in a file whose path has a percent sign, and a g dlv could not read."""
    data = Path(__file__).parent / "data" / "dlv"
    reasons = parse_string_array((data / "many_goroutines.waitreasons.txt").read_text())
    crashing = parse_current_goroutine((data / "many_goroutines.goroutine.txt").read_text())
    index = GoroutineIndex(crashing)
    for page in ("page0", "page1"):
        index.add(parse_goroutine_page((data / f"many_goroutines.{page}.txt").read_text(), reasons, crashing)[0])
    index.add([Goroutine(10**9, Location("/src/100%/a.go", 3, "main.f"), status="runnable"),
               Goroutine(id=None, location=None, unreadable="could not read G struct at 0xc000")])
    return index


def test_goroutine_items_read_as_one_dict_a_goroutine():
    """Items made from the index's columns (one encoded item for goroutines
    that read the same but for their id) are the very dicts made one
    goroutine at a time, in listing order, the unreadable g last; a
    percent sign in a path survives the template."""
    index = recorded_index()
    items = GoroutineItems(index, index.crashing, None)
    expected = [_goroutine(index.by_id[gid], index.crashing, index, None) for gid in index.by_id]
    expected.append(_goroutine(index.unreadable[0], index.crashing, index, None))
    assert list(items) == expected and len(items) == 357
    assert expected[-2]["location"]["file"] == "/src/100%/a.go"
    assert json.loads(to_json(report(items)))["goroutines"]["items"] == expected
    assert len({json.dumps(item, sort_keys=True) for item in expected}) > len(items.items) > 3


def test_no_goroutines_read_write_an_empty_list():
    """A core whose goroutines could not be listed has no items: the report
    still encodes (an empty list, as json.dumps writes it)."""
    items = GoroutineItems(GoroutineIndex(None), None, None)
    assert len(items) == 0
    assert json.loads(to_json(report(items)))["goroutines"]["items"] == []
