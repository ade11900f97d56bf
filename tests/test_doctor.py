"""`gocore-tui doctor` on this machine: real checks, a real probe crash, and the advice."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import toolchains

from tui.cli import doctor


def run_doctor(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = dict(os.environ, **(env or {}))
    chosen = toolchains.current()
    environment.setdefault("GOCORE_TUI_DLV", chosen.dlv)
    # The leg's go first on PATH: the probe builds with it, as a user's shell would.
    environment["PATH"] = f"{os.path.dirname(chosen.go)}:{environment.get('PATH', '')}"
    return subprocess.run([sys.executable, "-m", "tui", "doctor", *map(str, args)], capture_output=True,
                          text=True, timeout=120, env=environment)


def lines(result) -> dict[str, str]:
    """name -> the status word of each check line."""
    found = {}
    for line in result.stdout.splitlines():
        if line[:4] in ("ok  ", "FAIL", "note"):
            found[line[6:].split(": ", 1)[0]] = line[:4].strip()
    return found


def test_this_machine_makes_and_reads_cores():
    result = run_doctor()
    assert result.returncode == 0, result.stdout + result.stderr
    status = lines(result)
    assert status["core_pattern"] == "ok" and status["dlv"] == "ok" and status["go"] == "ok"
    # The probe really crashed a program and Delve read its panic.
    assert status["a crash here leaves a core dlv reads"] == "ok"
    assert "panic read by Delve" in result.stdout
    assert result.stdout.rstrip().endswith("everything needed works")


@pytest.mark.parametrize("pattern, status, advice", [
    ("|/lib/systemd/systemd-coredump %P %u %g %s %t %c %h", "ok", "coredumpctl dump PID -o core"),
    ("|/usr/share/apport/apport -p%p -s%s -c%c", "FAIL", "sysctl -w kernel.core_pattern=core"),
    ("|/usr/local/bin/crash-collector %p", "FAIL", "ask crash-collector for the dump"),
    ("/var/nonexistent-cores/core.%e.%p", "FAIL", "mkdir -p /var/nonexistent-cores"),
    ("core.%e.%p", "ok", "core.%e.%p in the crashing program's working directory"),
])
def test_core_pattern_advice(pattern, status, advice):
    result = run_doctor(env={doctor.PATTERN_VARIABLE: pattern})
    assert lines(result)["core_pattern"] == status
    assert advice in result.stdout
    assert result.returncode == (1 if status == "FAIL" else 0)


def test_an_executable_is_described(cores):
    plain, optimized = cores["nil_deref"], cores["optimized"]
    result = run_doctor(plain.exe)
    assert f"{plain.exe}: optimizer: off (-N -l)" in result.stdout
    assert f"{plain.exe}: debug info: DWARF present" in result.stdout
    assert f"{plain.exe}: Go version: go1." in result.stdout
    result = run_doctor(optimized.exe)
    assert f"{optimized.exe}: optimizer: on" in result.stdout and 'gcflags=all="-N -l"' in result.stdout
    assert result.returncode == 0  # an optimized binary still opens: advice, not failure


def test_a_stripped_or_missing_executable(cores, tmp_path):
    stripped = tmp_path / "stripped"
    subprocess.run(["go", "build", "-ldflags=-s -w", "-o", str(stripped), "."], cwd=cores["nil_deref"].source.parent,
                   check=True, env=dict(os.environ, GOTOOLCHAIN="local", GOFLAGS="-mod=mod"))
    result = run_doctor(stripped)
    assert result.returncode == 1 and "no DWARF debug info (stripped)" in result.stdout
    missing = run_doctor(tmp_path / "nope")
    assert missing.returncode == 2 and missing.stderr.strip() == f"gocore-tui: {tmp_path / 'nope'}: no such file; check the path"


def test_a_missing_dlv_fails_with_the_install_command(tmp_path):
    result = run_doctor(env={"GOCORE_TUI_DLV": str(tmp_path / "dlv")})
    assert result.returncode == 1
    assert lines(result)["dlv"] == "FAIL" and "check GOCORE_TUI_DLV" in result.stdout
