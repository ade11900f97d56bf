"""Shared fixtures: real cores of tests/fixtures programs, and the dlv to read them.

GOCORE_TOOLCHAIN (tests/toolchains.py) picks the Go that builds the cores and
the dlv that opens them. Tests marked toolchain_independent (pure parsers,
recorded transcripts, import contracts) run with the latest toolchain only.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import shutil
from pathlib import Path
from typing import Callable, Mapping

import pytest
import pytest_textual_snapshot

import toolchains
from corecache import FixtureCore, all_cores
from tui.debugger.dlv import DLV_VARIABLE

INDEPENDENT = "toolchain_independent"
LATEST_ONLY = "latest_toolchain_only"
_TOOLCHAIN = pytest.StashKey[toolchains.Toolchain]()


def pytest_configure(config):
    try:
        chosen = config.stash[_TOOLCHAIN] = toolchains.current()
    except toolchains.ToolchainMissing as err:
        # Fail, not skip: a leg that silently skips every dlv test proves nothing.
        raise pytest.UsageError(str(err)) from None
    if not chosen.is_latest:
        # Every Delve.open and gocore-tui run of this leg, in process or not,
        # then uses the leg's dlv, also in tests that do not pass --dlv.
        os.environ[DLV_VARIABLE] = chosen.dlv


def pytest_report_header(config):
    chosen = config.stash[_TOOLCHAIN]
    return f"toolchain: {chosen.name} (go {chosen.go}, dlv {chosen.dlv})"


def pytest_collection_modifyitems(config, items):
    """Leave out toolchain-independent tests after the first leg, and tests
    of programs the older toolchain cannot build; refuse a test marked
    independent that still opens a core (it would then be untested on the
    other toolchains)."""
    for item in items:
        if item.get_closest_marker(INDEPENDENT) and {"cores", "fixture_core", "toolchain", "dlv_path"} & set(item.fixturenames):
            raise pytest.UsageError(f"{item.nodeid} is marked {INDEPENDENT} but uses a core or dlv")
    if config.stash[_TOOLCHAIN].is_latest:
        return
    left_out = [item for item in items if any(item.get_closest_marker(mark) for mark in (INDEPENDENT, LATEST_ONLY))]
    config.hook.pytest_deselected(items=left_out)
    gone = set(left_out)
    items[:] = [item for item in items if item not in gone]


@pytest.fixture(scope="session")
def toolchain(pytestconfig) -> toolchains.Toolchain:
    return pytestconfig.stash[_TOOLCHAIN]


@pytest.fixture(scope="session")
def dlv_path(toolchain) -> Path:
    """The leg's dlv: `make setup`'s in .venv/bin, or Debian's /usr/bin/dlv."""
    return Path(toolchain.dlv)


@pytest.fixture(scope="session")
def cores(toolchain) -> Mapping[str, FixtureCore]:
    """name -> FixtureCore for every tests/fixtures/<name>/main.go, built once per session."""
    return all_cores(toolchain)


@pytest.fixture(scope="session")
def fixture_core(cores) -> Callable[[str], FixtureCore]:
    """fixture_core("deadlock"): one fixture's core, with a clear error for a bad name."""

    def get(name: str) -> FixtureCore:
        if name not in cores:
            raise KeyError(f"no tests/fixtures/{name}/main.go (have: {', '.join(sorted(cores))})")
        return cores[name]

    return get


# The programs `make test` installs (the Makefile's TEST_PACKAGES) -> their
# Debian package. A test never skips for lack of one: it fails, saying how to
# install it.
MAKE_TEST_INSTALLS = {"tmux": "tmux", "gdb": "gdb", "script": "bsdutils"}


@pytest.fixture(scope="session")
def installed() -> Callable[[str], str]:
    """installed("tmux"): the program's path; the test fails if it is missing."""

    def find(program: str) -> str:
        found = shutil.which(program)
        if found is None:
            pytest.fail(f"{program} is not installed: `make test` installs it "
                        f"(apt-get install {MAKE_TEST_INSTALLS[program]})", pytrace=False)
        return found

    return find


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
