"""What a Go program printed on stderr when it died, parsed.

Go's runtime is the authority on what a crash says: a program run with
GOTRACEBACK=crash prints its own account (the panic chain or fatal error,
the signal, every goroutine's stack, register dumps) before the kernel
writes the core. parse_traceback() turns that text into frozen values so
the report can be compared with it. Formats of Go 1.19 through 1.26
(runtime/panic.go printpanics/throw/fatal, runtime/traceback.go,
runtime/signal_unix.go); each regex below lists the variants it accepts.

The text has three parts:

    noise     whatever the program itself wrote on stderr before dying
    header    Go's lines before the first stack: the chain (`panic: A`,
              `\\tpanic: B [recovered]`, `fatal error: ...`), `[signal ...]`,
              `SIGSEGV: ...` + `PC=...`, `runtime: ...` diagnostics
    stacks    `runtime stack:`, `goroutine N [...]:` blocks, register
              dumps, and the `-----` / `SIGQUIT: quit` dumps of other
              threads that GOTRACEBACK=crash asks for

Pure: no I/O. Raises ParseError only when the text holds no Go report;
lines no rule accepts are kept in GoTraceback.unparsed.

Where the text itself is ambiguous, the parser decides so:
- the report starts at the first line that begins like one of Go's (below);
  a line of the program's own starting so, not followed by stacks, would
  start the header early. A `panic:`/`fatal error:` line among the stacks
  starts the report anew (the program had logged a report and lived on);
- a stack starts only after a blank line: Go prints one before each, so a
  Go 1.19 panic value holding `goroutine 1 [running]:` (debug.Stack()) stays
  in the value, unless the value has a blank line before it too;
- a continuation line of a Go 1.23+ value that reads `panic: ...` after its
  tab is taken for the next link of the chain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable
from urllib.parse import unquote

from .errors import ParseError

# Lines at column 0 that begin Go's own report (the end of the noise):
#   "panic: boom"                                   printpanics
#   "fatal error: all goroutines are asleep - deadlock!"   throw/fatal
#   "runtime: goroutine stack exceeds 1000000000-byte limit"   diagnostics before a throw
#   "runtime: out of memory: cannot allocate 2147483648-byte block (3899392 in use)"
#   "runtime: g 1: unexpected return pc for main.f called from 0x4141414141414141"
#   "unexpected fault address 0xdead0"             sigpanic before throw("fault")
#   "SIGSEGV: segmentation violation", "SIGABRT: abort", "SIGQUIT: quit"   fatalsignal
#   "Signal 34"                                     fatalsignal, a signal without a name
_REPORT_START = re.compile(
    r"^(?:panic: |fatal error: |runtime: |unexpected fault address |SIG[A-Z0-9]+: |Signal \d+$)"
)

# A chain line of the header (printpanics, throw, fatal, printPreFatalDeferPanic):
#   "panic: boom"                         the oldest panic
#   "\tpanic: second"                     each later one, a tab first
#   "panic: boom [recovered]"             recovered, then another panic followed
#   "panic: boom [recovered, repanicked]" Go 1.25+: recovered and panicked again with the same value
#   "fatal error: concurrent map writes"  a throw
#   "\tfatal error: sync: unlock of unlocked mutex"   Go 1.2x: a fatal error while panicking
_CHAIN = re.compile(r"^(?P<tab>\t?)(?P<kind>panic|fatal error): (?P<text>.*)$")
# The suffix printpanics adds after a link's value (on its last line):
#   " [recovered]", " [recovered, repanicked]" (" [recovered, reraised]" in a draft of Go 1.25)
_RECOVERED = re.compile(r" \[recovered(?P<again>, (?:repanicked|reraised))?\]$")

# dopanic_m's note of the signal that started a runtime error or fault:
#   "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x45f18e]"
#   "[signal SIGSEGV: segmentation violation code=0xfffffffffffffffa addr=0x6d96 pc=0x402c6e]"
#   "[signal 0xb code=0x1 addr=0x0 pc=0x45f18e]"     a signal without a name
_SIGNAL_NOTE = re.compile(
    r"^\[signal (?P<name>SIG[A-Z0-9]+|0x[0-9a-f]+)(?:: (?P<description>[^\]]*?))?"
    r" code=(?P<code>0x[0-9a-f]+) addr=(?P<addr>0x[0-9a-f]+) pc=(?P<pc>0x[0-9a-f]+)\]$"
)

# fatalsignal's first line, for a signal the runtime does not turn into a panic:
#   "SIGSEGV: segmentation violation"   "SIGABRT: abort"   "SIGQUIT: quit"
#   "Signal 34"                          a signal number without a name
_SIGNAL_NAME = re.compile(r"^(?:(?P<name>SIG[A-Z0-9]+): (?P<description>.*)|Signal (?P<number>\d+))$")
# and its second:
#   "PC=0x489759 m=0 sigcode=1 addr=0x0"      SIGSEGV/SIGBUS carry the fault address
#   "PC=0x409f8e m=0 sigcode=18446744073709551610"   sent by tgkill (SI_TKILL, printed unsigned)
#   "PC=0x485303 m=2 sigcode=0"
_PC = re.compile(r"^PC=(?P<pc>0x[0-9a-f]+) m=(?P<m>\d+) sigcode=(?P<sigcode>-?\d+)(?: addr=(?P<addr>0x[0-9a-f]+))?$")

# Stack blocks, each after a blank line:
#   "goroutine 1 [running]:"                                          Go 1.19, and Go 1.2x below GOTRACEBACK=crash
#   "goroutine 18 [chan receive, 5 minutes, locked to thread]:"
#   "goroutine 1 gp=0x3264b68601e0 m=0 mp=0x51d8e0 [running]:"       Go 1.23+ with GOTRACEBACK=crash (or throwing)
#   "goroutine 2 gp=0x3264b6860780 m=nil [force gc (idle)]:"
#   "goroutine 0 gp=0x265a523ceb40 m=2 mp=0x265a5240a808 [idle]:"   an M's g0, in a SIGQUIT dump
#   "goroutine 7 gp=0x... m=nil [select (no cases), synctest bubble 1 labels:{"k": "v"}]:"
_GOROUTINE = re.compile(
    r"^goroutine (?P<id>\d+)"
    r"(?: gp=(?P<gp>0x[0-9a-f]+) m=(?:(?P<m>\d+) mp=(?P<mp>0x[0-9a-f]+)|nil))?"
    r" \[(?P<status>.*)\]:$"
)
#   "runtime stack:"                 a throw on the system stack (g0): its frames
_RUNTIME_STACK = re.compile(r"^runtime stack:$")

# Inside the brackets of a goroutine header, after the state (", "-separated):
#   "5 minutes"   "1 minutes" (sic)    waiting that long (since the last GC saw it)
#   "locked to thread"                 runtime.LockOSThread
#   "synctest bubble 3"                Go 1.24+ testing/synctest
# and suffixes of the state itself: " (scan)", " (leaked)", " (durable)"; Go 1.26 may end
# the brackets with " labels:{"k": "v", ...}" (GODEBUG=tracebacklabels=1).
_MINUTES = re.compile(r"^(?P<n>\d+) minutes$")
_BUBBLE = re.compile(r"^synctest bubble (?P<n>\d+)$")
_LABELS = re.compile(r" labels:\{(?P<labels>.*)\}$")
_STATE_FLAGS = re.compile(r" \((?P<flag>scan|leaked|durable)\)$")

# A frame: the function with its arguments, then a tab and its place.
#   "main.main()"   "main.share(0xa, 0x0)"   "panic({0x490fa0?, 0x4a37b8?})"
#   "main.(*Cache).Refresh(0x2b8b59542060, {0x49ca3e, 0x6})"
#   "main.f(...)"                                        an inlined call
#   "example.com/yamlish%2ev3.(*decoder).indent(0x20cfa9486e38, 0x0)"   dots of the last path element escaped
#   "main.Map[...](0x1)"                                 Go 1.21+ generics
_FUNCTION = re.compile(r"^(?P<function>[^\s(].*?)\((?P<args>[^()]*)\)$")
#   "\t/work/x/main.go:16 +0x1a"
#   "\t/usr/local/go/src/runtime/panic.go:879 +0x185 fp=0x3264b6896738 sp=0x3264b6896688 pc=0x47bc85"
#   "\t_cgo_gotypes.go:46 +0x3a"   "\t<autogenerated>:1 +0x4a"   "\t/x/proc.go:363 +0x1a" (created by)
#   "\t/x/main.go:9"                                      an inlined frame has no offset
_PLACE = re.compile(
    r"^\t(?P<file>.+?):(?P<line>\d+)(?: \+(?P<offset>0x[0-9a-f]+))?"
    r"(?: fp=(?P<fp>0x[0-9a-f]+) sp=(?P<sp>0x[0-9a-f]+) pc=(?P<pc>0x[0-9a-f]+))?$"
)
#   "created by main.main"                     Go before 1.21
#   "created by main.main in goroutine 1"      Go 1.21+
#   "created by runtime.gcenable in goroutine 1"
_CREATED_BY = re.compile(r"^created by (?P<function>\S+?)(?: in goroutine (?P<goroutine>\d+))?$")
#   "...additional frames elided..."           past the frame limit (Go 1.19 and the 1.2x tail)
#   "...26091 frames elided..."                Go 1.21+: the middle of a long stack
_ELIDED = re.compile(r"^\.\.\.(?:additional|(?P<count>\d+)) frames elided\.\.\.$")
#   "\tgoroutine running on other thread; stack unavailable"
_UNAVAILABLE = re.compile(r"^\tgoroutine running on other thread; stack unavailable$")
#   "[originating from goroutine 1]:"          GODEBUG=tracebackancestors=N
_ANCESTOR = re.compile(r"^\[originating from goroutine (?P<id>\d+)\]:$")

# The runtime's diagnostics, printed before a throw and inside a stack it
# cannot walk (tracebackHexdump):
#   "runtime: g 1: unexpected return pc for main.encodeFrame called from 0x4141414141414141"
#   "stack: frame={sp:0x2e53383ade48, fp:0x2e53383adeb0} stack=[0x2e53383ac000,0x2e53383ae000)"
#   "                   7 6 5 4  3 2 1 0   f e d c  b a 9 8  0123456789abcdef"   Go 1.21+ hexdump header
#   "00002e53383add40:                    00000000 00000000          ........"  Go 1.21+ hexdump words
#   "                  ^ <main.encodeFrame+0x7c>"   "                  ^ FP"      Go 1.21+ markers
#   "0x000000c000086dc8:  0x0000000000000000  0x0000000000000000 "               Go 1.19 hexdump words
_DIAGNOSTIC = re.compile(
    r"^(?:runtime: .*|stack: frame=\{.*|[0-9a-f]{8,16}: .*|0x[0-9a-f]+: .*|\s+\^ .*|\s+7 6 5 4  3 2 1 0 .*)$"
)

# Other lines of the runtime's own in a header (never part of a panic value):
#   "unexpected fault address 0xdead0"       sigpanic, before throw("fault")
#   "signal arrived during cgo execution"    fatalsignal, a signal in C code
#   "instruction bytes: 0x0f 0x0b ..."       fatalsignal, for SIGILL and SIGFPE
#   "panic during panic"  "stack trace unavailable"   startpanic_m, dying twice
_RUNTIME_NOTE = re.compile(
    r"^(?:unexpected fault address .*|signal arrived during cgo execution|instruction bytes:.*"
    r"|panic during panic|stack trace unavailable)$"
)

# dumpregs, after the stacks of a fatal signal (amd64; arm64 names r0..r29, lr, sp, pc, fault):
#   "rax    0x0"   "rflags 0x10216"   "r15    0xffffffffffffffff"
_REGISTER = re.compile(r"^(?P<name>[a-z][a-z0-9]*) +(?P<value>0x[0-9a-f]+)$")
#   "-----"   between the dumps of the threads (GOTRACEBACK=crash relays SIGQUIT to each M)
_THREAD_SEPARATOR = re.compile(r"^-----$")


@dataclass(frozen=True)
class TracebackFrame:
    """One frame as Go printed it: `function(args)` and `\\tfile:line +0xoff`."""

    function: str  # as printed: "panic", "main.(*T).M", "example.com/x%2ev3.f"
    args: str  # the text between the parentheses ("..." for an inlined call)
    file: str
    line: int
    offset: int | None = None  # +0x1d: the pc's offset in the function
    pc: int | None = None  # fp=/sp=/pc=, printed at GOTRACEBACK=crash (level 2)
    sp: int | None = None
    fp: int | None = None

    @property
    def inlined(self) -> bool:
        return self.args == "..."

    @property
    def generated(self) -> bool:
        """Code the toolchain generated: cgo wrappers, method value and
        pointer-receiver wrappers."""
        return self.file == "<autogenerated>" or self.file.endswith("_cgo_gotypes.go") or "._Cfunc_" in self.function

    @property
    def package(self) -> str:
        """The import path of the function's package ("main", "runtime",
        "example.com/yamlish.v3"); `panic` is runtime.gopanic."""
        return function_package(self.function)


@dataclass(frozen=True)
class CreatedBy:
    """`created by F [in goroutine N]` and its place."""

    function: str
    file: str
    line: int
    offset: int | None = None
    goroutine: int | None = None  # Go 1.21+: the goroutine whose go statement this was


@dataclass(frozen=True)
class Ancestor:
    """`[originating from goroutine N]:` and its frames (GODEBUG=tracebackancestors)."""

    id: int
    frames: tuple[TracebackFrame, ...] = ()
    created_by: CreatedBy | None = None


@dataclass(frozen=True)
class GoroutineBlock:
    """One `goroutine N [...]:` block."""

    id: int
    state: str  # "running", "chan receive", "sync.Mutex.Lock", "idle" (a g0) ...
    frames: tuple[TracebackFrame, ...] = ()
    wait_minutes: int | None = None  # ", 5 minutes" (absent under a minute)
    locked_to_thread: bool = False
    flags: tuple[str, ...] = ()  # "scan", "leaked", "durable"
    bubble: int | None = None  # synctest bubble
    labels: str = ""  # the inside of labels:{...}, as printed
    gp: int | None = None  # Go 1.23+ gp=/m=/mp=
    m: int | None = None  # None: m=nil or not printed
    mp: int | None = None
    created_by: CreatedBy | None = None
    elided: bool = False  # "...frames elided..." somewhere in the stack
    elided_frames: int | None = None  # how many, when Go said
    stack_unavailable: bool = False  # "goroutine running on other thread; stack unavailable"
    notes: tuple[str, ...] = ()  # runtime diagnostics printed inside the stack (unexpected return pc, hexdump)
    ancestors: tuple[Ancestor, ...] = ()

    def first_frame_in(self, is_own: Callable[[str], bool]) -> TracebackFrame | None:
        """The innermost frame whose package is_own(package) accepts, leaving
        out code the toolchain wrote into that package (cgo's `_Cfunc_`
        wrappers in _cgo_gotypes.go, `<autogenerated>` method wrappers)."""
        return next((f for f in self.frames if is_own(f.package) and not f.generated), None)


@dataclass(frozen=True)
class ChainLink:
    """One line (with its continuation lines) of the panic/fatal chain, as printed."""

    kind: str  # "panic" or "fatal error"
    text: str  # the value as printed, continuation lines kept, the [recovered] suffix removed
    nested: bool = False  # printed after a tab: not the first of the chain
    recovered: bool = False
    repanicked: bool = False  # Go 1.25+ " [recovered, repanicked]"
    lines: tuple[str, ...] = ()  # the raw lines


@dataclass(frozen=True)
class SignalDump:
    """fatalsignal's `SIGSEGV: segmentation violation` and `PC=... m=... sigcode=...` lines."""

    name: str  # "SIGSEGV", or "signal 34" for `Signal 34`
    description: str = ""
    pc: int | None = None
    m: int | None = None
    sigcode: int | None = None
    addr: int | None = None


@dataclass(frozen=True)
class SignalNote:
    """dopanic_m's `[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x...]`."""

    name: str  # "SIGSEGV", or "0xb" when Go had no name
    description: str
    code: int
    addr: int
    pc: int


@dataclass(frozen=True)
class ThreadDump:
    """A `-----` section: another thread's SIGQUIT dump (GOTRACEBACK=crash)."""

    signal: SignalDump
    goroutines: tuple[GoroutineBlock, ...] = ()
    registers: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class GoTraceback:
    noise: tuple[str, ...]  # the program's own output before Go's report
    header: tuple[str, ...]  # Go's lines before the first stack, as printed
    chain: tuple[ChainLink, ...] = ()
    signal: SignalNote | None = None  # [signal ...]
    fatal_signal: SignalDump | None = None  # SIGxxx: ... / PC=... at the top
    runtime_stack: tuple[TracebackFrame, ...] = ()  # `runtime stack:` (a throw on g0)
    goroutines: tuple[GoroutineBlock, ...] = ()
    registers: tuple[tuple[str, int], ...] = ()  # the fatal signal's register dump
    threads: tuple[ThreadDump, ...] = ()
    unparsed: tuple[tuple[int, str], ...] = ()  # (1-based line, text) of lines no rule accepted

    @property
    def header_lines(self) -> tuple[str, ...]:
        """The header as Go printed it, without the [signal ...] and PC= lines:
        what the report's crash.header must say."""
        return tuple(line for line in self.header if not (_SIGNAL_NOTE.match(line) or _PC.match(line)))

    @property
    def crashing_goroutine(self) -> int | None:
        """The goroutine that crashed: the first goroutine block. After a
        `runtime stack:` (a throw on the system stack) Go prints the thread's
        goroutine first only if it had one: a first block that is merely
        waiting (a deadlock found by the scheduler) crashed nothing. None
        also for goroutine 0 (an M's g0, not a goroutine)."""
        if not self.goroutines:
            return None
        first = self.goroutines[0]
        if self.runtime_stack and first.state not in _ON_A_THREAD:
            return None
        return first.id or None

    def goroutine(self, goroutine_id: int) -> GoroutineBlock | None:
        return next((g for g in self.goroutines if g.id == goroutine_id), None)


# States of a goroutine that was on the thread when it threw.
_ON_A_THREAD = ("running", "syscall", "copystack", "preempted")


def function_package(function: str) -> str:
    """The import path of a function name as Go's traceback prints it.

    The package path ends at the first dot after its last slash (dots in the
    last element are escaped as %2e by the linker); type arguments
    (`main.Map[...]`) may contain slashes and are ignored."""
    if function == "panic":
        return "runtime"
    name = function.split("[", 1)[0]
    slash = name.rfind("/")
    dot = name.find(".", slash + 1)
    path = name if dot < 0 else name[:dot]
    return unquote(path)


def is_main_module(package: str, module_path: str) -> bool:
    """Package main, or a package of the main module (module_path from the
    binary's build info, e.g. `gocoretui.example/fixtures`)."""
    return package == "main" or package == module_path or package.startswith(module_path + "/")


def parse_traceback(text: str) -> GoTraceback:
    """Parse what a Go program printed on stderr as it died."""
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    start = _report_start(lines, 0)
    if start is None:
        raise ParseError("no Go traceback: no panic, fatal error, signal or goroutine stack in the text", text)
    while True:
        parsed, restart = _parse_from(lines, start)
        if restart is None:
            return parsed
        # A `panic:` or `fatal error:` at the start of a line among the stacks:
        # what came before was the program's own output (a report it logged
        # and survived), not Go's report of this death.
        start = restart


def _report_start(lines: list[str], begin: int) -> int | None:
    for index in range(begin, len(lines)):
        if _REPORT_START.match(lines[index]):
            return index
    # No header (a bare stack dump, as debug.Stack prints): the first goroutine block.
    for index in range(begin, len(lines)):
        if _GOROUTINE.match(lines[index]) and (index == begin or lines[index - 1] == ""):
            return index
    return None


def _is_stack_start(lines: list[str], index: int, start: int) -> bool:
    line = lines[index]
    if not (_GOROUTINE.match(line) or _RUNTIME_STACK.match(line)):
        return False
    # Go prints a blank line before each stack; a line that looks like one
    # without it is part of a (Go 1.19, unindented) multi-line panic value.
    return index == start or lines[index - 1] == ""


class _Cursor:
    def __init__(self, lines: list[str], index: int) -> None:
        self.lines = lines
        self.index = index
        self.unparsed: list[tuple[int, str]] = []

    def peek(self) -> str | None:
        return self.lines[self.index] if self.index < len(self.lines) else None

    def take(self) -> str:
        line = self.lines[self.index]
        self.index += 1
        return line

    def reject(self) -> None:
        self.unparsed.append((self.index + 1, self.take()))


def _parse_from(lines: list[str], start: int) -> tuple[GoTraceback, int | None]:
    cursor = _Cursor(lines, start)
    header: list[str] = []
    while cursor.peek() is not None and not _is_stack_start(lines, cursor.index, start):
        header.append(cursor.take())
    # Go prints one blank line before the first stack; a blank line more is
    # the end of a panic value that ended in a newline (Go 1.19 prints it as is).
    if header and header[-1] == "":
        header.pop()
    chain, signal, fatal_signal = _parse_header(header)

    runtime_stack: tuple[TracebackFrame, ...] = ()
    goroutines: list[GoroutineBlock] = []
    registers: list[tuple[str, int]] = []
    threads: list[ThreadDump] = []
    while (line := cursor.peek()) is not None:
        if line == "":
            cursor.take()
        elif _RUNTIME_STACK.match(line) and not goroutines and not runtime_stack:
            cursor.take()
            runtime_stack = _parse_frames_only(cursor)
        elif _GOROUTINE.match(line):
            goroutines.append(_parse_goroutine(cursor))
        elif _REGISTER.match(line):
            registers += _parse_registers(cursor)
        elif _THREAD_SEPARATOR.match(line):
            cursor.take()
            dump = _parse_thread(cursor)
            if dump is not None:
                threads.append(dump)
        elif _CHAIN.match(line) and not line.startswith("\t"):
            return _build(lines, start, header, chain, signal, fatal_signal, runtime_stack, goroutines,
                          registers, threads, cursor.unparsed), cursor.index
        else:
            cursor.reject()
    return _build(lines, start, header, chain, signal, fatal_signal, runtime_stack, goroutines, registers,
                  threads, cursor.unparsed), None


def _build(lines, start, header, chain, signal, fatal_signal, runtime_stack, goroutines, registers, threads,
           unparsed) -> GoTraceback:
    return GoTraceback(
        noise=tuple(lines[:start]),
        header=tuple(header),
        chain=chain,
        signal=signal,
        fatal_signal=fatal_signal,
        runtime_stack=runtime_stack,
        goroutines=tuple(goroutines),
        registers=tuple(registers),
        threads=tuple(threads),
        unparsed=tuple(unparsed),
    )


def _parse_header(header: list[str]) -> tuple[tuple[ChainLink, ...], SignalNote | None, SignalDump | None]:
    links: list[ChainLink] = []
    current: list[str] | None = None  # the raw lines of the link being read
    signal: SignalNote | None = None
    fatal_signal: SignalDump | None = None

    def close() -> None:
        nonlocal current
        if current is not None:
            links.append(_link(current))
            current = None

    for index, line in enumerate(header):
        if _CHAIN.match(line):
            close()
            current = [line]
        elif (note := _SIGNAL_NOTE.match(line)) is not None:
            close()
            signal = SignalNote(note["name"], note["description"] or "", int(note["code"], 16),
                                int(note["addr"], 16), int(note["pc"], 16))
        elif (named := _SIGNAL_NAME.match(line)) is not None and fatal_signal is None and current is None:
            pc = _PC.match(header[index + 1]) if index + 1 < len(header) else None
            fatal_signal = _signal_dump(named, pc)
        elif _PC.match(line) or _DIAGNOSTIC.match(line) or _RUNTIME_NOTE.match(line):
            close()
        elif current is not None:
            current.append(line)  # a continuation line of a multi-line value
    close()
    return tuple(links), signal, fatal_signal


def _link(raw: list[str]) -> ChainLink:
    match = _CHAIN.match(raw[0])
    assert match is not None
    text_lines = [match["text"], *raw[1:]]
    recovered = _RECOVERED.search(text_lines[-1])
    if recovered:
        text_lines[-1] = text_lines[-1][: recovered.start()]
    return ChainLink(
        kind=match["kind"],
        text="\n".join(text_lines),
        nested=bool(match["tab"]),
        recovered=recovered is not None,
        repanicked=bool(recovered and recovered["again"]),
        lines=tuple(raw),
    )


def _signal_dump(named: re.Match, pc: re.Match | None) -> SignalDump:
    name = named["name"] or f"signal {named['number']}"
    return SignalDump(
        name=name,
        description=named["description"] or "",
        pc=int(pc["pc"], 16) if pc else None,
        m=int(pc["m"]) if pc else None,
        sigcode=int(pc["sigcode"]) if pc else None,
        addr=int(pc["addr"], 16) if pc and pc["addr"] else None,
    )


def _parse_frame(cursor: _Cursor) -> TracebackFrame | None:
    """A function line and, on the next line, its place."""
    function = _FUNCTION.match(cursor.peek() or "")
    if function is None:
        return None
    following = cursor.lines[cursor.index + 1] if cursor.index + 1 < len(cursor.lines) else ""
    place = _PLACE.match(following)
    if place is None:
        return None
    cursor.take()
    cursor.take()
    return TracebackFrame(
        function=function["function"],
        args=function["args"],
        file=place["file"],
        line=int(place["line"]),
        offset=_hex(place["offset"]),
        pc=_hex(place["pc"]),
        sp=_hex(place["sp"]),
        fp=_hex(place["fp"]),
    )


def _parse_created_by(cursor: _Cursor) -> CreatedBy | None:
    created = _CREATED_BY.match(cursor.peek() or "")
    if created is None:
        return None
    following = cursor.lines[cursor.index + 1] if cursor.index + 1 < len(cursor.lines) else ""
    place = _PLACE.match(following)
    if place is None:
        return None
    cursor.take()
    cursor.take()
    return CreatedBy(created["function"], place["file"], int(place["line"]), _hex(place["offset"]),
                     int(created["goroutine"]) if created["goroutine"] else None)


def _parse_frames_only(cursor: _Cursor) -> tuple[TracebackFrame, ...]:
    """The frames of `runtime stack:`, up to the blank line."""
    frames: list[TracebackFrame] = []
    while (line := cursor.peek()) is not None and line != "":
        frame = _parse_frame(cursor)
        if frame is not None:
            frames.append(frame)
        elif _ELIDED.match(line) or _DIAGNOSTIC.match(line):
            cursor.take()
        else:
            cursor.reject()
    return tuple(frames)


def _parse_goroutine(cursor: _Cursor) -> GoroutineBlock:
    header = _GOROUTINE.match(cursor.take())
    assert header is not None
    state, minutes, locked, flags, bubble, labels = _parse_status(header["status"])
    frames: list[TracebackFrame] = []
    notes: list[str] = []
    ancestors: list[Ancestor] = []
    created_by: CreatedBy | None = None
    elided, elided_frames, unavailable = False, None, False
    # Frames and created-by go to the goroutine, or to its latest ancestor.
    target_frames, ancestor_id, ancestor_created = frames, None, None

    def end_ancestor() -> None:
        if ancestor_id is not None:
            ancestors.append(Ancestor(ancestor_id, tuple(target_frames), ancestor_created))

    # A thread's dump ends its frames with the registers, with no blank line
    # between; a `panic:` at the start of a line begins another report.
    while (line := cursor.peek()) is not None and line != "" and not _REGISTER.match(line) \
            and not (_CHAIN.match(line) and not line.startswith("\t")):
        frame = _parse_frame(cursor)
        if frame is not None:
            target_frames.append(frame)
            continue
        created = _parse_created_by(cursor)
        if created is not None:
            if ancestor_id is None:
                created_by = created
            else:
                ancestor_created = created
            continue
        if (elision := _ELIDED.match(line)) is not None:
            elided = True
            if elision["count"]:
                elided_frames = (elided_frames or 0) + int(elision["count"])
            cursor.take()
        elif _UNAVAILABLE.match(line):
            unavailable = True
            cursor.take()
        elif (ancestor := _ANCESTOR.match(line)) is not None:
            end_ancestor()
            target_frames, ancestor_id, ancestor_created = [], int(ancestor["id"]), None
            cursor.take()
        elif _DIAGNOSTIC.match(line):
            notes.append(cursor.take())
        else:
            cursor.reject()
    end_ancestor()
    return GoroutineBlock(
        id=int(header["id"]),
        state=state,
        frames=tuple(frames),
        wait_minutes=minutes,
        locked_to_thread=locked,
        flags=flags,
        bubble=bubble,
        labels=labels,
        gp=_hex(header["gp"]),
        m=int(header["m"]) if header["m"] else None,
        mp=_hex(header["mp"]),
        created_by=created_by,
        elided=elided,
        elided_frames=elided_frames,
        stack_unavailable=unavailable,
        notes=tuple(notes),
        ancestors=tuple(ancestors),
    )


def _parse_status(status: str) -> tuple[str, int | None, bool, tuple[str, ...], int | None, str]:
    labels = ""
    found = _LABELS.search(status)
    if found:
        labels, status = found["labels"], status[: found.start()]
    state, *extras = status.split(", ")
    flags: list[str] = []
    while (flag := _STATE_FLAGS.search(state)) is not None:
        flags.insert(0, flag["flag"])
        state = state[: flag.start()]
    minutes, locked, bubble = None, False, None
    for extra in extras:
        if (count := _MINUTES.match(extra)) is not None:
            minutes = int(count["n"])
        elif extra == "locked to thread":
            locked = True
        elif (inside := _BUBBLE.match(extra)) is not None:
            bubble = int(inside["n"])
        else:
            state += ", " + extra  # not one of Go's extras: part of the wait reason
    return state, minutes, locked, tuple(flags), bubble, labels


def _parse_registers(cursor: _Cursor) -> list[tuple[str, int]]:
    registers = []
    while (line := cursor.peek()) is not None and (register := _REGISTER.match(line)) is not None:
        registers.append((register["name"], int(register["value"], 16)))
        cursor.take()
    return registers


def _parse_thread(cursor: _Cursor) -> ThreadDump | None:
    """After `-----`: a blank line, `SIGQUIT: quit`, `PC=...`, then stacks and registers."""
    while cursor.peek() == "":
        cursor.take()
    named = _SIGNAL_NAME.match(cursor.peek() or "")
    if named is None:
        return None
    cursor.take()
    pc = _PC.match(cursor.peek() or "")
    if pc is not None:
        cursor.take()
    goroutines: list[GoroutineBlock] = []
    registers: list[tuple[str, int]] = []
    while (line := cursor.peek()) is not None and not _THREAD_SEPARATOR.match(line):
        if line == "":
            cursor.take()
        elif _GOROUTINE.match(line):
            goroutines.append(_parse_goroutine(cursor))
        elif _REGISTER.match(line):
            registers += _parse_registers(cursor)
        else:
            break
    return ThreadDump(_signal_dump(named, pc), tuple(goroutines), tuple(registers))


def _hex(text: str | None) -> int | None:
    return int(text, 16) if text else None
