"""LEB128 numbers, as DWARF writes them (location expressions, unwind
tables): unsigned and signed, each read from a position in a buffer."""

from __future__ import annotations


def _leb128(data, pos: int) -> tuple[int, int, int, int]:
    """A LEB128 number at pos: (its bits as unsigned, the next position,
    how many bits were read, the last byte, whose 0x40 is a signed one's sign).
    A number cut by the buffer's end is what was read of it."""
    value = shift = 0
    byte = 0x80
    while pos < len(data):
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            break
    return value, pos, shift, byte


def uleb(data, pos: int) -> tuple[int, int]:
    """(unsigned LEB128 at pos, the next position)."""
    value, pos, _, _ = _leb128(data, pos)
    return value, pos


def sleb(data, pos: int) -> tuple[int, int]:
    """(signed LEB128 at pos, the next position)."""
    value, pos, shift, last = _leb128(data, pos)
    return (value - (1 << shift) if last & 0x40 else value), pos
