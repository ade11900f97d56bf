"""runtime.g: a goroutine's descriptor, decoded once for every reader.

    layout = GLayout(layouts)             # offsets from the binary's DWARF
    record = layout.record(memory, g)     # one g, every field below
    view = layout.view("id", "status")    # a hot loop's pick of fields
    gid, status = view.values(buf, offset_of(g + view.base))
    table, readable = layout.table(arrays, addresses)   # every g at once (numpy)
    table["status"][readable]

The listing, the waits and the namer read the same fields the same way:
one table says which DWARF path each field is and whether a g without it
is a layout this reader does not model (Delve's parseG fails there too).
"""

from __future__ import annotations

import operator
import struct
from dataclasses import dataclass

from typing import TYPE_CHECKING

from ..dwarf import Layouts, Type, packed
from ..errors import BadRead, Unsupported
from .fields import resolve, struct_code

if TYPE_CHECKING:
    import numpy as np

    from ..arrays import CoreArrays

# runtime2.go's goroutine statuses. Go 1.26 adds _Gleaked (a goroutine the
# GC found leaked) and _Gdeadextra (the dead g of a cgo extra M, which
# older releases leave in _Gdead); _Gscan is a bit over any of them.
G_IDLE, G_RUNNABLE, G_RUNNING, G_SYSCALL, G_WAITING = 0, 1, 2, 3, 4
G_DEAD, G_COPYSTACK, G_PREEMPTED, G_LEAKED, G_DEADEXTRA = 6, 8, 9, 10, 11
G_SCAN = 0x1000
# The statuses Go's traceback never prints (tracebackothers skips them).
DEAD_STATUSES = frozenset({G_DEAD, G_DEADEXTRA})

# (GRecord field, dotted DWARF path, required).
FIELDS = (
    ("id", "goid", True), ("status", "atomicstatus", True), ("wait_reason", "waitreason", False),
    ("wait_since", "waitsince", True), ("pc", "sched.pc", True), ("sp", "sched.sp", True), ("bp", "sched.bp", False),
    ("stack_lo", "stack.lo", True), ("stack_hi", "stack.hi", True), ("gopc", "gopc", True),
    ("startpc", "startpc", True), ("m", "m", True), ("labels", "labels", False), ("waiting", "waiting", False),
    ("parent_id", "parentGoid", False), ("panic", "_panic", False), ("syscall_sp", "syscallsp", False),
    ("syscall_pc", "syscallpc", False), ("syscall_bp", "syscallbp", False), ("sched_ctxt", "sched.ctxt", False),
)
# A g bigger than this is a DWARF that makes no sense.
MAX_SIZE = 1 << 16
# gs gathered at a time by table(): the copy of their bytes stays a few MB.
TABLE_CHUNK = 1 << 13
# numpy's name of each struct module code.
_NUMPY = {"B": "u1", "H": "<u2", "I": "<u4", "Q": "<u8", "b": "i1", "h": "<i2", "i": "<i4", "q": "<i8"}


def is_dead(status: int) -> bool:
    """A g Go's traceback skips: dead, or the dead g of a cgo extra M."""
    return status & ~G_SCAN in DEAD_STATUSES


@dataclass(frozen=True, slots=True)
class GRecord:
    """What one runtime.g says, raw. A field this Go release does not have reads 0."""

    address: int
    id: int
    status: int
    wait_reason: int
    wait_since: int
    pc: int
    sp: int
    bp: int
    stack_lo: int
    stack_hi: int
    gopc: int
    startpc: int
    m: int
    labels: int
    waiting: int
    parent_id: int
    panic: int
    syscall_sp: int
    syscall_pc: int
    syscall_bp: int
    sched_ctxt: int


_NAMES = tuple(name for name, _, _ in FIELDS)


class GView:
    """Some fields of a g, unpacked by one struct call from the g's
    address + base, in the order they were asked for (a field the binary's
    g lacks reads 0).

    A loop over a million gs inlines values(): pick(unpack(buf, offset) + pad)."""

    def __init__(self, codec: struct.Struct, base: int, order: tuple[int, ...], missing: bool) -> None:
        self.codec = codec
        self.base = base
        self.size = codec.size
        self.unpack = codec.unpack_from
        # A missing field's index points past the unpacked fields, at the pad's 0.
        self.pad = (0,) if missing else ()
        self.pick = operator.itemgetter(*order) if len(order) > 1 else (lambda values: (values[order[0]],))

    def values(self, buf, offset: int) -> tuple[int, ...]:
        """The fields from buf[offset:], offset being where g + base lies."""
        return self.pick(self.unpack(buf, offset) + self.pad)


class GTable:
    """Some gs' fields as columns: table["status"] is a view of the bytes
    gathered (GLayout.table), table["address"] their addresses, position
    where each was in the addresses asked for; a field this Go release
    lacks reads 0."""

    def __init__(self, address: "np.ndarray", records: "np.ndarray", position: "np.ndarray",
                 missing: tuple[str, ...] = ()) -> None:
        self.address = address
        self.records = records
        self.position = position
        self.missing = missing

    def __len__(self) -> int:
        return len(self.address)

    def __getitem__(self, name: str) -> "np.ndarray":
        if name == "address":
            return self.address
        if name in self.missing:
            import numpy as np

            return np.zeros(len(self.address), dtype=np.uint64)
        return self.records[name]

    def take(self, rows) -> "GTable":
        """The gs at some rows (an index array or a mask)."""
        return GTable(self.address[rows], self.records[rows], self.position[rows], self.missing)


class GLayout:
    """runtime.g of one binary: where each field of FIELDS lies and how
    wide it is. Unsupported for a g without a required field."""

    def __init__(self, layouts: Layouts) -> None:
        self.type: Type = layouts.type("runtime.g")
        if self.type.size > MAX_SIZE:
            raise Unsupported(f"DWARF: runtime.g layout does not make sense (size {self.type.size})")
        # name -> (offset, size, struct code)
        paths = {name: path for name, path, _ in FIELDS}
        self.fields: dict[str, tuple[int, int, str]] = {
            name: (offset, ftype.size, struct_code(self.type, paths[name], ftype))
            for name, (offset, ftype) in resolve(self.type, FIELDS).items()}
        self._record = self.view(*_NAMES)

    def has(self, name: str) -> bool:
        """Whether this Go release's g has the field (a GRecord name)."""
        return name in self.fields

    def offset(self, name: str) -> int:
        """The offset of a field (a GRecord name) in g; Unsupported when missing."""
        found = self.fields.get(name)
        if found is None:
            raise Unsupported(f"DWARF: runtime.g has no field for {name}")
        return found[0]

    def view(self, *names: str) -> GView:
        """A reader of the named fields (GRecord names) for a hot loop."""
        picked = [(*self.fields[name], name) for name in dict.fromkeys(names) if name in self.fields]
        if not picked:
            raise Unsupported("runtime.g: none of the fields asked for")
        base = min(offset for offset, *_ in picked)
        codec, order = packed(picked, base)
        if base + codec.size > self.type.size:
            raise Unsupported(f"DWARF: runtime.g layout does not make sense (size {self.type.size})")
        index = {name: i for i, name in enumerate(order)}
        return GView(codec, base, tuple(index.get(name, len(order)) for name in names),
                     any(name not in index for name in names))

    @property
    def size(self) -> int:
        """How many bytes a whole record reads, from the g's address + record_base."""
        return self._record.size

    def record(self, memory, address: int) -> GRecord:
        """The g at address. Raises BadRead."""
        view = self._record
        buf, offset = memory.locate(address + view.base, view.size)
        return GRecord(address, *view.values(buf, offset))

    def table(self, arrays: "CoreArrays", addresses: "np.ndarray", names: tuple[str, ...] = _NAMES,
              release: bool = True) -> tuple["GTable", "np.ndarray"]:
        """Every g at addresses at once: (the readable ones' named fields
        (GRecord's names) as a GTable; the addresses of those the core does
        not hold whole, as record() reads them, nil entries included). The
        bytes of view(*names)'s span are gathered straight into the
        table, a chunk at a time, the core's pages released after each
        (release: else the caller releases them), so a million gs cost the
        table, not the 400 MB of g structs."""
        import numpy as np

        present = [name for name in names if name in self.fields]
        view = self.view(*present)
        # The fields where they lie in a g, from g + base on.
        raw = np.dtype({"names": present, "formats": [_NUMPY[self.fields[name][2]] for name in present],
                        "offsets": [self.fields[name][0] - view.base for name in present], "itemsize": view.size})
        addresses = np.asarray(addresses, dtype=np.uint64)
        starts = addresses + np.uint64(view.base)
        readable = (addresses != 0) & arrays.readable(starts, view.size)
        rows = np.flatnonzero(readable)
        records = np.empty(len(rows), dtype=raw)
        data = records.view(np.uint8).reshape(len(rows), view.size)
        for at in range(0, len(rows), TABLE_CHUNK):
            arrays.gather(starts[rows[at:at + TABLE_CHUNK]], view.size, out=data[at:at + TABLE_CHUNK])
            if release:
                arrays.memory.release()
        missing = tuple(name for name in names if name not in self.fields)
        return GTable(addresses[rows], records, rows, missing), addresses[~readable]

    def nil_entry(self) -> BadRead:
        """The BadRead a nil entry of allgs stands for."""
        return BadRead(0, self._record.size, "a nil entry of allgs")
