"""Parsers for the text `dlv` prints (verified on 1.20 through 1.27).

Function names come out as Go writes them (`gopkg.in/yaml.v3.handleErr`),
not with the linker's escapes Delve prints (`gopkg.in/yaml%2ev3...`).

Each function takes a command's output (line endings already `\\n`) and
returns model values, or raises ParseError. No I/O.
"""

from __future__ import annotations

import re

from ..model import (STATUS_SCAN, STATUSES_WITH_REASON, Backtrace, Frame, Goroutine, Instruction, Location, Variable,
                     status_word)
from .errors import ParseError
from .names import print_name
from .values import parse_value

# "Command failed: <err>" is how every runtime error of a command looks.
_COMMAND_FAILED = re.compile(r"^Command failed: (?P<err>.*)$", re.M)


def command_error(output: str) -> str | None:
    """The error text when a command failed, else None."""
    match = _COMMAND_FAILED.search(output)
    return match["err"].strip() if match else None


# Goroutine lines. Variants:
#   "  Goroutine 1 - User: ./main.go:16 main.main (0x4b16a5) [chan receive]"
#   "  Goroutine 2 - User: /x/proc.go:364 runtime.gopark (0x43ac5d) [force gc (idle) 2720431775670]"
#   "* Goroutine 18 - User: ./main.go:13 main.main.func1 (0x4b15e7) (thread 2663)"
#   "  Goroutine 5 - User: ???:0 ??? (0x0)"      (unknown location)
#   "  goroutine 1 - User: ..."                   (lower case, old releases)
#   "  Goroutine (unreadable <err>)"             (no id)
# The label may be User, Runtime, Go or Start; ` {k: v}` labels may follow (-l).
_GOROUTINE = re.compile(
    r"^(?P<sel>[* ])\s*[Gg]oroutine (?P<id>\d+) - (?:User|Runtime|Go|Start): "
    r"(?P<file>.*?):(?P<line>-?\d+) (?P<func>\S+) \(0x(?P<pc>[0-9a-f]+)\)(?P<rest>.*)$"
)
_GOROUTINE_UNREADABLE = re.compile(r"^(?P<sel>[* ])\s*[Gg]oroutine \(unreadable (?P<err>.*)\)\s*$")
_THREAD = re.compile(r"\(thread (\d+)\)")
_WAIT = re.compile(r"\[(?P<reason>[^\[\]]*?)(?: (?P<since>\d+))?\]")
_GOROUTINE_TOTAL = re.compile(r"^\[(\d+) goroutines?\]$")


def parse_goroutine_line(line: str) -> Goroutine | None:
    """One `goroutines` line, or None for lines that are not goroutines."""
    match = _GOROUTINE.match(line)
    if match:
        rest = match["rest"]
        thread = _THREAD.search(rest)
        wait = _WAIT.search(_THREAD.sub("", rest))
        return Goroutine(
            id=int(match["id"]),
            location=Location(_clean_file(match["file"]), max(int(match["line"]), 0), print_name(match["func"])),
            pc=int(match["pc"], 16),
            wait_reason=wait["reason"].strip() if wait else "",
            wait_since=int(wait["since"]) if wait and wait["since"] else None,
            thread=int(thread[1]) if thread else None,
            selected=match["sel"] == "*",
        )
    match = _GOROUTINE_UNREADABLE.match(line)
    if match:
        return Goroutine(id=None, location=None, selected=match["sel"] == "*", unreadable=match["err"])
    return None


def parse_goroutines(output: str) -> tuple[tuple[Goroutine, ...], int | None]:
    """`goroutines` -> (goroutines, total Delve reported or None)."""
    error = command_error(output)
    if error:
        raise ParseError(f"goroutines failed: {error}", output)
    items: list[Goroutine] = []
    total = None
    for line in output.splitlines():
        goroutine = parse_goroutine_line(line)
        if goroutine is not None:
            items.append(goroutine)
            continue
        match = _GOROUTINE_TOTAL.match(line.strip())
        if match:
            total = int(match[1])
    return tuple(items), total


# Backtrace frames, two lines each (index right-aligned to the widest):
#   " 9  0x00000000004b15e7 in main.main.func1"
#   "    at ./main.go:13"
# Unknown frames: "in ???" / "at ?:-1" / "at :0". A frame Delve could not
# unwind: a line "    error: <msg>". Depth cut: "(truncated)".
# `stack -full` adds "        name = value" lines, which we skip.
_FRAME = re.compile(r"^\s*(?P<index>\d+)\s+0x(?P<pc>[0-9a-f]+) in (?P<func>.+?)\s*$")
_FRAME_AT = re.compile(r"^\s+at (?P<file>.*):(?P<line>-?\d+)\s*$")
_FRAME_ERROR = re.compile(r"^\s+error: (?P<err>.*)$")


def parse_backtrace(output: str, goroutine_id: int | None = None, simple: bool = False) -> Backtrace:
    """`stack` (simple: `stack -mode simple`) -> a Backtrace that remembers
    its mode: frame indices of the two modes differ."""
    error = command_error(output)
    if error:
        raise ParseError(f"stack failed: {error}", output)
    frames: list[Frame] = []
    truncated = False
    for line in output.splitlines():
        match = _FRAME.match(line)
        if match:
            frames.append(Frame(int(match["index"]), int(match["pc"], 16), print_name(match["func"]), "", 0))
            continue
        if not frames:
            if line.strip() == "(truncated)":
                truncated = True
            continue
        last = frames[-1]
        match = _FRAME_AT.match(line)
        if match and not last.file and not last.line:
            file = _clean_file(match["file"])
            frames[-1] = Frame(last.index, last.pc, last.function, file, max(int(match["line"]), 0))
            continue
        match = _FRAME_ERROR.match(line)
        if match:
            frames[-1] = Frame(last.index, last.pc, last.function, last.file, last.line, match["err"])
            continue
        if line.strip() == "(truncated)":
            truncated = True
    return Backtrace(goroutine_id, tuple(frames), truncated, simple)


# `stack -full` puts each frame's args and locals under its "at" line:
#   "       sig = 6"
#   "       info = (*runtime.siginfo)(0xc00000f4b0)"
_FULL_VARIABLE = re.compile(r"^\s{4,}(?P<name>[\w~.$]+) = (?P<value>.*)$")


def parse_stack_variables(output: str) -> dict[int, dict[str, str]]:
    """`stack -full` -> {frame index: {name: value text}} (one-line values)."""
    error = command_error(output)
    if error:
        raise ParseError(f"stack failed: {error}", output)
    found: dict[int, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in output.splitlines():
        frame = _FRAME.match(line)
        if frame:
            current = found.setdefault(int(frame["index"]), {})
            continue
        variable = _FULL_VARIABLE.match(line)
        if variable and current is not None and not _FRAME_AT.match(line):
            current.setdefault(variable["name"], variable["value"].strip())
    return found


def _clean_file(file: str) -> str:
    return "" if file in ("?", "???", "") else file


# `args` / `locals` (with or without -v):
#   "(no args)" / "(no locals)"
#   "name = value"           "(name) = value"  (shadowed)
#   -v continuation lines: tab-indented fields, or the pointee line of a
#   pointer printed at column 0 ("*time.Timer {...}").
_VAR_START = re.compile(r"^(?P<shadow>\()?(?P<name>[\w~.$&#]+)(?(shadow)\)) = (?P<value>.*)$")


def parse_variables(output: str, kind: str = "local") -> tuple[Variable, ...]:
    error = command_error(output)
    if error:
        raise ParseError(f"{kind}s failed: {error}", output)
    entries: list[tuple[str, list[str], bool]] = []
    for line in output.splitlines():
        stripped = line.strip()
        if not entries and (not stripped or stripped.startswith("(no ")):
            continue
        match = _VAR_START.match(line)
        if match:
            entries.append((match["name"], [match["value"]], bool(match["shadow"])))
        elif entries:
            entries[-1][1].append(line)
        elif stripped:
            raise ParseError(f"unexpected line in {kind}s: {line!r}", output)
    return tuple(parse_value(name, "\n".join(lines), kind, shadowed) for name, lines, shadowed in entries)


def parse_print(output: str) -> str:
    """`print EXPR` -> the value text (multi-line kept)."""
    error = command_error(output)
    if error:
        raise ParseError(f"print failed: {error}", output)
    return output.strip("\n")


# `print *P` of a struct, multi-line: the top-level fields are the lines
# with exactly one tab, `\tname: value,`; deeper ones belong to a field.
#   runtime._panic {
#   \targ: interface {}(string) "x",
#   \tlink: *runtime._panic {
#   \t\targ: ...},
#   \trecovered: false,}
_TOP_FIELD = re.compile(r"^\t(?P<name>\w+): (?P<value>.*?),?\}?$")


def parse_struct_fields(output: str) -> dict[str, str]:
    """`print *P` of a struct -> its top-level fields' value texts (a
    nested struct's first line only); ParseError for a nil pointer."""
    error = command_error(output)
    if error:
        raise ParseError(f"print failed: {error}", output)
    text = output.strip("\n")
    if text.endswith(" nil") and "\n" not in text:
        raise ParseError("nil pointer", output)
    fields: dict[str, str] = {}
    for line in text.splitlines()[1:]:
        match = _TOP_FIELD.match(line)
        if match:
            fields[match["name"]] = match["value"]
    if not fields:
        raise ParseError("no fields in the struct's print", output)
    return fields


_SWITCHED = re.compile(r"^Switched from (?P<old>-?\d+) to (?P<new>-?\d+)")


def parse_switched(output: str) -> int:
    """`goroutine N` -> N, or ParseError (e.g. `unknown goroutine N`)."""
    error = command_error(output)
    if error:
        raise ParseError(error, output)
    match = _SWITCHED.search(output)
    if not match:
        raise ParseError("no 'Switched from' line", output)
    return int(match["new"])


_VERSION = re.compile(r"^Version: (?P<version>\S+)", re.M)


def parse_version(output: str) -> str:
    """`dlv version` -> "1.27.2"."""
    match = _VERSION.search(output)
    if not match:
        raise ParseError("no 'Version:' line in dlv version output", output)
    return match["version"]


# The paged listing of tui/star/pages.star:
#   L pc file line function         a location, once per page, before its use
#   G id thread status waitreason userpc gopc startpc unreadable
#   NEXT nextg                      (-1 when the list is complete)
# The dead g of a cgo extra M (_Gdeadextra, Go 1.26): Delve lists it, Go's traceback never prints it.
_DEAD_STATUSES = (6, 11)


def parse_goroutine_page(output: str, wait_reasons: tuple[str, ...] = (), selected: int | None = None,
                         places: dict | None = None) -> tuple[tuple[Goroutine, ...], int]:
    """One `gocore_page START COUNT` answer -> (goroutines, next start).

    places maps PCs to Locations across pages, so that goroutines standing
    in the same place share one Location object: a huge list stays small.
    """
    places = {} if places is None else places
    items: list[Goroutine] = []

    def goroutine(fields: list[str]) -> None:
        if fields[0] == "G" and len(fields) == 9 and int(fields[3]) & ~STATUS_SCAN not in _DEAD_STATUSES:
            items.append(_page_goroutine(fields, wait_reasons, selected, places))

    next_start = _read_page(output, places, "goroutine", goroutine)
    return tuple(items), next_start


def parse_stack_page(output: str, places: dict | None = None) -> tuple[tuple[tuple[int, tuple[Location, ...]], ...], int]:
    """One `gocore_stacks START COUNT DEPTH` answer -> ((id, stack), ...), next start.

    A stack is its frames' Locations, innermost first; places (PC ->
    Location) is shared across pages so equal stacks share their parts.
    """
    places = {} if places is None else places
    stacks: list[tuple[int, tuple[Location, ...]]] = []

    def stack(fields: list[str]) -> None:
        if fields[0] == "S" and len(fields) == 3:
            pcs = fields[2].split(",") if fields[2] else []
            stacks.append((int(fields[1]), tuple(places[int(pc)] for pc in pcs)))

    next_start = _read_page(output, places, "stack", stack)
    return tuple(stacks), next_start


def _read_page(output: str, places: dict, what: str, record) -> int:
    """The lines both page formats share: `L` places into places, `NEXT`
    returned; every other line goes to record(fields)."""
    error = command_error(output)
    if error:
        raise ParseError(f"{what} page failed: {error}", output)
    next_start = None
    for line in output.splitlines():
        fields = line.split("\t")
        try:
            if fields[0] == "L" and len(fields) == 5:
                pc = int(fields[1])
                if pc not in places:
                    places[pc] = Location(fields[2], int(fields[3]), print_name(fields[4])) if pc else None
            elif fields[0] == "NEXT" and len(fields) == 2:
                next_start = int(fields[1])
            else:
                record(fields)
        except (ValueError, KeyError) as err:
            raise ParseError(f"bad {what} page line {line!r}: {err}", output) from None
    if next_start is None:
        raise ParseError(f"{what} page without a NEXT line", output)
    return next_start


def _page_goroutine(fields: list[str], wait_reasons: tuple[str, ...], selected: int | None, places: dict) -> Goroutine:
    gid, thread, status, reason, user, go, start = (int(x) for x in fields[1:8])
    if fields[8]:
        # Delve could not read this g: no id, no places, only why.
        return Goroutine(id=None, location=None, unreadable=fields[8])
    reason_text = ""
    if status & ~STATUS_SCAN in STATUSES_WITH_REASON and reason > 0:
        reason_text = wait_reasons[reason] if reason < len(wait_reasons) else f"wait reason {reason}"
    return Goroutine(
        id=gid,
        location=places[user],
        pc=user,
        wait_reason=reason_text,
        thread=thread or None,
        selected=gid == selected,
        go=places[go],
        start=places[start],
        status=status_word(status),
    )


_STRING_ELEMENT = re.compile(r'^\s*"((?:[^"\\]|\\.)*)",?\s*$')


def parse_string_array(output: str) -> tuple[str, ...]:
    """`print` of a [N]string in the multi-line form -> its elements."""
    error = command_error(output)
    if error:
        raise ParseError(f"print failed: {error}", output)
    return tuple(m[1] for m in map(_STRING_ELEMENT.match, output.splitlines()) if m)


_CURRENT_GOROUTINE = re.compile(r"^Goroutine (\d+):$", re.M)


def parse_current_goroutine(output: str) -> int | None:
    """`goroutine` with no argument -> the selected goroutine, or None when
    the current thread runs no goroutine (a crash on a system stack)."""
    match = _CURRENT_GOROUTINE.search(output)
    return int(match[1]) if match else None


def parse_throwers(output: str) -> dict[int, int]:
    """`gocore_throwers` (tui/debugger/star/pages.star) -> {goroutine id: thread id}."""
    found = {}
    for line in output.splitlines():
        kind, *fields = line.split("\t")
        if kind == "T" and len(fields) == 2 and all(field.isdigit() for field in fields):
            found[int(fields[0])] = int(fields[1])
        elif line.strip():
            raise ParseError("not a line of gocore_throwers", line)
    return found


def page_next_start(output: str) -> int | None:
    """The NEXT field of a page, read off its last line without parsing the rest."""
    last = output.rstrip().rsplit("\n", 1)[-1]
    kind, _, value = last.partition("\t")
    return int(value) if kind == "NEXT" and value.lstrip("-").isdigit() else None


# `stack -offsets N` adds under each frame's "at" line:
#   "    frame: +0x7fff355d6c68 frame pointer +0x7fff355d6c58"
# The first number is the frame's canonical frame address (its caller's SP).
_FRAME_OFFSETS = re.compile(r"^\s+frame: \+?(?P<cfa>-?(?:0x)?[0-9a-f]+) frame pointer ", re.M)


def parse_frame_offsets(output: str) -> tuple[int, ...]:
    """`stack -offsets` -> each frame's canonical frame address, by index."""
    error = command_error(output)
    if error:
        raise ParseError(f"stack failed: {error}", output)
    found = tuple(int(match["cfa"], 0) for match in _FRAME_OFFSETS.finditer(output))
    if not found:
        raise ParseError("no 'frame:' lines in stack -offsets output", output)
    return found


# `x -count N -size 8 -x ADDR` (examinemem):
#   "0x7fff355d6c38:   0x00007fff355d6c40   0x00000000004332a0   ..."
_MEMORY_LINE = re.compile(r"^0x[0-9a-f]+:((?:\s+0x[0-9a-f]+)+)\s*$")


def parse_memory_words(output: str) -> tuple[int, ...]:
    """examinemem's hex words, in address order."""
    error = command_error(output)
    if error:
        raise ParseError(f"examinemem failed: {error}", output)
    words: list[int] = []
    for line in output.splitlines():
        match = _MEMORY_LINE.match(line.strip())
        if match:
            words += [int(word, 16) for word in match[1].split()]
    if not words:
        raise ParseError("no memory lines in examinemem output", output)
    return tuple(words)


_LISTING_PC = re.compile(r"^Showing .*:\d+ \(PC: (?P<pc>0x[0-9a-f]+)\)", re.M)


# `x -fmt hex -count N -size 1 ADDR`:
#   "0x579c60:   0x72   0x75   0x6e   0x74   0x69   0x6d   0x65   0x3a   "
_MEMORY_BYTES = re.compile(r"^0x[0-9a-f]+:((?:\s+0x[0-9a-f]{2})+)\s*$")


def parse_memory_bytes(output: str) -> bytes:
    """examinemem's bytes, in address order."""
    error = command_error(output)
    if error:
        raise ParseError(f"examinemem failed: {error}", output)
    found = bytearray()
    for line in output.splitlines():
        match = _MEMORY_BYTES.match(line.strip())
        if match:
            found += bytes(int(word, 16) for word in match[1].split())
    if not found:
        raise ParseError("no memory lines in examinemem output", output)
    return bytes(found)


_LISTING_PLACE = re.compile(r"^Showing (?P<file>.*):(?P<line>\d+) \(PC: 0x[0-9a-f]+\)", re.M)


def parse_listing_place(output: str) -> tuple[str, int]:
    """`list *ADDR` -> (file, line) its header names."""
    match = _LISTING_PLACE.search(output)
    if not match:
        raise ParseError("no 'Showing FILE:LINE (PC: ...)' header in list output", output)
    return _clean_file(match["file"]), int(match["line"])


def parse_listing_pc(output: str) -> int:
    """`list FUNCTION` -> the PC its header names (just past the prologue)."""
    error = command_error(output)
    if error:
        raise ParseError(f"list failed: {error}", output)
    match = _LISTING_PC.search(output)
    if not match:
        raise ParseError("no 'Showing FILE:LINE (PC: ...)' header in list output", output)
    return int(match["pc"], 16)


def parse_disassembly(output: str) -> tuple[Instruction, ...]:
    """`disassemble` -> its instructions (the TEXT header and blank lines dropped).

    Each line: [`=>`] TAB file:line TAB 0xPC[*] TAB bytes TAB+ instruction.
    """
    error = command_error(output)
    if error:
        raise ParseError(f"disassemble failed: {error}", output)
    found = []
    for line in output.splitlines():
        if not line.strip() or line.startswith("TEXT "):
            continue
        fields = [f for f in line.split("\t")]
        current = fields[0].strip() == "=>"
        rest = [f for f in fields[1:] if f != ""]
        if len(rest) < 4 or not rest[1].startswith("0x"):
            raise ParseError(f"bad disassembly line {line!r}", output)
        try:
            pc = int(rest[1].rstrip("*"), 16)
        except ValueError:
            raise ParseError(f"bad address in {line!r}", output) from None
        found.append(Instruction(pc, rest[0], " ".join(rest[3:]), current))
    if not found:
        raise ParseError("disassemble printed no instructions", output)
    return tuple(found)
