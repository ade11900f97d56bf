"""Cores of the Go programs under tests/fixtures, built and crashed once.

Building and crashing eight programs takes a few seconds and leaves ~40 MB
each, so the results are cached in build/test-cores/<name>/ and reused while
main.go, go.mod and `go version` are unchanged.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tui import elf
from tui.corerun import build, find_go, go_env, make_core as make_recipe_core, read_recipe

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


def fixture_names() -> list[str]:
    return sorted(p.parent.name for p in FIXTURES.glob("*/main.go"))


def crash_line(source: Path) -> int:
    for number, line in enumerate(source.read_text().splitlines(), 1):
        if MARK in line:
            return number
    raise AssertionError(f"{source} has no {MARK} comment")


def go_version() -> str:
    return subprocess.run([find_go(), "version"], capture_output=True, text=True, check=True, env=go_env()).stdout.strip()


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


def make_core(name: str, version: str) -> FixtureCore:
    source = FIXTURES / name / "main.go"
    out = CACHE / name
    key = cache_key(source, version)
    if not _is_valid(out, key):
        shutil.rmtree(out, ignore_errors=True)
        recipe = read_recipe(source.parent)
        exe = build(source.parent, out, recipe)
        found = make_recipe_core(exe, out, recipe).core
        if found != out / "core":
            shutil.move(str(found), out / "core")
        # Written last: its presence vouches for main and core.
        (out / "key").write_text(key)
    return FixtureCore(name, out / "main", out / "core", source, crash_line(source))


def all_cores() -> dict[str, FixtureCore]:
    version = go_version()
    with ThreadPoolExecutor(max_workers=2) as pool:
        made = pool.map(lambda name: make_core(name, version), fixture_names())
        return {core.name: core for core in made}
