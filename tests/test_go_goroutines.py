"""Every goroutine as Go printed it: Go's own dump is the oracle.

Every fixture is crashed with GOTRACEBACK=crash (tests/corecache.py), and
Go prints every goroutine on stderr before the kernel writes the core:
its id, its state (and `, N minutes`), every frame with file:line, and
`created by F in goroutine N`. For each goroutine Go printed, what
gocore-tui shows must read the same (tests/goroutine_oracle.py):

- the goroutine list, its groups and the report (the listing the TUI and
  `--report` share: core/inventory.py): present, with Go's state and
  minutes, its whole stack function by function and line by line, and its
  creator; and no goroutine Go skipped (the dead g of a cgo extra M);
- the backtrace pane (DelveBackend.backtrace, Delve's `stack` made Go's):
  the goroutine's own frames and the created-by row, for one goroutine of
  each distinct stack.

Cores nobody here shaped: go-httpbin, a real server built from the
module proxy three ways (plain, PIE, -trimpath), under load on loopback
and sent SIGABRT (tests/servercores.py), held to Go's dump the same way.

`PYTHONPATH=. python tests/goroutine_table.py` prints the same comparison
as a table, fixture by fixture.
"""

from __future__ import annotations

import pytest

from corecache import crashed_fixture_names
from goroutine_oracle import Shown, disagreements, expected, place, shown_from_inventory
from servercores import WAYS, make_server_core
from tui.core.backend import DelveBackend
from tui.core.inventory import take_inventory
from tui.debugger.delve import Delve

pytestmark = pytest.mark.e2e

# A core gcore took of a live process has no dump of Go's to hold it to.
NAMES = crashed_fixture_names()


@pytest.fixture
def go_and_ours(cores, request):
    fixture = cores[request.param]
    text = fixture.stderr.read_text()
    assert text, f"{fixture.stderr}: empty, yet {fixture.name} crashed with GOTRACEBACK=crash"
    delve = Delve.open(str(fixture.exe), str(fixture.core), dlv=fixture.dlv)
    backend = DelveBackend(delve)
    try:
        inventory = take_inventory(backend, None)
        yield expected(text), backend, inventory
    finally:
        backend.close()


@pytest.mark.parametrize("go_and_ours", NAMES, indirect=True)
def test_every_goroutine_is_as_go_printed_it(go_and_ours):
    go, backend, inventory = go_and_ours
    # Read from the core file, never through the fallback.
    assert not inventory.through_dlv, inventory.through_dlv
    verdict = disagreements(go, shown_from_inventory(backend, inventory))
    assert not verdict.lines(), "\n".join(verdict.lines())
    assert verdict.total == len(go) and verdict.agree


@pytest.mark.parametrize("go_and_ours", NAMES, indirect=True)
def test_the_backtrace_pane_shows_go_s_stack_and_creator(go_and_ours):
    go, backend, inventory = go_and_ours
    index = inventory.index
    # One goroutine of each distinct stack (leak_10k's 10,000 stand in a few places).
    seen: set[object] = set()
    shown: dict[int, Shown] = {}
    for goroutine in inventory.goroutines:
        key = index.stack_of(goroutine.id)
        if goroutine.id is None or goroutine.id not in go or key in seen:
            continue
        seen.add(key)
        backtrace = backend.backtrace(goroutine.id)
        creator = backtrace.created_by
        shown[goroutine.id] = Shown(
            goroutine.id, go[goroutine.id].state, go[goroutine.id].minutes,
            tuple(place(f.function, f.file, f.line) for f in backtrace.own_frames),
            (creator.function, creator.file, creator.line, backtrace.creator) if creator else None)
    verdict = disagreements({gid: go[gid] for gid in shown}, shown)
    assert not verdict.lines(), "\n".join(verdict.lines())
    assert shown


# go-httpbin needs Go 1.22+ (tests/servercores.py).
@pytest.mark.latest_toolchain_only
@pytest.mark.parametrize("way", sorted(WAYS))
def test_a_real_server_s_goroutines_are_as_go_printed_them(toolchain, way):
    server = make_server_core(way, toolchain)
    go = expected(server.stderr.read_text())
    assert len(go) > 200  # the load's connections and handlers are in it
    delve = Delve.open(str(server.exe), str(server.core), dlv=server.dlv)
    backend = DelveBackend(delve)
    try:
        inventory = take_inventory(backend, None)
        assert not inventory.through_dlv, inventory.through_dlv
        verdict = disagreements(go, shown_from_inventory(backend, inventory))
    finally:
        backend.close()
    assert not verdict.lines(), "\n".join(verdict.lines())
