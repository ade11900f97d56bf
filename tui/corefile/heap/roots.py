"""Where the heap is held from: the GC's roots, read from the core.

Two kinds, for two uses:
- words (reachability): every word the GC would treat as a root pointer,
  or more. The writable globals by the module's own pointer bitmaps
  (moduledata.gcdatamask / gcbssmask: exactly the GC's); every live
  goroutine's stack from its saved SP to its top, each word (conservative:
  a superset of the stack maps' live slots); each P's tiny-allocator
  block (mcache.tiny, which gcMarkTinyAllocs keeps alive).
- typed roots (typing): the globals with their DWARF types (`main.cache`),
  and the locals and arguments of goroutine frames whose DWARF location
  is on the stack at the frame's PC (`goroutine 7 main.worker: batch`),
  for the first MAX_TYPED_GOROUTINES goroutines.

Every root word that points into the heap is also told where it comes
from (Roots.sources, Roots.word_source), named as a Go programmer names
it: the global that holds it (`main.registry`), the variable of a frame
(`goroutine 18 main.(*Batcher).run: pending`), the frame when no variable
covers the word at its PC (`goroutine 18, frame 2 main.worker (stack
word)`), the goroutine's stack when its frames were not unwound, and the
runtime's own roots (its globals, the Ps' tiny blocks, weak handles) as
one bucket, and each finalizer and cleanup (`finalizer of *main.Conn
(0xc000123000): main.(*Conn).close`): its funcval's words are its root
words, and a finalizer also holds what its object points to, but not the
object (Roots.referents; runtime.gcScanFinalizer).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ...parse.names import go_name
from ..arrays import CoreArrays
from ..errors import BadRead, Unsupported
from ..names import DATA_SECTIONS, Variables
from ..native import NativeCore
from ..runtime.fields import scalar_field
from ..runtime.specials import CLEANUP, FINALIZER, Specials
from ..runtime.types import RuntimeTypes
from .gotypes import go_name as go_type_name
from .stacks import GoroutineStacks, StackFrame

G_DEAD = 6
MAX_TYPED_GOROUTINES = 2000
MAX_STACK = 1 << 30
WORDS_PER_CHUNK = 1 << 22
_RUNTIME = ("runtime.", "internal/", "runtime/")


@dataclass(frozen=True, slots=True)
class TypedRoot:
    label: str  # "main.sessions", "goroutine 1 main.main: s"
    kind: str  # "global" | "local"
    address: int
    die: int  # DWARF type of the variable
    goroutine: int | None = None
    size: int = 0  # bytes of a local (its words are its root's)
    function: str = ""
    variable: str = ""


@dataclass(frozen=True, slots=True)
class RootSource:
    """Where root words come from, as a Go programmer names it."""

    label: str
    kind: str  # "global" | "goroutine" | "finalizer" (finalizers and cleanups) | "runtime"
    goroutine: int | None = None
    function: str = ""
    variable: str = ""
    type: str = ""
    address: int = 0  # the object a finalizer or cleanup is attached to


def special_label(source: RootSource, type_name: str = "") -> str:
    """How a Go programmer names a finalizer or a cleanup: `finalizer of
    *main.Conn (0xc000123000): main.(*Conn).close`."""
    what = "finalizer" if source.variable == "finalizer" else "cleanup"
    of = f"{type_name} ({source.address:#x})" if type_name else f"{source.address:#x}"
    return f"{what} of {of}: {source.function or '?'}"


RUNTIME_ROOTS = RootSource("(runtime)", "runtime")


@dataclass(frozen=True, eq=False)
class Roots:
    words: np.ndarray  # uint64: the values of every root word
    typed: tuple[TypedRoot, ...]
    goroutines: int  # live goroutines whose stacks were scanned
    notes: tuple[str, ...]
    sources: tuple[RootSource, ...] = ()
    word_source: np.ndarray | None = None  # int32 per word: index into sources (-1: none, it holds no heap pointer)
    # A finalizer's source (int32, into sources) and its object's address
    # (uint64): the source holds every object that object points to.
    referents: tuple[np.ndarray, np.ndarray] = (np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.uint64))


class RootReader:
    def __init__(self, native: NativeCore, arrays: CoreArrays) -> None:
        self.native, self.arrays = native, arrays
        self.memory, self.layouts = native.memory, native.layouts
        self.variables = Variables(native.layouts)
        self.notes: list[str] = []
        symbols = native.exe.symbols("runtime.firstmoduledata", "runtime.allp")
        self.symbols = symbols

    def read(self, typed: bool = True, heap_range: tuple[int, int] = (0, (1 << 64) - 1),
             specials: Specials | None = None, types: RuntimeTypes | None = None) -> Roots:
        module_at, module_words = self._module_words()
        stack_at, stack_words, stack_g, live, gs, walked = self.stacks(MAX_TYPED_GOROUTINES if typed else 0)
        tiny = self._tiny_blocks()
        lo, hi = heap_range

        def holding(values: np.ndarray) -> np.ndarray:
            return (values >= np.uint64(lo)) & (values < np.uint64(hi))

        typed_roots: list[TypedRoot] = []
        frames: list[tuple[int, int, int, int, str]] = []
        if typed:
            # Only the globals that hold a heap pointer need their types.
            typed_roots += self._globals(np.sort(module_at[holding(module_words)]))
            typed_roots += self._locals(walked, len(gs), frames)
        namer = _SourceNamer(self.layouts)
        word_source = np.concatenate((
            namer.globals(module_at, holding(module_words), self.native.exe.object_symbols(DATA_SECTIONS[:2]),
                          self.native.bias, typed_roots),
            namer.stacks(stack_at, stack_words, stack_g, holding(stack_words), frames, typed_roots),
            np.full(len(tiny), namer.source(RUNTIME_ROOTS), dtype=np.int32)))
        words = np.concatenate((module_words, stack_words, tiny))
        referents = Roots.referents
        if specials is not None and len(specials):
            self.notes += specials.notes
            owner_source = namer.specials(specials, self._function_name, self._type_namer(types))
            word_source = np.concatenate((word_source, owner_source[specials.word_owner]))
            words = np.concatenate((words, specials.word_values))
            finalizers = np.flatnonzero(specials.kind == FINALIZER)
            referents = (owner_source[finalizers], specials.object[finalizers])
        elif specials is not None:
            self.notes += specials.notes
        return Roots(words, tuple(typed_roots), live, tuple(dict.fromkeys(self.notes)), tuple(namer.sources),
                     word_source, referents)

    def _function_name(self, funcval: int) -> str:
        """The function a funcval calls ("" when unreadable)."""
        try:
            func = self.native.names.func(self.memory.u64(funcval)) if funcval else None
        except BadRead:
            return ""
        return go_name(func.name) if func is not None else ""

    def _type_namer(self, types: RuntimeTypes | None):
        def name(address: int) -> str:
            if types is None or not address:
                return ""
            try:
                return types.name(address)
            except (BadRead, Unsupported):
                return ""
        return name

    # Globals

    def _module_words(self) -> tuple[np.ndarray, np.ndarray]:
        """(addresses, values) of the pointer words of .data and .bss, by the GC's own bitmaps."""
        symbol = self.symbols.get("runtime.firstmoduledata")
        if symbol is None:
            raise Unsupported("no runtime.firstmoduledata symbol")
        md = self.layouts.type("runtime.moduledata")
        at = symbol[0] + self.native.bias
        out, at_list = [], []
        for start_field, end_field, mask_field in (("data", "edata", "gcdatamask"), ("bss", "ebss", "gcbssmask")):
            try:
                start = self.memory.u64(at + md.field(start_field)[0])
                end = self.memory.u64(at + md.field(end_field)[0])
                mask_at = md.field(mask_field)[0]
                bits, pointer = self.memory.uint(at + mask_at, 4), self.memory.u64(at + mask_at + 8)
            except (BadRead, Unsupported) as err:
                raise Unsupported(f"runtime.firstmoduledata unreadable: {err}") from None
            count = (end - start) // 8
            if bits > count + 64 or end < start:
                raise Unsupported(f"moduledata.{mask_field} has {bits} bits for {count} words")
            try:
                raw = np.frombuffer(self.memory.read(pointer, (bits + 7) // 8), dtype=np.uint8)
                mask = np.unpackbits(raw, bitorder="little")[:min(bits, count)].astype(bool)
                section = self.arrays.words(start, count)[:len(mask)]
            except BadRead as err:
                raise Unsupported(f"the {start_field} section is not in the core: {err}") from None
            out.append(section[mask])
            at_list.append(np.uint64(start) + np.flatnonzero(mask).astype(np.uint64) * np.uint64(8))
        return np.concatenate(at_list), np.concatenate(out)

    def _globals(self, holding: np.ndarray) -> list[TypedRoot]:
        """The globals with a word in holding (sorted addresses), typed."""
        found = []
        bias = self.native.bias
        for value, size, name in self.native.exe.object_symbols(DATA_SECTIONS[:2]):
            if ".." in name or name.startswith(("go:", "go.", "type:", "type.", "runtime.")):
                continue
            start = np.searchsorted(holding, np.uint64(value + bias))
            if start >= len(holding) or holding[start] >= np.uint64(value + bias + size):
                continue
            try:
                die = self.variables.global_die(name)
            except Unsupported as err:
                self.notes.append(f"globals of {name}'s package unread: {err}")
                continue
            if die is not None:
                found.append(TypedRoot(go_name(name), "global", value + bias, die))
        return found

    # Goroutines

    def _g_columns(self) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        g = self.layouts.type("runtime.g")
        addresses = np.asarray(self.native.allgs(), dtype=np.uint64)
        addresses = addresses[addresses != 0]
        ok = self.arrays.readable(addresses, g.size)
        if not ok.all():
            self.notes.append(f"{int((~ok).sum())} g structs are not in the core: their stacks are not roots")
            addresses = addresses[ok]
        records = self.arrays.gather(addresses, g.size)
        columns = {}
        for name, paths in (("status", ("atomicstatus",)), ("sp", ("sched.sp",)), ("pc", ("sched.pc",)),
                            ("syscallsp", ("syscallsp",)), ("syscallpc", ("syscallpc",)), ("lo", ("stack.lo",)),
                            ("hi", ("stack.hi",)), ("goid", ("goid",))):
            offset, size = scalar_field(g, *paths)
            columns[name] = self.arrays.field(records, offset, size)
        return addresses, columns

    def stacks(self, typed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, list[tuple[int, int]],
                                           tuple[StackFrame, ...]]:
        """(the address, value and goroutine id of every root word of every
        live stack (heap/stacks.py: its frames' live slots), how many
        goroutines, (goid, g) of the live ones, the frames of the first
        `typed`)."""
        addresses, c = self._g_columns()
        live = (c["status"] != np.uint64(G_DEAD)) & (c["hi"] - c["lo"] <= np.uint64(MAX_STACK))
        in_syscall = c["syscallsp"] != 0
        pc = np.where(in_syscall, c["syscallpc"], c["pc"])[live]
        sp = np.where(in_syscall, c["syscallsp"], c["sp"])[live]
        on_thread, _ = self.native.thread_goroutines()
        scanned = GoroutineStacks(self.native, self.arrays).scan(
            c["goid"][live], pc, sp, c["lo"][live], c["hi"][live], in_syscall[live], on_thread, typed)
        if scanned.whole:
            self.notes.append(f"{scanned.whole} goroutines' frames not walked: their stacks scanned whole")
        self.notes += scanned.notes
        places, owners = scanned.words, scanned.owner
        readable = self.arrays.readable(places, 8) if len(places) else np.zeros(0, dtype=bool)
        if not readable.all():
            self.notes.append(f"{int((~readable).sum())} stack words are not in the core")
            places, owners = places[readable], owners[readable]
        values = np.concatenate([self.arrays.u64_or_zero(places[at:at + WORDS_PER_CHUNK])
                                 for at in range(0, len(places), WORDS_PER_CHUNK)]) if len(places) else places
        gs = [(int(gid), int(g)) for gid, g in zip(c["goid"][live], addresses[live])]
        return places, values, owners, int((c["status"] != np.uint64(G_DEAD)).sum()), gs, scanned.frames

    def _tiny_blocks(self) -> np.ndarray:
        symbol = self.symbols.get("runtime.allp")
        if symbol is None or not self.layouts.has("runtime.p"):
            return np.zeros(0, dtype=np.uint64)
        try:
            pointer, count = self.memory.words(symbol[0] + self.native.bias, 2)
            if count > 1 << 16:
                return np.zeros(0, dtype=np.uint64)
            mcache_at = self.layouts.type("runtime.p").field("mcache")[0]
            tiny_at = self.layouts.type("runtime.mcache").field("tiny")[0]
            out = []
            for p in self.memory.words(pointer, count):
                cache = self.memory.u64(p + mcache_at) if p else 0
                if cache:
                    out.append(self.memory.u64(cache + tiny_at))
            return np.asarray(out, dtype=np.uint64)
        except (BadRead, Unsupported) as err:
            self.notes.append(f"the Ps' tiny blocks unread: {err}")
            return np.zeros(0, dtype=np.uint64)

    def _locals(self, walked: tuple[StackFrame, ...], goroutines: int,
                frames: list[tuple[int, int, int, int, str]]) -> list[TypedRoot]:
        """The typed locals of the walked frames (the first goroutines');
        each frame is added to frames as (goroutine, depth, sp, cfa, function)."""
        found: list[TypedRoot] = []
        if goroutines > MAX_TYPED_GOROUTINES:
            self.notes.append(f"locals typed in the first {MAX_TYPED_GOROUTINES} of {goroutines} goroutines "
                              "(the others' stacks are roots, untyped)")
        for frame in walked:
            function = go_name(frame.function)
            frames.append((frame.goroutine, frame.depth, frame.sp, frame.cfa, function))
            if frame.function.startswith(_RUNTIME):
                continue
            try:
                variables = self.variables.locals(frame.function, frame.lookup_pc - self.native.bias)
            except Unsupported as err:
                self.notes.append(f"locals of {frame.function} unread: {err}")
                continue
            for local in variables:
                if local.die and local.type.size >= 8:
                    found.append(TypedRoot(f"goroutine {frame.goroutine} {function}: {local.name.lstrip('&')}",
                                           "local", frame.cfa + local.offset, local.die, frame.goroutine,
                                           local.type.size, function, local.name.lstrip("&")))
        return found


class _SourceNamer:
    """Each root word's source (an index into .sources), vectorised over the words."""

    def __init__(self, layouts) -> None:
        self.layouts = layouts
        self.sources: list[RootSource] = []
        self._ids: dict[RootSource, int] = {}

    def source(self, source: RootSource) -> int:
        found = self._ids.get(source)
        if found is None:
            found = self._ids[source] = len(self.sources)
            self.sources.append(source)
        return found

    def _type_name(self, die: int | None) -> str:
        if not die:
            return ""
        try:
            return go_type_name(self.layouts.raw(die).get("name") or "")  # the typedef's: map[K]V, not *hash<K,V>
        except (Unsupported, KeyError):
            return ""

    def specials(self, specials: Specials, function_name, type_name) -> np.ndarray:
        """int32 per special: its source. A finalizer and a cleanup are each
        a root of their own; a weak handle is the runtime's."""
        out = np.full(len(specials), self.source(RUNTIME_ROOTS), dtype=np.int32)
        functions = {int(f): function_name(int(f)) for f in np.unique(specials.function).tolist()}
        types = {int(t): type_name(int(t)) for t in np.unique(specials.type).tolist()}
        for row in np.flatnonzero((specials.kind == FINALIZER) | (specials.kind == CLEANUP)).tolist():
            what = "finalizer" if specials.kind[row] == FINALIZER else "cleanup"
            source = RootSource("", "finalizer", None, functions[int(specials.function[row])], what,
                                types[int(specials.type[row])], int(specials.object[row]))
            out[row] = self.source(replace(source, label=special_label(source, source.type)))
        return out

    def globals(self, at: np.ndarray, holding: np.ndarray, symbols, bias: int,
                typed: list[TypedRoot]) -> np.ndarray:
        """Module words: the global variable whose bytes hold each (a runtime
        global, or a word in no symbol: the runtime's bucket)."""
        out = np.full(len(at), -1, dtype=np.int32)
        which = np.flatnonzero(holding)
        if not len(which):
            return out
        starts = np.asarray([value + bias for value, _, _ in symbols], dtype=np.uint64)
        ends = starts + np.asarray([size for _, size, _ in symbols], dtype=np.uint64)
        symbol = np.searchsorted(starts, at[which], side="right").astype(np.int64) - 1
        inside = (symbol >= 0) & (at[which] < ends[np.maximum(symbol, 0)])
        types = {root.address: root.die for root in typed if root.kind == "global"}
        ids = np.full(len(which), self.source(RUNTIME_ROOTS), dtype=np.int32)
        def global_source(number: int) -> int:
            value, _size, name = symbols[number]
            if name.startswith(_RUNTIME) or ".." in name or name.startswith(("go:", "go.", "type:", "type.")):
                return self.source(RUNTIME_ROOTS)
            label = go_name(name)
            return self.source(RootSource(label, "global", variable=label, type=self._type_name(types.get(value + bias))))

        _label_by_key(ids, inside, symbol, global_source)
        out[which] = ids
        return out

    def stacks(self, at: np.ndarray, values: np.ndarray, goroutine: np.ndarray, holding: np.ndarray,
               frames: list[tuple[int, int, int, int, str]], typed: list[TypedRoot]) -> np.ndarray:
        """Stack words: the variable that covers each at its frame's PC; else
        the variable of the same frame that holds the same pointer (a
        compiler's temporary copy of it); else its frame (a stack word); else
        its goroutine's stack."""
        out = np.full(len(at), -1, dtype=np.int32)
        which = np.flatnonzero(holding)
        if not len(which):
            return out
        where, owner, value = at[which], goroutine[which], values[which]
        ids = np.full(len(which), -1, dtype=np.int32)
        frame = np.full(len(which), -1, dtype=np.int64)
        ordered = sorted(frames, key=lambda f: f[2])
        if ordered:
            starts = np.asarray([f[2] for f in ordered], dtype=np.uint64)
            ends = np.asarray([f[3] for f in ordered], dtype=np.uint64)
            index = np.searchsorted(starts, where, side="right").astype(np.int64) - 1
            frame = np.where((index >= 0) & (where < ends[np.maximum(index, 0)]), index, -1)
        locals_ = sorted((root.address, root.address + max(root.size, 8), root) for root in typed
                         if root.kind == "local")
        if locals_:
            starts = np.asarray([lo for lo, _, _ in locals_], dtype=np.uint64)
            ends = np.asarray([hi for _, hi, _ in locals_], dtype=np.uint64)
            index = np.searchsorted(starts, where, side="right").astype(np.int64) - 1
            hit = (index >= 0) & (where < ends[np.maximum(index, 0)])
            def local_source(number: int) -> int:
                root = locals_[number][2]
                return self.source(RootSource(root.label, "goroutine", root.goroutine, root.function, root.variable,
                                              self._type_name(root.die)))

            _label_by_key(ids, hit, index, local_source)
            # A word of the same frame holding what a variable holds is that variable's.
            named = (ids >= 0) & (frame >= 0)
            copies = (ids < 0) & (frame >= 0)
            if named.any() and copies.any():
                unique, inverse = np.unique(np.concatenate((value[named], value[copies])), return_inverse=True)
                keys = np.concatenate((frame[named], frame[copies])) * len(unique) + inverse
                named_keys, copy_keys = keys[:int(named.sum())], keys[int(named.sum()):]
                order = np.argsort(named_keys, kind="stable")
                position = np.searchsorted(named_keys[order], copy_keys)
                found = position < len(order)
                found[found] &= named_keys[order][position[found]] == copy_keys[found]
                copy_rows = np.flatnonzero(copies)
                ids[copy_rows[found]] = ids[np.flatnonzero(named)[order[position[found]]]]
        def frame_source(number: int) -> int:
            gid, depth, _sp, _cfa, function = ordered[number]
            return self.source(RootSource(f"goroutine {gid}, frame {depth} {function} (stack word)", "goroutine",
                                          gid, function))

        _label_by_key(ids, (ids < 0) & (frame >= 0), frame, frame_source)
        _label_by_key(ids, ids < 0, owner,
                      lambda gid: self.source(RootSource(f"goroutine {gid} (stack)", "goroutine", int(gid))))
        out[which] = ids
        return out


def _label_by_key(ids: np.ndarray, mask: np.ndarray, keys: np.ndarray, source_of) -> None:
    """ids[mask] = source_of(key) for each word's key, source_of called once
    a distinct key (a pass over the words, not one a key: a core's
    100,000 goroutines each have a key)."""
    if not mask.any():
        return
    distinct, inverse = np.unique(keys[mask], return_inverse=True)
    sources = np.fromiter((source_of(int(key)) for key in distinct.tolist()), dtype=np.int32, count=len(distinct))
    ids[mask] = sources[inverse.reshape(-1)]
