"""Call frame information: how to find the caller of a frame of C code.

C built without frame pointers (distributions build libc so, and cgo code
built with -O2 -fomit-frame-pointer) can only be unwound by its unwind
tables: .eh_frame (indexed by .eh_frame_hdr's binary search table) or
.debug_frame. A table row says, for a pc, how to compute the canonical
frame address (CFA: a register plus an offset, or a DWARF expression) and
where each callee-saved register and the return address were saved.

    table = FrameTable.of(image)            # an ElfImage
    row = table.row(static_pc)              # None: no FDE covers it
    caller = row.unwind(registers, read_u64)

Registers are numbered as DWARF numbers them on x86-64: 0 rax, 1 rdx,
2 rcx, 3 rbx, 4 rsi, 5 rdi, 6 rbp, 7 rsp, 8-15 r8-r15, 16 the return
address (rip). Only what unwinding needs is modelled; anything else
raises CfiError, and the caller stops there.
"""

from __future__ import annotations

import bisect
import struct
from dataclasses import dataclass, field
from typing import Callable

from .leb128 import sleb, uleb

RSP, RIP = 7, 16
# DW_EH_PE_*: how .eh_frame encodes a pointer.
_PE_OMIT = 0xFF
_PE_FORMATS = {0x00: ("<Q", 8), 0x02: ("<H", 2), 0x03: ("<I", 4), 0x04: ("<Q", 8), 0x0A: ("<h", 2),
               0x0B: ("<i", 4), 0x0C: ("<q", 8)}
_PE_PCREL, _PE_DATAREL = 0x10, 0x30
# A longer instruction stream or expression is not a table.
_MAX_OPS = 10_000


class CfiError(Exception):
    """The unwind table holds something this reader does not model."""


@dataclass(frozen=True)
class Row:
    """How to unwind one frame at one pc. cfa: (register, offset) or a
    DWARF expression (bytes); rules: register -> ("offset", n) saved at
    CFA+n, ("val_offset", n) is CFA+n, ("register", r) is in r, ("same",),
    ("undefined",), ("expression", bytes), ("val_expression", bytes)."""

    cfa: tuple[int, int] | bytes
    rules: dict[int, tuple]
    return_register: int = RIP
    signal: bool = False  # a signal handler's frame (CIE augmentation "S"): its caller was stopped by a trap

    def unwind(self, registers: dict[int, int], read_u64: Callable[[int], int]) -> dict[int, int]:
        """The caller's registers: RSP is the CFA, RIP the return address;
        a register with no rule keeps its value (callee-saved by convention).
        Raises CfiError, and whatever read_u64 raises."""
        if isinstance(self.cfa, bytes):
            cfa = evaluate(self.cfa, registers, read_u64)
        else:
            register, offset = self.cfa
            if register not in registers:
                raise CfiError(f"CFA from register {register}, whose value is not known")
            cfa = (registers[register] + offset) & 0xFFFF_FFFF_FFFF_FFFF
        caller = dict(registers)
        for register, rule in self.rules.items():
            kind = rule[0]
            if kind == "offset":
                caller[register] = read_u64(cfa + rule[1])
            elif kind == "val_offset":
                caller[register] = cfa + rule[1]
            elif kind == "register":
                if rule[1] in registers:
                    caller[register] = registers[rule[1]]
                else:
                    caller.pop(register, None)
            elif kind == "undefined":
                caller.pop(register, None)
            elif kind == "expression":
                caller[register] = read_u64(evaluate(rule[1], registers, read_u64, push=cfa))
            elif kind == "val_expression":
                caller[register] = evaluate(rule[1], registers, read_u64, push=cfa)
        if self.return_register not in caller or self.return_register not in self.rules:
            raise CfiError("no rule for the return address")
        caller[RIP] = caller[self.return_register]
        caller[RSP] = cfa
        return caller


# DWARF expression opcodes (DWARF 5, 2.5) that unwind tables use.
_OP_ADDR, _OP_DEREF, _OP_CONST1U, _OP_CONST1S, _OP_CONST2U, _OP_CONST2S = 0x03, 0x06, 0x08, 0x09, 0x0A, 0x0B
_OP_CONST4U, _OP_CONST4S, _OP_CONST8U, _OP_CONST8S, _OP_CONSTU, _OP_CONSTS = 0x0C, 0x0D, 0x0E, 0x0F, 0x10, 0x11
_OP_DUP, _OP_DROP, _OP_AND, _OP_MINUS, _OP_OR, _OP_PLUS, _OP_PLUS_UCONST = 0x12, 0x13, 0x1A, 0x1C, 0x21, 0x22, 0x23
_OP_SHL, _OP_SHR, _OP_GE, _OP_GT, _OP_LE, _OP_LT, _OP_EQ, _OP_NE = 0x24, 0x25, 0x2A, 0x2B, 0x2C, 0x2D, 0x29, 0x2E
_OP_LIT0, _OP_LIT31, _OP_REG0, _OP_REG31, _OP_BREG0, _OP_BREG31 = 0x30, 0x4F, 0x50, 0x6F, 0x70, 0x8F
_MASK = 0xFFFF_FFFF_FFFF_FFFF
_BINARY = {_OP_AND: lambda a, b: a & b, _OP_MINUS: lambda a, b: a - b, _OP_OR: lambda a, b: a | b,
           _OP_PLUS: lambda a, b: a + b, _OP_SHL: lambda a, b: a << b, _OP_SHR: lambda a, b: a >> b,
           _OP_GE: lambda a, b: int(a >= b), _OP_GT: lambda a, b: int(a > b), _OP_LE: lambda a, b: int(a <= b),
           _OP_LT: lambda a, b: int(a < b), _OP_EQ: lambda a, b: int(a == b), _OP_NE: lambda a, b: int(a != b)}
_CONSTS = {_OP_CONST1U: "<B", _OP_CONST1S: "<b", _OP_CONST2U: "<H", _OP_CONST2S: "<h", _OP_CONST4U: "<I",
           _OP_CONST4S: "<i", _OP_CONST8U: "<Q", _OP_CONST8S: "<q", _OP_ADDR: "<Q"}


def evaluate(expression: bytes, registers: dict[int, int], read_u64: Callable[[int], int],
             push: int | None = None) -> int:
    """A DWARF expression as unwind tables write them (PLT entries compute
    their CFA from rsp and rip). Raises CfiError for an operation it does
    not model."""
    stack = [] if push is None else [push]
    pos = 0
    for _ in range(_MAX_OPS):
        if pos >= len(expression):
            break
        op = expression[pos]
        pos += 1
        if _OP_LIT0 <= op <= _OP_LIT31:
            stack.append(op - _OP_LIT0)
        elif _OP_BREG0 <= op <= _OP_BREG31:
            offset, pos = sleb(expression, pos)
            register = op - _OP_BREG0
            if register not in registers:
                raise CfiError(f"expression reads register {register}, whose value is not known")
            stack.append(registers[register] + offset)
        elif op in _CONSTS:
            fmt = _CONSTS[op]
            stack.append(struct.unpack_from(fmt, expression, pos)[0])
            pos += struct.calcsize(fmt)
        elif op == _OP_CONSTU:
            value, pos = uleb(expression, pos)
            stack.append(value)
        elif op == _OP_CONSTS:
            value, pos = sleb(expression, pos)
            stack.append(value)
        elif op == _OP_PLUS_UCONST:
            value, pos = uleb(expression, pos)
            stack.append(stack.pop() + value)
        elif op in _BINARY:
            right, left = stack.pop(), stack.pop()
            stack.append(_BINARY[op](left & _MASK, right & _MASK))
        elif op == _OP_DEREF:
            stack.append(read_u64(stack.pop() & _MASK))
        elif op == _OP_DUP:
            stack.append(stack[-1])
        elif op == _OP_DROP:
            stack.pop()
        else:
            raise CfiError(f"DWARF expression operation {op:#x} in an unwind table")
    if not stack:
        raise CfiError("empty DWARF expression")
    return stack[-1] & _MASK


@dataclass
class _Cie:
    code_align: int
    data_align: int
    return_register: int
    pointer_encoding: int
    augmented: bool
    instructions: bytes
    signal_frame: bool = False


@dataclass
class FrameTable:
    """The unwind table of one ELF image. data: the section's bytes, at
    static address addr; eh: .eh_frame (else .debug_frame); index: the
    FDEs as (start, end, offset), sorted (from .eh_frame_hdr, or read once)."""

    data: memoryview
    addr: int
    eh: bool
    index: list[tuple[int, int, int]] = field(default_factory=list)
    _cies: dict[int, _Cie] = field(default_factory=dict)
    _starts: list[int] = field(default_factory=list)

    @classmethod
    def of(cls, image) -> "FrameTable | None":
        """The image's .eh_frame, else its .debug_frame; None when it has neither."""
        for name, eh in ((".eh_frame", True), (".debug_frame", False)):
            section = image.sections.get(name)
            if section is not None and section.size and section.type != 8:  # not SHT_NOBITS
                try:
                    data = image.section_bytes(name)
                except Exception:
                    continue
                table = cls(data, section.addr if eh else 0, eh)
                table._build_index()
                if table.index:
                    return table
        return None

    def _build_index(self) -> None:
        """Every FDE's range, read once (a libc holds a few thousand)."""
        data, pos, found = self.data, 0, []
        while pos + 4 <= len(data):
            length = struct.unpack_from("<I", data, pos)[0]
            if length == 0:
                if self.eh:
                    break  # the terminator
                pos += 4
                continue
            start = pos
            id_at, end = _entry(data, pos)
            if end > len(data):
                break
            cie_id = struct.unpack_from("<I", data, id_at)[0]
            is_cie = cie_id == 0 if self.eh else cie_id == 0xFFFFFFFF
            if not is_cie:
                try:
                    cie_offset = id_at - cie_id if self.eh else cie_id
                    cie = self._cie(cie_offset)
                    begin, at = self._pointer(cie.pointer_encoding, id_at + 4)
                    size, _ = self._pointer(cie.pointer_encoding & 0x0F, at)
                    if begin:
                        found.append((begin, begin + size, start))
                except (CfiError, struct.error, IndexError):
                    pass
            pos = end
        found.sort()
        self.index = found
        self._starts = [start for start, _, _ in found]

    def _pointer(self, encoding: int, pos: int) -> tuple[int, int]:
        """(value, next position) of an encoded pointer at pos."""
        if not self.eh:
            return struct.unpack_from("<Q", self.data, pos)[0], pos + 8
        fmt = encoding & 0x0F
        if fmt == 0x01:
            value, after = uleb(self.data, pos)
        elif fmt == 0x09:
            value, after = sleb(self.data, pos)
        elif fmt in _PE_FORMATS:
            code, size = _PE_FORMATS[fmt]
            value, after = struct.unpack_from(code, self.data, pos)[0], pos + size
        else:
            raise CfiError(f"pointer encoding {encoding:#x}")
        if encoding & 0x70 == _PE_PCREL:
            value += self.addr + pos
        elif encoding & 0x70 not in (0, _PE_DATAREL):
            raise CfiError(f"pointer encoding {encoding:#x}")
        return value & _MASK, after

    def _cie(self, offset: int) -> _Cie:
        found = self._cies.get(offset)
        if found is not None:
            return found
        data = self.data
        id_at, end = _entry(data, offset)
        pos = id_at + 4
        version = data[pos]
        pos += 1
        nul = bytes(data[pos:end]).index(b"\0")
        augmentation = bytes(data[pos:pos + nul]).decode("ascii", "replace")
        pos += nul + 1
        if version >= 4:
            pos += 2  # address size, segment selector size
        code_align, pos = uleb(data, pos)
        data_align, pos = sleb(data, pos)
        if version == 1:
            return_register = data[pos]
            pos += 1
        else:
            return_register, pos = uleb(data, pos)
        encoding = 0x00 if self.eh else 0x04
        signal = False
        if augmentation.startswith("z"):
            size, pos = uleb(data, pos)
            aug_end = pos + size
            for char in augmentation[1:]:
                if char == "R":
                    encoding = data[pos]
                    pos += 1
                elif char == "P":
                    personality = data[pos]
                    pos += 1
                    _, pos = self._pointer(personality & 0x7F, pos)
                elif char == "L":
                    pos += 1
                elif char == "S":
                    signal = True
            pos = aug_end
        elif augmentation and augmentation != "eh":
            raise CfiError(f"CIE augmentation {augmentation!r}")
        found = _Cie(code_align, data_align, return_register, encoding, augmentation.startswith("z"),
                     bytes(data[pos:end]), signal)
        self._cies[offset] = found
        return found

    def row(self, pc: int) -> Row | None:
        """The rule at static pc; None when no FDE covers it. Raises CfiError."""
        i = bisect.bisect_right(self._starts, pc) - 1
        if i < 0:
            return None
        start, end, offset = self.index[i]
        if not start <= pc < end:
            return None
        try:
            return self._row(offset, pc)
        except (struct.error, IndexError, ValueError) as err:
            raise CfiError(f"FDE at {offset:#x} unreadable ({err})") from None

    def _row(self, offset: int, pc: int) -> Row:
        data = self.data
        id_at, end = _entry(data, offset)
        cie_id = struct.unpack_from("<I", data, id_at)[0]
        cie = self._cie(id_at - cie_id if self.eh else cie_id)
        begin, pos = self._pointer(cie.pointer_encoding, id_at + 4)
        _, pos = self._pointer(cie.pointer_encoding & 0x0F, pos)
        if cie.augmented:
            size, pos = uleb(data, pos)
            pos += size
        state = _State()
        _run(cie.instructions, cie, state, None, begin, pc)
        initial = dict(state.rules)
        _run(bytes(data[pos:end]), cie, state, initial, begin, pc)
        return Row(state.cfa, dict(state.rules), cie.return_register, cie.signal_frame)


def _entry(data, offset: int) -> tuple[int, int]:
    """(where the CIE id / CIE pointer field is, where the entry ends) of the
    CIE or FDE at offset (a 32-bit length, or 0xffffffff and a 64-bit one)."""
    length = struct.unpack_from("<I", data, offset)[0]
    header = 4
    if length == 0xFFFFFFFF:
        length = struct.unpack_from("<Q", data, offset + 4)[0]
        header = 12
    return offset + header, offset + header + length


@dataclass
class _State:
    cfa: tuple[int, int] | bytes = (RSP, 8)
    rules: dict[int, tuple] = field(default_factory=dict)
    saved: list = field(default_factory=list)


def _run(program: bytes, cie: _Cie, state: _State, initial: dict | None, location: int, pc: int) -> None:
    """Run CFA instructions until the row that covers pc."""
    pos = 0
    da, ca = cie.data_align, cie.code_align
    for _ in range(_MAX_OPS):
        if pos >= len(program):
            return
        op = program[pos]
        pos += 1
        high, low = op & 0xC0, op & 0x3F
        if high == 0x40:  # advance_loc
            location += low * ca
            if location > pc:
                return
        elif high == 0x80:  # offset
            value, pos = uleb(program, pos)
            state.rules[low] = ("offset", value * da)
        elif high == 0xC0:  # restore
            _restore(state, initial, low)
        elif op == 0x00:
            pass
        elif op == 0x01:  # set_loc
            location = struct.unpack_from("<Q", program, pos)[0]
            pos += 8
            if location > pc:
                return
        elif op in (0x02, 0x03, 0x04):  # advance_loc1/2/4
            fmt = {0x02: "<B", 0x03: "<H", 0x04: "<I"}[op]
            location += struct.unpack_from(fmt, program, pos)[0] * ca
            pos += struct.calcsize(fmt)
            if location > pc:
                return
        elif op == 0x05:  # offset_extended
            register, pos = uleb(program, pos)
            value, pos = uleb(program, pos)
            state.rules[register] = ("offset", value * da)
        elif op == 0x06:  # restore_extended
            register, pos = uleb(program, pos)
            _restore(state, initial, register)
        elif op == 0x07:  # undefined
            register, pos = uleb(program, pos)
            state.rules[register] = ("undefined",)
        elif op == 0x08:  # same_value
            register, pos = uleb(program, pos)
            state.rules[register] = ("same",)
        elif op == 0x09:  # register
            register, pos = uleb(program, pos)
            other, pos = uleb(program, pos)
            state.rules[register] = ("register", other)
        elif op == 0x0A:  # remember_state
            state.saved.append((state.cfa, dict(state.rules)))
        elif op == 0x0B:  # restore_state
            if state.saved:
                state.cfa, state.rules = state.saved.pop()
        elif op == 0x0C:  # def_cfa
            register, pos = uleb(program, pos)
            offset, pos = uleb(program, pos)
            state.cfa = (register, offset)
        elif op == 0x0D:  # def_cfa_register
            register, pos = uleb(program, pos)
            state.cfa = (register, state.cfa[1] if isinstance(state.cfa, tuple) else 0)
        elif op == 0x0E:  # def_cfa_offset
            offset, pos = uleb(program, pos)
            state.cfa = (state.cfa[0] if isinstance(state.cfa, tuple) else RSP, offset)
        elif op == 0x0F:  # def_cfa_expression
            size, pos = uleb(program, pos)
            state.cfa = bytes(program[pos:pos + size])
            pos += size
        elif op in (0x10, 0x16):  # expression, val_expression
            register, pos = uleb(program, pos)
            size, pos = uleb(program, pos)
            state.rules[register] = ("expression" if op == 0x10 else "val_expression", bytes(program[pos:pos + size]))
            pos += size
        elif op == 0x11:  # offset_extended_sf
            register, pos = uleb(program, pos)
            value, pos = sleb(program, pos)
            state.rules[register] = ("offset", value * da)
        elif op == 0x12:  # def_cfa_sf
            register, pos = uleb(program, pos)
            offset, pos = sleb(program, pos)
            state.cfa = (register, offset * da)
        elif op == 0x13:  # def_cfa_offset_sf
            offset, pos = sleb(program, pos)
            state.cfa = (state.cfa[0] if isinstance(state.cfa, tuple) else RSP, offset * da)
        elif op in (0x14, 0x15):  # val_offset, val_offset_sf
            register, pos = uleb(program, pos)
            value, pos = (uleb if op == 0x14 else sleb)(program, pos)
            state.rules[register] = ("val_offset", value * da)
        elif op == 0x2E:  # GNU_args_size
            _, pos = uleb(program, pos)
        elif op == 0x2F:  # GNU_negative_offset_extended
            register, pos = uleb(program, pos)
            value, pos = uleb(program, pos)
            state.rules[register] = ("offset", -value * da)
        else:
            raise CfiError(f"CFA instruction {op:#x}")


def _restore(state: _State, initial: dict | None, register: int) -> None:
    if initial is not None and register in initial:
        state.rules[register] = initial[register]
    else:
        state.rules.pop(register, None)
