"""Cores of the Go programs under tests/fixtures, built and crashed once.

Building and crashing eight programs takes a few seconds and leaves ~40 MB
each, so the results are cached in build/test-cores/<toolchain>/<name>/ and
reused while the fixture's sources, go.mod and `go version` are unchanged.
The toolchain (tests/toolchains.py) picks the Go that builds them and the dlv
that reads them. What the program printed on stderr when it died (Go's own
traceback, the oracle of tests/test_go_oracle.py) is kept beside the core.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tui.debugger import elf
from tui.cli.corerun import build, go_env, make_core as make_recipe_core, read_recipe
from toolchains import Toolchain, current

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
CACHE = ROOT / "build" / "test-cores"
MARK = "// CRASH"


@dataclass(frozen=True)
class FixtureCore:
    name: str
    exe: Path
    core: Path
    source: Path  # the fixture's main.go
    crash_line: int  # 1-based line of the `// CRASH` comment in crash_source
    dlv: str  # the toolchain's dlv: pass it as dlv= / --dlv
    go: str  # the Go that built exe
    # What the program wrote on stderr as it died (empty for a gcore dump).
    stderr: Path
    # The file holding `// CRASH`: main.go, or for a crash in another package
    # of the fixture's directory (tests/fixtures/NAME/PKG/*.go) that file.
    crash_source: Path


def fixture_names() -> list[str]:
    return sorted(p.parent.name for p in FIXTURES.glob("*/main.go"))


def crashed_fixture_names() -> list[str]:
    """The fixtures that crash, so Go printed its traceback beside the core:
    all but the live processes dumped with gcore (`// gocore:gcore`)."""
    return [name for name in fixture_names() if not read_recipe(FIXTURES / name).gcore]


def _marked_line(source: Path) -> int | None:
    for number, line in enumerate(source.read_text().splitlines(), 1):
        if MARK in line:
            return number
    return None


def crash_line(source: Path) -> int:
    number = _marked_line(source)
    if number is None:
        raise AssertionError(f"{source} has no {MARK} comment")
    return number


def crash_site(source: Path) -> tuple[Path, int]:
    """(file, line) of the `// CRASH` comment: in main.go, else in one of the
    other Go files under the fixture's directory (a crash whose first frame of
    the program's own code is in another package of the module)."""
    for candidate in (source, *sorted(p for p in source.parent.rglob("*.go") if p != source)):
        number = _marked_line(candidate)
        if number is not None:
            return candidate, number
    raise AssertionError(f"{source.parent} has no {MARK} comment in any .go file")


def go_version(go: str) -> str:
    return subprocess.run([go, "version"], capture_output=True, text=True, check=True, env=go_env()).stdout.strip()


# Bump when the recipe in tui/corerun.py changes what a header means, or
# when the cache keeps something new (3: the program's stderr).
RECIPE_VERSION = "3"


def _library_files() -> list[Path]:
    """Packages under tests/fixtures that are not fixtures themselves (no
    main.go at their top): libraries the fixtures import, and modules the
    fixtures' go.mod replaces with a directory."""
    files = []
    for folder in sorted(p for p in FIXTURES.iterdir() if p.is_dir() and not (p / "main.go").exists()):
        files += sorted(p for p in folder.rglob("*") if p.suffix == ".go" or p.name == "go.mod")
    return files


def cache_key(source: Path, version: str) -> str:
    # The `// gocore:` header (build flags, optimizer, limits, gcore) is part
    # of main.go, so the source bytes key the recipe too; the fixture's other
    # packages and the libraries under tests/fixtures are compiled in.
    digest = hashlib.sha256(f"{version}\0{RECIPE_VERSION}".encode())
    own = sorted(p for p in source.parent.rglob("*.go") if p != source) if source.parent != FIXTURES else []
    for part in (source, FIXTURES / "go.mod", *own, *_library_files()):
        digest.update(str(part.relative_to(FIXTURES)).encode() + b"\0")
        digest.update(part.read_bytes())
    return digest.hexdigest()


def _is_valid(out: Path, key: str) -> bool:
    stamp = out / "key"
    if not (stamp.exists() and stamp.read_text() == key and (out / "main").exists() and (out / "stderr").exists()):
        return False
    try:
        elf.check_core(out / "core")  # a half-written core from a killed run is not reusable
    except elf.InputError:
        return False
    return True


def make_core(name: str, version: str, toolchain: Toolchain) -> FixtureCore:
    source = FIXTURES / name / "main.go"
    out = CACHE / toolchain.name / name
    key = cache_key(source, version)
    if not _is_valid(out, key):
        shutil.rmtree(out, ignore_errors=True)
        recipe = read_recipe(source.parent)
        exe = build(source.parent, out, recipe, go=toolchain.go)
        result = make_recipe_core(exe, out, recipe)
        if result.core != out / "core":
            shutil.move(str(result.core), out / "core")
        # Go's own account of the crash; gcore dumps have none (empty).
        (out / "stderr").write_text(result.stderr)
        # Written last: its presence vouches for main, core and stderr.
        (out / "key").write_text(key)
    marked, line = crash_site(source)
    return FixtureCore(name, out / "main", out / "core", source, line, toolchain.dlv, toolchain.go,
                       stderr=out / "stderr", crash_source=marked)


def all_cores(toolchain: Toolchain | None = None) -> dict[str, FixtureCore]:
    toolchain = toolchain or current()
    version = go_version(toolchain.go)
    with ThreadPoolExecutor(max_workers=2) as pool:
        made = pool.map(lambda name: make_core(name, version, toolchain), fixture_names())
        return {core.name: core for core in made}
