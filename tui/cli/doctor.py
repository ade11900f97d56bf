"""`gocore-tui doctor [EXE]`: can this machine make Go cores, and read them?

Each check is a frozen Check with the fix when it fails. The last one does
the whole path for real: a tiny Go program is built, crashed with
GOTRACEBACK=crash, its core found where core_pattern sends it and opened
with the dlv gocore-tui would use. Exit 0 when everything needed works.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..analysis.crash import optimized_build
from ..analysis.forensics import read_snapshot
from ..debugger import elf
from ..debugger.delve import Delve
from ..debugger.dlv import dlv_version, find_dlv
from ..debugger.startup import OpenError
from .corerun import CORE_PATTERN, CorerunError, build, crash, find_go, go_env

# Tests set this to see the pipe-handler advice without root.
PATTERN_VARIABLE = "GOCORE_CORE_PATTERN"
PROBE = 'package main\n\nfunc main() { panic("gocore-tui doctor probe") }\n'


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool | None  # None: advice, counts neither way
    detail: str
    fix: str = ""


def core_limit() -> Check:
    soft, hard = resource.getrlimit(resource.RLIMIT_CORE)
    show = lambda n: "unlimited" if n == resource.RLIM_INFINITY else f"{n} bytes"  # noqa: E731
    if hard == 0:
        return Check("core size limit", False, "0, hard limit 0: no core can be written, not even by gocore-tui run",
                     "raise the hard limit: `ulimit -Hc unlimited` as root, or LimitCORE=infinity in the unit")
    if soft == 0:
        return Check("core size limit", None, f"0 here (hard limit {show(hard)}): a program started from this "
                     "shell writes no core; gocore-tui run raises it for its program",
                     "run `ulimit -c unlimited` in the shell that starts the program (systemd: LimitCORE=infinity)")
    if soft != resource.RLIM_INFINITY:
        return Check("core size limit", None, f"{show(soft)}: larger cores are cut short (gocore-tui says so)",
                     "`ulimit -c unlimited` to keep whole cores")
    return Check("core size limit", True, "unlimited")


def core_pattern(pattern: str | None = None) -> Check:
    """Where the kernel sends cores (core(5)); PATTERN_VARIABLE overrides /proc."""
    if pattern is None:
        pattern = os.environ.get(PATTERN_VARIABLE) or CORE_PATTERN.read_text().strip()
    if pattern.startswith("|"):
        handler = Path(pattern[1:].split()[0]).name if pattern[1:].split() else "?"
        if "systemd-coredump" in handler:
            return Check("core_pattern", True, f"piped to systemd-coredump ({pattern})",
                         "get a core out with `coredumpctl dump PID -o core` (`coredumpctl list` shows them); "
                         "gocore-tui run does it for you")
        if "apport" in handler:
            return Check("core_pattern", False, f"piped to apport ({pattern}), which keeps cores of packaged "
                         "programs only", "`sudo sysctl -w kernel.core_pattern=core` (or set "
                         "/proc/sys/kernel/core_pattern), or unpack /var/crash/*.crash with apport-unpack")
        return Check("core_pattern", False, f"piped to {handler} ({pattern}); gocore-tui cannot fetch cores from it",
                     f"ask {handler} for the dump, or `sudo sysctl -w kernel.core_pattern=core`")
    where = pattern if pattern.startswith("/") else f"{pattern} in the crashing program's working directory"
    detail = f"a file: {where}"
    if pattern.startswith("/"):
        folder = Path(pattern).parent
        if not folder.is_dir():
            return Check("core_pattern", False, f"{detail}, but {folder} does not exist", f"mkdir -p {folder}")
    return Check("core_pattern", True, detail)


def gotraceback() -> Check:
    value = os.environ.get("GOTRACEBACK", "")
    if value == "crash":
        return Check("GOTRACEBACK", True, "crash (here)")
    return Check("GOTRACEBACK", None, f"{value or 'unset'} here: a Go panic exits with status 2 and leaves no core",
                 "run the program with GOTRACEBACK=crash (gocore-tui run sets it)")


def tool(name: str, command: list[str], pattern: str) -> Check:
    path = shutil.which(command[0]) if os.sep not in command[0] else command[0]
    if not path:
        return Check(name, False, "not found", "")
    try:
        output = subprocess.run([path, *command[1:]], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError) as err:
        return Check(name, False, f"{path} does not run: {err}")
    found = re.search(pattern, output)
    return Check(name, True, f"{path} ({found[0] if found else 'version unknown'})")


def dlv_check() -> tuple[Check, str | None]:
    try:
        dlv = find_dlv()
    except OpenError as err:
        return Check("dlv", False, "not found", str(err)), None
    version = dlv_version(dlv)
    return Check("dlv", True, f"{dlv} (Delve {version or 'version unknown'})"), dlv


def probe(go: str, dlv: str) -> Check:
    """Build, crash and open a tiny program: the whole path, for real."""
    name = "a crash here leaves a core dlv reads"
    with tempfile.TemporaryDirectory(prefix="gocore-doctor-") as scratch:
        package = Path(scratch)
        (package / "main.go").write_text(PROBE)
        (package / "go.mod").write_text("module probe\n\ngo 1.18\n")
        try:
            exe = build(package, package / "out", go=go)
            core = crash(exe, package / "out").core
        except CorerunError as err:
            return Check(name, False, str(err))
        try:
            delve = Delve.open(str(exe), str(core), dlv=dlv)
        except OpenError as err:
            return Check(name, False, str(err))
        try:
            snapshot = read_snapshot(delve)
        finally:
            delve.close()
        if snapshot.crash.message != "gocore-tui doctor probe":
            return Check(name, False, f"dlv read the probe's core but not its panic ({snapshot.crash.message!r})")
        return Check(name, True, f"{snapshot.target.go_version} program, core at {core.name}, "
                                 f"panic read by Delve {snapshot.target.delve_version}")


def executable(path: str, go: str | None) -> list[Check]:
    try:
        info = elf.check_executable(path)
    except elf.InputError as err:
        return [Check(path, False, str(err))]
    checks = [Check(f"{path}: debug info", True, f"DWARF present ({info.machine}{', PIE' if info.is_pie else ''})")]
    if go:
        described = subprocess.run([go, "version", "-m", path], capture_output=True, text=True, env=go_env()).stdout
        first = described.splitlines()[0] if described else ""
        version = first.split(": ", 1)[1] if ": " in first else "not a Go binary (no build info)"
        checks.append(Check(f"{path}: Go version", bool(described), version))
    optimized = optimized_build(elf.go_producers(path, enough=" -N"))
    checks.append(Check(f"{path}: optimizer", None if optimized else True,
                        "on: variables may be unreadable or optimized away" if optimized else "off (-N -l)",
                        'rebuild with go build -gcflags=all="-N -l" for readable variables' if optimized else ""))
    checks.append(Check(f"{path}: build ID", None, info.go_build_id or info.build_id or "none"))
    return checks


def run_checks(exe: str | None = None) -> list[Check]:
    checks = [core_limit(), core_pattern(), gotraceback()]
    dlv, dlv_path = dlv_check()
    checks.append(dlv)
    checks.append(tool("gdb", ["gdb", "--version"], r"\d+\.\d+(\.\d+)?") if shutil.which("gdb")
                  else Check("gdb", None, "not found: the GDB-vs-Delve pane will say so",
                             "apt-get install gdb"))
    try:
        go = find_go()
        checks.append(tool("go", [go, "version"], r"go\d+\.\d+(\.\d+)?"))
    except Exception:
        go = None
        checks.append(Check("go", None, "not found: needed only to build programs (and for this probe)"))
    if go and dlv_path:
        checks.append(probe(go, dlv_path))
    if exe:
        checks.extend(executable(exe, go))
    return checks


def render(check: Check) -> str:
    mark = {True: "ok  ", False: "FAIL", None: "note"}[check.ok]
    line = f"{mark}  {check.name}: {check.detail}"
    if not check.fix:
        return line
    return line + f"\n        {'how' if check.ok else 'fix'}: {check.fix}"


def main(argv: list[str]) -> int:
    if argv[:1] in (["-h"], ["--help"]):
        print("usage: gocore-tui doctor [EXE]\n\nChecks this machine can write Go cores and Delve can read "
              "them (a real probe: a tiny program is built, crashed and opened); with EXE, also its debug "
              "info, Go version, optimizer and build ID. Exit 0 when everything needed works.")
        return 0
    if len(argv) > 1:
        print("gocore-tui: doctor takes at most one EXE; usage: gocore-tui doctor [EXE]", file=sys.stderr)
        return 2
    exe = argv[0] if argv else None
    if exe and not os.path.exists(exe):
        print(f"gocore-tui: {exe}: no such file; check the path", file=sys.stderr)
        return 2
    checks = run_checks(exe)
    for check in checks:
        print(render(check))
    failed = [c for c in checks if c.ok is False]
    print(f"\n{len(failed)} problem{'s' if len(failed) != 1 else ''}" if failed else "\neverything needed works")
    return 1 if failed else 0
