"""Build a Go program, crash it, and find the core the kernel wrote.

The recipe the README gives by hand: `-gcflags=all="-N -l"` so locals are
readable, `GOTRACEBACK=crash` so the runtime aborts instead of exiting 2,
RLIMIT_CORE raised so the kernel writes a core, then wherever
/proc/sys/kernel/core_pattern sends it.

    python -m tui.corerun PACKAGE_DIR OUT_DIR   # leaves OUT_DIR/main and OUT_DIR/core

A main.go may change the recipe with header comments before `package`:
    // gocore:optimize              build with the optimizer on (no -N -l)
    // gocore:build -buildmode=pie  extra `go build` flags
    // gocore:rlimit-as BYTES       run under this address-space limit
    // gocore:gcore                 do not crash: dump the live process with
                                    gdb's gcore once it prints a line
    // gocore:kill SIGABRT          send it this signal (from outside, as an
                                    operator's `kill -ABRT` would) once it
                                    prints a line
"""

from __future__ import annotations

import glob
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

CORE_PATTERN = Path("/proc/sys/kernel/core_pattern")
# How long a program that printed its line gets to reach where it waits.
KILL_SETTLE = 0.5
CORE_USES_PID = Path("/proc/sys/kernel/core_uses_pid")


class CorerunError(Exception):
    """str() is the one line the user sees."""


class BuildError(CorerunError):
    pass


class NotCrashed(CorerunError):
    pass


class CoreNotFound(CorerunError):
    pass


@dataclass(frozen=True)
class CrashResult:
    core: Path
    returncode: int  # negative: the signal that killed the process
    stderr: str


@dataclass(frozen=True)
class Recipe:
    """How one program is built and turned into a core (from its header)."""

    optimize: bool = False
    build_flags: tuple[str, ...] = ()
    rlimit_as: int | None = None
    gcore: bool = False
    kill: int | None = None  # a signal sent from outside once it prints a line


HEADER = "// gocore:"


def parse_recipe(source: str) -> Recipe:
    """The `// gocore:` directives above the package clause."""
    optimize, gcore, flags, rlimit_as, kill = False, False, [], None, None
    for line in source.splitlines():
        if line.startswith("package "):
            break
        if not line.startswith(HEADER):
            continue
        word, _, rest = line[len(HEADER):].strip().partition(" ")
        if word == "optimize":
            optimize = True
        elif word == "gcore":
            gcore = True
        elif word == "build":
            flags += rest.split()
        elif word == "rlimit-as":
            rlimit_as = int(rest.strip())
        elif word == "kill":
            try:
                kill = signal.Signals[rest.strip()].value
            except KeyError:
                raise BuildError(f"{HEADER}kill wants a signal name such as SIGABRT, got {rest.strip()!r}") from None
        else:
            raise BuildError(f"unknown directive {HEADER}{word}")
    return Recipe(optimize, tuple(flags), rlimit_as, gcore, kill)


def read_recipe(package_dir: Path) -> Recipe:
    main_go = Path(package_dir) / "main.go"
    return parse_recipe(main_go.read_text()) if main_go.exists() else Recipe()


def go_env() -> dict[str, str]:
    # GOTOOLCHAIN=local: never download another toolchain behind our back.
    return dict(os.environ, GOTOOLCHAIN="local", GOFLAGS="-mod=mod")


def find_go() -> str:
    # /usr/local/go is where the official tarball goes, often not on a non-login PATH.
    go = shutil.which("go") or shutil.which("go", path="/usr/local/go/bin")
    if go is None:
        raise BuildError("go: not found on PATH; install Go (https://go.dev/dl/) to build the example")
    return go


def build(package_dir: Path, out_dir: Path, recipe: Recipe | None = None, go: str | None = None) -> Path:
    """Compile the main package in package_dir to out_dir/main, optimizer off
    unless the recipe (by default: main.go's header) turns it on; with the
    given go binary (tests build with an older Go too) or find_go()'s."""
    recipe = read_recipe(package_dir) if recipe is None else recipe
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    exe = out_dir / "main"
    gcflags = [] if recipe.optimize else ["-gcflags=all=-N -l"]
    cmd = [go or find_go(), "build", *gcflags, *recipe.build_flags, "-o", str(exe), "."]
    result = subprocess.run(cmd, cwd=package_dir, env=go_env(), capture_output=True, text=True)
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        raise BuildError(f"go build failed in {package_dir}: {lines[-1] if lines else 'no output'}")
    return exe


def raise_core_limit() -> None:
    # In the child only: the soft limit is often 0; the hard limit is the most we may ask.
    _, hard = resource.getrlimit(resource.RLIMIT_CORE)
    resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))


def _child_limits(rlimit_as: int | None):
    def apply() -> None:
        raise_core_limit()
        if rlimit_as is not None:
            resource.setrlimit(resource.RLIMIT_AS, (rlimit_as, rlimit_as))
    return apply


def crash(exe: Path, cwd: Path, args: Sequence[str] = (), timeout: float = 60,
          rlimit_as: int | None = None, kill: int | None = None) -> CrashResult:
    """Run exe in cwd with GOTRACEBACK=crash and return where its core went.
    kill: send this signal (from this process) once it prints its first line."""
    exe, cwd = Path(exe).resolve(), Path(cwd).resolve()
    pattern = CORE_PATTERN.read_text().strip()
    started = time.time()
    env = dict(os.environ, GOTRACEBACK="crash")
    proc = subprocess.Popen([str(exe), *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE if kill else subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, errors="replace", preexec_fn=_child_limits(rlimit_as))
    if kill:
        proc.stdout.readline()  # it says it is about to be where it should be killed:
        time.sleep(KILL_SETTLE)  # the write that said so returns, and it parks
        os.kill(proc.pid, kill)
    try:
        _, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise NotCrashed(f"{exe} did not crash within {timeout:g}s; it was killed") from None
    if proc.returncode >= 0:
        raise NotCrashed(f"{exe} exited with status {proc.returncode} instead of crashing; "
                         f"a core needs a fatal signal (panic under GOTRACEBACK=crash)")
    return CrashResult(find_core(exe, cwd, proc.pid, -proc.returncode, started, pattern), proc.returncode, stderr)


def find_core(exe: Path, cwd: Path, pid: int, signo: int, started: float, pattern: str | None = None) -> Path:
    """The core the kernel wrote for process pid (started at `started`),
    wherever core_pattern sent it; CoreNotFound says where it looked."""
    pattern = CORE_PATTERN.read_text().strip() if pattern is None else pattern
    if pattern.startswith("|"):
        return _from_pipe(pattern, pid, cwd)
    return _from_file(pattern, exe, cwd, pid, signo, started)


def dump_live(exe: Path, cwd: Path, timeout: float = 60) -> CrashResult:
    """Run exe until it prints its first line, dump it with gdb's gcore, then stop it."""
    exe, cwd = Path(exe).resolve(), Path(cwd).resolve()
    gcore = shutil.which("gcore")
    if gcore is None:
        raise CoreNotFound("gcore not found: install gdb to dump a live process")
    proc = subprocess.Popen([str(exe)], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        # The program says when it has reached the state worth dumping.
        proc.stdout.readline()
        prefix = cwd / "gcore"
        done = subprocess.run([gcore, "-o", str(prefix), str(proc.pid)], capture_output=True, text=True,
                              timeout=timeout)
        core = Path(f"{prefix}.{proc.pid}")
        if done.returncode != 0 or not core.exists():
            lines = [line for line in done.stderr.splitlines() if line.strip()]
            raise CoreNotFound(f"gcore could not dump {exe}: {lines[-1] if lines else 'no output'}")
    finally:
        proc.kill()
        proc.communicate()
    return CrashResult(core, 0, "")


def make_core(exe: Path, cwd: Path, recipe: Recipe) -> CrashResult:
    """The core the recipe asks for: of a crash, or of the live process."""
    return dump_live(exe, cwd) if recipe.gcore else crash(exe, cwd, rlimit_as=recipe.rlimit_as, kill=recipe.kill)


def _from_pipe(pattern: str, pid: int, cwd: Path) -> Path:
    helper = pattern[1:].split()[0] if pattern[1:].split() else pattern
    if "systemd-coredump" not in helper:
        raise CoreNotFound(f"core_pattern pipes cores to {helper}, not to a file; set a file pattern "
                           f"(sudo sysctl -w kernel.core_pattern=core) or fetch the dump from {helper}")
    if shutil.which("coredumpctl") is None:
        raise CoreNotFound("core_pattern pipes cores to systemd-coredump but coredumpctl is not installed; "
                           "set kernel.core_pattern=core with sysctl")
    out = cwd / "core"
    # systemd-coredump stores the dump asynchronously: wait for it a little.
    for _ in range(50):
        done = subprocess.run(["coredumpctl", "dump", str(pid), "-o", str(out)], capture_output=True, text=True)
        if done.returncode == 0 and out.exists() and out.stat().st_size:
            return out
        time.sleep(0.2)
    raise CoreNotFound(f"systemd-coredump has no core for PID {pid}; check `coredumpctl list` and "
                       f"its storage settings in /etc/systemd/coredump.conf")


def core_path_glob(pattern: str, exe: Path, cwd: Path, pid: int, signo: int) -> str:
    """Expand a file core_pattern (core(5)); unknowable parts (%t, %i ...) become `*`."""
    known = {"p": str(pid), "e": exe.name[:15], "h": socket.gethostname(), "u": str(os.getuid()),
             "g": str(os.getgid()), "s": str(signo), "E": str(exe).replace("/", "!"), "f": exe.name}
    out, i, has_pid = [], 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "%" and i + 1 < len(pattern):
            spec = pattern[i + 1]
            has_pid |= spec == "p"
            out.append("%" if spec == "%" else glob.escape(known[spec]) if spec in known else "*")
            i += 2
        else:
            out.append(glob.escape(ch))
            i += 1
    path = "".join(out)
    if not has_pid and CORE_USES_PID.exists() and CORE_USES_PID.read_text().strip() == "1":
        path += f".{pid}"
    return path if path.startswith("/") else str(cwd / path)


def _from_file(pattern: str, exe: Path, cwd: Path, pid: int, signo: int, started: float) -> Path:
    wanted = core_path_glob(pattern, exe, cwd, pid, signo)
    # Only a file written by this crash: an old core may match a wildcard.
    fresh = [Path(p) for p in glob.glob(wanted) if os.stat(p).st_mtime >= started - 1]
    if fresh:
        return max(fresh, key=lambda p: p.stat().st_mtime)
    soft, hard = resource.getrlimit(resource.RLIMIT_CORE)
    limit = "unlimited" if hard == resource.RLIM_INFINITY else str(hard)
    raise CoreNotFound(f"{exe} crashed ({_signame(signo)}) but no core appeared at {wanted}; "
                       f"check the hard core limit ({limit}), free space, and /proc/sys/kernel/core_pattern")


def _signame(signo: int) -> str:
    try:
        return signal.Signals(signo).name
    except ValueError:
        return f"signal {signo}"


def _newest_source(package_dir: Path) -> float:
    files = [*package_dir.glob("*.go"), *package_dir.parent.glob("go.mod"), *package_dir.glob("go.mod")]
    return max((f.stat().st_mtime for f in files), default=0.0)


def build_and_crash(package_dir: Path, out_dir: Path) -> tuple[Path, Path, bool]:
    """(exe, core, rebuilt): out_dir/main and out_dir/core, reused when newer than the source."""
    package_dir, out_dir = Path(package_dir).resolve(), Path(out_dir).resolve()
    exe, core = out_dir / "main", out_dir / "core"
    if not package_dir.is_dir():
        raise BuildError(f"{package_dir}: no such directory; pass a Go main package")
    if exe.exists() and core.exists() and core.stat().st_mtime > _newest_source(package_dir):
        return exe, core, False
    recipe = read_recipe(package_dir)
    exe = build(package_dir, out_dir, recipe)
    found = make_core(exe, out_dir, recipe).core
    if found != core:
        shutil.move(str(found), core)
    return exe, core, True


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2:
        print("usage: python -m tui.corerun PACKAGE_DIR OUT_DIR", file=sys.stderr)
        return 2
    try:
        exe, core, rebuilt = build_and_crash(Path(args[0]), Path(args[1]))
    except (CorerunError, OSError) as err:
        print(f"corerun: {err}", file=sys.stderr)
        return 2
    print(f"{core}: {'core of' if rebuilt else 'up to date, core of'} {exe}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
