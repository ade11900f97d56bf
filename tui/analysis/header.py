"""The lines Go's runtime printed before the first goroutine, rebuilt from
the core. Pure: the evidence is read by forensics.py.

Which part printed what (runtime/panic.go, signal_unix.go):

- a panic (fatalpanic): printpanics, the whole chain oldest first, each
  value as printpanicval prints it (analysis/panicvalue.py). The runtime
  prints it after startpanic, so it is rebuilt from the goroutine's
  _panic records.
- a throw or fatal error (throw, fatal, their callers' diagnostics such as
  `runtime: goroutine stack exceeds ...`, Go 1.2x's `panic: ...` +
  `\\tfatal error: ...` of a fatal error raised while panicking): printed
  before startpanic, and so still in runtime.printBacklog, the runtime's
  512-byte ring of what it printed (Go 1.19+), from which it is taken.
- a signal the runtime did not turn into a panic (fatalsignal): the
  signal's name line (`SIGSEGV: segmentation violation`), then
  `signal arrived during cgo execution` when it came in C code.

The `[signal ...]` and `PC=...` lines are left out: they hold the PC and
the signal code, which the summary shows in its own words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..model import ChainLink
from ..parse.errors import ParseError
from ..parse.values import one_line
from .panicvalue import PanicLink, go_minor, printpanicval, printpanics


@dataclass(frozen=True)
class PanicRecord:
    """One _panic record of the crashing goroutine, as read from the core:
    its arg as Delve prints it, its dynamic type's kind (for named types)
    and data pointer (for types printed by address), and its flags."""

    value: str
    kind: str | None = None
    address: int | None = None
    recovered: bool = False
    repanicked: bool = False
    goexit: bool = False


def chain_links(newest_first: tuple[PanicRecord, ...], go_version: str) -> tuple[ChainLink, ...]:
    """The chain oldest first, each value as Go prints it (Delve's text
    when it cannot be turned into Go's: a string Delve cut, say)."""
    links = []
    for record in reversed(newest_first):
        value = "" if record.goexit else go_value(record, go_version)
        detail = ""
        if value.startswith("(") and record.address is not None:
            # Go printed only `(T) 0xADDR`: the value, as Delve decodes it
            detail = one_line(_DYNAMIC.sub(lambda m: f"{m[1]} ", record.value, count=1))
        links.append(ChainLink(value, record.recovered, record.repanicked, record.goexit, detail))
    return tuple(links)


# `interface {}(main.T) ` before Delve's value.
_DYNAMIC = re.compile(r"^(?:interface \{\}|any|error)\(((?:[^()]|\([^()]*\))*)\) ")


def go_value(record: PanicRecord, go_version: str) -> str:
    try:
        return printpanicval(record.value, go_version or "go1.26", kind=record.kind, address=record.address)
    except ParseError:
        return one_line(record.value)


def panic_lines(links: tuple[ChainLink, ...], go_version: str) -> tuple[str, ...]:
    """printpanics of a chain, oldest first."""
    return printpanics([PanicLink(link.value, link.recovered, link.repanicked, link.goexit) for link in links],
                       go_version or "go1.26")


def killer(links: tuple[ChainLink, ...], go_version: str) -> ChainLink | None:
    """The link whose value killed the program: the last one printpanics
    prints. A Goexit prints nothing; Go 1.25+ prints a value re-panicked
    after a recover once, as the older link (marked repanicked), and skips
    the newer one."""
    minor = go_minor(go_version or "go1.26")
    last = None
    for index, link in enumerate(links):
        if index and minor >= 25 and links[index - 1].repanicked:
            continue
        if not link.goexit:
            last = link
    return last


# Lines of a runtime report, as they end printBacklog. Variants:
#   fatal error: MSG / \tfatal error: MSG        throw, fatal (\t: after a chain)
#   panic: VALUE / \tpanic: VALUE [recovered]    the chain before a fatal error (Go 1.2x)
#   runtime: goroutine stack exceeds 1048576-byte limit, runtime: sp=... stack=[...]
#   runtime: out of memory: cannot allocate N-byte block (M in use)
#   unexpected fault address 0xdead0
#   runtime: g 1: unexpected return pc for F called from 0x..., stack: frame={...} ...
#   0x000000c00009ff58:  0x000000c000086ef8  0x0000000000000060          (hexdump, Go 1.19)
#   00002f85549adf60: 00002f85 54986fd0  00000000 0044ff27  .o.T./..'.D.  (hexdump, Go 1.2x)
#                                        ^ <runtime.main+0x267>             (a marker under a word)
#   \tcontinued line of a value (Go 1.23+ indents every line after the first)
# Lines of a throw's report: the chain, the runtime's diagnostics, and the
# hexdump of a stack it could not walk (tracebackHexdump):
#   "0x000000c0000a1d58:  0x0000000000000000  0x0000000000000000 "   Go 1.19's words
#   "00001d72179add40: 00000000 00000000  00000000 00000000  ........"   Go 1.21+'s words
#   "                   7 6 5 4  3 2 1 0   f e d c  b a 9 8  0123456789abcdef"   Go 1.21+'s column header
#   "                  ^ <main.encodeFrame+0x7c>"   "                  ^ FP"   "  ^ SP"   Go 1.21+'s markers
_REPORT_LINE = re.compile(
    r"^(?:\t?(?:fatal error|panic): |runtime: |unexpected fault address |stack: frame=|"
    r"0x[0-9a-f]+: |[0-9a-f]{8,16}: |\s+\^ |\s+7 6 5 4  3 2 1 0 |\t)")
_FATAL_LINE = re.compile(r"^\t?fatal error: ")


def backlog_report(backlog: str) -> tuple[tuple[str, ...], bool]:
    """(the report a throw left at the end of runtime.printBacklog, cut).

    The report runs from its first line (runtime diagnostics, a chain) to
    its `fatal error: ` line and that message's own further lines; () when
    the backlog does not end in one. The ring keeps the last 512 bytes:
    when it has wrapped and the report fills it, the report's start is
    lost (cut), and the ring's oldest line, cut in the middle, is dropped;
    so is a last line the ring does not end.
    """
    wrapped = "\x00" not in backlog and len(backlog) >= BACKLOG_BYTES
    lines = backlog.replace("\x00", "").split("\n")
    # Unless the ring ends a line, its last line is one the runtime stopped
    # recording mid-way: another thread had begun to crash (recordForPanic
    # keeps nothing once panicking is set), as when two goroutines throw at
    # once and the second's `fatal error: ` came just before.
    lines.pop()
    if wrapped:
        lines = lines[1:]  # the ring's oldest line, cut wherever the ring wrapped
    end = next((i for i in range(len(lines) - 1, -1, -1) if _FATAL_LINE.match(lines[i])), None)
    # After it, only the message's own further lines (tab-indented, Go 1.23+).
    if end is None or any(line.strip() and not line.startswith("\t") for line in lines[end + 1:]):
        return (), False
    start = end
    while start > 0 and _REPORT_LINE.match(lines[start - 1]):
        start -= 1
    return tuple(lines[start:]), wrapped and start == 0


# runtime.printBacklog's size (runtime/print.go, Go 1.19 through 1.26).
BACKLOG_BYTES = 512


def fatal_message(report: tuple[str, ...]) -> str:
    """The message of the report's `fatal error: ` line, with its further
    lines ("" when there is none)."""
    for index in range(len(report) - 1, -1, -1):
        if _FATAL_LINE.match(report[index]):
            first = report[index].lstrip("\t").removeprefix("fatal error: ")
            return "\n".join([first, *(line.removeprefix("\t") for line in report[index + 1:])])
    return ""


def signal_lines(signal_message: str, in_cgo: bool) -> tuple[str, ...]:
    """fatalsignal's lines (runtime/signal_unix.go), without its PC= line."""
    if not signal_message:
        return ()
    return (signal_message, "signal arrived during cgo execution") if in_cgo else (signal_message,)
