"""Parsers for what `gdb -batch` prints on a Go core (gdb 13, runtime-gdb.py).

Pure functions over the whole batch output; no I/O.
"""

from __future__ import annotations

import re
from ..model import Frame, GdbFrameValues, GdbGoroutine, GdbStack, GdbValue
from .names import print_name

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
# runtime-gdb.py's `info goroutines`: "* 18 running  runtime.systemstack_switch",
# "  1 waiting  runtime.gopark"; a wait reason after the function, in
# brackets as Delve prints it, is read too (no runtime-gdb.py up to Go 1.26 prints one).
_GOROUTINE = re.compile(r"^(?P<sel>[* ])\s*(?P<id>\d+) (?P<state>\w+)\s+(?P<func>\S+)(?:\s+\[(?P<reason>[^\]]*)\])?\s*$")
# `thread apply all bt` headers: "Thread 4 (LWP 12997):",
# "Thread 2 (Thread 0x7f3b2c9fe6c0 (LWP 6531)):"
_THREAD_HEADER = re.compile(r"^Thread (?P<number>\d+) \((?P<what>.*)\):$")
_LWP = re.compile(r"LWP (?P<lwp>\d+)")
# `info args` / `info locals`: "order = {ID = 1042, Customer = "ada"}",
# "~r0 = 0", "&x = 0xc000012345" (a variable that escaped to the heap)
_VALUE = re.compile(r"^(?P<name>[^\s=]+) = (?P<value>.*)$")
# What `info args` / `info locals` print instead of values.
_NO_VALUES = ("No arguments.", "No locals.")
# A failed command, as gdb prints it: "No frame at level 99.",
# "No symbol table info available.", "No frame selected.",
# "No frame for function "main.checkout"."
_GDB_ERROR = re.compile(r"^(No frame |No symbol table|No frame selected|Cannot access memory|"
                        r"You can't do that|No such goroutine)")
# Why a printed value is not a Go value.
#   raw interface: "{_type = 0x4c90c0, data = 0x4f09e8}" (any),
#                  "{tab = 0x4f1138 <go:itab.*errors.errorString,error>, data = 0xc0000140a0}" (error)
#   optimized out: "<optimized out>"
#   error:         "<error: Cannot access memory at address 0x8>"
_RAW_INTERFACE = re.compile(r"\{(_type|tab) = 0x[0-9a-f]+\b")
_VALUE_ERROR = re.compile(r"<error: |Cannot access memory")
# Where the runner had gdb `echo` a marker: the output of each command that
# is read on its own follows one ("@@gocore-tui goroutine 18").
MARKER = "@@gocore-tui "
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
    # a cgo binary: libthread_db's two lines
    re.compile(r"^\[Thread debugging using libthread_db enabled\]$"),
    re.compile(r'^Using host libthread_db library "'),
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
            function="???" if match["func"] == "??" else print_name(match["func"]),
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
        GdbGoroutine(int(m["id"]), m["state"], m["func"], m["sel"] == "*", (m["reason"] or "").strip())
        for m in map(_GOROUTINE.match, output.splitlines())
        if m and m["state"] in ("running", "runnable", "waiting", "syscall", "dead", "idle", "moribund", "enqueue", "copystack")
    )


def echo_marker(name: str) -> str:
    """The gdb command that prints the marker line of a section."""
    return f"echo {MARKER}{name}\\n"


def sections(output: str) -> tuple[tuple[str, str], ...]:
    """The output cut at marker lines: (name, text) in order. What came
    before the first marker (gdb's startup lines) is under ""."""
    found: list[tuple[str, list[str]]] = [("", [])]
    for line in output.splitlines():
        if line.startswith(MARKER):
            found.append((line[len(MARKER):].strip(), []))
        else:
            found[-1][1].append(line)
    return tuple((name, "\n".join(lines)) for name, lines in found)


def section(output: str, name: str) -> str | None:
    """The text of the first section of that name, None when there is none."""
    return next((text for found, text in sections(output) if found == name), None)


def parse_thread_stacks(output: str) -> tuple[GdbStack, ...]:
    """`thread apply all bt` -> one GdbStack a thread, in gdb's order."""
    stacks: list[GdbStack] = []
    header: re.Match | None = None
    lines: list[str] = []

    def close() -> None:
        if header is not None:
            lwp = _LWP.search(header["what"])
            stacks.append(GdbStack(parse_backtrace("\n".join(lines))[0], thread=int(header["number"]),
                                   lwp=int(lwp["lwp"]) if lwp else None))

    for line in output.splitlines():
        match = _THREAD_HEADER.match(line)
        if match:
            close()
            header, lines = match, []
        else:
            lines.append(line)
    close()
    return tuple(stacks)


def first_error(output: str) -> str:
    """What a failed command printed: runtime-gdb.py's Python error, or one
    of gdb's own; "" when none."""
    for line in output.splitlines():
        line = line.strip()
        if line.startswith("Error occurred in Python:"):
            return line.split(":", 1)[1].strip()
        if _GDB_ERROR.match(line):
            return line
    return ""


def parse_goroutine_stack(goroutine_id: int, output: str) -> GdbStack:
    """runtime-gdb.py's `goroutine N bt`: its frames, or what it failed with."""
    frames = parse_backtrace(output)[0]
    error = "" if frames else (first_error(output) or "no frames printed")
    return GdbStack(frames, goroutine_id=goroutine_id, error=error)


def value_problem(value: str) -> str:
    """Why gdb's printed value is not a Go value; "" when it is one."""
    if "<optimized out>" in value:
        return "optimized out"
    if _VALUE_ERROR.search(value):
        return "error"
    if _RAW_INTERFACE.search(value):
        return "raw interface"
    return ""


def parse_values(output: str, kind: str) -> tuple[tuple[GdbValue, ...], str]:
    """`info args` / `info locals` -> (values, error). A line that is not
    `name = ...` continues the value above it."""
    values: list[list[str]] = []
    for line in output.splitlines():
        stripped = line.strip()
        if not stripped or stripped in _NO_VALUES:
            continue
        if _GDB_ERROR.match(stripped):
            return (), stripped
        match = _VALUE.match(line)
        if match:
            values.append([match["name"], match["value"]])
        elif values:
            values[-1][1] += " " + stripped
    return tuple(GdbValue(name, value, kind, value_problem(value)) for name, value in values), ""


def parse_frame_values(frame_output: str, args_output: str, locals_output: str) -> GdbFrameValues:
    """`frame N`, `info args`, `info locals` -> the values of the frame gdb
    selected. When `frame N` failed, gdb prints the values of the frame it
    was already in: those are not taken."""
    frames = parse_backtrace(frame_output)[0]
    if not frames:
        return GdbFrameValues(error=first_error(frame_output) or "gdb selected no frame")
    args, args_error = parse_values(args_output, "arg")
    local_values, locals_error = parse_values(locals_output, "local")
    return GdbFrameValues(frames[0], args, local_values, args_error or locals_error)


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
