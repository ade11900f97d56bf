"""Cores of the Go programs under tests/fixtures, built and crashed once.

Building and crashing eight programs takes a few seconds and leaves ~40 MB
each, so the results are cached in build/test-cores/<toolchain>/<name>/ and
reused while main.go, go.mod and `go version` are unchanged. The toolchain
(tests/toolchains.py) picks the Go that builds them and the dlv that reads them.
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
    crash_line: int  # 1-based line of the `// CRASH` comment
    dlv: str  # the toolchain's dlv: pass it as dlv= / --dlv
    go: str  # the Go that built exe


def fixture_names() -> list[str]:
    return sorted(p.parent.name for p in FIXTURES.glob("*/main.go"))


def crash_line(source: Path) -> int:
    for number, line in enumerate(source.read_text().splitlines(), 1):
        if MARK in line:
            return number
    raise AssertionError(f"{source} has no {MARK} comment")


def go_version(go: str) -> str:
    return subprocess.run([go, "version"], capture_output=True, text=True, check=True, env=go_env()).stdout.strip()


# Bump when the recipe in tui/corerun.py changes what a header means.
RECIPE_VERSION = "2"


def cache_key(source: Path, version: str) -> str:
    # The `// gocore:` header (build flags, optimizer, limits, gcore) is part
    # of main.go, so the source bytes key the recipe too.
    digest = hashlib.sha256(f"{version}\0{RECIPE_VERSION}".encode())
    for part in (source, FIXTURES / "go.mod"):
        digest.update(part.read_bytes())
    return digest.hexdigest()


def _is_valid(out: Path, key: str) -> bool:
    stamp = out / "key"
    if not (stamp.exists() and stamp.read_text() == key and (out / "main").exists()):
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
        found = make_recipe_core(exe, out, recipe).core
        if found != out / "core":
            shutil.move(str(found), out / "core")
        # Written last: its presence vouches for main and core.
        (out / "key").write_text(key)
    return FixtureCore(name, out / "main", out / "core", source, crash_line(source), toolchain.dlv, toolchain.go)


def all_cores(toolchain: Toolchain | None = None) -> dict[str, FixtureCore]:
    toolchain = toolchain or current()
    version = go_version(toolchain.go)
    with ThreadPoolExecutor(max_workers=2) as pool:
        made = pool.map(lambda name: make_core(name, version, toolchain), fixture_names())
        return {core.name: core for core in made}
