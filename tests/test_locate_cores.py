"""Production-like cores, opened the way a developer opens a CI core: from their own checkout.

For each core (tests/prodmods svc and feed, the -trimpath fixtures), the
sources are copied to a temporary directory, the test stands in it, and
every frame of every goroutine that Delve (the leg's dlv) lists must be
found by tui.sources.locate: main-module files in the checkout, the
directory-replaced dependency beside it, the standard library in a GOROOT
of the binary's Go version, the module-cache dependencies in the module
cache (or vendor/). The function names on those frames, decoded by
tui.parse.names, belong to the modules tui.debugger.buildinfo lists.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

import toolchains
from prodcores import MODULES, PRODMODS, prod_cores
from tui.cli.corerun import go_env
from tui.debugger.buildinfo import read_build_info
from tui.debugger.delve import Delve
from tui.model import Frame
from tui.parse.names import go_name, package_of
from tui.sources.context import build_context
from tui.sources.locate import locate

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def made(toolchain):
    return prod_cores(toolchain)


def goroot_of(go: str) -> Path:
    out = subprocess.run([go, "env", "GOROOT"], capture_output=True, text=True, env=go_env(), check=True)
    return Path(out.stdout.strip())


def every_frame(exe: Path, core: Path, dlv: str) -> list[Frame]:
    delve = Delve.open(str(exe), str(core), dlv=dlv)
    try:
        return [frame for g in delve.goroutines()[0] for frame in delve.backtrace(g.id, depth=100).frames]
    finally:
        delve.close()


def environment(tmp_path: Path, goroot: Path, modcache: Path) -> dict[str, str]:
    """A developer's machine: their own HOME, no go env file, this GOROOT and module cache."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return {"HOME": str(home), "PATH": os.environ.get("PATH", ""), "GOENV": "off", "GOROOT": str(goroot),
            "GOMODCACHE": str(modcache)}


def copy_checkout(name: str, built_module: Path, dest: Path) -> Path:
    """tests/prodmods/<name> and its sibling dependencies, copied; go.sum from the build."""
    for directory in MODULES[name]:
        shutil.copytree(PRODMODS / directory, dest / directory)
    if (built_module / "go.sum").exists():
        shutil.copyfile(built_module / "go.sum", dest / name / "go.sum")
    return dest / name


def locate_all(frames: list[Frame], ctx) -> dict[str, tuple[str, Path | None, str]]:
    """file -> (origin, path, warning) for every distinct DWARF file."""
    out = {}
    for frame in frames:
        if frame.file not in out:
            found = locate(frame.file, ctx)
            out[frame.file] = (found.origin or found.missing, found.path, found.warning)
    return out


def assert_names_match_modules(frames: list[Frame], info) -> None:
    """Each frame's package (from its escaped name) is in the module its file says."""
    known = [info.main.path, *(d.path for d in info.deps)]
    for frame in frames:
        if frame.file.startswith("<"):
            continue
        module = info.module_of(package_of(frame.function, known))
        if "@" in frame.file:  # module@version/...: a dependency
            assert module is not None and frame.file.startswith(f"{module.path}@{module.version}/"), frame
            assert "%" not in go_name(frame.function)
        elif frame.file.startswith(info.main.path + "/"):
            assert module == info.main, frame
        else:
            assert module is None, frame  # the standard library is no module


def test_svc_from_a_copied_checkout(made, toolchain, tmp_path, monkeypatch):
    core = made["svc"]
    goroot = goroot_of(toolchain.go)
    checkout = copy_checkout("svc", core.module_dir, tmp_path / "work")
    monkeypatch.chdir(checkout / "internal")  # go.mod is found upwards
    info = read_build_info(core.exe)
    ctx = build_context(build_info=info, environ=environment(tmp_path, goroot, tmp_path / "empty-cache"))
    assert (ctx.module_path, ctx.module_dir) == ("example.com/svc", checkout)
    frames = every_frame(core.exe, core.core, toolchain.dlv)
    found = locate_all(frames, ctx)
    assert found.pop("example.com/svc/main.go") == ("checkout", checkout / "main.go", "")
    assert found.pop("example.com/svc/internal/config/config.go") == \
        ("checkout", checkout / "internal" / "config" / "config.go", "")
    # Trimmed as example.org/decoder@v1.0.0 though no module cache has it: go.mod's replace says where.
    assert found.pop("example.org/decoder@v1.0.0/decoder.go") == \
        ("checkout", (tmp_path / "work" / "decoder" / "decoder.go").resolve(), "")
    assert_only_goroot(found, goroot)
    crash = next(f for f in frames if f.function == "example.com/svc/internal/config.(*Port).UnmarshalField")
    assert (crash.file, crash.line) == ("example.com/svc/internal/config/config.go", core.crash_line)
    assert "// CRASH" in (checkout / "internal" / "config" / "config.go").read_text().splitlines()[crash.line - 1]
    assert_names_match_modules(frames, info)


def assert_only_goroot(found: dict, goroot: Path) -> None:
    generated = found.pop("<autogenerated>", None)
    if generated is not None:
        assert generated[1] is None
    assert found, "no standard library frames"
    for file, (origin, path, warning) in found.items():
        assert origin == "GOROOT" and path == goroot / "src" / file and warning == "", (file, origin, path)


def test_feed_through_the_module_cache(made, toolchain, tmp_path, monkeypatch):
    core = made["feed"]
    goroot = goroot_of(toolchain.go)
    checkout = copy_checkout("feed", core.module_dir, tmp_path / "work")
    monkeypatch.chdir(checkout)
    info = read_build_info(core.exe)
    frames = every_frame(core.exe, core.core, toolchain.dlv)
    # What users read, not the linker's escapes Delve prints (example.org/yaml%2ev1.handleErr).
    names = {f.function for f in frames}
    assert "example.org/yaml.v1.handleErr" in names and "example.org/Acme/retry.Do" in names
    assert go_name("example.org/yaml%2ev1.handleErr") == "example.org/yaml.v1.handleErr"
    assert_names_match_modules(frames, info)

    ctx = build_context(build_info=info, environ=environment(tmp_path, goroot, core.modcache))
    found = locate_all(frames, ctx)
    assert found.pop("example.com/feed/main.go") == ("checkout", checkout / "main.go", "")
    assert found.pop("example.org/yaml.v1@v1.3.0/yaml.go") == \
        ("module cache", core.modcache / "example.org" / "yaml.v1@v1.3.0" / "yaml.go", "")
    assert found.pop("example.org/Acme/retry@v0.2.0/retry.go") == \
        ("module cache", core.modcache / "example.org" / "!acme" / "retry@v0.2.0" / "retry.go", "")
    assert_only_goroot(dict(found), goroot)
    crash = next(f for f in frames if f.function == "main.(*Source).UnmarshalYAML.func1")
    # Optimized: the faulting load may be put on the line before the marked one.
    assert crash.file == "example.com/feed/main.go" and core.crash_line - 1 <= crash.line <= core.crash_line

    # A cache without them: the exact command to fetch each.
    empty = tmp_path / "empty-cache"
    ctx = build_context(build_info=info, environ=environment(tmp_path, goroot, empty))
    assert locate("example.org/yaml.v1@v1.3.0/yaml.go", ctx).missing == (
        f"example.org/yaml.v1@v1.3.0 is not in the module cache {empty}: "
        f"run `go mod download example.org/yaml.v1@v1.3.0`")
    assert locate("example.org/Acme/retry@v0.2.0/retry.go", ctx).missing.endswith(
        "run `go mod download example.org/Acme/retry@v0.2.0`")

    # Vendored instead (`go mod vendor`, offline from the private cache): found in vendor/.
    subprocess.run([toolchain.go, "mod", "vendor"], cwd=checkout, check=True, capture_output=True,
                   env={**core.go_env(), "GOPROXY": "off"})
    found = locate_all(frames, ctx)
    assert found["example.org/yaml.v1@v1.3.0/yaml.go"] == \
        ("vendor", checkout / "vendor" / "example.org" / "yaml.v1" / "yaml.go", "")
    assert found["example.org/Acme/retry@v0.2.0/retry.go"] == \
        ("vendor", checkout / "vendor" / "example.org" / "Acme" / "retry" / "retry.go", "")


@pytest.mark.parametrize("name", ["json_trimpath", "json_production"])
def test_trimmed_fixtures(fixture_core, toolchain, tmp_path, monkeypatch, name):
    fixture = fixture_core(name)
    goroot = goroot_of(toolchain.go)
    checkout = tmp_path / "fixtures"
    shutil.copytree(fixture.source.parent, checkout / name)
    shutil.copyfile(fixture.source.parent.parent / "go.mod", checkout / "go.mod")
    monkeypatch.chdir(checkout / name)
    info = read_build_info(fixture.exe)
    ctx = build_context(build_info=info, environ=environment(tmp_path, goroot, tmp_path / "empty-cache"))
    frames = every_frame(fixture.exe, fixture.core, toolchain.dlv)
    found = locate_all(frames, ctx)
    assert found.pop(f"gocoretui.example/fixtures/{name}/main.go") == ("checkout", checkout / name / "main.go", "")
    assert found["<autogenerated>"] == \
        ("<autogenerated>: code the compiler generated; it has no source file", None, "")
    assert "encoding/json/encode.go" in found
    assert_only_goroot(found, goroot)
    assert_names_match_modules(frames, info)


def test_standard_library_of_another_go(made, toolchain, tmp_path, monkeypatch):
    """This machine's GOROOT is the other toolchain's: a GOROOT of the binary's
    own version is still preferred where there is one (Debian's /usr/lib/go-1.19
    for a Go 1.19 binary); else the other's files come with a warning."""
    try:
        other = toolchains.other(toolchain)
    except toolchains.ToolchainMissing as err:
        pytest.skip(str(err))
    core = made["svc"]
    mine, theirs = goroot_of(toolchain.go), goroot_of(other.go)
    checkout = copy_checkout("svc", core.module_dir, tmp_path / "work")
    monkeypatch.chdir(checkout)
    info = read_build_info(core.exe)
    ctx = build_context(build_info=info, environ=environment(tmp_path, theirs, tmp_path / "empty-cache"))
    found = locate("runtime/panic.go", ctx)
    assert found.origin == "GOROOT"
    if ctx.target_goroot == mine:  # found by its version (a distribution's /usr/lib/go-X.Y)
        assert (found.path, found.warning) == (mine / "src" / "runtime" / "panic.go", "")
    else:
        assert ctx.target_goroot is None
        assert found.path == theirs / "src" / "runtime" / "panic.go"
        assert found.warning == (f"runtime/panic.go is from this machine's {ctx.local_go_version} (GOROOT {theirs}); "
                                 f"the program was built with {info.go_version}, so its lines may not match")
    if toolchain.name == toolchains.DEBIAN:
        assert ctx.target_goroot == mine == Path("/usr/lib/go-1.19")
