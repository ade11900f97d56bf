"""The runtime's specials: records off the heap that an mspan hangs on its
objects (mspan.specials, a linked list ordered by offset and kind). Those
the GC treats as roots (runtime.markrootSpans) are decoded:

- a finalizer (runtime.specialfinalizer): its funcval is a root, and
  everything the object points to is kept, but not the object itself
  (gcScanFinalizer scans it without marking it);
- a cleanup (Go 1.24+, runtime.specialCleanup): its funcval, and from Go
  1.26 its argument and adapter (cleanupFn), are roots;
- a weak handle (Go 1.24+, runtime.specialWeakHandle): its handle is a root.

    specials = read_specials(memory, arrays, layouts, spans)
    specials.kind, specials.object, specials.function, specials.type
    specials.word_values, specials.word_owner   # the root words, and whose

Every layout and kind constant comes from DWARF (the kinds are numbered
differently across releases). The lists of all spans are walked together,
one step per element, as arrays. A list that cannot be read (a record not
in the core, an offset past its span, a list that does not end) loses its
span's specials, with a note: the rest of the heap is read as before.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..arrays import CoreArrays
from ..dwarf import Layouts
from ..errors import BadRead, Unsupported
from .fields import optional_field, scalar_field
from .mheap import Spans

FINALIZER, CLEANUP, WEAK_HANDLE = 0, 1, 2
# More elements than this per object of a span, in its list, is a list that
# does not end (an object has a finalizer or cleanups, weak handle, profile
# record ...: a few; cleanups can be many, but not this many).
MAX_PER_OBJECT = 64

# kind -> (its record's type, its kind constant, the fields whose words are roots)
_KINDS = {
    FINALIZER: ("runtime.specialfinalizer", "runtime._KindSpecialFinalizer", ("fn",)),
    CLEANUP: ("runtime.specialCleanup", "runtime._KindSpecialCleanup", ("cleanup", "fn")),
    WEAK_HANDLE: ("runtime.specialWeakHandle", "runtime._KindSpecialWeakHandle", ("handle",)),
}


@dataclass(frozen=True, eq=False)
class Specials:
    """The root-bearing specials of the heap, one row each."""

    kind: np.ndarray  # uint8: FINALIZER, CLEANUP, WEAK_HANDLE
    object: np.ndarray  # uint64: the start of the object it is attached to
    function: np.ndarray  # uint64: the funcval to call (a finalizer's, a cleanup's), else 0
    type: np.ndarray  # uint64: a finalizer's *T (its record's ot), else 0
    word_values: np.ndarray  # uint64: every root word the records hold
    word_owner: np.ndarray  # int64: the row of each word
    notes: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.kind)

    @classmethod
    def empty(cls, notes: tuple[str, ...] = ()) -> "Specials":
        u64 = np.zeros(0, dtype=np.uint64)
        return cls(np.zeros(0, dtype=np.uint8), u64, u64, u64, u64, np.zeros(0, dtype=np.int64), notes)


def read_specials(arrays: CoreArrays, layouts: Layouts, spans: Spans) -> Specials:
    """The finalizers, cleanups and weak handles of every span in use."""
    if not layouts.has("runtime.special"):
        return Specials.empty(("the runtime's specials have no DWARF type: finalizers are not roots",))
    special = layouts.type("runtime.special")
    next_at, next_size = scalar_field(special, "next")
    offset_at, offset_size = scalar_field(special, "offset")
    kind_at, kind_size = scalar_field(special, "kind")
    kinds = {code: layouts.constant(constant) for code, (record, constant, _) in _KINDS.items()
             if layouts.has(record) and layouts.has_constant(constant)}
    notes: list[str] = []
    # One row per element met: (span row, record address, offset, kind).
    found_span, found_at, found_offset, found_kind = [], [], [], []
    span = np.flatnonzero(spans.specials != 0)
    at = spans.specials[span]
    limit = spans.nelems.astype(np.int64) * MAX_PER_OBJECT + MAX_PER_OBJECT
    bad_spans = np.zeros(0, dtype=np.int64)
    steps = 0
    while len(at):
        readable = arrays.readable(at, special.size)
        endless = limit[span] <= steps
        if not readable.all() or endless.any():
            bad_spans = np.concatenate((bad_spans, span[~readable | endless]))
            span, at = span[readable & ~endless], at[readable & ~endless]
            if not len(at):
                break
        records = arrays.gather(at, special.size)
        found_span.append(span)
        found_at.append(at)
        found_offset.append(arrays.field(records, offset_at, offset_size))
        found_kind.append(arrays.field(records, kind_at, kind_size))
        following = arrays.field(records, next_at, next_size)
        more = following != 0
        span, at = span[more], following[more]
        steps += 1
    if not found_span:
        return Specials.empty()
    rows_span = np.concatenate(found_span)
    rows_at = np.concatenate(found_at)
    rows_offset = np.concatenate(found_offset)
    rows_kind = np.concatenate(found_kind)
    size = (spans.end - spans.base)[rows_span]
    past = rows_offset >= size
    if past.any():
        bad_spans = np.concatenate((bad_spans, rows_span[past]))
    if len(bad_spans):
        bad_spans = np.unique(bad_spans)
        first = int(spans.address[bad_spans[0]])
        notes.append(f"the specials list of {len(bad_spans)} span{'s' if len(bad_spans) > 1 else ''} "
                     f"(first mspan {first:#x}) is damaged: its finalizers and cleanups are not roots")
        keep = ~np.isin(rows_span, bad_spans)
        rows_span, rows_at, rows_offset, rows_kind = rows_span[keep], rows_at[keep], rows_offset[keep], rows_kind[keep]
    elemsize = spans.elemsize[rows_span]
    objects = spans.base[rows_span] + rows_offset // elemsize * elemsize
    kind_out, object_out, function_out, type_out, values, owners = [], [], [], [], [], []
    row = 0
    for code, value in kinds.items():
        which = np.flatnonzero(rows_kind == np.uint64(value))
        if not len(which):
            continue
        record_type, _, root_fields = _KINDS[code]
        record = layouts.type(record_type)
        try:
            records = arrays.gather(rows_at[which], record.size)
            words = _root_words(record, records, root_fields)
        except (BadRead, Unsupported) as err:
            notes.append(f"{len(which)} {record_type} records unread ({err}): they are not roots")
            continue
        count = len(which)
        function = optional_field(record, "fn", "cleanup.fn")
        type_field = optional_field(record, "ot")
        kind_out.append(np.full(count, code, dtype=np.uint8))
        object_out.append(objects[which])
        function_out.append(arrays.field(records, *function) if function else np.zeros(count, dtype=np.uint64))
        type_out.append(arrays.field(records, *type_field) if type_field else np.zeros(count, dtype=np.uint64))
        values.append(words.reshape(-1))
        owners.append(np.repeat(np.arange(row, row + count, dtype=np.int64), words.shape[1]))
        row += count
    if not kind_out:
        return Specials.empty(tuple(notes))
    return Specials(np.concatenate(kind_out), np.concatenate(object_out), np.concatenate(function_out),
                    np.concatenate(type_out), np.concatenate(values), np.concatenate(owners), tuple(notes))


def _root_words(record, records: np.ndarray, fields: tuple[str, ...]) -> np.ndarray:
    """(n, k) uint64: the words of the first of fields the record has (a
    struct field whole: Go 1.26's cleanupFn is three pointers)."""
    for name in fields:
        if record.has(name):
            at, ftype = record.field(name)
            if ftype.size % 8 or not ftype.size:
                raise Unsupported(f"{record.name}.{name} is {ftype.size} bytes, not whole words")
            raw = np.ascontiguousarray(records[:, at:at + ftype.size])
            return raw.view("<u8").reshape(len(records), ftype.size // 8)
    raise Unsupported(f"{record.name} has none of the fields {', '.join(fields)}")
