"""Parsers for what `gdb -batch` prints on a Go core (gdb 13, runtime-gdb.py).

Pure functions over the whole batch output; no I/O.
"""

from __future__ import annotations

import re
from ..model import Frame, GdbGoroutine
from .names import go_name

# Backtrace lines. Variants:
#   "#0  runtime.raise () at /usr/local/go/src/runtime/sys_linux_amd64.s:154"   (no PC: at a line start)
#   "#1  0x00000000004683c5 in runtime.dieFromSignal (sig=6) at /x/signal_unix.go:973"
#   "#3  0x...e5 in runtime.sigtrampgo (sig=0, ctx=0x48bf21 <runtime.raise+33>) at /x/signal_unix.go:433"
#   "#5  <signal handler called>"
#   "#6  0x00000000004677e0 in ?? ()"
#   "#7  0x00007f.. in __libc_start_main () from /lib/x86_64-linux-gnu/libc.so.6"
_FRAME = re.compile(r"^#(?P<index>\d+)\s+(?:0x(?P<pc>[0-9a-f]+) in )?(?P<func>\S+) \((?P<args>.*)\)(?P<where>.*)$")
_SIGNAL_FRAME = re.compile(r"^#(?P<index>\d+)\s+<signal handler called>")
_AT = re.compile(r" at (?P<file>.+):(?P<line>\d+)\s*$")
# "* 1    LWP 6530          runtime.raise () at ..."
_THREAD = re.compile(r"^(?P<sel>[* ])\s*(?P<id>\d+)\s+(?:LWP|Thread) ")
# runtime-gdb.py's `info goroutines`: "* 18 running  runtime.systemstack_switch"
_GOROUTINE = re.compile(r"^(?P<sel>[* ])\s*(?P<id>\d+) (?P<state>\w+)\s+(?P<func>\S+)\s*$")
# Lines gdb prints that say nothing about the program.
_NOISE = (
    re.compile(r"^\[New LWP \d+\]$"),
    re.compile(r"^\[New Thread .*\]$"),
    re.compile(r"^warning: Unexpected size of section"),
    re.compile(r"^warning: "),
    re.compile(r"^Loading Go Runtime support\.$"),
    # the rest of gdb's "auto-loading has been declined" advice
    re.compile(r"^To (enable execution of this file|completely disable this security protection) add$"),
    re.compile(r"^\s+(add-auto-load-safe-path|set auto-load safe-path) "),
    re.compile(r"^line to your configuration file "),
    re.compile(r"^For more information about this security protection see the$"),
    re.compile(r'^"Auto-loading safe path" section in the GDB manual'),
    re.compile(r'^\s+info "\(gdb\)Auto-loading safe path"$'),
)
SIGNAL_HANDLER = "<signal handler called>"


def parse_backtrace(output: str) -> tuple[tuple[Frame, ...], bool]:
    """All `#N` frame lines -> (frames, stopped_early).

    stopped_early is True when gdb said the backtrace stopped (corrupt
    stack) or ended in an unknown `??` frame instead of a known outermost one.
    """
    frames: list[Frame] = []
    stopped = False
    for line in output.splitlines():
        if line.startswith("Backtrace stopped"):
            stopped = True
            continue
        match = _SIGNAL_FRAME.match(line)
        if match:
            frames.append(Frame(int(match["index"]), 0, SIGNAL_HANDLER, "", 0))
            continue
        match = _FRAME.match(line)
        if not match:
            continue
        at = _AT.search(match["where"])
        frames.append(Frame(
            index=int(match["index"]),
            pc=int(match["pc"], 16) if match["pc"] else 0,
            function="???" if match["func"] == "??" else go_name(match["func"]),
            file=at["file"] if at else "",
            line=int(at["line"]) if at else 0,
        ))
    if frames and frames[-1].function == "???":
        stopped = True
    return _longest_run(frames), stopped


def _longest_run(frames: list[Frame]) -> tuple[Frame, ...]:
    """gdb prints frame #0 alone when it loads a core, then again with `bt`;
    the backtrace is the longest run that starts at #0."""
    runs: list[list[Frame]] = []
    for frame in frames:
        if frame.index == 0 or not runs:
            runs.append([])
        runs[-1].append(frame)
    return tuple(max(runs, key=len)) if runs else ()


def parse_threads(output: str) -> int:
    """The number of `info threads` rows (OS threads, LWPs)."""
    return sum(1 for line in output.splitlines() if _THREAD.match(line))


def parse_goroutines(output: str) -> tuple[GdbGoroutine, ...]:
    return tuple(
        GdbGoroutine(int(m["id"]), m["state"], m["func"], m["sel"] == "*")
        for m in map(_GOROUTINE.match, output.splitlines())
        if m and m["state"] in ("running", "runnable", "waiting", "syscall", "dead", "idle", "moribund", "enqueue", "copystack")
    )


def python_errors(output: str) -> tuple[str, ...]:
    """What runtime-gdb.py's commands failed with, as gdb printed it."""
    return tuple(line.strip() for line in output.splitlines() if line.startswith(("Python Exception", "Error occurred in Python")))


def is_noise(line: str) -> bool:
    return any(pattern.match(line) for pattern in _NOISE)


def fold_noise(output: str) -> tuple[str, int]:
    """The output without noise lines, and how many were folded away."""
    kept, folded = [], 0
    for line in output.splitlines():
        if is_noise(line):
            folded += 1
        else:
            kept.append(line)
    return "\n".join(kept), folded
