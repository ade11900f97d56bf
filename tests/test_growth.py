"""What grew (`--baseline OLDCORE`), on a baseline pair of one program on
both toolchains: tests/fixtures/heap_retained crashed at its own size and
again with three times the cache (HEAP_RETAINED_SCALE=3). The growth is
the difference, to the object and the byte; another executable's core is
refused in one line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tui.analysis.heapgrowth import heap_growth
from tui.cli.corerun import crash
from tui.corefile.heap import read_heap_of

pytestmark = pytest.mark.e2e

BLOBS = 5_000
BLOB_SLOT = 2_304  # a 2,064-byte Blob's size class


@pytest.fixture(scope="module")
def pair(fixture_core, tmp_path_factory, monkeypatch_module):
    core = fixture_core("heap_retained")
    folder = tmp_path_factory.mktemp("bigger")
    monkeypatch_module.setenv("HEAP_RETAINED_SCALE", "3")
    bigger = crash(core.exe, folder, timeout=120).core
    return core, bigger


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_growth_is_the_difference(pair):
    core, bigger = pair
    growth = heap_growth(read_heap_of(str(core.exe), str(bigger)), read_heap_of(str(core.exe), str(core.core)))
    top = growth.types[0]
    assert (top.name, top.grew_count, top.grew_bytes) == ("main.Blob", 2 * BLOBS, 2 * BLOBS * BLOB_SLOT)
    assert "main.Link" not in {t.name for t in growth.types}  # the list did not grow
    cache = next(r for r in growth.roots if r.label == "main.cache")
    assert not cache.new and cache.grew >= 2 * BLOBS * BLOB_SLOT
    assert growth.roots[0].label == "main.cache"


def test_report_baseline_and_another_executables_core_refused(pair, fixture_core, dlv_path):
    core, bigger = pair
    command = [sys.executable, "-m", "tui", "--dlv", str(dlv_path), "--no-gdb", str(core.exe), str(bigger),
               "--report", "json"]
    done = subprocess.run(command + ["--baseline", str(core.core)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    growth = json.loads(done.stdout)["heap"]["growth"]
    assert growth["baseline"] == str(core.core)
    assert {k: growth["types"][0][k] for k in ("type", "grew_count", "grew_bytes")} == \
        {"type": "main.Blob", "grew_count": 2 * BLOBS, "grew_bytes": 2 * BLOBS * BLOB_SLOT}
    other = fixture_core("heap_types").core
    done = subprocess.run(command + ["--baseline", str(other)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith(f"gocore-tui: --baseline {other}: ") and done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr
