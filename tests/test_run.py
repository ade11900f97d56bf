"""`gocore-tui run -- PROG`: run it, catch its core, open it; or pass its exit status through."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import toolchains
from leftovers import dlv_processes_for


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "tui", "run", "--dlv", toolchains.current().dlv, *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=cwd)


def test_a_crash_is_caught_and_reported_with_what_go_printed(cores, tmp_path):
    fixture = cores["nil_deref"]
    program = tmp_path / "prog"
    shutil.copy2(fixture.exe, program)
    result = run("--report", "json", "--no-gdb", "--", "./prog", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["crash"]["kind"] == "runtime error"
    assert report["crash"]["frame"]["function"] == "main.retries"
    core = Path(report["target"]["core"])
    assert core.parent == tmp_path and core.is_file()
    # Go's own traceback passed through to our stderr, and is in the report.
    assert "panic: runtime error: invalid memory address" in result.stderr
    assert report["go_traceback"].startswith("panic: runtime error: invalid memory address")
    assert "[signal SIGSEGV" in report["go_traceback"]
    assert f"crashed; its core is {core}" in result.stderr.splitlines()[-1]
    assert not dlv_processes_for(core)


@pytest.mark.parametrize("status", [0, 3])
def test_a_program_that_exits_passes_its_status_through(tmp_path, status):
    result = run("--", "sh", "-c", f"echo out; echo err >&2; exit {status}", cwd=tmp_path)
    assert result.returncode == status
    assert result.stdout == "out\n"  # stdout passes through untouched
    assert result.stderr.splitlines() == ["err", f"gocore-tui: sh exited with status {status}; it did not crash, "
                                                  "so there is no core"]
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("args, needle", [
    (("--", "./no-such-prog"), "./no-such-prog: no such program"),
    ((), "no program given"),
])
def test_bad_run_commands_are_one_line_errors(tmp_path, args, needle):
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and needle in result.stderr
    assert "Traceback" not in result.stderr


def test_a_file_named_like_a_subcommand_opens_as_a_path(cores, tmp_path):
    fixture = cores["goroutine_panic"]
    shutil.copy2(fixture.exe, tmp_path / "run")
    result = subprocess.run([sys.executable, "-m", "tui", "--dlv", toolchains.current().dlv, "./run",
                             str(fixture.core), "--report", "json", "--no-gdb"],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["target"]["executable"] == str(tmp_path / "run")
