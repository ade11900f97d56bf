"""gdb on the same core, for the GDB-vs-Delve comparison.

Batch runs: plain gdb (what a developer gets by default: `bt` of the
crashing thread, `info threads`), and gdb with Go's runtime-gdb.py loaded
from the target's GOROOT (`info goroutines`, `thread apply all bt`, then
`goroutine N bt` for each goroutine it listed and the faulting frame's
`info args` / `info locals`). Batch mode turns off paging and styling; gdb
echoes a marker line before each command read on its own, and the parsers
in parse/gdb.py read the output.
"""

from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..model import Frame, GdbFrameValues, GdbRun
from ..parse.gdb import (MARKER, echo_marker, fold_noise, parse_backtrace, parse_frame_values, parse_goroutine_stack,
                         parse_goroutines, parse_thread_stacks, parse_threads, python_errors, section, sections)
from .batch import run_batch

# arm64 and cgo cores can make gdb unwind runtime.sigtramp forever.
MAX_FRAMES = 64
# `goroutine N bt` is tried for this many of the goroutines gdb lists (each
# try walks runtime.allgs in Python: a core of 100k goroutines would take hours).
MAX_GOROUTINE_BTS = 200
# The sections of the runs' output (parse/gdb.py's markers).
GOROUTINES, THREADS, GOROUTINE, FRAME, ARGS, LOCALS = "info goroutines", "threads", "goroutine", "frame", "args", "locals"
TIMEOUT = 30.0
INSTALL_HINT = "install it with `apt-get install gdb` (or your system's package manager)"


def section_command(name: str) -> str:
    """The gdb command whose output the section `name` holds."""
    kind, _, argument = name.partition(" ")
    fixed = {GOROUTINES: "info goroutines", THREADS: f"thread apply all bt {MAX_FRAMES}", ARGS: "info args",
             LOCALS: "info locals"}
    if name in fixed:
        return fixed[name]
    if kind == FRAME:
        return f"frame {argument}"
    if kind == GOROUTINE:
        return f"goroutine {argument} bt {MAX_FRAMES}"
    return name


def _marked(name: str) -> list[str]:
    """gdb's arguments for one section: its marker, then its command."""
    return ["-ex", echo_marker(name), "-ex", section_command(name)]


def as_transcript(output: str) -> str:
    """gdb's output as a user would have seen it typing the commands: each
    section's marker shown as the command that printed it."""
    return "\n".join(f"(gdb) {section_command(line[len(MARKER):].strip())}" if line.startswith(MARKER) else line
                     for line in output.splitlines())


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


def faulting_frame_index(frames: tuple[Frame, ...], faulting: Frame | None) -> int | None:
    """gdb's number of the frame that is Delve's faulting frame: the same
    PC, else the innermost frame of the same function (gdb prints no PC
    for a frame at a line start). None when gdb's backtrace has none."""
    if faulting is None:
        return None
    for frame in frames:
        if faulting.pc and frame.pc == faulting.pc:
            return frame.index
    return next((frame.index for frame in frames if frame.function == faulting.function), None)


def run_gdb(executable: str, core: str, goroutine_id: int | None, goroot: str | None = None,
            gdb: str | None = None, timeout: float = TIMEOUT, faulting: Frame | None = None) -> GdbRun:
    """Two rounds of batch runs. First, beside each other: plain gdb (`bt`,
    `info threads`) and gdb with runtime-gdb.py (`info goroutines`, `thread
    apply all bt`). Then, with what those printed: `goroutine N bt` for
    every goroutine gdb listed (up to MAX_GOROUTINE_BTS), and `frame N`,
    `info args`, `info locals` in gdb's frame of Delve's faulting frame."""
    gdb = gdb or find_gdb()
    if not gdb:
        return GdbRun(error=f"gdb not found: {INSTALL_HINT}")
    base = [gdb, "-nx", "-q", "-batch"]
    plain = base + ["-ex", f"bt {MAX_FRAMES}", "-ex", "info threads", "--", executable, core]
    script = runtime_gdb_script(goroot)
    go_base = base + (["-iex", f"add-auto-load-safe-path {script.parent}", "-ex", f"source {script}"] if script else [])
    with ThreadPoolExecutor(max_workers=2) as pool:
        plain_run = pool.submit(run_batch, plain, timeout, _env())
        go_cmd = list(go_base)
        if script is not None:
            go_cmd += _marked(GOROUTINES)
        go_cmd += _marked(THREADS)
        go_run = pool.submit(run_batch, go_cmd + ["--", executable, core], timeout, _env())
        plain_result, go_result = plain_run.result(), go_run.result()
    detail = list(go_base)
    # The values first: on a core with many goroutines the walks below can
    # run into the timeout, and what was printed before it is kept.
    index = faulting_frame_index(parse_backtrace(plain_result.output)[0], faulting)
    if index is not None:
        detail += _marked(f"{FRAME} {index}") + _marked(ARGS) + _marked(LOCALS)
    if script is not None:
        for goroutine in parse_goroutines(go_result.output)[:MAX_GOROUTINE_BTS]:
            detail += _marked(f"{GOROUTINE} {goroutine.id}")
    detail_result = run_batch(detail + ["--", executable, core], timeout, _env()) if len(detail) > len(go_base) else None
    return gdb_run_from_outputs(
        plain_result.output, go_output=go_result.output,
        seconds=max(plain_result.seconds, go_result.seconds) + (detail_result.seconds if detail_result else 0.0),
        timed_out=plain_result.timed_out or go_result.timed_out or bool(detail_result and detail_result.timed_out),
        runtime_gdb=str(script) if script else "",
        detail_output=detail_result.output if detail_result else "",
        faulting=faulting,
    )


def gdb_run_from_outputs(plain_output: str, go_output: str = "", seconds: float = 0.0, timed_out: bool = False,
                         runtime_gdb: str = "", detail_output: str = "", faulting: Frame | None = None) -> GdbRun:
    """What gdb printed -> GdbRun (pure: also used on recorded transcripts).

    faulting is Delve's faulting frame, only to say why there are no values
    when gdb's backtrace has no frame of it."""
    frames, stopped = parse_backtrace(plain_output)
    plain_folded, plain_noise = fold_noise(plain_output)
    go_folded, go_noise = fold_noise(go_output)
    detail_folded, detail_noise = fold_noise(detail_output)
    goroutines = parse_goroutines(section(go_output, GOROUTINES) or go_output)
    threads_text = section(go_output, THREADS)
    goroutine_stacks = tuple(parse_goroutine_stack(int(name.split()[1]), text)
                             for name, text in sections(detail_output) if name.startswith(GOROUTINE + " "))
    return GdbRun(
        frames=frames,
        stopped_early=stopped or timed_out,
        threads=parse_threads(plain_output),
        goroutines=goroutines,
        # Each failed `goroutine N bt` prints the same two lines: once each.
        goroutine_bt_errors=tuple(dict.fromkeys(python_errors(go_output + "\n" + detail_output))),
        plain_output=plain_output,
        go_output=as_transcript(go_output),
        seconds=seconds,
        timed_out=timed_out,
        runtime_gdb=runtime_gdb,
        plain_folded=plain_folded,
        go_folded=as_transcript(go_folded),
        folded_lines=plain_noise + go_noise + detail_noise,
        detail_output=as_transcript(detail_output),
        detail_folded=as_transcript(detail_folded),
        thread_stacks=parse_thread_stacks(threads_text) if threads_text is not None else (),
        goroutine_stacks=goroutine_stacks,
        goroutines_untried=max(0, len(goroutines) - len(goroutine_stacks)) if detail_output else 0,
        values=_values(detail_output, frames, stopped, faulting),
    )


def _values(detail_output: str, frames: tuple[Frame, ...], stopped: bool, faulting: Frame | None) -> GdbFrameValues | None:
    for name, text in sections(detail_output):
        if name.startswith(FRAME + " "):
            return parse_frame_values(text, section(detail_output, ARGS) or "", section(detail_output, LOCALS) or "")
    if faulting is None:
        return None
    # Not asked: plain gdb's backtrace of the crashing thread has no such frame.
    return GdbFrameValues(error=f"gdb's backtrace of the crashing thread has no frame of {faulting.function}"
                          + (" (it stops at ??)" if stopped else ""))
