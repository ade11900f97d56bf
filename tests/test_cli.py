"""The command line against the real dlv on real cores: reports and bad input."""

from __future__ import annotations

import json
import re
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

import corruption
import leftovers
import toolchains
from command_line import gocore
from leftovers import dlv_processes_for
from tui.debugger.dlv import DLV_VARIABLE, find_dlv
from corecache import go_version, make_core
from tui.debugger.startup import OpenError, delve_for_go, explain_startup_failure

EXPECTED = {
    # fixture: (kind, message, function of the faulting frame)
    "goroutine_panic": ("panic", "PANIC", "main.main.func1"),
    "loop_panic": ("panic", "panic for GOTRACEBACK", "main.main"),
    "nil_deref": ("runtime error", "runtime error: invalid memory address or nil pointer dereference", "main.retries"),
    "index_range": ("runtime error", "runtime error: index out of range [5] with length 3", "main.pick"),
    "panic_error": ("panic", "load 42: record not found", "main.main"),
    # Go prints a struct value by its type and address; Delve's decoding of it is the chain's detail
    "panic_struct": ("panic", re.compile(r"\(main\.Failure\) 0x[0-9a-f]+"), "main.check"),
    "deadlock": ("fatal error", "all goroutines are asleep - deadlock!", "main.main"),
    "many_goroutines": ("panic", "worker exploded", "main.crash"),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_report_names_the_crash(cores, name):
    fixture = cores[name]
    result = gocore(fixture.exe, fixture.core, "--report", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    kind, message, function = EXPECTED[name]
    crash = report["crash"]
    assert crash["kind"] == kind
    if isinstance(message, re.Pattern):
        assert message.fullmatch(crash["message"]), crash["message"]
        assert crash["chain"][-1]["detail"] == 'main.Failure {Code: 7, Reason: "negative balance"}'
    else:
        assert crash["message"] == message
    assert crash["header"][-1] == f"panic: {crash['message']}" or crash["kind"] == "fatal error"
    assert crash["signal"] == "SIGABRT"
    assert crash["frame"]["function"] == function
    assert crash["frame"]["file"].endswith(f"{name}/main.go")
    assert crash["frame"]["line"] == fixture.crash_line
    assert report["backtrace"][crash["frame"]["index"]]["function"] == function
    ids = [g["id"] for g in report["goroutines"]["items"]]
    assert report["goroutines"]["total"] == len(ids)
    if name == "deadlock":
        # thrown from the scheduler's stack: no goroutine crashed, main is blocked
        assert crash["goroutine"] is None and crash["focus_goroutine"] == 1
    else:
        crashed = [g for g in report["goroutines"]["items"] if g["crashing"]]
        assert [g["id"] for g in crashed] == [crash["goroutine"]]
    source = report["source"]
    marked = source["lines"][source["line"] - source["first_line"]]
    assert "// CRASH" in marked
    assert report["delve"]["version"] and report["target"]["go_version"].startswith("go1.")
    assert not dlv_processes_for(fixture.core)


def test_nil_dereference_reports_the_fault_signal(cores):
    fixture = cores["nil_deref"]
    report = json.loads(gocore(fixture.exe, fixture.core, "--report", "json").stdout)
    assert report["crash"]["fault_signal"] == "SIGSEGV"
    args = {v["name"]: v["value"] for v in report["variables"]["args"]}
    assert args["c"] == "*main.Config nil"


def test_many_goroutines_are_all_listed(cores):
    fixture = cores["many_goroutines"]
    report = json.loads(gocore(fixture.exe, fixture.core, "--report", "json").stdout)
    assert report["goroutines"]["total"] >= 351
    waiting = [g for g in report["goroutines"]["items"] if g["state"] == "chan receive"]
    assert len(waiting) >= 200


def test_markdown_report_marks_the_faulting_line(cores):
    fixture = cores["goroutine_panic"]
    result = gocore(fixture.exe, fixture.core, "--report", "md")
    assert result.returncode == 0
    assert "| Message | PANIC |" in result.stdout
    marked = [line for line in result.stdout.splitlines() if line.startswith("=>")]
    assert marked == [f"=>{fixture.crash_line:5d}  \t\tpanic(\"PANIC\") // CRASH"]
    # Goroutines by id; yes and no, not Python's True and False; one form of path
    lines = result.stdout.splitlines()
    table = lines[lines.index("| id | state | location |") + 2:]
    ids = [int(row.split("|")[1].split()[0]) for row in table[:next(i for i, r in enumerate(table) if not r)]]
    assert ids == sorted(ids) and len(ids) == 6
    assert "True" not in result.stdout and "False" not in result.stdout
    assert "| reached the faulting user frame | yes |" in result.stdout
    assert "./" not in result.stdout.split("## Backtrace")[1]  # paths as the binary records them


def test_substitute_path_finds_moved_sources(cores, tmp_path):
    fixture = cores["goroutine_panic"]
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    shutil.copy(fixture.source, moved / "main.go")
    # From a directory where the build path does not resolve, only the
    # substitution can find the file.
    result = gocore(fixture.exe, fixture.core, "--report", "json",
                    "--substitute-path", f"{fixture.source.parent}={moved}", cwd=tmp_path)
    source = json.loads(result.stdout)["source"]
    assert source["path"] == str(moved / "main.go")


@pytest.mark.toolchain_independent
def test_help_version_and_module_entry():
    assert gocore("--version").stdout.startswith("gocore-tui ")
    usage = gocore("--help")
    assert usage.returncode == 0 and "--substitute-path" in usage.stdout and "--report" in usage.stdout
    assert gocore().returncode == 2


def _assert_one_line_error(result, *needles):
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_missing_files(cores, tmp_path):
    fixture = cores["goroutine_panic"]
    _assert_one_line_error(gocore(tmp_path / "nope", fixture.core), "nope")
    _assert_one_line_error(gocore(fixture.exe, tmp_path / "nocore"), "nocore")


def test_wrong_kinds_of_file(cores, tmp_path):
    fixture = cores["goroutine_panic"]
    text = tmp_path / "notes.txt"
    text.write_text("package main\n")
    empty = tmp_path / "empty.core"
    empty.write_bytes(b"")
    _assert_one_line_error(gocore(text, fixture.core), "notes.txt", "ELF")
    _assert_one_line_error(gocore(fixture.exe, text), "notes.txt")
    _assert_one_line_error(gocore(fixture.exe, empty), "empty.core", "empty")
    _assert_one_line_error(gocore(fixture.exe, fixture.exe), "core")
    assert not dlv_processes_for(fixture.core)


def test_truncated_core(cores, tmp_path):
    fixture = cores["goroutine_panic"]
    cut = tmp_path / "cut.core"
    with open(fixture.core, "rb") as src, open(cut, "wb") as dst:
        dst.write(src.read(1 << 20))
    _assert_one_line_error(gocore(fixture.exe, cut), "cut.core", "ulimit -c")


def test_stripped_executable(cores, tmp_path):
    fixture = cores["goroutine_panic"]
    stripped = tmp_path / "stripped"
    env = dict(os.environ, GOTOOLCHAIN="local", GOFLAGS="-mod=mod")
    subprocess.run([fixture.go, "build", "-ldflags=-s -w", "-o", str(stripped), "."], cwd=fixture.source.parent,
                   check=True, env=env)
    _assert_one_line_error(gocore(stripped, fixture.core), "stripped", "debug info")


@pytest.mark.toolchain_independent
def test_dlv_not_installed(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv(DLV_VARIABLE, raising=False)
    with pytest.raises(OpenError, match="go install github.com/go-delve/delve/cmd/dlv@"):
        find_dlv()
    with pytest.raises(OpenError, match="--dlv"):
        find_dlv(str(tmp_path / "dlv"))
    monkeypatch.setenv(DLV_VARIABLE, str(tmp_path / "old-dlv"))
    with pytest.raises(OpenError, match=f"old-dlv: not an executable dlv \\(check {DLV_VARIABLE}\\)"):
        find_dlv()
    assert find_dlv("/bin/true") == "/bin/true"  # --dlv wins over the variable


@pytest.mark.toolchain_independent
def test_go_version_outside_delve_range_names_the_release():
    # The text Delve's pkg/goversion/compat.go prints in both directions.
    newer = explain_startup_failure(
        "Version of Delve is too old for Go version go1.29.1 (maximum supported version 1.27, "
        "suppress this error with --check-go-version=false)", "/x/main", "/x/core", "1.27.2")
    assert "Go 1.29" in newer and "dlv@latest" in newer
    older = explain_startup_failure(
        "Go version go1.19.13 is too old for this version of Delve (minimum supported version 1.25, "
        "suppress this error with --check-go-version=false)", "/x/main", "/x/core", "1.27.2")
    assert "Go 1.19" in older and "dlv@v1.22" in older


def test_a_core_of_the_other_toolchains_go_names_the_delve_release(toolchain):
    """Leg 1: a Go 1.19 core with dlv 1.27.2 (too old for it); leg 2: a Go
    1.26 core with dlv 1.20.2 (too new for it). Real dlv, real refusal."""
    try:
        other = toolchains.other(toolchain)
    except toolchains.ToolchainMissing as err:
        pytest.fail(f"the other toolchain is not installed, so there is no core outside this dlv's range: {err}",
                    pytrace=False)
    fixture = make_core("goroutine_panic", go_version(other.go), other)
    go_minor = int(go_version(other.go).split()[2].split(".")[1])
    result = gocore(fixture.exe, fixture.core)
    release = delve_for_go(go_minor)
    _assert_one_line_error(result, str(fixture.exe), f"Go 1.{go_minor}",
                           f"go install github.com/go-delve/delve/cmd/dlv@{release}")
    assert not dlv_processes_for(fixture.core)


def test_core_from_another_executable_is_refused_unless_forced(cores):
    core = cores["goroutine_panic"].core
    other = cores["nil_deref"].exe
    _assert_one_line_error(gocore(other, core), str(core), str(other), "--force")
    assert not dlv_processes_for(core)
    forced = gocore(other, core, "--report", "json", "--no-gdb", "--force")
    assert forced.returncode == 0
    warnings = json.loads(forced.stdout)["warnings"]
    assert warnings and warnings[0].startswith("UNTRUSTWORTHY VIEW")


def test_a_report_leaves_no_process_and_writes_no_telemetry(cores, tmp_path):
    """Delve 1.27 starts Go's telemetry (counters, and a `dlv ** telemetry **`
    sidecar that outlives it): gocore-tui turns it off for its dlvs."""
    fixture = cores["goroutine_panic"]
    tag = leftovers.new_tag()
    env = leftovers.tagged_env(tag, dict(os.environ, XDG_CACHE_HOME=str(tmp_path)))
    with leftovers.adopting():
        result = gocore(fixture.exe, fixture.core, "--report", "json", "--no-gdb", env=env)
        left = leftovers.scan((fixture.core,), tag)
        leftovers.kill(left)
    assert result.returncode == 0, result.stderr
    assert not left, "left behind: " + "; ".join(map(str, left))
    config = tmp_path / "gocore-tui" / "dlv-config"
    assert config.is_dir() and not (config / "go" / "telemetry").exists()
    # Nor does it keep dlv's readline history, which Delve never trims.
    history = config / "dlv" / ".dbg_history"
    assert history.is_symlink() and os.readlink(history) == os.devnull


def test_a_history_left_by_an_older_run_is_replaced(tmp_path, monkeypatch):
    from tui.debugger.dlv import dlv_env

    history = tmp_path / "gocore-tui" / "dlv-config" / "dlv" / ".dbg_history"
    history.parent.mkdir(parents=True)
    history.write_text("goroutines\n" * 1000)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert dlv_env()["XDG_CONFIG_HOME"] == str(history.parent.parent)
    assert history.is_symlink() and os.readlink(history) == os.devnull


def _damaged(fixture, tmp_path, patches) -> Path:
    core = tmp_path / "core"
    data = bytearray(fixture.core.read_bytes())
    for offset, fmt, value in patches:
        struct.pack_into(fmt, data, offset, value)
    core.write_bytes(data)
    return core


def _load_holding(fixture, symbol: str) -> int:
    """The index of the core's PT_LOAD segment that holds `symbol` (a variable of the runtime)."""
    with open(fixture.core, "rb") as f:
        head = f.read(1 << 16)
    layout = corruption.read_layout(head, fixture.core.stat().st_size)
    address = dict(corruption.symbols(fixture.exe.read_bytes(), (symbol,)))[symbol]
    return next(s.index for s in layout.loads() if s.vaddr <= address < s.vaddr + s.filesz)


def test_a_core_whose_goroutines_delve_cannot_read_still_reports(cores, tmp_path):
    """The issue's core: a program header damaged so that the segment holding
    runtime.allgs is no longer memory. Delve answers the listing with an
    error; the report comes out with the reason, not a traceback."""
    fixture = cores["goroutine_panic"]
    segment = _load_holding(fixture, "runtime.allglen")
    core = _damaged(fixture, tmp_path, [(64 + 56 * segment, "<I", corruption.PT_NOTE)])
    result = gocore(fixture.exe, core, "--report", "json", "--no-gdb")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    warnings = json.loads(result.stdout)["warnings"]
    assert any(w.startswith("goroutine listing stopped at 0: Delve could not read the goroutines") for w in warnings)
    assert not dlv_processes_for(core)


def test_a_segment_of_25_petabytes_is_corrupt_not_truncated(cores, tmp_path):
    fixture = cores["goroutine_panic"]
    segment = _load_holding(fixture, "runtime.allgs")
    core = _damaged(fixture, tmp_path, [(64 + 56 * segment + 32, "<Q", 25895697898782720)])
    result = gocore(fixture.exe, core, "--report", "json", "--no-gdb")
    _assert_one_line_error(result, str(core), "is corrupt", "25895697898782720 bytes")
    assert "truncated" not in result.stderr
