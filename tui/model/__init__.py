"""The debugger's world as frozen values.

Everything the parsers produce and the widgets show is one of these
dataclasses. Nothing here does I/O or knows about Delve's text formats.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import Mapping

RUNTIME_PREFIXES = ("runtime.", "runtime/", "internal/runtime/")


# Go's words for a g's status (runtime/traceback.go gStatusStrings, by
# runtime2.go's _G numbers), and the statuses whose wait reason Go prints
# instead (_Gwaiting, and Go 1.26's _Gleaked).
GO_STATUS_WORDS = {0: "idle", 1: "runnable", 2: "running", 3: "syscall", 4: "waiting", 6: "dead", 8: "copystack",
                   9: "preempted", 10: "leaked", 11: "waiting for cgo callback"}
STATUSES_WITH_REASON = frozenset({4, 10})
STATUS_SCAN = 0x1000


def status_word(status: int) -> str:
    """What goroutineheader prints for a g's atomicstatus: its word, and
    ` (scan)` while the GC holds the scan bit; `???` past the table."""
    word = GO_STATUS_WORDS.get(status & ~STATUS_SCAN, "???")
    return f"{word} (scan)" if status & STATUS_SCAN else word


def is_runtime_function(function: str) -> bool:
    """True for functions of the Go runtime, which users rarely care about."""
    return function.startswith(RUNTIME_PREFIXES) or function == "???"


@dataclass(frozen=True, slots=True)
class Location:
    """A place in the program: file:line in function.

    Its hash is computed once: 100k goroutines' stacks are tuples of a few
    hundred Locations, hashed over and over when they are grouped."""

    file: str
    line: int
    function: str
    _hash: int = field(default=0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash((self.file, self.line, self.function)))

    def __hash__(self) -> int:
        return self._hash

    @property
    def is_known(self) -> bool:
        return bool(self.file) and self.line > 0

    def short(self) -> str:
        base = self.file.rsplit("/", 1)[-1] if self.file else "?"
        return f"{base}:{self.line}"

    def __str__(self) -> str:
        return f"{self.file}:{self.line} {self.function}"


@dataclass(frozen=True, slots=True)
class Goroutine:
    """One line of `goroutines`.

    id is None for Delve's `Goroutine (unreadable ...)` lines.
    location is the label Delve printed (User location by default).
    wait_reason is empty when the goroutine was running or runnable (Go
    prints a wait reason for a waiting goroutine only: one in a system call
    is `syscall` whatever its g.waitreason says).
    go/start are the Go-statement and Start locations, known when the list
    came from Delve's API (the paged listing) or the core file.
    status is Go's word for the g's status (`runnable`, `running`,
    `syscall`, `waiting`, `copystack`, `preempted` ..., `(scan)` after it
    while the GC scans it), as goroutineheader prints it.
    parent: the goroutine whose go statement started it (g.parentGoid, Go
    1.21+; None when not known).
    """

    id: int | None
    location: Location | None
    pc: int = 0
    wait_reason: str = ""
    wait_since: int | None = None
    thread: int | None = None
    selected: bool = False
    unreadable: str = ""
    go: Location | None = None
    start: Location | None = None
    status: str = ""
    # Its index in runtime.allgs, when known (the native listing): dlv can
    # be pointed straight at it instead of searching allgs from the start.
    slot: int | None = None
    parent: int | None = None

    @property
    def state(self) -> str:
        if self.unreadable:
            return "unreadable"
        if self.wait_reason:
            return self.wait_reason + (" (scan)" if self.status.endswith(" (scan)") else "")
        if self.status:
            return self.status
        return "running" if self.thread is not None else "runnable"

    @property
    def created_by(self) -> Location | None:
        """Go's `created by F in goroutine N` (N: parent): the go statement,
        None for goroutine 1 (the runtime started it) or an unknown one."""
        if self.id == 1 or self.go is None or not self.go.is_known:
            return None
        return self.go

    def signature(self) -> tuple:
        """What goroutines of one bucket share: where they are, where they
        were started, and what they wait for."""
        return (self.location, self.go, self.start, self.wait_reason)

    @property
    def is_runtime(self) -> bool:
        return self.location is None or is_runtime_function(self.location.function)


# A goroutine's whole stack: (its id, its places, innermost first).
GoroutineStack = tuple[int, tuple[Location, ...]]


@dataclass(frozen=True)
class Frame:
    """One frame of a backtrace. error is set for Delve's `error: ...` frames;
    own says it is the program's own code (analysis/owncode.py), the rest is
    dimmed."""

    index: int
    pc: int
    function: str
    file: str
    line: int
    error: str = ""
    own: bool = False
    # In a backtrace not numbered as Delve numbers it (Backtrace.indexed
    # false): the number Delve's `frame N` gives this frame, None when
    # Delve has no such frame (C code it could not unwind, a frame it skipped).
    delve_index: int | None = None

    @property
    def location(self) -> Location:
        return Location(self.file, self.line, self.function)

    @property
    def is_runtime(self) -> bool:
        return is_runtime_function(self.function)

    @property
    def is_c(self) -> bool:
        """A frame of C code (cgo): Delve names C functions `C.name`."""
        return self.function.startswith("C.")

    @property
    def is_cgo_wrapper(self) -> bool:
        """cmd/cgo's generated Go side of a C call (main._Cfunc_name)."""
        return "._Cfunc_" in self.function

    @property
    def in_runtime_source(self) -> bool:
        """Code of the runtime's own directory, whatever its package name
        (time.Sleep lives in runtime/time.go)."""
        return _RUNTIME_SOURCE.search(self.file) is not None


_RUNTIME_SOURCE = re.compile(r"(^|/)src/runtime/[^/]+$")


@dataclass(frozen=True)
class Backtrace:
    """A goroutine's frames, innermost first. simple: unwound as the thread
    stood (Delve's `-mode simple`), whose frame indices are not those that
    `frame N` commands address."""

    goroutine_id: int | None
    frames: tuple[Frame, ...]
    truncated: bool = False
    simple: bool = False
    # frames[:own_from] are where the goroutine's thread stands above the
    # goroutine's own stack (inside a system call or C code, or dying on
    # the system stack), not frames Go prints for the goroutine: shown
    # dimmed and apart. frames[own_from:] are the stack Go printed.
    own_from: int = 0
    # Go's `created by F in goroutine N`: the go statement and N (None: not
    # known, or goroutine 1).
    created_by: Location | None = None
    creator: int | None = None
    # Frame.index is Delve's frame number (else each frame's delve_index is:
    # a backtrace read from the core file, numbered as shown).
    indexed: bool = True
    # Each signal that stopped a frame of it, read from the kernel's signal
    # frame: (index of the stopped frame, signo, si_code, the word after:
    # si_addr of a fault, si_pid | si_uid << 32 of a signal a process sent).
    signals: tuple[tuple[int, int, int, int], ...] = ()

    def signal_under(self, frame: Frame) -> tuple[int, int, int] | None:
        """(signo, si_code, word) of the first signal that stopped a frame below frame."""
        return next(((signo, code, word) for index, signo, code, word in self.signals if index > frame.index), None)

    @property
    def own_frames(self) -> tuple[Frame, ...]:
        """The goroutine's own frames, as Go printed its stack."""
        return self.frames[self.own_from:]

    def first_user_frame(self) -> Frame | None:
        """The faulting user frame: the first frame, from the top, outside runtime."""
        for frame in self.frames:
            if not (frame.is_runtime or frame.error or frame.in_runtime_source or frame.is_cgo_wrapper):
                return frame
        return None

    def first_own_frame(self) -> Frame | None:
        """The innermost frame of the program's own code (Frame.own), else
        the first frame outside the runtime."""
        return next((f for f in self.frames if f.own), None) or self.first_user_frame()

    def find(self, function: str) -> Frame | None:
        for frame in self.frames:
            if frame.function == function:
                return frame
        return None


# What Delve says of a variable the optimizer left without a location here.
_OPTIMIZED_AWAY = ("could not find loclist entry", "empty OP stack", "optimized out")


@dataclass(frozen=True)
class Variable:
    """A name = value line of `args`/`locals`, its value parsed into a tree.

    kind says which list it came from ("arg" or "local"); children hold the
    fields, elements or map entries of composite values, as far as Delve
    printed them (partial says it elided some: `...+2 more`, `[...]`, or a
    pointer it did not follow).
    """

    name: str
    value: str
    type: str = ""
    kind: str = "local"
    children: tuple["Variable", ...] = ()
    shadowed: bool = False
    # The Go expression that prints this value in its frame ("" when none,
    # e.g. a map entry), and whether Delve elided part of it.
    expr: str = ""
    partial: bool = False

    @property
    def unreadable(self) -> bool:
        return self.value.startswith("(unreadable")

    @property
    def optimized_away(self) -> bool:
        """Unreadable because the optimizer kept it nowhere at this PC (no
        location list entry, an empty DWARF expression), not because memory
        is missing."""
        return self.unreadable and any(word in self.value for word in _OPTIMIZED_AWAY)

    @property
    def expandable(self) -> bool:
        return bool(self.children) or (self.partial and bool(self.expr))


class CrashKind(str, Enum):
    PANIC = "panic"
    RUNTIME_ERROR = "runtime error"
    FATAL_ERROR = "fatal error"
    # A signal the runtime could not turn into a panic (a fault in C code).
    FATAL_SIGNAL = "fatal signal"
    # A core dumped from a live process (gdb's gcore): nothing crashed.
    NO_CRASH = "no crash"
    UNKNOWN = "unknown"


SIGNAL_NAMES = {
    1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP",
    6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL", 11: "SIGSEGV",
    13: "SIGPIPE", 15: "SIGTERM",
}


# What Go's runtime prints after the name (runtime/sigtab_linux_generic.go).
SIGNAL_DESCRIPTIONS = {
    4: "illegal instruction", 5: "trace trap", 6: "abort", 7: "bus error",
    8: "floating-point exception", 11: "segmentation violation",
}


def signal_name(number: int | None) -> str:
    if not number:
        return ""
    return SIGNAL_NAMES.get(number, f"signal {number}")


@dataclass(frozen=True)
class ChainLink:
    """One panic of a goroutine's chain, its value as Go printed it."""

    value: str
    recovered: bool = False
    repanicked: bool = False  # Go 1.25+: re-panicked with the same value after a recover
    goexit: bool = False  # a runtime.Goexit: Go prints nothing for it
    # What Go cannot print: the value itself where Go prints only its type
    # and address (`(main.T) 0x4a37b8`), as Delve reads it.
    detail: str = ""


HEADER_CUT_NOTE = "… (earlier lines lost: the runtime kept the last 512 bytes)"


@dataclass(frozen=True)
class Crash:
    """Why the program died, as far as the core tells.

    signal is the signal that killed the process (SIGABRT under
    GOTRACEBACK=crash); fault_signal the one that started a runtime error
    (SIGSEGV for a nil dereference), with fault_address.
    goroutine_id is None when the crash ran on a system stack (a deadlock).
    frame is the faulting user frame of focus_goroutine_id.
    """

    kind: CrashKind
    message: str
    signal: int | None
    goroutine_id: int | None
    focus_goroutine_id: int | None
    frame: Frame | None
    fault_signal: int | None = None
    fault_address: int | None = None
    # (pid, uid) of the process that sent the fatal signal (kill -ABRT):
    # a sent signal has no fault address.
    sender: tuple[int, int | None] | None = None
    # A fault in C code: the innermost C frame, and the Go function that
    # called into C (the caller of the cgo `_Cfunc_` wrapper).
    c_frame: Frame | None = None
    go_caller: Frame | None = None
    # The lines Go printed before the first goroutine, as it printed them
    # (no `[signal ...]` / `PC=` lines); the panic chain, oldest first; the
    # innermost frame outside the runtime, where it is not `frame` (your
    # code's innermost frame).
    header: tuple[str, ...] = ()
    # The runtime's 512-byte print backlog lost the header's first lines
    # (shown above what is left as HEADER_CUT_NOTE).
    header_cut: bool = False
    chain: tuple[ChainLink, ...] = ()
    raised_in: Frame | None = None

    @property
    def in_c(self) -> bool:
        return self.c_frame is not None

    @property
    def deadlock(self) -> bool:
        """The runtime's "all goroutines are asleep - deadlock!" (checkdead)."""
        return "all goroutines are asleep" in self.message or any("all goroutines are asleep" in line
                                                                   for line in self.header)

    def headline(self) -> str:
        text = self.kind.value
        if self.message:
            text += f": {self.message}"
        return text


@dataclass(frozen=True)
class Module:
    """A module line: `mod` or `dep`. replace is the `=>` line under it: a
    module, or a directory (path `../decoder`, version "" or `(devel)`)."""

    path: str
    version: str = ""
    sum: str = ""
    replace: "Module | None" = None


@dataclass(frozen=True)
class Vcs:
    """The build settings vcs, vcs.revision, vcs.time (RFC 3339, as stored)
    and vcs.modified (None when absent)."""

    system: str
    revision: str = ""
    time: str = ""
    modified: bool | None = None


@dataclass(frozen=True)
class BuildInfo:
    """go_version as the linker stored it (`go1.26.8`, maybe with ` X:exp`);
    path the main package's import path; settings the `build` lines in
    order (a key given twice keeps its last value): -buildmode, -compiler,
    -trimpath, -ldflags, -gcflags, -tags, CGO_ENABLED, GOOS, GOARCH,
    GOAMD64, DefaultGODEBUG, vcs.* ... A binary built without modules has
    only go_version."""

    go_version: str
    path: str = ""
    main: Module = Module("")
    deps: tuple[Module, ...] = ()
    settings: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    vcs: Vcs | None = None

    @property
    def trimpath(self) -> bool:
        return self.settings.get("-trimpath") == "true"

    @property
    def target(self) -> str:
        """GOOS/GOARCH, "" when not recorded (before Go 1.18)."""
        goos, goarch = self.settings.get("GOOS", ""), self.settings.get("GOARCH", "")
        return f"{goos}/{goarch}" if goos and goarch else ""

    def module_of(self, package: str) -> Module | None:
        """The module (main or a dependency) that holds an import path.
        "main" (how symbols name the main package, whatever its import
        path `path`) is in the main module."""
        if package == "main":
            package = self.path
        best: Module | None = None
        for module in (self.main, *self.deps):
            if module.path and (package == module.path or package.startswith(module.path + "/")):
                if best is None or len(module.path) > len(best.path):
                    best = module
        return best

    def summary(self) -> str:
        """One line for the UI: what the binary is and how it was built."""
        parts = [self.path or "(no module info)"]
        if self.main.version and self.main.version != "(devel)":
            parts[0] += f" {self.main.version}"
        parts.append(self.go_version)
        if self.target:
            parts.append(self.target)
        for key in ("-buildmode", "-trimpath", "CGO_ENABLED", "-gcflags", "-ldflags", "-tags"):
            value = self.settings.get(key)
            if value is None or (key == "-buildmode" and value == "exe"):
                continue
            parts.append(key if value == "true" and key.startswith("-") else f"{key}={value}")
        if self.vcs is not None:
            vcs = f"{self.vcs.system} {self.vcs.revision[:12]}".rstrip()
            if self.vcs.modified:
                vcs += " (modified)"
            parts.append(vcs)
        return ", ".join(parts)


@dataclass(frozen=True)
class Target:
    """The pair under inspection. build is the executable's own build info
    (None when it has none): its main module is "your code"."""

    executable: str
    core: str
    go_version: str = ""
    delve_version: str = ""
    build: BuildInfo | None = None

    @property
    def main_module(self) -> str:
        return self.build.path if self.build is not None else ""


@dataclass(frozen=True)
class SourceExcerpt:
    """Lines around a location, as read from disk (or why they were not)."""

    path: str
    line: int
    first_line: int = 1
    lines: tuple[str, ...] = ()
    missing_reason: str = ""


@dataclass(frozen=True)
class FrameState:
    """What the panes show for one selected frame."""

    goroutine_id: int | None
    frame_index: int
    args: tuple[Variable, ...] = ()
    locals: tuple[Variable, ...] = ()
    error: str = ""

    @property
    def optimized(self) -> bool:
        """The optimizer has been here: some variable has no location at this PC."""
        return any(v.optimized_away for v in (*self.args, *self.locals))


@dataclass(frozen=True)
class Snapshot:
    """Everything the first screen shows, in one value (also the report's source)."""

    target: Target
    crash: Crash
    goroutines: tuple[Goroutine, ...]
    backtrace: Backtrace
    frame: FrameState
    warnings: tuple[str, ...] = field(default=())
    # The crashing thread's stack when it is not `backtrace` (a crash on a
    # system stack); what gdb's `bt` walks.
    crash_backtrace: Backtrace | None = None
    # Seconds Delve took from spawn to this snapshot.
    seconds: float = 0.0

    @property
    def crash_stack(self) -> Backtrace:
        return self.crash_backtrace or self.backtrace


@dataclass(frozen=True)
class GdbGoroutine:
    """One line of runtime-gdb.py's `info goroutines`. selected is its `*`
    (the goroutine has an M: it is on a thread); wait_reason is what the
    line says the goroutine waits for, after the function in brackets as
    Delve prints it (runtime-gdb.py, Go 1.19 to 1.26, prints none)."""

    id: int
    state: str
    function: str
    selected: bool = False
    wait_reason: str = ""


@dataclass(frozen=True)
class GdbStack:
    """A backtrace gdb printed: of an OS thread (`thread apply all bt`:
    thread is gdb's number, lwp the kernel's thread id) or of a goroutine
    (`goroutine N bt`, runtime-gdb.py). error is what gdb printed instead
    of frames (on a core: "You can't do that without a process to debug.")."""

    frames: tuple[Frame, ...] = ()
    thread: int | None = None
    lwp: int | None = None
    goroutine_id: int | None = None
    error: str = ""

    @property
    def source(self) -> str:
        """The command that printed it, as the user would type it."""
        if self.goroutine_id is not None:
            return f"goroutine {self.goroutine_id} bt"
        lwp = f" (LWP {self.lwp})" if self.lwp is not None else ""
        return f"thread {self.thread}{lwp}: bt"


@dataclass(frozen=True)
class GdbValue:
    """One `name = value` line of gdb's `info args` / `info locals`.
    problem says why the value is not a Go value ("raw interface",
    "optimized out", "error"), "" when it is one."""

    name: str
    value: str
    kind: str = "local"
    problem: str = ""


@dataclass(frozen=True)
class GdbFrameValues:
    """gdb's `frame N`, `info args`, `info locals` in the frame that matches
    Delve's faulting frame. frame is the frame gdb said it selected (None
    when it selected none); error why there are no values ("No frame at
    level 11.", or that gdb's backtrace has no such frame)."""

    frame: Frame | None = None
    args: tuple[GdbValue, ...] = ()
    locals: tuple[GdbValue, ...] = ()
    error: str = ""


@dataclass(frozen=True)
class GdbRun:
    """What gdb could tell about the core. error is set when gdb could not run."""

    frames: tuple[Frame, ...] = ()
    stopped_early: bool = False
    threads: int = 0
    goroutines: tuple[GdbGoroutine, ...] = ()
    goroutine_bt_errors: tuple[str, ...] = ()
    plain_output: str = ""
    go_output: str = ""
    seconds: float = 0.0
    timed_out: bool = False
    runtime_gdb: str = ""
    error: str = ""
    # The outputs without `[New LWP n]` and warning lines, and how many
    # lines were folded away (shown as a count, never silently dropped).
    plain_folded: str = ""
    go_folded: str = ""
    folded_lines: int = 0
    # The second run (it needs what the first printed): `goroutine N bt`
    # for the goroutines gdb listed, and the faulting frame's values.
    detail_output: str = ""
    detail_folded: str = ""
    # `thread apply all bt`, one stack a thread; `goroutine N bt`, one a try.
    thread_stacks: tuple[GdbStack, ...] = ()
    goroutine_stacks: tuple[GdbStack, ...] = ()
    # Goroutines gdb listed but not tried (more than the runner tries).
    goroutines_untried: int = 0
    values: GdbFrameValues | None = None


@dataclass(frozen=True)
class Instruction:
    """One line of Delve's `disassemble`."""

    pc: int
    location: str  # file:line, as Delve prints it
    text: str  # the instruction, Intel syntax
    current: bool = False  # Delve's `=>`: where the thread stopped
