"""Names for the objects goroutines wait on: a global, a local
of a frame that points at them, or a field one pointer away from either.

The first way that finds a name wins; WaitObject.named_by says which:
- "global": the object lies inside a global variable (a sized STT_OBJECT
  symbol of .data, .bss, .noptrdata or .noptrbss): `main.mu`, or inside a
  field of one, `main.srv.mu` (the path from the variable's DWARF type).
- "global pointer": a word of a global (.data or .bss) holds the object's
  address: `main.results` for a channel global, `main.cfg.done`.
- "global heap": a global pointer to a struct whose pointee holds or
  contains the object: `main.srv.mu` for `var srv = &server{}`.
- "local": a DWARF variable (local or argument) of a frame holds the
  address or contains the object: `results in main.main`; or, one pointer
  away, a field of what a pointer local points to: `s.requests in main.main`.
  Locations are CFA-relative (DW_OP_fbreg / DW_OP_call_frame_cfa), from
  the variable's location list at the frame's pc where it has one;
  escaped variables (`&mu`) are named without their `&`.
- "stack word": a word of a frame holds the address but no DWARF variable
  covers it: `(a local of main.main)`.
(waits.py adds "hchan.timer": `(a timer's channel)` for an unnamed channel
a runtime timer feeds, time.After's, Go 1.23+; pollDescs are named
`fd N` from their fd.)

Frames are searched on few goroutines, so that 100k of them cost no more
than a handful: goroutine 1, the goroutines that created the waiters
(g.parentGoid, Go 1.21+), and up to WAITERS_PER_OBJECT waiters of each
object with distinct stacks; at most MAX_GOROUTINES in all, each unwound
from its saved registers (g.sched), or a running one from its thread's
registers when they are on its stack; else (the goroutine that panicked
has its thread on a system stack) from the lowest return address of its
stack that unwinds to runtime.goexit (recover_frames). Each is searched
in its first STACK_FRAMES frames, outer frames first, earlier goroutines
first.
"""

from __future__ import annotations

import bisect
import struct
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Iterable, Mapping

from .dwarf import Layouts, Type
from .errors import BadRead, Unsupported
from .leb128 import sleb, uleb

if TYPE_CHECKING:
    from .native import NativeCore
    from .waits import WaitObject, WaitReader

DATA_SECTIONS = (".data", ".bss", ".noptrdata", ".noptrbss")
POINTER_SECTIONS = (".data", ".bss")
WAITERS_PER_OBJECT = 3
MAX_GOROUTINES = 256
STACK_FRAMES = 64
RECOVER_SPAN = 1 << 16
MAX_FRAME = 1 << 16
# Objects named by containment, by their type's DWARF name.
_CONTAINED = {"mutex": "sync.Mutex", "rwmutex": "sync.RWMutex", "waitgroup": "sync.WaitGroup", "cond": "sync.Cond"}
_RUNTIME = ("runtime.", "internal/", "runtime/")
_POINTERISH = frozenset({"ptr", "chan", "unsafe.Pointer", "map", "uintptr"})
_RANK = {"global": 0, "global pointer": 1, "global heap": 2, "local": 3, "local heap": 4, "stack word": 5}
# DWARF expression opcodes (DWARF 5, section 7.7.1).
_OP_ADDR, _OP_CONSTS, _OP_PLUS, _OP_PLUS_UCONST, _OP_FBREG, _OP_PIECE, _OP_CFA = (
    0x03, 0x11, 0x22, 0x23, 0x91, 0x93, 0x9C)


@dataclass(frozen=True, slots=True)
class Local:
    """A DWARF variable of a function: where it is relative to the frame's CFA."""

    name: str
    offset: int  # from the CFA
    type: Type
    die: int = 0  # the DIE offset of its type (the heap typer reads types by DIE)


def package_of(name: str) -> str:
    """The import path of a Go symbol or function (`net/http.(*conn).serve` -> `net/http`)."""
    slash = name.rfind("/")
    dot = name.find(".", slash + 1)
    return name[:dot].replace("%2e", ".") if dot > 0 else ""


def is_user_package(package: str) -> bool:
    """main, or a module path (its first element has a dot): not the standard library."""
    return package == "main" or "." in package.split("/", 1)[0]


class Variables:
    """Global variables and function locals of the executable's DWARF, by
    package: a package's compile unit is read when one of its names is
    first asked for."""

    def __init__(self, layouts: Layouts) -> None:
        self.layouts = layouts
        self._units: dict[str, object] | None = None
        self._read: dict[str, tuple[dict[str, int], dict[str, object]]] = {}
        self._locals: dict[tuple[str, int], tuple[Local, ...]] = {}

    def _unit(self, package: str):
        if self._units is None:
            self._units = {}
            try:
                for cu in self.layouts.dwarf_info().iter_CUs():
                    name = cu.get_top_DIE().attributes.get("DW_AT_name")
                    if name is not None:
                        self._units.setdefault(name.value.decode("utf-8", "replace"), cu)
            except Unsupported:
                raise
            except Exception as err:  # pyelftools on corrupt DWARF
                raise Unsupported(f"DWARF compile units unreadable ({type(err).__name__}: {err})") from None
        return self._units.get(package)

    def _package(self, package: str) -> tuple[dict[str, int], dict[str, object]]:
        """(global name -> type DIE offset, function name -> subprogram DIE) of a package."""
        found = self._read.get(package)
        if found is None:
            variables: dict[str, int] = {}
            functions: dict[str, object] = {}
            cu = self._unit(package)
            if cu is not None:
                try:
                    for die in cu.get_top_DIE().iter_children():
                        name = die.attributes.get("DW_AT_name")
                        if name is None:
                            continue
                        text = name.value.decode("utf-8", "replace")
                        if die.tag == "DW_TAG_variable" and "DW_AT_type" in die.attributes:
                            variables[text] = _ref(die, die.attributes["DW_AT_type"])
                        elif die.tag == "DW_TAG_subprogram":
                            functions.setdefault(text, die)
                except Exception as err:
                    raise Unsupported(f"DWARF of {package} unreadable ({type(err).__name__}: {err})") from None
            found = self._read[package] = (variables, functions)
        return found

    def global_die(self, name: str) -> int | None:
        """The DIE offset of a global variable's type (`main.srv`), None when
        DWARF has none (remembered with the binary's layouts: a package's
        compile unit is read once per binary, not per open)."""
        known = self.layouts.remembered_global(name)
        if known is None:
            known = self._package(package_of(name))[0].get(name) or 0
            self.layouts.remember_global(name, known)
        return known or None

    def global_type(self, name: str) -> Type | None:
        """The DWARF type of a global variable (`main.srv`), None when DWARF has none."""
        offset = self._package(package_of(name))[0].get(name)
        if offset is None:
            return None
        try:
            return self.layouts.type_at(offset)
        except Unsupported:
            return None

    def locals(self, function: str, pc: int) -> tuple[Local, ...]:
        """The variables of a function with a CFA-relative location at
        static pc (lexical blocks included)."""
        key = (function, pc)
        found = self._locals.get(key)
        if found is not None:
            return found
        die = self._package(package_of(function))[1].get(function)
        out: list[Local] = []
        if die is not None:
            try:
                pending = list(die.iter_children())
                while pending:
                    child = pending.pop()
                    if child.tag == "DW_TAG_lexical_block":
                        pending.extend(child.iter_children())
                        continue
                    if child.tag not in ("DW_TAG_variable", "DW_TAG_formal_parameter"):
                        continue
                    attrs = child.attributes
                    if "DW_AT_name" not in attrs or "DW_AT_type" not in attrs or "DW_AT_location" not in attrs:
                        continue
                    offset = self._cfa_offset(child, attrs["DW_AT_location"], pc)
                    if offset is None:
                        continue
                    type_die = _ref(child, attrs["DW_AT_type"])
                    try:
                        vtype = self.layouts.type_at(type_die)
                    except Unsupported:
                        continue
                    out.append(Local(attrs["DW_AT_name"].value.decode("utf-8", "replace"), offset, vtype, type_die))
            except Unsupported:
                raise
            except Exception as err:
                raise Unsupported(f"DWARF of {function} unreadable ({type(err).__name__}: {err})") from None
        found = self._locals[key] = tuple(out)
        return found

    def _cfa_offset(self, die, attr, pc: int) -> int | None:
        if attr.form.startswith("DW_FORM_block") or attr.form == "DW_FORM_exprloc":
            return _cfa_expression(bytes(attr.value))
        from elftools.dwarf.locationlists import LocationEntry, LocationParser, BaseAddressEntry

        dwarf = self.layouts.dwarf_info()
        parser = LocationParser(dwarf.location_lists())
        entries = parser.parse_from_attribute(attr, die.cu.header.version, die=die)
        if not isinstance(entries, list):
            return _cfa_expression(bytes(entries.loc_expr))
        top = die.cu.get_top_DIE().attributes.get("DW_AT_low_pc")
        base = top.value if top is not None else 0
        for entry in entries:
            if isinstance(entry, BaseAddressEntry):
                base = entry.base_address
            elif isinstance(entry, LocationEntry):
                start, end = entry.begin_offset, entry.end_offset
                if not getattr(entry, "is_absolute", False):
                    start, end = start + base, end + base
                if start <= pc < end:
                    return _cfa_expression(bytes(entry.loc_expr))
        return None


def _cfa_expression(expr: bytes) -> int | None:
    """The CFA offset of a location that is CFA-relative memory (the first
    piece of a composite), else None (a register, a global, a computation)."""
    pos, stack = 0, []
    while pos < len(expr):
        op = expr[pos]
        pos += 1
        if op == _OP_CFA:
            stack.append(0)
        elif op == _OP_FBREG:  # Go's frame base is the CFA
            value, pos = sleb(expr, pos)
            stack.append(value)
        elif op == _OP_CONSTS:
            value, pos = sleb(expr, pos)
            stack.append(("const", value))
        elif op == _OP_PLUS and len(stack) >= 2 and isinstance(stack[-1], tuple) and isinstance(stack[-2], int):
            stack.append(stack.pop(-2) + stack.pop()[1])
        elif op == _OP_PLUS_UCONST and stack and isinstance(stack[-1], int):
            value, pos = uleb(expr, pos)
            stack[-1] += value
        elif op == _OP_PIECE:
            break
        else:
            return None
    if len(stack) == 1 and isinstance(stack[0], int):
        return stack[0]
    return None


def _ref(die, attr) -> int:
    if attr.form in ("DW_FORM_ref_addr", "DW_FORM_ref_sig8"):
        return attr.value
    return attr.value + die.cu.cu_offset


def field_path(vtype: Type, offset: int, want: str | None) -> str | None:
    """The Go selector path (".mu", ".conns[3]", "") from a value of vtype
    to offset inside it, ending at a value of the type named want
    (contained objects) or, want None, at a pointer-sized word (a pointer
    held there); None when offset is not such a place."""
    found = _walk(vtype, offset, want)
    return found[0] if found is not None else None


def _walk(vtype: Type, offset: int, want: str | None) -> tuple[str, Type] | None:
    path, current = "", vtype
    for _ in range(64):
        if offset == 0 and (current.name == want if want is not None else current.kind in _POINTERISH):
            return path, current
        if current.kind == "struct":
            found = next((f for f in current.fields if f.name != "_" and f.offset <= offset < f.offset
                          + max(f.type.size, 1)), None)
            if found is None:
                return None
            path += "." + found.name
            offset -= found.offset
            current = found.type
        elif current.kind == "array" and current.elem is not None and current.elem.size:
            index = offset // current.elem.size
            path += f"[{index}]"
            offset -= index * current.elem.size
            current = current.elem
        else:
            return None
    return None


@dataclass
class _Found:
    name: str
    how: str
    rank: tuple
    goroutine: int | None = None


class Namer:
    def __init__(self, native: "NativeCore", reader: "WaitReader") -> None:
        self.native = native
        self.reader = reader
        self.memory = native.memory
        self.variables = Variables(native.layouts)
        self.notes: list[str] = []
        self.account = ""
        self.scanned = 0
        self._goroutine: int | None = None
        self._contained: list[int] = []

    def _contained_in(self, start: int, end: int) -> list[int]:
        """The objects named by containment (locks, wait groups, Conds) that lie in [start, end)."""
        addresses = self._contained
        return addresses[bisect.bisect_left(addresses, start):bisect.bisect_left(addresses, end)]

    def name(self, objects: Mapping[int, "WaitObject"]) -> dict[int, "WaitObject"]:
        """The objects, named where a name was found."""
        targets = {a: o for a, o in objects.items() if not o.name}
        self._contained = sorted(a for a, o in targets.items() if o.kind in _CONTAINED)
        found: dict[int, _Found] = {}
        try:
            self._globals(targets, found)
        except (Unsupported, BadRead) as err:
            self.notes.append(f"globals not searched for names: {err}")
        try:
            self._frames(targets, found)
        except (Unsupported, BadRead) as err:
            self.notes.append(f"frames not searched for names: {err}")
        self.account = (
            "globals: ELF data and bss symbols (containing the object or holding its address; field paths "
            "from DWARF variable types; one pointer hop from globals of the program's own packages); "
            f"locals: DWARF variables with CFA-relative locations in the frames of {self.scanned} goroutines "
            f"(goroutine 1, the waiters' creators, up to {WAITERS_PER_OBJECT} waiters per object with distinct "
            "stacks), and plain stack words where no variable covers the pointer")
        out = dict(objects)
        for address, name in found.items():
            out[address] = replace(objects[address], name=name.name, named_by=name.how,
                                   name_goroutine=name.goroutine)
        return out

    # Globals

    def _globals(self, targets: Mapping[int, "WaitObject"], found: dict[int, _Found]) -> None:
        if not targets:
            return
        exe, bias, memory = self.native.exe, self.native.bias, self.memory
        symbols = exe.object_symbols(DATA_SECTIONS)
        starts = [value + bias for value, _, _ in symbols]

        def offer(address: int, name: str, how: str, order: int = 0) -> None:
            candidate = _Found(name, how, (_RANK[how], order, len(name)))
            if address not in found or candidate.rank < found[address].rank:
                found[address] = candidate

        # 1. Inside a global (channels are never: an hchan is made on the heap).
        for address, obj in targets.items():
            if obj.kind == "chan":
                continue
            i = bisect.bisect_right(starts, address) - 1
            if i < 0:
                continue
            value, size, name = symbols[i]
            start = value + bias
            if address >= start + size or _temporary(name):
                continue
            want = _CONTAINED.get(obj.kind)
            path = ""
            vtype = self.variables.global_type(name)
            if vtype is not None:
                path = field_path(vtype, address - start, want) if want else None
                if path is None:
                    path = f"+{address - start:#x}" if address != start else ""
            elif address != start:
                path = f"+{address - start:#x}"
            offer(address, name + path, "global")
        # 2. A word of a global holds the address.
        wanted = set(targets)
        words_at: list[int] = []  # addresses of the words that hold an object's address
        for section_name in POINTER_SECTIONS:
            section = exe.sections.get(section_name)
            if section is None or not section.size:
                continue
            base = section.addr + bias
            try:
                data = memory.read(base, section.size)
            except BadRead:
                continue
            words_at += [base + at for at in _word_hits(data, wanted)]
        for word_at in words_at:
            i = bisect.bisect_right(starts, word_at) - 1
            if i < 0 or word_at >= starts[i] + symbols[i][1]:
                continue
            name = symbols[i][2]
            if _temporary(name):
                continue
            target = memory.u64(word_at)
            path = self._word_path(self.variables.global_type(name), word_at - starts[i], targets[target])
            if path is None:
                path = f"+{word_at - starts[i]:#x}" if word_at != starts[i] else ""
            offer(target, name + path, "global pointer")
        # 3. One hop from the program's own globals that point to structs.
        for value, size, name in symbols:
            if size != 8 or not is_user_package(package_of(name)):
                continue
            vtype = self.variables.global_type(name)
            if vtype is None or vtype.kind != "ptr" or not vtype.target:
                continue
            try:
                pointee = self.native.layouts.deref(vtype)
                pointer = memory.u64(value + bias)
            except (Unsupported, BadRead):
                continue
            for address, path in self._hop(pointer, pointee, targets):
                offer(address, name + path, "global heap")

    def _word_path(self, vtype: Type | None, offset: int, obj: "WaitObject") -> str | None:
        """The path from a variable of vtype to the pointer word at offset;
        for an object named by containment, on into what the word points
        to (a *table whose RWMutex field mu is at offset 0: ".mu")."""
        if vtype is None:
            return None
        found = _walk(vtype, offset, None)
        if found is None:
            return None
        path, word_type = found
        want = _CONTAINED.get(obj.kind)
        if want and word_type.kind == "ptr" and word_type.target:
            try:
                inner = field_path(self.native.layouts.deref(word_type), 0, want)
            except Unsupported:
                inner = None
            if inner:
                path += inner
        return path

    def _hop(self, pointer: int, pointee: Type, targets: Mapping[int, "WaitObject"]) -> Iterable[tuple[int, str]]:
        """(object, path) for objects inside a struct at pointer, or held by one of its words."""
        if not pointer or pointee.kind != "struct" or not 0 < pointee.size <= MAX_FRAME:
            return
        for address in self._contained_in(pointer, pointer + pointee.size):
            path = field_path(pointee, address - pointer, _CONTAINED[targets[address].kind])
            if path is not None:
                yield address, path
        try:
            words = self.memory.words(pointer, pointee.size // 8)
        except BadRead:
            return
        for index, word in enumerate(words):
            if word in targets:
                path = field_path(pointee, index * 8, None)
                if path is not None:
                    yield word, path

    # Frames

    def _candidates(self) -> list[int]:
        """Goroutine ids whose frames are searched, in order of preference."""
        reader = self.reader
        chosen: dict[int, None] = {}
        if 1 in reader.g_address:
            chosen[1] = None
        for parent in reader.parents():
            chosen.setdefault(parent, None)
        for roles in reader.waiters.values():
            if len(chosen) >= MAX_GOROUTINES:
                break
            stacks: set[object] = set()
            ids = [gid for members in roles.values() for gid in members[:WAITERS_PER_OBJECT * 8]]
            for gid in ids[:WAITERS_PER_OBJECT * 8]:
                if len(stacks) >= WAITERS_PER_OBJECT:
                    break
                key = reader.stack_key(gid)
                if key in stacks:
                    continue
                stacks.add(key)
                chosen.setdefault(gid, None)
        return list(chosen)[:MAX_GOROUTINES]

    def _frames(self, targets: Mapping[int, "WaitObject"], found: dict[int, _Found]) -> None:
        if not targets:
            return
        native, memory = self.native, self.memory
        wanted = set(targets)
        contained = {a: _CONTAINED[o.kind] for a, o in targets.items() if o.kind in _CONTAINED}
        on_thread = native.thread_goroutines()[0]
        for order, gid in enumerate(self._candidates()):
            address = self.reader.g_address.get(gid)
            if address is None:
                continue
            record, pcs = goroutine_frames(native, address, on_thread.get(gid), STACK_FRAMES)
            if not pcs:
                continue
            self.scanned += 1
            self._goroutine = gid
            frames = native.walker.extents(record.sp, pcs)
            # Outer frames first: where a value is made, not where it is passed.
            for depth, (sp, cfa, function) in reversed(list(enumerate(frames))):
                if not 0 < cfa - sp <= MAX_FRAME:
                    continue
                try:
                    words = memory.words(sp, (cfa - sp) // 8)
                except BadRead:
                    continue
                rank = (order, len(frames) - depth)
                locals_ = ()
                if not function.startswith(_RUNTIME):
                    pc = pcs[depth] - native.bias - (0 if depth == 0 else 1)
                    try:
                        locals_ = self.variables.locals(function, pc)
                    except Unsupported as err:
                        self.notes.append(f"locals of {function} unreadable: {err}")
                covered: set[int] = set()
                for local in locals_:
                    self._local(local, cfa, function, targets, contained, found, rank, covered)
                if function.startswith(_RUNTIME):
                    continue  # the runtime's own words name nothing the program calls it
                for index, word in enumerate(words):
                    if word in wanted and sp + 8 * index not in covered:
                        self._offer(found, word, f"(a local of {function})", "stack word", rank)

    def _local(self, local: Local, cfa: int, function: str, targets, contained, found, rank, covered) -> None:
        at = cfa + local.offset
        size = local.type.size
        if size <= 0 or size > MAX_FRAME:
            return
        name = local.name.lstrip("&")
        for address in self._contained_in(at, at + size):
            path = field_path(local.type, address - at, contained[address])
            if path is not None:
                self._offer(found, address, f"{name}{path} in {function}", "local", rank)
        try:
            words = self.memory.words(at, size // 8) if size >= 8 else ()
        except BadRead:
            return
        for index, word in enumerate(words):
            if word in targets:
                path = self._word_path(local.type, 8 * index, targets[word])
                if path is not None:
                    covered.add(at + 8 * index)
                    self._offer(found, word, f"{name}{path} in {function}", "local", rank)
        if local.type.kind == "ptr" and local.type.target and words:
            try:
                pointee = self.native.layouts.deref(local.type)
            except Unsupported:
                return
            for address, path in self._hop(words[0], pointee, targets):
                if path:
                    self._offer(found, address, f"{name}{path} in {function}", "local heap", rank)

    def _offer(self, found: dict[int, _Found], address: int, name: str, how: str, rank: tuple) -> None:
        candidate = _Found(name, how, (_RANK[how], *rank), self._goroutine)
        if address not in found or candidate.rank < found[address].rank:
            found[address] = candidate


def goroutine_frames(native: "NativeCore", address: int, on_thread, depth: int) -> tuple[object, tuple[int, ...] | None]:
    """(the g at address as unwound, its physical frames' PCs; None when its
    g is unreadable) for a goroutine parked (from g.sched) or running on a
    thread (on_thread: (thread, direct) from NativeCore.thread_goroutines,
    or None): from the thread's registers when they are on its stack, else
    recover_frames."""
    try:
        record = native.read_g(address)
    except BadRead:
        return None, None
    if on_thread is None:
        return record, native.unwind(record, depth)[0]
    thread = on_thread[0]
    pcs, _ = native.unwind(replace(record, pc=thread.rip, sp=thread.rsp, bp=thread.rbp), depth)
    if pcs and record.stack_lo <= thread.rsp < record.stack_hi:
        return replace(record, sp=thread.rsp), pcs
    return recover_frames(native, record)


def recover_frames(native: "NativeCore", record) -> tuple[object, tuple[int, ...] | None]:
    """The frames of a running goroutine whose thread stands elsewhere
    (on its M's system or signal stack): the lowest word of its stack
    that, taken as a return address with the SP above it, unwinds by the
    pcsp tables alone (no frame pointers) to runtime.goexit at the top of
    the stack. For naming only: frames a stale return address leads to are
    possible, and the innermost live frames (below that word) are missed."""
    lo, hi = record.stack_lo, record.stack_hi
    start = max(lo, hi - RECOVER_SPAN)
    try:
        words = native.memory.words(start, (hi - start) // 8)
    except BadRead:
        return record, None
    for index, word in enumerate(words):
        func = native.names.func(word)
        if func is None or word == func.entry + native.bias:
            continue
        sp = start + 8 * index + 8
        try:
            pcs, why = native.walker.unwind(word, sp, 0, lo, hi, STACK_FRAMES)
        except BadRead:
            continue
        if pcs and not why and native.names.func(pcs[-1]).name == "runtime.goexit":
            return replace(record, pc=word, sp=sp, bp=0), pcs
    return record, None


def _temporary(name: str) -> bool:
    """Symbols the compiler made, not variables of the program (main..stmp_0, go:...)."""
    return ".." in name or name.startswith(("go:", "go.", "type:", "type."))


def _word_hits(data: bytes, wanted: set[int]) -> Iterable[int]:
    """Offsets of the aligned words of data equal to one of wanted."""
    if len(wanted) <= 32:
        for target in wanted:
            needle = struct.pack("<Q", target)
            at = data.find(needle)
            while at >= 0:
                if at % 8 == 0:
                    yield at
                at = data.find(needle, at + 1)
        return
    count = len(data) // 8
    for index, word in enumerate(struct.unpack_from(f"<{count}Q", data)):
        if word in wanted:
            yield 8 * index
