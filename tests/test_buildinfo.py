"""tui.debugger.buildinfo reads what `go version -m` prints, for binaries of either toolchain.

Each leg (GOCORE_TOOLCHAIN) compares against its own Go's `go version -m`:
every fixture executable (-trimpath, optimized, PIE, cgo ...), the
tests/prodmods modules (a directory replace, dependencies with sums from
a module cache), a module built with -buildvcs=true in a git repository,
a GOPATH-mode build, and the toolchain's own go and dlv.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from prodcores import prod_cores
from reads import count_reads
from tui.cli.corerun import go_env
from tui.debugger import buildinfo
from tui.debugger.buildinfo import BuildInfo, BuildInfoError, Module, NoBuildInfo, Vcs, read_build_info


def go_version_m(go: str, exe: Path) -> BuildInfo:
    """`go version -m EXE`, parsed here independently of the module under test:
    `EXE: goVERSION`, then tab-indented lines of BuildInfo.String() (a
    replaced module leaves an empty line after its `=>`)."""
    out = subprocess.run([go, "version", "-m", str(exe)], capture_output=True, text=True, env=go_env(), check=True)
    first, *lines = out.stdout.rstrip("\n").split("\n")
    name, _, version = first.rpartition(": ")
    assert name == str(exe), first
    path, main, deps, settings = "", Module(""), [], {}
    for line in lines:
        assert line.startswith("\t"), line
        word, _, rest = line[1:].partition("\t")
        columns = rest.split("\t")
        if word == "path":
            path = rest
        elif word == "mod":
            main = Module(*columns)
        elif word == "dep":
            deps.append(Module(*columns))
        elif word == "=>":
            replaced = Module(*columns)
            if deps:
                deps[-1] = Module(deps[-1].path, deps[-1].version, deps[-1].sum, replaced)
            else:
                main = Module(main.path, main.version, main.sum, replaced)
        elif word == "build":
            key, _, value = rest.partition("=")
            # strconv.Quote's output for the values Go writes is JSON.
            settings[key] = json.loads(value) if value.startswith('"') else value
        else:
            assert word == "", line
    vcs = None
    if "vcs" in settings:
        vcs = Vcs(settings["vcs"], settings.get("vcs.revision", ""), settings.get("vcs.time", ""),
                  {"true": True, "false": False}.get(settings.get("vcs.modified", "")))
    return BuildInfo(version, path, main, tuple(deps), settings, vcs)


def assert_same(exe: Path, go: str) -> BuildInfo:
    ours, theirs = read_build_info(exe), go_version_m(go, exe)
    assert ours == theirs, exe
    assert dict(ours.settings) == dict(theirs.settings)  # settings are not part of the hash
    assert list(ours.settings) == list(theirs.settings)  # in the order go wrote them
    return ours


def test_fixture_executables(cores, toolchain):
    seen = {}
    for fixture in cores.values():
        seen[fixture.name] = assert_same(fixture.exe, toolchain.go)
    assert {info.go_version for info in seen.values()} == {_go_version(toolchain.go)}
    trimmed, production, plain = seen["json_trimpath"], seen["json_production"], seen["nil_deref"]
    assert trimmed.trimpath and production.trimpath and not plain.trimpath
    assert trimmed.settings["-gcflags"] == "all=-N -l" and "-gcflags" not in production.settings
    assert trimmed.path == "gocoretui.example/fixtures/json_trimpath"
    assert trimmed.main.path == "gocoretui.example/fixtures" and trimmed.deps == ()
    # Go 1.19 records no -buildmode at all, not even pie.
    assert seen["pie_panic"].settings.get("-buildmode") == ("pie" if toolchain.is_latest else None)
    assert seen["cgo_crash"].settings["CGO_ENABLED"] == "1"
    assert trimmed.target == f"linux/{trimmed.settings['GOARCH']}"


def test_production_modules(toolchain):
    made = prod_cores(toolchain)
    svc, feed = (assert_same(made[name].exe, toolchain.go) for name in ("svc", "feed"))
    assert svc.path == "example.com/svc" and svc.main == Module("example.com/svc", "(devel)")
    # A directory replacement: no sum, the directory as go.mod wrote it.
    assert svc.deps == (Module("example.org/decoder", "v1.0.0", "", Module("../decoder", "(devel)")),)
    assert [(d.path, d.version, d.sum.startswith("h1:"), d.replace) for d in feed.deps] == [
        ("example.org/Acme/retry", "v0.2.0", True, None), ("example.org/yaml.v1", "v1.3.0", True, None)]
    assert svc.trimpath and feed.trimpath and svc.vcs is None
    assert feed.module_of("example.org/yaml.v1") == feed.deps[1]
    assert feed.module_of("example.com/feed") == feed.main
    assert feed.module_of("main") == feed.main  # how symbols name the main package
    assert feed.module_of("runtime") is None


def test_vcs_stamp(tmp_path, toolchain):
    repo = tmp_path / "stamped"
    repo.mkdir()
    (repo / "go.mod").write_text("module example.com/stamped\n\ngo 1.19\n")
    (repo / "main.go").write_text('package main\n\nfunc main() { println("stamped") }\n')
    env = dict(os.environ, GIT_AUTHOR_DATE="2024-05-01T12:00:00Z", GIT_COMMITTER_DATE="2024-05-01T12:00:00Z",
               GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1")

    def git(*args: str) -> str:
        return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=repo,
                              env=env, check=True, capture_output=True, text=True).stdout.strip()

    git("init", "-q")
    git("add", ".")
    git("commit", "-q", "-m", "first")
    git("tag", "v1.2.3")
    revision = git("rev-parse", "HEAD")

    def build(name: str) -> Path:
        exe = tmp_path / name
        subprocess.run([toolchain.go, "build", "-buildvcs=true", "-o", str(exe), "."], cwd=repo, env=go_env(),
                       check=True, capture_output=True)
        return exe

    clean = assert_same(build("clean"), toolchain.go)
    assert clean.vcs == Vcs("git", revision, "2024-05-01T12:00:00Z", False)
    (repo / "main.go").write_text('package main\n\nfunc main() { println("changed") }\n')
    dirty = assert_same(build("dirty"), toolchain.go)
    assert dirty.vcs == Vcs("git", revision, "2024-05-01T12:00:00Z", True)
    if _go_minor(clean.go_version) >= 24:  # the go command versions the main module from the tag since 1.24
        assert (clean.main.version, dirty.main.version) == ("v1.2.3", "v1.2.3+dirty")
    else:
        assert clean.main.version == dirty.main.version == "(devel)"
    assert "(modified)" in dirty.summary() and revision[:12] in clean.summary()


def test_gopath_build_has_no_modules(tmp_path, toolchain):
    (tmp_path / "src" / "old").mkdir(parents=True)
    (tmp_path / "src" / "old" / "main.go").write_text('package main\n\nfunc main() { println("old") }\n')
    env = dict(go_env(), GO111MODULE="off", GOPATH=str(tmp_path), GOFLAGS="")
    exe = tmp_path / "old.exe"
    subprocess.run([toolchain.go, "build", "-o", str(exe), "old"], cwd=tmp_path, env=env, check=True,
                   capture_output=True)
    info = assert_same(exe, toolchain.go)
    assert info.path == "old" and info.main == Module("") and info.deps == () and info.vcs is None
    assert info.summary().startswith(f"old, {info.go_version}")


def test_toolchain_binaries(toolchain):
    for exe in (toolchain.go, toolchain.dlv):
        assert_same(Path(exe).resolve(), toolchain.go)


def test_only_seeks(cores, monkeypatch):
    exe = cores["json_production"].exe
    reads = count_reads(monkeypatch, buildinfo)
    read_build_info(exe)
    assert 0 < sum(reads) < 1 << 20 < exe.stat().st_size


def _go_version(go: str) -> str:
    return subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True, env=go_env()).stdout.strip()


def _go_minor(version: str) -> int:
    return int(version.split(".")[1]) if version.startswith("go1.") else 0


# --- without a toolchain ---------------------------------------------------

independent = pytest.mark.toolchain_independent


@independent
def test_not_go(tmp_path):
    with pytest.raises(NoBuildInfo, match=r"^/bin/sh has no Go build info: it is not a Go executable"):
        read_build_info("/bin/sh")
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(BuildInfoError, match=r"notes.txt is not an ELF file; pass a Go executable"):
        read_build_info(text)
    with pytest.raises(BuildInfoError, match=r"/nope: no such file; check the path$"):
        read_build_info(tmp_path / "nope")
    with pytest.raises(BuildInfoError, match=r"is a directory"):
        read_build_info(tmp_path)
    cut = tmp_path / "cut"
    cut.write_bytes(Path("/bin/sh").read_bytes()[:40])
    with pytest.raises(BuildInfoError, match="truncated inside its ELF headers"):
        read_build_info(cut)


def _pointer_format_elf(is64: bool, big: bool, version: str, modinfo: str) -> bytes:
    """An executable as Go 1.13-1.17 laid the blob out: no .go.buildinfo
    section here, so the blob is found at the start of the writable
    PT_LOAD; pointers to Go string headers {data, len}."""
    e = ">" if big else "<"
    word = e + ("Q" if is64 else "I")
    ptr = 8 if is64 else 4
    base, file_at = 0x10000, 0x200
    ehsize, phentsize = (64, 56) if is64 else (52, 32)
    blob = bytearray(b"\xff Go buildinf:" + bytes([ptr, 1 if big else 0]))
    headers_at = base + 32
    strings_at = headers_at + 4 * ptr
    framed = b"0w\xaf\x0c\x92t\x08\x02A\xe1\xc1\x07\xe6\xd6\x18\xe6" + modinfo.encode() + \
        b"\xf92C1\x86\x18 r\x00\x82B\x10A\x16\xd8\xf2"
    blob += struct.pack(word, headers_at) + struct.pack(word, headers_at + 2 * ptr)
    blob += bytes(32 - len(blob))
    blob += struct.pack(word, strings_at) + struct.pack(word, len(version))
    blob += struct.pack(word, strings_at + len(version)) + struct.pack(word, len(framed))
    blob += version.encode() + framed
    if is64:
        header = struct.pack(e + "HHIQQQIHHHHHH", 2, 62, 1, base, ehsize, 0, 0, ehsize, phentsize, 1, 64, 0, 0)
        phdr = struct.pack(e + "IIQQQQQQ", 1, 6, file_at, base, base, len(blob), len(blob) + 64, 0x1000)
    else:
        header = struct.pack(e + "HHIIIIIHHHHHH", 2, 8, 1, base, ehsize, 0, 0, ehsize, phentsize, 1, 40, 0, 0)
        phdr = struct.pack(e + "IIIIIIII", 1, file_at, base, base, len(blob), len(blob) + 64, 6, 0x1000)
    ident = b"\x7fELF" + bytes([2 if is64 else 1, 2 if big else 1, 1]) + bytes(9)
    image = bytearray(ident + header + phdr)
    image += bytes(file_at - len(image))
    return bytes(image + blob)


@independent
@pytest.mark.parametrize("is64, big", [(True, False), (False, True), (True, True), (False, False)])
def test_pointer_format(tmp_path, is64, big):
    modinfo = "path\texample.com/old\nmod\texample.com/old\t(devel)\t\ndep\tgolang.org/x/sys\tv0.1.0\th1:x=\n"
    exe = tmp_path / "old"
    exe.write_bytes(_pointer_format_elf(is64, big, "go1.17.13", modinfo))
    info = read_build_info(exe)
    assert info == BuildInfo("go1.17.13", "example.com/old", Module("example.com/old", "(devel)"),
                             (Module("golang.org/x/sys", "v0.1.0", "h1:x="),), {}, None)
    assert info.summary() == "example.com/old, go1.17.13"


@independent
def test_parse_modinfo_lines():
    text = ("path\texample.com/svc/cmd/api\n"
            "mod\texample.com/svc\tv1.4.0\th1:abc=\n"
            "dep\tgopkg.in/yaml.v3\tv3.0.1\th1:fxV=\n"
            "dep\texample.org/decoder\tv1.0.0\n=>\t../decoder\t(devel)\t\n\n"
            "dep\texample.org/old\tv1.0.0\n=>\texample.org/new\tv1.1.0\th1:new=\n"
            "build\t-buildmode=exe\n"
            'build\t-ldflags="-s -w -X main.version=1.4.0"\n'
            "build\t-trimpath=true\n"
            'build\t"key with space"="tab\\there"\n'
            "build\tCGO_ENABLED=0\n"
            "build\tvcs=git\nbuild\tvcs.revision=0123456789abcdef\nbuild\tvcs.time=2024-05-01T12:00:00Z\n"
            "build\tvcs.modified=false\n"
            "something\tnew\n"
            "build\tpartial=line-without-newline")
    info = buildinfo.parse_modinfo(text, "go1.22.1")
    assert info.path == "example.com/svc/cmd/api"
    assert info.main == Module("example.com/svc", "v1.4.0", "h1:abc=")
    assert info.deps == (Module("gopkg.in/yaml.v3", "v3.0.1", "h1:fxV="),
                         Module("example.org/decoder", "v1.0.0", "", Module("../decoder", "(devel)")),
                         Module("example.org/old", "v1.0.0", "", Module("example.org/new", "v1.1.0", "h1:new=")))
    assert info.settings["-ldflags"] == "-s -w -X main.version=1.4.0"
    assert info.settings["key with space"] == "tab\there"
    assert "partial" not in info.settings  # ParseBuildInfo drops a last line without '\n'
    assert info.vcs == Vcs("git", "0123456789abcdef", "2024-05-01T12:00:00Z", False)
    assert info.summary() == ("example.com/svc/cmd/api v1.4.0, go1.22.1, -trimpath, CGO_ENABLED=0, "
                              "-ldflags=-s -w -X main.version=1.4.0, git 0123456789ab")
    assert buildinfo.parse_modinfo(buildinfo.format_modinfo(info), "go1.22.1") == info


@independent
@pytest.mark.parametrize("line, message", [
    ("mod\ta\n", "line 1: expected 2 or 3 columns; got 1"),
    ("dep\ta\tb\tc\td\n", "line 1: expected 2 or 3 columns; got 4"),
    ("=>\ta\tb\tc\n", "line 1: replacement with no module on previous line"),
    ("dep\ta\tv1\n=>\ta\tb\n", "line 2: expected 3 columns for replacement; got 2"),
    ("build\t\n", "line 1: build line missing '='"),
    ("build\t=x\n", "line 1: build line with missing key"),
    ("build\tkey\n", "line 1: build line missing '=' after key"),
    ('build\t"key\n', "line 1: invalid quoted key in build line"),
    ('build\t"key"x\n', "line 1: unexpected character after quoted key: 'x'"),
    ('build\t"key"\n', "line 1: build line missing '=' after quoted key"),
    ("build\tk=a b\n", "line 1: unquoted value 'a b' must be quoted"),
    ('build\tk="a\n', "line 1: invalid quoted value"),
    ("path\tx\nbuild\tk=\"\\q\"\n", "line 2: invalid quoted value"),
])
def test_parse_modinfo_errors(line, message):
    with pytest.raises(BuildInfoError, match="^x: could not parse Go build info: " + message.replace("(", r"\(")):
        buildinfo.parse_modinfo(line, where="x")


@independent
def test_go_unquote():
    assert buildinfo.go_unquote('"a\\tb\\"c\\\\"') == 'a\tb"c\\'
    assert buildinfo.go_unquote('"\\u00e9\\U0001F600\\x41\\101"') == "é😀AA"
    assert buildinfo.go_unquote('"\\xe4\\xbe\\x8b"') == "例"  # bytes, decoded as UTF-8
    assert buildinfo.go_unquote("`raw \\n`") == "raw \\n"
    for bad in ('"', '"a', "'a'", '"a"b"', '"\\z"', '"\\x4"', '"\\400"', '"\\ud800"'):
        with pytest.raises(ValueError):
            buildinfo.go_unquote(bad)


_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"), max_size=12)
_word = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E, blacklist_characters="\t"), min_size=1,
                max_size=12)
_module = st.builds(Module, _word, _word, st.just("") | _word)
# As the go command writes them: a replaced module's sum is its replacement's.
_line = _module | st.builds(Module, _word, _word, st.just(""), _module)


@independent
@given(st.builds(BuildInfo, st.just("go1.26.8"), st.just("") | _word,
                 _line, st.lists(_line, max_size=3).map(tuple),
                 st.dictionaries(_text.filter(lambda k: k and not k.startswith("vcs")), _text, max_size=4)))
def test_format_then_parse(info):
    back = buildinfo.parse_modinfo(buildinfo.format_modinfo(info), info.go_version)
    assert back == info and dict(back.settings) == dict(info.settings)
