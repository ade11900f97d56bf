"""The trust table: every crash kind and bad input we try, what the
user saw, the exit code, and whether a process was left or an input changed.

    python bench/trust.py                          # prints a Markdown table
    GOCORE_TOOLCHAIN=debian python bench/trust.py  # the same with dlv 1.20.2, Go 1.19

Runs the installed command line (`python -m tui ... --report json`, and the
one-line errors) on the test cores (built and cached by tests/corecache.py)
and on bad inputs made from them in a scratch directory.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from corecache import all_cores  # noqa: E402
from test_cli import dlv_processes_for  # noqa: E402


def digest(path: Path) -> str:
    if not path.is_file():
        return "-"
    return hashlib.sha256(path.read_bytes()).hexdigest()


def attempt(label: str, exe: Path, core: Path, *extra: str) -> tuple[str, str, int, str, str]:
    before = (digest(exe), digest(core))
    result = subprocess.run([sys.executable, "-m", "tui", str(exe), str(core), "--report", "json", *extra],
                            capture_output=True, text=True, timeout=300, cwd=ROOT)
    if result.returncode == 0:
        crash = json.loads(result.stdout)["crash"]
        frame = crash.get("frame") or {}
        where = f"{Path(frame.get('file', '?')).name}:{frame.get('line', '?')} {frame.get('function', '')}"
        warnings = json.loads(result.stdout).get("warnings") or []
        message = crash["message"] or ""
        if not message.startswith(crash["kind"] + ":"):  # Go's own text already says "runtime error: ..."
            message = f"{crash['kind']}: {message}".rstrip(": ")
        goroutine = "no goroutine (system stack)" if crash["goroutine"] is None else f"goroutine {crash['goroutine']}"
        seen = f"{message} — {goroutine} at {where}"
        if warnings:
            seen += f" (warning: {warnings[0][:80]})"
    else:
        lines = result.stderr.strip().splitlines()
        seen = lines[0] if len(lines) == 1 else f"{len(lines)} lines on stderr: {lines[:1]}"
    left = [pid for path in (exe, core) for pid in dlv_processes_for(path, names=("dlv", "gdb"))]
    changed = (digest(exe), digest(core)) != before
    return label, seen.replace("|", "\\|"), result.returncode, "yes" if left else "no", "yes" if changed else "no"


def bad_inputs(cores, scratch: Path):
    good = cores["goroutine_panic"]
    text = scratch / "notes.txt"
    text.write_text("package main\n")
    empty = scratch / "empty.core"
    empty.write_bytes(b"")
    cut = scratch / "cut.core"
    cut.write_bytes(good.core.read_bytes()[: 1 << 20])
    gz = scratch / "core.gz"
    gz.write_bytes(gzip.compress(good.core.read_bytes(), compresslevel=1))
    zst = scratch / "core.zst"
    zst.write_bytes(b"\x28\xb5\x2f\xfd" + good.core.read_bytes()[:4096])
    stripped = scratch / "stripped"
    subprocess.run(["go", "build", "-ldflags=-s -w", "-o", str(stripped), "."], cwd=good.source.parent,
                   check=True, env=dict(os.environ, GOTOOLCHAIN="local", GOFLAGS="-mod=mod"))
    yield "executable missing", scratch / "nope", good.core
    yield "core missing", good.exe, scratch / "nocore"
    yield "executable is a text file", text, good.core
    yield "core is a text file", good.exe, text
    yield "core is empty", good.exe, empty
    yield "core is a directory", good.exe, scratch
    yield "executable given as the core", good.exe, good.exe
    yield "core truncated to 1 MiB (ulimit -c)", good.exe, cut
    yield "core gzip-compressed", good.exe, gz
    yield "core zstd-compressed (systemd-coredump)", good.exe, zst
    yield "stripped executable", stripped, good.core
    yield "core of another executable", cores["nil_deref"].exe, good.core


def main() -> None:
    cores = all_cores()  # of the toolchain GOCORE_TOOLCHAIN names (tests/toolchains.py)
    # Every run opens them with that toolchain's dlv.
    os.environ["GOCORE_TUI_DLV"] = str(next(iter(cores.values())).dlv)
    rows = []
    for name, fixture in sorted(cores.items()):
        rows.append(attempt(f"crash: {name}", fixture.exe, fixture.core, "--no-gdb"))
    with tempfile.TemporaryDirectory(prefix="gocore-trust-") as scratch:
        for label, exe, core in bad_inputs(cores, Path(scratch)):
            rows.append(attempt(label, exe, core, "--no-gdb"))
        good = cores["goroutine_panic"]
        rows.append(attempt("core of another executable, --force", cores["nil_deref"].exe, good.core,
                            "--no-gdb", "--force"))
        rows.append(attempt("dlv not found (--dlv /nonexistent)", good.exe, good.core, "--dlv", "/nonexistent/dlv"))
        rows.append(attempt("with gdb (comparison on)", good.exe, good.core))
    print("| input | what the user saw | exit | dlv/gdb left | input changed |")
    print("| --- | --- | --- | --- | --- |")
    for label, seen, code, left, changed in rows:
        print(f"| {label} | {seen} | {code} | {left} | {changed} |")


if __name__ == "__main__":
    main()
