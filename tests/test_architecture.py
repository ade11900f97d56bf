"""The shape of the code: the import contracts in pyproject.toml hold, and
the app is composed of objects, not of mixins."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.toolchain_independent

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts():
    lint = Path(sys.executable).parent / "lint-imports"
    assert lint.exists(), f"{lint} missing; run `make setup`"
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_app_is_composed_not_mixed_in():
    """The App is one class that routes messages between the objects it is
    given or makes (session, navigator, store, jobs, recovery policy): no
    class of ours shares its `self`."""
    from tui.app import GocoreApp

    ours = [cls.__qualname__ for cls in GocoreApp.__mro__ if cls.__module__.startswith("tui.")]
    assert ours == ["GocoreApp"]


def test_make_demo_installs_only_what_the_demo_runs():
    """`make demo` on a fresh machine: the app and its dlv, not the test
    tools (pytest, import-linter ...) nor the second leg's packages."""
    planned = subprocess.run(["make", "-n", "-B", "demo"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert planned.returncode == 0, planned.stderr
    assert "pip install -q -e ." in planned.stdout
    assert "[test]" not in planned.stdout and "apt-get" not in planned.stdout
    tested = subprocess.run(["make", "-n", "-B", "test"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert "pip install -q -e '.[test]'" in tested.stdout
