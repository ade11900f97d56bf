"""tui.cli.corerun: build, crash, and find the core wherever core_pattern puts it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tui.cli import corerun
from tui.debugger import elf

pytestmark = pytest.mark.toolchain_independent

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "tests" / "fixtures" / "goroutine_panic"


def test_build_and_crash_goroutine_panic(tmp_path):
    exe = corerun.build(EXAMPLE, tmp_path)
    assert exe == tmp_path / "main"
    result = corerun.crash(exe, tmp_path)
    assert result.returncode == -6
    assert "panic: PANIC" in result.stderr
    info = elf.check_core(result.core)
    assert info.signal == 6  # SIGABRT: GOTRACEBACK=crash aborts after printing the traceback
    assert info.main_executable == str(exe)
    assert elf.check_executable(exe).has_debug_info


def test_a_program_that_exits_is_not_a_crash(tmp_path):
    with pytest.raises(corerun.NotCrashed, match=r"/true exited with status 0 instead of crashing"):
        corerun.crash(Path("/bin/true"), tmp_path)
    with pytest.raises(corerun.NotCrashed, match="exited with status 3"):
        corerun.crash(Path("/bin/sh"), tmp_path, args=("-c", "exit 3"))
    with pytest.raises(corerun.NotCrashed, match="did not crash within 0.5s"):
        corerun.crash(Path("/bin/sleep"), tmp_path, args=("30",), timeout=0.5)


def test_killed_without_a_core(tmp_path):
    # The shell drops its own core limit to 0 after our preexec_fn raised it.
    with pytest.raises(corerun.CoreNotFound, match=r"crashed \(SIGSEGV\) but no core appeared at "):
        corerun.crash(Path("/bin/sh"), tmp_path, args=("-c", "ulimit -c 0; kill -SEGV $$"))


def test_core_pattern_expansion(tmp_path, monkeypatch):
    uses_pid = tmp_path / "core_uses_pid"
    uses_pid.write_text("0\n")
    monkeypatch.setattr(corerun, "CORE_USES_PID", uses_pid)
    exe = Path("/opt/a-very-long-program-name")
    expand = lambda pattern: corerun.core_path_glob(pattern, exe, tmp_path, 42, 6)  # noqa: E731
    assert expand("core") == str(tmp_path / "core")
    assert expand("/var/crash/core.%e.%p.%s.%%") == "/var/crash/core.a-very-long-pro.42.6.%"
    assert expand("/cores/%t-%u-%g-%i") == f"/cores/*-{os.getuid()}-{os.getgid()}-*"
    assert expand("/cores/%E") == "/cores/!opt!a-very-long-program-name"
    uses_pid.write_text("1\n")
    assert expand("core") == str(tmp_path / "core.42")
    assert expand("core.%p") == str(tmp_path / "core.42")


def test_pipes_other_than_systemd_coredump(tmp_path):
    with pytest.raises(corerun.CoreNotFound) as err:
        corerun._from_pipe("|/usr/share/apport/apport -p%p -s%s", 42, tmp_path)
    message = str(err.value)
    assert message.startswith("core_pattern pipes cores to /usr/share/apport/apport, not to a file")
    assert "kernel.core_pattern=core" in message and "\n" not in message


def test_module_entry_point(tmp_path):
    def run(*args):
        return subprocess.run([sys.executable, "-m", "tui.cli.corerun", *map(str, args)], capture_output=True,
                              text=True, cwd=ROOT, timeout=120)

    first = run(EXAMPLE, tmp_path / "out")
    assert first.returncode == 0, first.stderr
    assert first.stdout == f"{tmp_path / 'out' / 'core'}: core of {tmp_path / 'out' / 'main'}\n"
    again = run(EXAMPLE, tmp_path / "out")
    assert again.returncode == 0 and "up to date" in again.stdout
    bad = run(tmp_path / "nowhere", tmp_path / "out2")
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr == f"corerun: {tmp_path / 'nowhere'}: no such directory; pass a Go main package\n"


def test_recipe_from_the_header():
    recipe = corerun.parse_recipe("// gocore:build -buildmode=pie -trimpath\n// gocore:optimize\n"
                                  "// gocore:rlimit-as 1073741824\n// A comment.\npackage main\n"
                                  "// gocore:gcore (after the package clause: not a directive)\n")
    assert recipe == corerun.Recipe(optimize=True, build_flags=("-buildmode=pie", "-trimpath"),
                                    rlimit_as=1 << 30, gcore=False)
    assert corerun.parse_recipe("package main\n") == corerun.Recipe()
    with pytest.raises(corerun.BuildError, match="unknown directive // gocore:optimise"):
        corerun.parse_recipe("// gocore:optimise\npackage main\n")


def test_cache_key_follows_the_header(tmp_path, monkeypatch):
    sys.path.insert(0, str(ROOT / "tests"))
    import corecache

    monkeypatch.setattr(corecache, "FIXTURES", tmp_path)
    (tmp_path / "go.mod").write_text("module x\n\ngo 1.19\n")
    source = tmp_path / "main.go"
    source.write_text("package main\n")
    plain = corecache.cache_key(source, "go1.26")
    source.write_text("// gocore:build -buildmode=pie\npackage main\n")
    assert corecache.cache_key(source, "go1.26") != plain
    assert corecache.cache_key(source, "go1.19") != corecache.cache_key(source, "go1.26")


def test_live_process_dump_is_not_a_crash(tmp_path):
    exe = corerun.build(ROOT / "tests" / "fixtures" / "gcore_live", tmp_path)
    result = corerun.make_core(exe, tmp_path, corerun.read_recipe(ROOT / "tests" / "fixtures" / "gcore_live"))
    assert result.returncode == 0
    info = elf.check_core(result.core)
    assert info.signal == 0 and info.main_executable == str(exe)
    # the runtime's reservations were left out: tens of MB, not a gigabyte
    assert result.core.stat().st_size < 200 << 20
