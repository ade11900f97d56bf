"""tui.sources.locate on temporary directory trees: every step, and their order.

The trees stand for the machines involved: a checkout with go.mod (and
vendor/), a GOROOT, a module cache, the user's rules, the current
directory. Each test builds what it needs under tmp_path.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from tui.debugger.buildinfo import BuildInfo, Module
from tui.sources.locate import (ORIGINS, GoEnv, Located, Replacement, SourceContext, build_context,
                                escape_path, find_goroot_of, goroot_version, locate, parse_gomod,
                                parse_gowork, unescape_path)

pytestmark = pytest.mark.toolchain_independent


def put(path: Path, text: str = "package x\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def machine(tmp_path):
    """A checkout of example.com/svc (cwd), a GOROOT of go1.26.8 and a module cache."""
    checkout = tmp_path / "work" / "svc"
    put(checkout / "go.mod", "module example.com/svc\n\ngo 1.22\n")
    put(checkout / "main.go")
    put(checkout / "internal" / "config" / "config.go")
    goroot = tmp_path / "goroot"
    put(goroot / "VERSION", "go1.26.8\ntime 2026-01-01T00:00:00Z\n")
    put(goroot / "src" / "runtime" / "panic.go")
    put(goroot / "src" / "vendor" / "golang.org" / "x" / "net" / "dns" / "dnsmessage" / "message.go")
    cache = tmp_path / "modcache"
    put(cache / "gopkg.in" / "yaml.v3@v3.0.1" / "yaml.go")
    put(cache / "example.org" / "!acme" / "retry@v0.2.0" / "retry.go")
    ctx = SourceContext(cwd=checkout, module_path="example.com/svc", module_dir=checkout, goroot=goroot,
                        local_go_version="go1.26.8", target_go_version="go1.26.8", gomodcache=cache,
                        target_module="example.com/svc")
    return ctx


def test_each_step(machine, tmp_path):
    ctx = machine
    assert locate("example.com/svc/internal/config/config.go", ctx) == \
        Located(ctx.module_dir / "internal" / "config" / "config.go", "checkout")
    assert locate("example.com/svc/main.go", ctx) == Located(ctx.module_dir / "main.go", "checkout")
    assert locate("runtime/panic.go", ctx) == Located(ctx.goroot / "src" / "runtime" / "panic.go", "GOROOT")
    # GOROOT-absolute from the CI machine, and the $GOROOT spelling.
    assert locate("/opt/hostedtoolcache/go/1.26.8/x64/src/runtime/panic.go", ctx).path == \
        ctx.goroot / "src" / "runtime" / "panic.go"
    assert locate("$GOROOT/src/runtime/panic.go", ctx).origin == "GOROOT"
    # The standard library's own vendored packages.
    assert locate("vendor/golang.org/x/net/dns/dnsmessage/message.go", ctx).origin == "GOROOT"
    assert locate("gopkg.in/yaml.v3@v3.0.1/yaml.go", ctx) == \
        Located(ctx.gomodcache / "gopkg.in" / "yaml.v3@v3.0.1" / "yaml.go", "module cache")
    # Upper case is escaped in the cache, not in DWARF.
    assert locate("example.org/Acme/retry@v0.2.0/retry.go", ctx).path == \
        ctx.gomodcache / "example.org" / "!acme" / "retry@v0.2.0" / "retry.go"
    # Absolute paths into the build machine's module cache are escaped already.
    assert locate("/home/runner/go/pkg/mod/example.org/!acme/retry@v0.2.0/retry.go", ctx).origin == "module cache"
    assert locate("/cache/gomod/gopkg.in/yaml.v3@v3.0.1/yaml.go", ctx).origin == "module cache"
    as_built = put(tmp_path / "elsewhere" / "x.go")
    assert locate(str(as_built), ctx) == Located(as_built, "as built")


def test_substitute_path_comes_first(machine, tmp_path):
    mine = put(tmp_path / "mine" / "runtime" / "panic.go")
    ctx = SourceContext(**{**machine.__dict__, "rules": (("/ci/go/src", str(tmp_path / "nothing")),
                                                         ("runtime", str(tmp_path / "mine" / "runtime")))})
    assert locate("runtime/panic.go", ctx) == Located(mine, "substitute-path")
    # A rule whose file is missing lets the next steps try.
    ctx = SourceContext(**{**machine.__dict__, "rules": (("runtime", str(tmp_path / "nothing")),)})
    assert locate("runtime/panic.go", ctx).origin == "GOROOT"
    # A relative TO is relative to the context's cwd.
    put(machine.cwd / "mysrc" / "runtime" / "panic.go")
    ctx = SourceContext(**{**machine.__dict__, "rules": (("runtime", "mysrc/runtime"),)})
    assert locate("runtime/panic.go", ctx) == Located(machine.cwd / "mysrc" / "runtime" / "panic.go", "substitute-path")
    # FROM matches whole elements only.
    ctx = SourceContext(**{**machine.__dict__, "rules": (("run", str(tmp_path / "mine")),)})
    assert locate("runtime/panic.go", ctx).origin == "GOROOT"
    # Over a file that exists as built.
    built = put(tmp_path / "built" / "a.go")
    put(tmp_path / "mapped" / "a.go")
    ctx = SourceContext(**{**machine.__dict__, "rules": ((str(tmp_path / "built"), str(tmp_path / "mapped")),)})
    assert locate(str(built), ctx) == Located(tmp_path / "mapped" / "a.go", "substitute-path")


def test_order(machine, tmp_path):
    """One module path every step could answer: the first step that has it wins."""
    ctx = machine
    requested = "example.org/dep@v1.2.0/dep.go"
    cwd_copy = put(ctx.cwd / "example.org" / "dep@v1.2.0" / "dep.go")  # found only by the tail search
    cached = put(ctx.gomodcache / "example.org" / "dep@v1.2.0" / "dep.go")
    vendored = put(ctx.module_dir / "vendor" / "example.org" / "dep" / "dep.go")
    replaced = put(tmp_path / "work" / "dep" / "dep.go")
    rule_target = put(tmp_path / "rules" / "dep.go")
    ctx = SourceContext(**{**ctx.__dict__,
                           "replacements": (Replacement("example.org/dep", "", tmp_path / "work" / "dep"),),
                           "rules": (("example.org/dep@v1.2.0", str(tmp_path / "rules")),)})
    seen = []
    for remove in (rule_target, replaced, vendored, cached, cwd_copy):
        found = locate(requested, ctx)
        seen.append((found.path, found.origin))
        remove.unlink()
    assert seen == [(rule_target, "substitute-path"), (replaced, "checkout"), (vendored, "vendor"),
                    (cached, "module cache"), (cwd_copy, "under cwd")]
    assert locate(requested, ctx).path is None


def test_order_checkout_before_goroot(machine):
    # A main module without a dot (`module svc`) looks like the standard library.
    ctx = SourceContext(**{**machine.__dict__, "module_path": "runtime"})
    own = put(machine.module_dir / "panic.go")
    assert locate("runtime/panic.go", ctx) == Located(own, "checkout")


def test_goroot_versions(machine, tmp_path):
    old = SourceContext(**{**machine.__dict__, "target_go_version": "go1.22.1 X:boringcrypto"})
    found = locate("runtime/panic.go", old)
    assert found.origin == "GOROOT" and found.path == machine.goroot / "src" / "runtime" / "panic.go"
    assert found.warning == (f"runtime/panic.go is from this machine's go1.26.8 (GOROOT {machine.goroot}); "
                             f"the program was built with go1.22.1, so its lines may not match")
    # The same version: nothing to say. Unknown versions: nothing either.
    assert locate("runtime/panic.go", machine).warning == ""
    assert locate("runtime/panic.go", SourceContext(**{**machine.__dict__, "target_go_version": ""})).warning == ""
    # A GOROOT of the target's own version comes first.
    exact = put(tmp_path / "sdk" / "go1.22.1" / "src" / "runtime" / "panic.go")
    with_exact = SourceContext(**{**old.__dict__, "target_goroot": tmp_path / "sdk" / "go1.22.1"})
    assert locate("runtime/panic.go", with_exact) == Located(exact, "GOROOT")
    # A file that version lacks falls back to the local GOROOT, with the warning.
    assert locate("vendor/golang.org/x/net/dns/dnsmessage/message.go", with_exact).warning


def test_regular_files_only(machine, tmp_path):
    ctx = machine
    (ctx.goroot / "src" / "runtime" / "dir.go").mkdir()
    os.mkfifo(ctx.gomodcache / "gopkg.in" / "yaml.v3@v3.0.1" / "fifo.go")
    (tmp_path / "built").mkdir()
    (tmp_path / "built" / "x.go").mkdir()
    assert not locate("runtime/dir.go", ctx).found
    assert not locate("gopkg.in/yaml.v3@v3.0.1/fifo.go", ctx).found
    assert not locate(str(tmp_path / "built" / "x.go"), ctx).found
    # A symlink to a regular file is one.
    (ctx.module_dir / "link.go").symlink_to(ctx.module_dir / "main.go")
    assert locate("example.com/svc/link.go", ctx).origin == "checkout"


def test_vendor(machine):
    ctx = machine
    # module@version paths of a -mod=vendor build.
    vendored = put(ctx.module_dir / "vendor" / "github.com" / "BurntSushi" / "toml" / "decode.go")
    assert locate("github.com/BurntSushi/toml@v1.3.2/decode.go", ctx) == Located(vendored, "vendor")
    # GOPATH-era vendoring inside the main module.
    assert locate("example.com/svc/vendor/github.com/BurntSushi/toml/decode.go", ctx) == Located(vendored, "vendor")
    # An absolute path into the CI checkout's vendor/.
    assert locate("/home/runner/work/svc/vendor/github.com/BurntSushi/toml/decode.go", ctx) == \
        Located(vendored, "vendor")


def test_replacements(machine, tmp_path):
    put(machine.gomodcache / "example.org" / "fork@v1.1.0" / "x.go")
    local = put(tmp_path / "work" / "decoder" / "decoder.go")
    ctx = SourceContext(**{**machine.__dict__, "replacements": (
        Replacement("example.org/decoder", "", tmp_path / "work" / "decoder"),
        Replacement("example.org/orig", "v1.0.0", None, "example.org/fork", "v1.1.0"),
        Replacement("example.org/orig", "", None, "example.org/other", "v9.0.0"),
    )})
    # -trimpath records a directory replacement under the required version.
    assert locate("example.org/decoder@v1.0.0/decoder.go", ctx) == Located(local, "checkout")
    missing = locate("example.org/decoder@v1.0.0/gone.go", ctx)
    assert missing == Located(None, missing=f"example.org/decoder@v1.0.0/gone.go: go.mod replaces example.org/decoder "
                                    f"with {tmp_path / 'work' / 'decoder'}, which has no gone.go")
    # A module replacement: the files are the new module's; the exact version's rule wins.
    assert locate("example.org/orig@v1.0.0/x.go", ctx).path == \
        machine.gomodcache / "example.org" / "fork@v1.1.0" / "x.go"
    assert locate("example.org/orig@v2.0.0/x.go", ctx).missing == \
        f"example.org/other@v9.0.0 is not in the module cache {machine.gomodcache}: " \
        f"run `go mod download example.org/other@v9.0.0`"


def test_missing_reasons(machine, tmp_path):
    ctx = machine
    assert locate("example.org/yaml.v1@v1.3.0/yaml.go", ctx) == Located(
        None, missing=f"example.org/yaml.v1@v1.3.0 is not in the module cache {ctx.gomodcache}: "
              f"run `go mod download example.org/yaml.v1@v1.3.0`")
    assert locate("example.org/Acme/retry@v0.3.0/retry.go", ctx).missing.endswith(
        "run `go mod download example.org/Acme/retry@v0.3.0`")
    assert locate("example.com/svc/gone.go", ctx).missing == (
        f"example.com/svc/gone.go is not in the checkout of example.com/svc at {ctx.module_dir}: "
        f"is it the revision the binary was built from?")
    assert locate("runtime/gone.go", ctx).missing == f"runtime/gone.go is not in GOROOT {ctx.goroot}"
    no_goroot = SourceContext(**{**ctx.__dict__, "goroot": None})
    assert "this machine has no GOROOT: install Go or set GOROOT" in locate("runtime/gone.go", no_goroot).missing
    empty = tmp_path / "empty"
    empty.mkdir()
    elsewhere = SourceContext(cwd=empty, target_module="example.com/svc")
    assert locate("example.com/svc/main.go", elsewhere).missing == \
        f"example.com/svc/main.go is in module example.com/svc: run from a checkout of it (no go.mod above {empty})"
    other = SourceContext(cwd=empty, module_path="example.com/other", module_dir=empty,
                          target_module="example.com/svc")
    assert "the go.mod here" in locate("example.com/svc/main.go", other).missing
    # Built elsewhere: a checkout or a mapping of the build directory brings it.
    assert locate("/nowhere/x.go", ctx).missing == (
        "/nowhere/x.go is not on this machine: run gocore-tui from a checkout of the program's sources, "
        "or map the directory it was built in with --substitute-path FROM=TO")
    # Relative and in no module we know: only where it was built can say.
    assert locate("example.net/x/y.go", ctx).missing == (
        "example.net/x/y.go is not on this machine: run gocore-tui from the directory the program was built in "
        "(or a checkout of it)")
    assert locate("<autogenerated>", ctx) == Located(
        None, missing="<autogenerated>: code the compiler generated; it has no source file")
    assert locate("?", ctx).missing == locate("", ctx).missing == "no source file is recorded for this frame"


def test_tails(machine, tmp_path):
    ctx = machine
    # The CI machine's absolute path of a checkout file, the user in a subdirectory.
    inside = SourceContext(**{**ctx.__dict__, "cwd": ctx.module_dir / "internal"})
    assert locate("/home/runner/work/svc/svc/internal/config/config.go", inside) == \
        Located(ctx.module_dir / "internal" / "config" / "config.go", "checkout")
    # Under cwd: the search by trailing path, last.
    loose = put(tmp_path / "here" / "lib" / "util" / "util.go")
    bare = SourceContext(cwd=tmp_path / "here")
    assert locate("/build/src/lib/util/util.go", bare) == Located(loose, "under cwd")
    assert locate("github.com/x/lib/util/util.go", bare) == Located(loose, "under cwd")
    # One trailing element in common is not enough.
    assert not locate("/build/other/util.go", bare).found


def test_a_path_delve_printed_relative_to_where_it_ran(tmp_path):
    """Delve shortens a path under its working directory to `./x`: where the
    user stands when that was theirs (a recording), as built."""
    main_go = put(tmp_path / "shop" / "main.go")
    ctx = SourceContext(cwd=tmp_path / "shop")
    assert locate("./main.go", ctx) == Located(main_go, "as built")
    assert locate("../shop/main.go", SourceContext(cwd=tmp_path / "shop")) == Located(main_go, "as built")
    assert not locate("./gone.go", ctx).found


def test_origins_are_the_documented_ones(machine):
    for requested in ("example.com/svc/main.go", "runtime/panic.go", "gopkg.in/yaml.v3@v3.0.1/yaml.go"):
        assert locate(requested, machine).origin in ORIGINS


def test_escaping():
    assert escape_path("github.com/BurntSushi/toml") == "github.com/!burnt!sushi/toml"
    assert unescape_path("github.com/!burnt!sushi/toml") == "github.com/BurntSushi/toml"
    assert escape_path("v1.0.0-RC1") == "v1.0.0-!r!c1"


# --- build_context ---------------------------------------------------------

def test_context_from_a_subdirectory(tmp_path):
    checkout = tmp_path / "svc"
    put(checkout / "go.mod", """// the service
module "example.com/svc" // quoted, with a comment

go 1.22

require example.org/decoder v1.0.0

replace example.org/decoder => ../decoder

replace (
	example.org/orig v1.0.0 => example.org/fork v1.1.0
	example.org/pinned => /abs/pinned // a comment
)
""")
    (checkout / "cmd" / "api").mkdir(parents=True)
    env = {"HOME": str(tmp_path / "home"), "GOENV": "off", "PATH": "", "GOROOT": str(tmp_path / "goroot")}
    ctx = build_context(checkout / "cmd" / "api", rules=[("/a", "/b")], environ=env)
    assert (ctx.cwd, ctx.module_path, ctx.module_dir) == (checkout / "cmd" / "api", "example.com/svc", checkout)
    assert ctx.replacements == (Replacement("example.org/decoder", "", (tmp_path / "decoder").resolve()),
                                Replacement("example.org/orig", "v1.0.0", None, "example.org/fork", "v1.1.0"),
                                Replacement("example.org/pinned", "", Path("/abs/pinned")))
    assert ctx.rules == (("/a", "/b"),)
    assert ctx.gomodcache == tmp_path / "home" / "go" / "pkg" / "mod"
    assert ctx.goroot == tmp_path / "goroot"
    # No go.mod anywhere above: no checkout.
    assert build_context(tmp_path, environ=env).module_path == ""


def test_context_takes_the_build_info(tmp_path):
    checkout = tmp_path / "svc"
    put(checkout / "go.mod", "module example.com/svc\n")
    goroot = tmp_path / "goroot"
    put(goroot / "VERSION", "go1.26.8\n")
    put(goroot / "src" / "runtime" / "panic.go")
    info = BuildInfo("go1.26.8", "example.com/svc", Module("example.com/svc", "(devel)"),
                     (Module("example.org/decoder", "v1.0.0", "", Module("../decoder", "(devel)")),
                      Module("example.org/orig", "v1.0.0", "", Module("example.org/fork", "v1.1.0", "h1:x="))),
                     {"GOOS": "linux", "GOARCH": "amd64"})
    env = {"HOME": str(tmp_path), "GOENV": "off", "PATH": "", "GOROOT": str(goroot)}
    ctx = build_context(checkout, build_info=info, environ=env)
    assert (ctx.target_go_version, ctx.target_module, ctx.local_go_version) == \
        ("go1.26.8", "example.com/svc", "go1.26.8")
    assert ctx.target_goroot == goroot
    assert ctx.replacements == (Replacement("example.org/decoder", "", (tmp_path / "decoder").resolve()),
                                Replacement("example.org/orig", "", None, "example.org/fork", "v1.1.0"))
    # go.mod's own replace wins over the build info's.
    put(checkout / "go.mod", "module example.com/svc\nreplace example.org/decoder => ./third_party/decoder\n")
    ctx = build_context(checkout, build_info=info, environ=env)
    assert [r.directory for r in ctx.replacements if r.module == "example.org/decoder"] == \
        [(checkout / "third_party" / "decoder").resolve()]


def test_workspace(tmp_path):
    put(tmp_path / "go.work", "go 1.22\n\nuse (\n\t./svc\n\t./lib // shared\n)\nuse ./missing\n"
                              "replace example.org/x => ./x\n")
    put(tmp_path / "svc" / "go.mod", "module example.com/svc\n")
    put(tmp_path / "lib" / "go.mod", "module example.com/lib\n")
    lib_file = put(tmp_path / "lib" / "strings" / "s.go")
    env = {"HOME": str(tmp_path), "GOENV": "off", "PATH": ""}
    ctx = build_context(tmp_path / "svc", environ=env)
    assert ctx.module_path == "example.com/svc"
    assert ctx.workspace == ((("example.com/svc", (tmp_path / "svc").resolve()),
                              ("example.com/lib", (tmp_path / "lib").resolve())))
    assert ctx.replacements == (Replacement("example.org/x", "", (tmp_path / "x").resolve()),)
    assert locate("example.com/lib/strings/s.go", ctx).path.resolve() == lib_file.resolve()
    assert build_context(tmp_path / "svc", environ={**env, "GOWORK": "off"}).workspace == ()


def test_go_env_like_cmd_go(tmp_path):
    home = tmp_path / "home"
    put(home / ".config" / "go" / "env", "GOMODCACHE=/from/file\n# comment\nGOPATH=/gp/one:/gp/two\nbad line\n")
    assert GoEnv({"HOME": str(home)}).gomodcache() == Path("/from/file")
    # The environment beats the file; an empty variable does not.
    assert GoEnv({"HOME": str(home), "GOMODCACHE": "/from/env"}).gomodcache() == Path("/from/env")
    assert GoEnv({"HOME": str(home), "GOMODCACHE": ""}).gomodcache() == Path("/from/file")
    # GOENV names the file, or turns it off.
    put(tmp_path / "other.env", "GOPATH=/x:/y\n")
    assert GoEnv({"HOME": str(home), "GOENV": str(tmp_path / "other.env")}).gomodcache() == Path("/x/pkg/mod")
    assert GoEnv({"HOME": str(home), "GOENV": "off"}).gomodcache() == home / "go" / "pkg" / "mod"
    # GOPATH's first entry; XDG_CONFIG_HOME moves the file.
    assert GoEnv({"HOME": str(home), "GOENV": "off", "GOPATH": "/a:/b"}).gomodcache() == Path("/a/pkg/mod")
    put(tmp_path / "xdg" / "go" / "env", "GOMODCACHE=/xdg/cache\n")
    assert GoEnv({"HOME": str(home), "XDG_CONFIG_HOME": str(tmp_path / "xdg")}).gomodcache() == Path("/xdg/cache")
    assert GoEnv({"GOENV": "off"}).gomodcache() is None  # no HOME: nowhere
    # GOROOT/go.env comes after the user's file.
    goroot = tmp_path / "goroot"
    put(goroot / "go.env", "GOMODCACHE=/goroot/default\nGOPROXY=https://proxy.golang.org,direct\n")
    assert GoEnv({"HOME": str(tmp_path / "nohome"), "GOROOT": str(goroot)}).gomodcache() == Path("/goroot/default")
    assert GoEnv({"HOME": str(home), "GOROOT": str(goroot)}).gomodcache() == Path("/from/file")


def test_goroot_from_path(tmp_path):
    goroot = tmp_path / "go"
    (goroot / "pkg" / "tool").mkdir(parents=True)
    go = put(goroot / "bin" / "go", "#!/bin/sh\n")
    go.chmod(0o755)
    link_dir = tmp_path / "bin"
    link_dir.mkdir()
    (link_dir / "go").symlink_to(go)
    assert GoEnv({"PATH": f"/nonexistent:{link_dir}"}).goroot() == goroot
    assert GoEnv({"PATH": str(link_dir), "GOROOT": "/set"}).goroot() == Path("/set")


def test_goroot_versions_on_this_machine(tmp_path):
    put(tmp_path / "a" / "VERSION", "go1.22.1\ntime 2024-03-05T00:00:00Z\n")
    assert goroot_version(tmp_path / "a") == "go1.22.1"
    put(tmp_path / "b" / "src" / "internal" / "buildcfg" / "zbootstrap.go",
        'package buildcfg\n\nconst version = `go1.23.0`\n')
    assert goroot_version(tmp_path / "b") == "go1.23.0"
    assert goroot_version(tmp_path / "c") == ""
    cache = tmp_path / "cache"
    toolchain = cache / "golang.org" / "toolchain@v0.0.1-go1.22.1.linux-amd64"
    put(toolchain / "VERSION", "go1.22.1\n")
    put(toolchain / "src" / "runtime" / "panic.go")
    home = tmp_path / "home"
    sdk = home / "sdk" / "go1.21.0"
    put(sdk / "VERSION", "go1.21.0\n")
    put(sdk / "src" / "runtime" / "panic.go")
    local = tmp_path / "local"
    env = {"HOME": str(home)}
    assert find_goroot_of("go1.22.1", local, "go1.26.8", cache, env, ("linux", "amd64")) == toolchain
    assert find_goroot_of("go1.22.1", local, "go1.26.8", cache, env) == toolchain
    assert find_goroot_of("go1.22.1", local, "go1.26.8", cache, env, ("linux", "arm64")) is None
    assert find_goroot_of("go1.21.0", local, "go1.26.8", cache, env) == sdk
    assert find_goroot_of("go1.26.8 X:boringcrypto", local, "go1.26.8", cache, env) == local
    assert find_goroot_of("", local, "go1.26.8", cache, env) is None


def test_gomod_and_gowork_parsing(tmp_path):
    module, replacements = parse_gomod('module `example.com/raw`\nreplace a.b/c v1.0.0 => "./quoted dir"\n',
                                       tmp_path)
    assert module == "example.com/raw"
    assert replacements == [Replacement("a.b/c", "v1.0.0", (tmp_path / "quoted dir").resolve())]
    uses, _ = parse_gowork("use .\n", tmp_path)
    assert uses == [tmp_path.resolve()]


@given(st.text(max_size=40))
def test_any_text(text):
    # DWARF paths are data from elsewhere: any text gives an answer, never an exception.
    ctx = SourceContext(cwd=Path("/nonexistent/cwd"), module_path="example.com/svc", module_dir=Path("/nonexistent"),
                        goroot=Path("/nonexistent/goroot"), gomodcache=Path("/nonexistent/cache"),
                        rules=(("/", "/nonexistent/rule"),), target_module="example.com/svc")
    found = locate(text, ctx)
    if found.path is None:
        assert found.missing and found.origin is None
    else:  # a file of this machine's, as built
        assert found.origin == "as built" and found.path.is_file()
