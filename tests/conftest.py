"""Shared fixtures: real cores of tests/fixtures programs, and the dlv to read them."""

from __future__ import annotations

import asyncio
import inspect
import shutil
import sys
from pathlib import Path
from typing import Callable, Mapping

import pytest
import pytest_textual_snapshot

from corecache import FixtureCore, all_cores


@pytest.fixture(scope="session")
def cores() -> Mapping[str, FixtureCore]:
    """name -> FixtureCore for every tests/fixtures/<name>/main.go, built once per session."""
    return all_cores()


@pytest.fixture(scope="session")
def fixture_core(cores) -> Callable[[str], FixtureCore]:
    """fixture_core("deadlock"): one fixture's core, with a clear error for a bad name."""

    def get(name: str) -> FixtureCore:
        if name not in cores:
            raise KeyError(f"no tests/fixtures/{name}/main.go (have: {', '.join(sorted(cores))})")
        return cores[name]

    return get


@pytest.fixture(scope="session")
def dlv_path() -> Path:
    """The dlv `make setup` installed next to this interpreter, else the one on PATH."""
    beside = Path(sys.executable).parent / "dlv"
    if beside.exists():
        return beside
    found = shutil.which("dlv")
    # Fail, not skip: a suite that silently skips every dlv test proves nothing.
    assert found, f"dlv not found in {beside.parent} or on PATH; run `make setup`"
    return Path(found)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    """Run `async def` tests (Pilot) on a fresh event loop, without a plugin."""
    if inspect.iscoroutinefunction(pyfuncitem.obj):
        names = pyfuncitem._fixtureinfo.argnames
        asyncio.run(pyfuncitem.obj(**{name: pyfuncitem.funcargs[name] for name in names}))
        return True
    return None


def _snapshots_under_top_level(cls, *, test_location) -> str:
    """Reviewed SVGs live in the top-level snapshots/ (one folder per test file)."""
    return str(Path(__file__).resolve().parents[1] / "snapshots" / test_location.basename)


# snap_compare always switches to this extension; point it at snapshots/.
pytest_textual_snapshot.SVGImageExtension.dirname = classmethod(_snapshots_under_top_level)
