"""gdb on the same core, for the GDB-vs-Delve comparison.

Two batch runs: plain gdb (what a developer gets by default: `bt` of the
crashing thread, `info threads`), and gdb with Go's runtime-gdb.py loaded
from the target's GOROOT (`info goroutines`, `goroutine N bt`). Batch mode
turns off paging and styling; the parsers in parse/gdb.py read the output.
"""

from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..model import Frame, GdbRun
from ..parse.gdb import fold_noise, parse_backtrace, parse_goroutines, parse_threads, python_errors
from .batch import run_batch

# arm64 and cgo cores can make gdb unwind runtime.sigtramp forever.
MAX_FRAMES = 64
TIMEOUT = 30.0
INSTALL_HINT = "install it with `apt-get install gdb` (or your system's package manager)"


def find_gdb() -> str | None:
    return shutil.which("gdb")


def runtime_gdb_script(goroot: str | None) -> Path | None:
    """Go's gdb extension, from the target's GOROOT as DWARF names it."""
    for root in filter(None, (goroot, os.environ.get("GOROOT"), "/usr/local/go", "/usr/lib/go")):
        script = Path(root) / "src" / "runtime" / "runtime-gdb.py"
        if script.is_file():
            return script
    return None


def goroot_from_frames(frames: tuple[Frame, ...]) -> str | None:
    """/usr/local/go from /usr/local/go/src/runtime/proc.go."""
    for frame in frames:
        marker = "/src/runtime/"
        if marker in frame.file:
            return frame.file.split(marker, 1)[0]
    return None


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["TERM"] = "dumb"
    return env


def run_gdb(executable: str, core: str, goroutine_id: int | None, goroot: str | None = None,
            gdb: str | None = None, timeout: float = TIMEOUT) -> GdbRun:
    gdb = gdb or find_gdb()
    if not gdb:
        return GdbRun(error=f"gdb not found: {INSTALL_HINT}")
    base = [gdb, "-nx", "-q", "-batch"]
    plain = base + ["-ex", f"bt {MAX_FRAMES}", "-ex", "info threads", "--", executable, core]
    script = runtime_gdb_script(goroot)
    with ThreadPoolExecutor(max_workers=2) as pool:
        plain_run = pool.submit(run_batch, plain, timeout, _env())
        go_run = None
        if script is not None:
            go_cmd = base + ["-iex", f"add-auto-load-safe-path {script.parent}", "-ex", f"source {script}",
                             "-ex", "info goroutines"]
            # The crashing goroutine runs on the thread gdb already shows; a
            # parked one (main, goroutine 1) is where runtime-gdb.py fails on
            # a core ("You can't do that without a process to debug").
            for gid in dict.fromkeys(g for g in (goroutine_id, 1) if g is not None):
                go_cmd += ["-ex", f"goroutine {gid} bt {MAX_FRAMES}"]
            go_run = pool.submit(run_batch, go_cmd + ["--", executable, core], timeout, _env())
        plain_result = plain_run.result()
        go_result = go_run.result() if go_run else None
    return gdb_run_from_outputs(
        plain_result.output, go_output=go_result.output if go_result else "",
        seconds=max(plain_result.seconds, go_result.seconds if go_result else 0.0),
        timed_out=plain_result.timed_out or bool(go_result and go_result.timed_out),
        runtime_gdb=str(script) if script else "",
    )


def gdb_run_from_outputs(plain_output: str, go_output: str = "", seconds: float = 0.0, timed_out: bool = False,
                         runtime_gdb: str = "") -> GdbRun:
    """What gdb printed -> GdbRun (pure: also used on recorded transcripts)."""
    frames, stopped = parse_backtrace(plain_output)
    plain_folded, plain_noise = fold_noise(plain_output)
    go_folded, go_noise = fold_noise(go_output)
    return GdbRun(
        frames=frames,
        stopped_early=stopped or timed_out,
        threads=parse_threads(plain_output),
        goroutines=parse_goroutines(go_output),
        goroutine_bt_errors=python_errors(go_output),
        plain_output=plain_output,
        go_output=go_output,
        seconds=seconds,
        timed_out=timed_out,
        runtime_gdb=runtime_gdb,
        plain_folded=plain_folded,
        go_folded=go_folded,
        folded_lines=plain_noise + go_noise,
    )
