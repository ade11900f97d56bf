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


# Private members read across objects on purpose, each with its reason.
PRIVATE_ALLOWED = {
    # Textual's footer keeps whether a key is greyed out here; ours updates
    # it in place instead of rebuilding the footer (widgets/footer.py).
    ("tui/widgets/footer.py", "_disabled"),
}
# Public despite the underscore: namedtuple's API, and os._exit.
PUBLIC_NAMES = {"_make", "_replace", "_asdict", "_fields", "_exit"}


def test_no_module_reaches_into_another_objects_privates():
    """`x._name` only where x is self, cls, super(), or something of the
    module's own making (its own class's private): never another module's."""
    import ast

    found = []
    for path in sorted((ROOT / "tui").rglob("*.py")):
        tree = ast.parse(path.read_text())
        own = {node.name for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
        own |= {target.attr for node in ast.walk(tree) if isinstance(node, ast.Assign)
                for target in node.targets if isinstance(target, ast.Attribute)}
        relative = str(path.relative_to(ROOT))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")):
                continue
            value = node.value
            if isinstance(value, ast.Name) and value.id in ("self", "cls"):
                continue
            if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "super":
                continue
            if node.attr in PUBLIC_NAMES or node.attr in own or (relative, node.attr) in PRIVATE_ALLOWED:
                continue
            found.append(f"{relative}:{node.lineno}: .{node.attr}")
    assert not found, "\n".join(found)
