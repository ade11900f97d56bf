"""The import contracts in pyproject.toml hold: no Textual in the backend, no pexpect in widgets."""

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


def test_the_app_stays_wiring():
    """app.py composes, binds and wires messages (issue 11: under 300 lines);
    anything more belongs in core/, screens/ or a mixin of its own."""
    lines = (ROOT / "tui" / "app.py").read_text().splitlines()
    assert len(lines) < 300, f"tui/app.py has {len(lines)} lines"
