"""A heap profile in pprof's format (profile.proto, gzipped), written by
hand: a handful of messages need no protobuf library.

    data = heap_profile(samples)      # [(stack innermost first, objects, bytes)]
    Path("heap.pb.gz").write_bytes(data)

Sample types: inuse_objects (count) and inuse_space (bytes, the default),
as Go's own heap profiles name them, so `go tool pprof -top -sample_index=
inuse_space FILE` and `-http` read it like a runtime profile. Each name on
a stack (a type, the types that led to it, the root) is a function of its
own with one location.
"""

from __future__ import annotations

import gzip
from typing import Iterable, Sequence


def uvarint(value: int) -> bytes:
    """An unsigned LEB128 (protobuf's varint; Go's pclntab uses the same)."""
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _key(field: int, wire: int) -> bytes:
    return uvarint(field << 3 | wire)


def _int(field: int, value: int) -> bytes:
    return _key(field, 0) + uvarint(value) if value else b""


def _bytes(field: int, data: bytes) -> bytes:
    return _key(field, 2) + uvarint(len(data)) + data


def _packed(field: int, values: Iterable[int]) -> bytes:
    return _bytes(field, b"".join(uvarint(v) for v in values))


def heap_profile(samples: Sequence[tuple[Sequence[str], int, int]], comment: str = "") -> bytes:
    """The gzipped profile of (stack, objects, bytes) samples."""
    strings: dict[str, int] = {"": 0}

    def string(text: str) -> int:
        return strings.setdefault(text, len(strings))

    functions: dict[str, int] = {}
    out = bytearray()
    for kind, unit in (("inuse_objects", "count"), ("inuse_space", "bytes")):
        out += _bytes(1, _int(1, string(kind)) + _int(2, string(unit)))
    for stack, objects, size in samples:
        ids = []
        for name in stack:
            if name not in functions:
                functions[name] = len(functions) + 1
            ids.append(functions[name])
        out += _bytes(2, _packed(1, ids) + _packed(2, (objects, size)))
    for name, fid in functions.items():
        out += _bytes(4, _int(1, fid) + _bytes(4, _int(1, fid)))  # location fid: line -> function fid
        out += _bytes(5, _int(1, fid) + _int(2, string(name)) + _int(3, string(name)))
    if comment:
        comment_id = string(comment)
    for text in strings:  # insertion order is index order
        out += _bytes(6, text.encode("utf-8"))
    if comment:
        out += _int(13, comment_id)
    out += _int(14, strings["inuse_space"])
    return gzip.compress(bytes(out), mtime=0)
