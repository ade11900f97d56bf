"""Cores of the production-like modules under tests/prodmods, built and crashed once.

The sibling of corecache.py for programs that are modules of their own:

- svc: module example.com/svc with a sub-package and a dependency brought
  in by `replace example.org/decoder => ../decoder`;
- feed: module example.com/feed whose dependencies (example.org/yaml.v1,
  example.org/Acme/retry) come from a file-system module proxy made here
  from tests/prodmods/proxy/<module>@<version>/ into a private module
  cache: GOPROXY=file://..., GOSUMDB=off, nothing from the network.

Each is built from a copy of its sources (the go command writes go.sum
there, never into tests/) with the `// gocore:` recipe of its main.go,
crashed like the fixtures, and cached in
build/test-cores/<toolchain>/prodmods-<name>/ under a key of every source
byte, the Go version and the recipe version.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path

from corecache import CACHE, MARK, ROOT, RECIPE_VERSION, _is_valid, go_version
from toolchains import Toolchain
from tui.cli.corerun import BuildError, make_core, read_recipe

PRODMODS = ROOT / "tests" / "prodmods"
PROXY_SOURCES = PRODMODS / "proxy"
# name -> the directories of tests/prodmods its build needs (the module first).
MODULES = {"svc": ("svc", "decoder"), "feed": ("feed",)}
# Bump when the way these are built changes.
PROD_RECIPE = "1"


@dataclass(frozen=True)
class ProdCore:
    name: str
    exe: Path
    core: Path
    tree: Path  # the copy it was built from: tree/<name> is the module, siblings beside it
    modcache: Path  # its private GOMODCACHE (left empty by svc)
    proxy: Path  # the file-system module proxy (empty for svc)
    crash_file: Path  # the source under tests/prodmods with the `// CRASH` comment
    crash_line: int
    dlv: str
    go: str

    @property
    def module_dir(self) -> Path:
        return self.tree / self.name

    def go_env(self) -> dict[str, str]:
        """The environment the go command built it with (offline)."""
        return build_env(self.modcache, self.proxy)


def build_env(modcache: Path, proxy: Path) -> dict[str, str]:
    # GOFLAGS replaces the user's go env file's: -mod=mod lets go.sum be
    # written in the copy, -modcacherw keeps the cache removable,
    # -buildvcs=false keeps this repository's state out of the binaries.
    env = dict(os.environ, GOTOOLCHAIN="local", GOFLAGS="-mod=mod -modcacherw -buildvcs=false",
               GOMODCACHE=str(modcache), GOPROXY=f"file://{proxy}" if any(proxy.iterdir()) else "off",
               GOSUMDB="off", GONOSUMDB="", GOPRIVATE="", GONOPROXY="", GOWORK="off")
    return env


def _sources(name: str) -> list[Path]:
    dirs = [PRODMODS / d for d in MODULES[name]] + ([PROXY_SOURCES] if name == "feed" else [])
    return sorted(p for d in dirs for p in d.rglob("*") if p.is_file())


def cache_key(name: str, version: str) -> str:
    digest = hashlib.sha256(f"{version}\0{RECIPE_VERSION}\0{PROD_RECIPE}\0{name}".encode())
    for path in _sources(name):
        digest.update(str(path.relative_to(PRODMODS)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def escape_module_path(path: str) -> str:
    """golang.org/x/mod/module.EscapePath: an upper-case letter becomes '!' and its lower case."""
    return "".join(f"!{c.lower()}" if "A" <= c <= "Z" else c for c in path)


def make_proxy(sources: Path, proxy: Path) -> list[tuple[str, str]]:
    """A GOPROXY=file:// tree from sources/<module path>@<version>/ directories:
    <escaped path>/@v/list, <version>.info, .mod and .zip (entries under
    `<module path>@<version>/`, as golang.org/x/mod/zip lays them out).
    Returns the (module, version) pairs served."""
    served = []
    for gomod in sorted(sources.rglob("go.mod")):
        root = gomod.parent
        module_path, _, version = str(root.relative_to(sources)).rpartition("@")
        versions = proxy / escape_module_path(module_path) / "@v"
        versions.mkdir(parents=True, exist_ok=True)
        with open(versions / "list", "a") as listing:
            listing.write(version + "\n")
        (versions / f"{version}.info").write_text(json.dumps({"Version": version, "Time": "2024-05-01T00:00:00Z"}))
        shutil.copyfile(gomod, versions / f"{version}.mod")
        with zipfile.ZipFile(versions / f"{version}.zip", "w") as archive:
            for file in sorted(p for p in root.rglob("*") if p.is_file()):
                archive.write(file, f"{module_path}@{version}/{file.relative_to(root)}")
        served.append((module_path, version))
    return served


def _crash_mark(name: str) -> tuple[Path, int]:
    for path in _sources(name):
        if path.suffix == ".go":
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if MARK in line:
                    return path, number
    raise AssertionError(f"tests/prodmods/{name} has no {MARK} comment")


def _rmtree(path: Path) -> None:
    # A module cache written without -modcacherw is read-only.
    if path.exists():
        for root, dirs, _ in os.walk(path):
            for d in dirs:
                os.chmod(os.path.join(root, d), 0o755)
        shutil.rmtree(path)


def build(name: str, out: Path, go: str) -> Path:
    """Copy, build with the module's recipe, offline; returns the executable."""
    _rmtree(out)
    tree, modcache, proxy = out / "src", out / "modcache", out / "proxy"
    for d in MODULES[name]:
        shutil.copytree(PRODMODS / d, tree / d)
    modcache.mkdir(parents=True)
    proxy.mkdir()
    if name == "feed":
        make_proxy(PROXY_SOURCES, proxy)
    module = tree / name
    recipe = read_recipe(module)
    exe = out / "main"
    gcflags = [] if recipe.optimize else ["-gcflags=all=-N -l"]
    cmd = [go, "build", *gcflags, *recipe.build_flags, "-o", str(exe), "."]
    done = subprocess.run(cmd, cwd=module, env=build_env(modcache, proxy), capture_output=True, text=True)
    if done.returncode != 0:
        raise BuildError(f"go build failed in {module}: {done.stderr.strip()}")
    return exe


def prod_core(name: str, toolchain: Toolchain) -> ProdCore:
    out = CACHE / toolchain.name / f"prodmods-{name}"
    key = cache_key(name, go_version(toolchain.go))
    if not _is_valid(out, key):
        exe = build(name, out, toolchain.go)
        found = make_core(exe, out, read_recipe(out / "src" / name)).core
        if found != out / "core":
            shutil.move(str(found), out / "core")
        (out / "key").write_text(key)  # last: it vouches for the rest
    crash_file, crash_line = _crash_mark(name)
    return ProdCore(name, out / "main", out / "core", out / "src", out / "modcache", out / "proxy",
                    crash_file, crash_line, toolchain.dlv, toolchain.go)


def prod_cores(toolchain: Toolchain) -> dict[str, ProdCore]:
    # One at a time: the machine's two CPUs are shared.
    return {name: prod_core(name, toolchain) for name in MODULES}


def copy_checkout(name: str, built_module: Path, dest: Path) -> Path:
    """tests/prodmods/<name> and its sibling dependencies, copied; go.sum from the build."""
    for directory in MODULES[name]:
        shutil.copytree(PRODMODS / directory, dest / directory)
    if (built_module / "go.sum").exists():
        shutil.copyfile(built_module / "go.sum", dest / name / "go.sum")
    return dest / name
