"""gocore-tui run as the seed articles' readers run it: a module of their
own, outside this repository, built there (optimized, as `go build` does
by default), crashed there with GOTRACEBACK=crash, and its core opened
with the installed gocore-tui from where they stand: the module root
(`gocore-tui ./app ./core`), a subdirectory, the parent directory, or
somewhere unrelated, and from a -trimpath build. Every other test runs
from this repository's root, which hides what the user's current
directory does to paths (Delve prints files under its own working
directory as `./main.go`)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from leftovers import dlv_processes_for
from terminal import tmux, wait_for_screen
from tui.cli.corerun import crash, go_env
from waiting import wait_for

pytestmark = pytest.mark.e2e

INSTALLED = Path(sys.executable).parent / "gocore-tui"
MODULE = "example.com/shop"
GO_MOD = f"module {MODULE}\n\ngo 1.19\n"
STORE_GO = """package store

import "strings"

// Store keeps the orders of one shop; Open leaves its index unmade.
type Store struct {
	Name  string
	Index map[string]int
	Lines []string
}

func Open(name string) *Store {
	return &Store{Name: strings.ToUpper(name), Lines: []string{"book", "pen"}}
}
"""
MAIN_GO = """package main

import (
	"fmt"
	"os"

	"example.com/shop/internal/store"
)

func main() {
	st := store.Open("north")
	fmt.Fprintln(os.Stderr, "indexing", st.Name, len(st.Lines))
	for i, line := range st.Lines {
		st.Index[line] = i // CRASH
	}
	fmt.Println(st.Index)
}
"""
CRASH_LINE = next(n for n, line in enumerate(MAIN_GO.splitlines(), 1) if "// CRASH" in line)
CRASH_TEXT = "st.Index[line] = i // CRASH"


@dataclass(frozen=True)
class UserModule:
    root: Path  # the module's directory: go.mod, main.go, internal/store
    exe: Path
    core: Path
    trimpath: bool


def _make_module(base: Path, go: str, trimpath: bool) -> UserModule:
    root = base / "shop"
    (root / "internal" / "store").mkdir(parents=True)
    (root / "go.mod").write_text(GO_MOD)
    (root / "main.go").write_text(MAIN_GO)
    (root / "internal" / "store" / "store.go").write_text(STORE_GO)
    flags = ["-trimpath"] if trimpath else []
    subprocess.run([go, "build", *flags, "-o", "app", "."], cwd=root, env=go_env(), check=True,
                   capture_output=True)
    crashed = crash(root / "app", root)
    assert "assignment to entry in nil map" in crashed.stderr
    return UserModule(root, root / "app", crashed.core, trimpath)


@pytest.fixture(scope="module")
def plain(toolchain, tmp_path_factory) -> UserModule:
    return _make_module(tmp_path_factory.mktemp("user"), toolchain.go, trimpath=False)


@pytest.fixture(scope="module")
def trimmed(toolchain, tmp_path_factory) -> UserModule:
    return _make_module(tmp_path_factory.mktemp("user-trimpath"), toolchain.go, trimpath=True)


def report_from(where: Path, exe: str, core: str) -> dict:
    """`gocore-tui EXE CORE --report json` run in `where`, as the user types it."""
    assert INSTALLED.exists(), "make setup installs gocore-tui into .venv/bin"
    result = subprocess.run([str(INSTALLED), exe, core, "--report", "json", "--no-gdb"], cwd=where,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return json.loads(result.stdout)


def assert_own_source_marked(report: dict, module: UserModule, origin: str) -> None:
    frame = report["crash"]["frame"]
    assert (frame["function"], frame["line"]) == ("main.main", CRASH_LINE)
    source = report["source"]
    assert "missing" not in source, source.get("missing")
    assert Path(source["path"]).resolve() == (module.root / "main.go").resolve()
    assert source["origin"] == origin
    assert source["lines"][CRASH_LINE - source["first_line"]].strip() == CRASH_TEXT
    own = next(f for f in report["backtrace"] if f["function"] == "main.main")
    assert Path(own["source_path"]).resolve() == (module.root / "main.go").resolve()
    assert own["source_origin"] == origin


def relative(path: Path, start: Path) -> str:
    return os.path.relpath(path, start)


def test_from_the_module_root(plain):
    """The seed articles' own flow: `gocore-tui ./app ./core` beside go.mod."""
    report = report_from(plain.root, "./app", f"./{plain.core.name}")
    assert_own_source_marked(report, plain, "as built")
    # Paths come out whole, as the binary records them, not relative to dlv's directory.
    assert report["crash"]["frame"]["file"] == str(plain.root / "main.go")


def test_from_a_subdirectory(plain):
    where = plain.root / "internal" / "store"
    report = report_from(where, relative(plain.exe, where), relative(plain.core, where))
    assert_own_source_marked(report, plain, "as built")


def test_from_the_parent_directory(plain):
    where = plain.root.parent
    report = report_from(where, relative(plain.exe, where), relative(plain.core, where))
    assert_own_source_marked(report, plain, "as built")


def test_from_an_unrelated_directory(plain, tmp_path):
    report = report_from(tmp_path, str(plain.exe), str(plain.core))
    assert_own_source_marked(report, plain, "as built")


def test_trimpath_from_the_module_root(trimmed):
    report = report_from(trimmed.root, "./app", f"./{trimmed.core.name}")
    assert report["crash"]["frame"]["file"] == f"{MODULE}/main.go"
    assert_own_source_marked(report, trimmed, "checkout")


def test_trimpath_from_a_subdirectory(trimmed):
    where = trimmed.root / "internal"
    report = report_from(where, relative(trimmed.exe, where), relative(trimmed.core, where))
    assert_own_source_marked(report, trimmed, "checkout")


def test_trimpath_elsewhere_says_to_stand_in_a_checkout(trimmed, tmp_path):
    """A trimmed path names its module: the way to its source is a checkout of
    that module, not a --substitute-path rule."""
    report = report_from(tmp_path, str(trimmed.exe), str(trimmed.core))
    missing = report["source"]["missing"]
    assert f"is in module {MODULE}: run from a checkout of it" in missing
    assert "--substitute-path" not in missing


def test_in_a_terminal_from_the_module_root(plain, tmp_path, installed):
    """The installed TUI in tmux, typed as the articles type it: the faulting
    line of the user's own main.go marked with its source."""
    installed("tmux")
    session = f"gocore-users-{os.getpid()}"
    status = tmp_path / "status"
    command = (f"cd {plain.root} && env -i HOME={os.environ.get('HOME', '/root')} PATH=/usr/bin:/bin "
               f"TERM=xterm-256color {_leg_dlv()} {INSTALLED} ./app ./{plain.core.name} --no-gdb; "
               f"echo $? > {status}; sleep 600")
    tmux("new-session", "-d", "-s", session, "-x", "200", "-y", "50", command)
    try:
        marked = f"▶ {CRASH_LINE}"
        # The marked line with its source, the pane's title and the backtrace's
        # row all say where main.go is: where it was built.
        wait_for_screen(session, lambda s: any(marked in row and CRASH_TEXT in row for row in s.splitlines())
                        and f"Source · main.go:{CRASH_LINE} main.main · as built" in s
                        and re.search(rf"\bmain\.main\s+main\.go:{CRASH_LINE}\s+as built\b", s))
        tmux("send-keys", "-t", session, "q")
        wait_for(lambda: status.exists() and status.read_text().strip(), "gocore-tui did not exit on q")
        assert status.read_text().strip() == "0"
        assert not dlv_processes_for(plain.core)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)


def _leg_dlv() -> str:
    """The leg's dlv, where it is not the one installed beside gocore-tui."""
    chosen = os.environ.get("GOCORE_TUI_DLV")
    return f"GOCORE_TUI_DLV={chosen}" if chosen else ""
