"""The JSON report's text: the same document json.dumps would write, indented,
but with the lists that grow with the goroutine count one element a line
(encoded in C: 100k goroutines' report in a fraction of indent='s time)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tui.analysis.report import to_json

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
