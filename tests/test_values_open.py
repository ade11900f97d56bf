"""Every pointer, interface, error, map, slice and struct opens, whatever
package its type comes from: in the variables pane (enter / →) and in the
report's variables, to a depth that shows a field of what it points at.
Delve quotes a type name with a path (`("*example.com/x/store.Store")(0x…)`)
and prints an interface holding a pointer by its address only; both used
to be leaves."""

from __future__ import annotations

import json

import pytest

from test_app import running, until
from test_cli import gocore
from tui.widgets.variables_view import VariablesView

pytestmark = pytest.mark.e2e

STORE = "gocoretui.example/fixtures/internal_pointer/internal/store.Store"


def node_named(tree: VariablesView, name: str):
    return next(node for group in tree.root.children for node in group.children
                if node.data is not None and node.data.name == name)


def test_the_report_opens_a_pointer_to_another_packages_type(cores):
    fixture = cores["internal_pointer"]
    result = gocore(fixture.exe, fixture.core, "--report", "json", "--no-gdb")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["crash"]["frame"]["function"] == "main.index"
    variables = {v["name"]: v for v in report["variables"]["args"] + report["variables"]["locals"]}
    st = variables["st"]
    assert st["type"] == f"*{STORE}"
    fields = {child["name"]: child for child in st["children"]}
    assert fields["Index"]["value"] == "map[string]int nil"  # what the crash wrote to
    assert [child["value"] for child in fields["Err"]["children"]] == ['"card declined"']
    held = variables["held"]
    assert held["type"] == "interface {}(*errors.errorString)"
    assert [(c["name"], c["value"]) for c in held["children"]] == [("s", '"card declined"')]


async def test_the_pane_opens_a_pointer_to_another_packages_type(cores):
    fixture = cores["internal_pointer"]
    async with running(fixture) as (app, pilot):
        tree = app.query_one(VariablesView)
        st = node_named(tree, "st")
        assert st.allow_expand
        st.expand()
        await until(pilot, lambda: any(line.startswith("Index = map[string]int nil") for line in tree.labels()))
        held = node_named(tree, "held")
        assert held.allow_expand
        held.expand()
        await until(pilot, lambda: 's = "card declined"' in tree.labels())


async def test_the_demos_error_opens(cores):
    """The demo's `err = error(*errors.errorString) 0x…`: the comparison
    screen shows what Delve prints of it; the pane opens to the same."""
    async with running(cores["demo_checkout"]) as (app, pilot):
        tree = app.query_one(VariablesView)
        err = node_named(tree, "err")
        assert err.allow_expand
        err.expand()
        await until(pilot, lambda: 's = "card declined"' in tree.labels())
