"""Every goroutine of a Go core and its whole stack, read without dlv,
as Go printed them when the program crashed.

    core = NativeCore.open("main", "core")
    for page in core.pages():              # GoroutineTable pages, every g at once (batch.py)
        index.add_table(page.table)        # page.why: the rows Delve must complete
    listing = core.listing()               # the same as objects, for a small core

Each goroutine: Go's words for its status, its wait reason (from the
target's own runtime.waitReasonStrings) while waiting, User/Go/Start
locations as Delve defines them, its creator (g.parentGoid), and its whole
stack as Go's traceback prints it (traceback.py's rules, symbols.py's
go_frame): from g.sched when parked, from g.syscallpc in a system call or
C code, and for one on a thread from the thread's own stack (threads.py,
gostack.py: through the signal handler, the system stack and C code).
The dead g of a cgo extra M, which Go never prints, is left out. A
goroutine whose stack the core does not tell (its thread's walk never
reaches it) comes back in needs_dlv, with what its g says: never a guess.

Anything unsupported raises Unsupported (errors.py) from open() or
listing(); a single unreadable g becomes a Goroutine(id=None, unreadable=...)
as in Delve's list.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterator

from ..model import Goroutine, Location
from .dwarf import Layouts
from .elfimage import PT_TLS, ElfImage
from .errors import BadRead, Unsupported
from .memory import Memory, Thread
from .pclntab import Func, Pclntab
from .runtime.g import GLayout, GRecord
from .runtime.m import MLayout
from .stack import USER_DEPTH, StackWalker
from .symbols import Symbolizer
from .gostack import GoroutineStack, goroutine_stack
from .threads import ThreadWalker
from .traceback import GoFrame, dying_prefix, injected_calls
from .values import Values

if TYPE_CHECKING:
    import numpy as np

    from .arrays import CoreArrays
    from .batch import BatchListing, ListingPage

__all__ = ["STACK_DEPTH", "GRecord", "Listing", "NativeCore"]

# Stacks are whole: no frame is cut (Go itself prints at most 100 of one).
STACK_DEPTH = None
# find_g reads this many allgs entries one by one before it reads every g's id.
FIND_AHEAD = 64
# What a corrupt file can make Python raise below our own checks.
_CORRUPT = (struct.error, IndexError, KeyError, ValueError, OverflowError, UnicodeDecodeError)


@dataclass
class Listing:
    """The native answer for one core.

    goroutines: every goroutine read and unwound here, in allgs order
    (each page's unreadable gs after its readable ones, as
    Goroutine(id=None, unreadable=...)).
    stacks: (id, Locations innermost first) for each of those with an id
    (or a mapping id -> Locations: read_waits takes either).
    needs_dlv: the goroutines to ask Delve for (their list entry and stack):
    what their g says, with location None; why: id -> reason.
    labels: the pprof labels of every goroutine that has some (id -> labels;
    None when they could not be read).
    """

    goroutines: list[Goroutine] = field(default_factory=list)
    stacks: list[tuple[int, tuple[Location, ...]]] = field(default_factory=list)
    needs_dlv: list[Goroutine] = field(default_factory=list)
    why: dict[int, str] = field(default_factory=dict)
    selected: int | None = None
    labels: dict[int, dict[str, str] | None] = field(default_factory=dict)


class NativeCore:
    """A core and its executable, open for native reading."""

    def __init__(self, exe: ElfImage, core: ElfImage, use_cache: bool = True) -> None:
        self.exe, self.core = exe, core
        self.memory = Memory(core, exe)
        self._check_pair()
        self.layouts = Layouts(exe, use_cache)
        symbols = exe.symbols("runtime.text", "go:func.*", "go.func.*", "runtime.allgs", "runtime.allglen",
                              "runtime.waitReasonStrings", "runtime.tlsg", "runtime.text.1",
                              "runtime.deferreturn", "runtime.runtimeInitTime", "runtime.sched",
                              "runtime.buildVersion")
        for needed in ("runtime.text", "runtime.allgs", "runtime.allglen"):
            if needed not in symbols:
                raise Unsupported(f"{exe.path}: no {needed} symbol (stripped symbol table?)")
        if "runtime.text.1" in symbols:
            raise Unsupported(f"{exe.path}: several text sections (a very large binary): not read natively")
        gofunc = symbols.get("go:func.*") or symbols.get("go.func.*")
        self.symbols = symbols
        self.pclntab = Pclntab(exe, symbols["runtime.text"][0], gofunc[0] if gofunc else None)
        self.bias = self.memory.bias
        self.names = Symbolizer(self.pclntab, self.bias)
        self.values = Values(self.memory, self.layouts)
        self.g = GLayout(self.layouts)
        self.m = MLayout(self.layouts)
        self.walker = StackWalker(self.memory, self.names, self.pclntab)
        self._wait_reasons: tuple[str, ...] | None = None
        self._starts: dict[int, Location] = {}
        self._user: dict[tuple[int, ...], tuple[Location, int]] = {}
        # physical frame PCs -> the whole stack's Locations
        self._stacks: dict[tuple[int, ...], tuple[Location, ...]] = {}
        self.selected: int | None = None
        self.labels_by_id: dict[int, dict[str, str] | None] = {}
        self._wrapper: int | None = -1
        self._injected: frozenset[str] | None = None
        self._walker: ThreadWalker | None = None
        self.batch: "BatchListing | None" = None  # the last pages()' (its counts)
        self._g_ids = None  # (every g's address, its id), for find_g
        self._thread_gs: dict[int, int] = {}  # goroutine id -> g, of those threads run
        self.layouts.save()

    @classmethod
    def open(cls, executable: str, core: str, use_cache: bool = True) -> "NativeCore":
        exe_image = ElfImage(executable, "executable")
        try:
            core_image = ElfImage(core, "core")
        except BaseException:
            exe_image.close()
            raise
        try:
            return cls(exe_image, core_image, use_cache)
        except _CORRUPT as err:
            core_image.close()
            exe_image.close()
            raise Unsupported(f"{core}: unreadable ({type(err).__name__}: {err})") from None
        except BaseException:
            core_image.close()
            exe_image.close()
            raise

    def close(self) -> None:
        if self._walker is not None:
            self._walker.close()
        self.layouts.close()
        self.memory.close()
        self.core.close()
        self.exe.close()

    def __enter__(self) -> "NativeCore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # Set-up

    def _check_pair(self) -> None:
        """A core of another executable reads as garbage: compare the core's
        copy of the executable's first page with the file's (when kept)."""
        files = self.memory.mapped_files
        if not files:
            return
        start, _end, offset, _name = files[0]
        if offset != 0:
            return
        page = 4096
        for s_start, s_end, source in self.memory.pieces():
            if source == "core" and s_start <= start and start + page <= s_end:
                if self.memory.read(start, page) != bytes(self.exe.data[:page]):
                    raise Unsupported(f"{self.core.path} was not dumped by {self.exe.path}: "
                                      f"the executable's first page differs from the core's copy")
                return

    # Globals

    def wait_reasons(self) -> tuple[str, ...]:
        """The target's runtime.waitReasonStrings, read from its memory."""
        if self._wait_reasons is None:
            found = self.symbols.get("runtime.waitReasonStrings")
            reasons: list[str] = []
            if found is not None:
                address, size = found
                for i in range(size // 16):
                    try:
                        reasons.append(self.memory.go_string(address + self.bias + 16 * i, limit=256))
                    except Unsupported:
                        reasons.append("")
            self._wait_reasons = tuple(reasons)
        return self._wait_reasons

    def go_version(self) -> str:
        """runtime.buildVersion ("go1.26.8"), or "" when unreadable."""
        found = self.symbols.get("runtime.buildVersion")
        try:
            return self.memory.go_string(found[0] + self.bias, limit=256) if found else ""
        except Unsupported:
            return ""

    def clocks(self) -> dict[str, int]:
        """The runtime's monotonic clock (nanotime) readings the core keeps,
        to put g.waitsince in perspective: when the runtime started
        (runtime.runtimeInitTime) and the last network poll
        (runtime.sched.lastpoll; 0 while a thread is polling). The crash
        itself is not timestamped."""
        clocks: dict[str, int] = {}
        found = self.symbols.get("runtime.runtimeInitTime")
        try:
            if found is not None:
                clocks["runtime_init"] = self.memory.sint(found[0] + self.bias, 8)
            found = self.symbols.get("runtime.sched")
            if found is not None and self.layouts.has("runtime.schedt"):
                offset, ftype = self.layouts.type("runtime.schedt").field("lastpoll")
                if ftype.kind == "struct":  # atomic.Int64 {noCopy, _, value}
                    inner, ftype = ftype.field("value")
                    offset += inner
                clocks["last_poll"] = self.memory.sint(found[0] + self.bias + offset, 8)
        except (BadRead, Unsupported):
            pass
        return clocks

    def allgs(self) -> tuple[int, ...]:
        """The g pointers of runtime.allgs[:allglen]."""
        pointer, count = self._allgs()
        return self.memory.words(pointer, count)

    def allgs_array(self, arrays: "CoreArrays") -> "np.ndarray":
        """allgs() as a uint64 array (a copy: nothing points into the core once read)."""
        pointer, count = self._allgs()
        return arrays.words(pointer, count).copy()

    def _allgs(self) -> tuple[int, int]:
        """(where allgs' array lies, allglen), checked: Unsupported where unreadable."""
        allgs = self.symbols["runtime.allgs"][0] + self.bias
        allglen = self.symbols["runtime.allglen"][0] + self.bias
        try:
            count = self.memory.u64(allglen)
            pointer = self.memory.u64(allgs)
            if count > 1 << 26:
                raise Unsupported(f"runtime.allglen is {count}: not a sane goroutine count")
            if count:
                self.memory.locate(pointer, 8 * count)
            return pointer, count
        except BadRead as err:
            raise Unsupported(f"runtime.allgs unreadable: {err}") from None

    def read_g(self, address: int) -> GRecord:
        """The g at address. Raises BadRead."""
        return self.g.record(self.memory, address)

    def records(self) -> Iterator[GRecord | BadRead]:
        """Every g of allgs, dead ones included; an unreadable one as its BadRead."""
        for address in self.allgs():
            if address == 0:
                yield self.g.nil_entry()
                continue
            try:
                yield self.read_g(address)
            except BadRead as err:
                yield err

    def find_g(self, goroutine_id: int, slot: int | None = None) -> int | None:
        """The address of the g with this id (None: none): one a thread
        runs, else the first in allgs (dead ones included): at slot (its
        index in allgs, where a listing said), among the first FIND_AHEAD
        entries one by one (goroutine 1 and the runtime's own are there),
        else by every g's id at once, read once."""
        if not self._thread_gs:
            self.thread_goroutines()
        on_thread = self._thread_gs.get(goroutine_id)
        if on_thread is not None:
            return on_thread
        pointer, count = self._allgs()
        goid_at = self.g.offset("id")
        first = self.memory.words(pointer, min(count, FIND_AHEAD))
        at_slot = (self.memory.u64(pointer + 8 * slot),) if slot is not None and 0 <= slot < count else ()
        for address in at_slot + first:
            try:
                if address and self.memory.u64(address + goid_at) == goroutine_id:
                    return address
            except BadRead:
                continue
        if self._g_ids is None:
            from .arrays import CoreArrays  # numpy: not on the first screen's path

            arrays = CoreArrays(self.memory)
            addresses = arrays.words(pointer, count).copy()
            self._g_ids = (addresses, arrays.u64_or_zero(addresses + goid_at))
            self.memory.release()
        addresses, ids = self._g_ids
        found = (ids == goroutine_id) & (addresses != 0)
        at = int(found.argmax())
        return int(addresses[at]) if found[at] else None

    def thread_goroutines(self) -> tuple[dict[int, tuple[Thread, bool]], int | None]:
        """(goroutine id -> (thread, direct), the selected goroutine): the g
        each thread runs, found as Delve finds it (TLS, then g0's m.curg).
        direct: TLS holds the goroutine itself, not its m's g0 (then the
        thread runs on the goroutine's own stack)."""
        offset = self.tls_g_offset()
        by_id: dict[int, tuple[Thread, bool]] = {}
        selected = None
        for index, thread in enumerate(self.memory.threads):
            found = self._thread_g(thread, offset)
            if found is None:
                continue
            by_id.setdefault(found[0], (thread, found[1]))
            self._thread_gs.setdefault(found[0], found[2])
            if index == 0:
                selected = found[0]
        return by_id, selected

    def _thread_g(self, thread: Thread, offset: int) -> tuple[int, bool, int] | None:
        """(goroutine id, direct, its g) of the goroutine a thread runs."""
        func = self.names.func(thread.rip)
        if func is not None and func.name == "runtime.clone":
            return None  # Delve: TLS is unreliable there
        goid_at = self.g.offset("id")
        m_at = self.g.offset("m")
        try:
            g = self.memory.u64((thread.fs_base + offset) & (2**64 - 1))
            if g == 0:
                return None
            goid = self.memory.u64(g + goid_at)
            if goid:
                return goid, True, g
            m = self.memory.u64(g + m_at)
            curg = self.memory.u64(m + self.m.offset("curg")) if m else 0
            if curg == 0:
                return None
            return self.memory.u64(curg + goid_at), False, curg
        except BadRead:
            return None

    def m_thread(self, m: int) -> int:
        """The OS thread id (m.procid) of a runtime.m."""
        return self.memory.u64(m + self.m.offset("procid"))

    def tls_g_offset(self) -> int:
        """Where the g pointer sits relative to fs_base (Delve's GStructOffset)."""
        tls = next((s for s in self.exe.segments if s.type == PT_TLS), None)
        tlsg = self.symbols.get("runtime.tlsg")
        if tls is None or tlsg is None:
            return -8
        align = max(tls.align, 1)
        memsz = tls.memsz + ((-tls.vaddr - tls.memsz) & (align - 1))
        return tlsg[0] - memsz

    # The listing

    def pages(self, page: int | None = None) -> Iterator["ListingPage"]:
        """The listing as GoroutineTable pages in allgs order, every live g
        read and unwound at once (batch.py); selected and labels_by_id are
        set as they come. Unsupported where the core is unreadable."""
        from .batch import PAGE, BatchListing  # numpy: not on the first screen's path

        self.batch = BatchListing(self, page or PAGE)
        try:
            yield from self.batch.pages()
        except _CORRUPT as err:
            raise Unsupported(f"{self.core.path}: unreadable ({type(err).__name__}: {err})") from None

    def listing(self) -> Listing:
        """Every goroutine as objects (small cores, tests): pages() made Goroutines."""
        result = Listing()
        for goroutine, stack, why in self.iter_listing():
            if why:
                result.needs_dlv.append(goroutine)
                result.why[goroutine.id] = why
            else:
                result.goroutines.append(goroutine)
                if goroutine.id is not None:
                    result.stacks.append((goroutine.id, stack))
        result.selected = self.selected
        result.labels = self.labels_by_id
        return result

    def iter_listing(self) -> Iterator[tuple[Goroutine, tuple[Location, ...] | None, str]]:
        """(goroutine, whole stack, "") per live g in allgs order (then the
        unreadable ones of each page), or (partial goroutine, None, why)
        for one Delve must complete."""
        for page in self.pages():
            table = page.table
            for row in range(len(table)):
                why = page.why.get(row, "")
                yield table.goroutine(row), None if why else table.stack_of(row), why
            for goroutine in table.unreadable:
                yield goroutine, None, ""

    def thread_walker(self) -> ThreadWalker:
        """The walker of this core's threads (threads.py), made once."""
        if self._walker is None:
            self._walker = ThreadWalker(self)
        return self._walker

    def thread_stack(self, address: int, thread: Thread) -> GoroutineStack | None:
        """The stack of the g at address on its thread (gostack.py); None where the core alone does not tell."""
        try:
            return goroutine_stack(self, self.thread_walker(), self.read_g(address), thread)
        except (BadRead, Unsupported):
            return None

    def goroutine_stack(self, address: int, thread: Thread | None) -> GoroutineStack | None:
        """The stack of the g at address as Go printed it, with its thread's
        frames above it (gostack.py); None where the core alone does not tell."""
        if thread is not None:
            return self.thread_stack(address, thread)
        try:
            return goroutine_stack(self, None, self.read_g(address), None)
        except (BadRead, Unsupported):
            return None

    # Locations

    def start_location(self, startpc: int) -> Location | None:
        """Delve's G.StartLoc: the start function's entry line, a wrapper
        replaced by the first function it calls that is not a private
        runtime one (`go f(x)` starts f's compiler-made wrapper). None for a
        zero startpc (Delve's listing has no place for PC 0)."""
        if startpc == 0:
            return None
        found = self._starts.get(startpc)
        if found is None:
            func = self.names.func(startpc)
            if func is None:
                found = self.names.unknown
            else:
                if "·dwrap·" in func.name or func.func_id == self._wrapper_id():
                    func = self._unwrap(func)
                found = self.names.entry(func)
            self._starts[startpc] = found
        return found

    def _wrapper_id(self) -> int | None:
        """FuncIDWrapper of this Go release: the runtime tags
        runtime.deferreturn with it (cmd/internal/objabi/funcid.go), and it
        marks the wrappers DWARF calls trampolines."""
        if self._wrapper == -1:
            self._wrapper = None
            found = self.symbols.get("runtime.deferreturn")
            func = self.pclntab.find(found[0]) if found else None
            if func is not None and func.name == "runtime.deferreturn" and func.func_id:
                self._wrapper = func.func_id
        return self._wrapper

    def _unwrap(self, func: Func) -> Func:
        """The first function a wrapper calls directly that is not a private
        runtime function (Delve disassembles; a CALL rel32 landing exactly
        on a function entry is the same instruction)."""
        entry = func.entry + self.bias
        try:
            code = self.memory.read(entry, func.end - func.entry)
        except BadRead:
            return func
        at = code.find(b"\xe8")
        while 0 <= at <= len(code) - 5:
            target = entry + at + 5 + struct.unpack_from("<i", code, at + 1)[0]
            callee = self.names.func(target)
            if callee is not None and callee.entry == target - self.bias and not _private_runtime(callee.name):
                return callee
            at = code.find(b"\xe8", at + 1)
        return func

    def user_location(self, pcs: tuple[int, ...], g_pc: int) -> tuple[Location, int]:
        """Delve's (*G).UserCurrent over the first physical frames, each
        line at Go's pc-1 (a return address)."""
        key = pcs[:USER_DEPTH]
        found = self._user.get(key)
        if found is None:
            found = None
            for pc in key:
                func = self.names.func(pc)
                if func is not None and _is_user(func.name):
                    found = (self.names.flat(pc, False), pc)
                    break
            if found is None:
                found = (self.names.flat(g_pc, False), g_pc)
            self._user[key] = found
        return found

    def whole_stack(self, pcs: tuple[int, ...]) -> tuple[Location, ...]:
        """The Locations of a whole stack of physical frame PCs, as Go prints
        them (stack_frames), made once per distinct stack."""
        found = self._stacks.get(pcs)
        if found is None:
            found = self._stacks[pcs] = tuple(location for _, location in self.stack_frames(pcs, None))
        return found

    def injected_calls(self) -> frozenset[str]:
        """The functions whose caller Go looks up at its pc itself (traceback.py), for this target's Go."""
        if self._injected is None:
            self._injected = injected_calls(self.go_version())
        return self._injected

    def stack_frames(self, pcs: tuple[int, ...], depth: int | None = STACK_DEPTH,
                     top_trap: bool = False) -> list[tuple[int, Location]]:
        """(pc, Location) per frame of a stack as Go prints it (each line at
        pc-1 but where a trap stopped the frame: the innermost of a signal
        context, top_trap, and the caller of an injected call), inlined calls
        expanded (they repeat their physical frame's pc); depth: cut after
        the physical frame that reaches depth+1 frames (None: whole)."""
        injected = self.injected_calls()
        frames: list[tuple[int, Location]] = []
        trap = top_trap
        for pc in pcs:
            frames.extend((pc, location) for location in self.names.go_frame(pc, trap))
            if depth is not None and len(frames) >= depth + 1:
                break
            func = self.names.func(pc)
            trap = func is not None and func.name in injected
        return frames

    def go_stack(self, g: GRecord, on_thread: bool) -> tuple[GoFrame, ...] | None:
        """The goroutine's stack as Go prints it, as far as its g tells
        (None: not without its thread): from g.syscallpc in a system call or
        C code, else from g.sched, where a goroutine whose thread threw or
        panicked on the system stack left it in fatalthrow / fatalpanic
        (Go prints it from their caller). For one on a thread, g.sched is
        only right if the thread is on the system stack: the caller checks
        it against the thread's stack (traceback.go_frames)."""
        pcs, _ = self.unwind(g, None)
        if not pcs:
            return None
        if on_thread and not g.syscall_sp:
            pcs = pcs[dying_prefix([func.name if (func := self.names.func(pc)) else "" for pc in pcs[:2]]):]
        injected = self.injected_calls()
        frames = []
        trap = False
        for pc in pcs:
            frames.append(GoFrame(pc, self.names.go_frame(pc, trap)))
            func = self.names.func(pc)
            trap = func is not None and func.name in injected
        return tuple(frames)

    # Unwinding

    def unwind(self, g: GRecord, depth: int | None = STACK_DEPTH) -> tuple[tuple[int, ...] | None, str]:
        """The physical frames' PCs of a goroutine from where Go starts its
        stack when it is on no thread: g.syscallpc/syscallsp in a system
        call or C code, else g.sched; innermost first (StackWalker.unwind);
        (None, why) where Delve must do it."""
        pc, sp, bp = (g.syscall_pc, g.syscall_sp, g.syscall_bp) if g.syscall_sp else (g.pc, g.sp, g.bp)
        try:
            return self.walker.unwind(pc, sp, bp, g.stack_lo, g.stack_hi, depth)
        except BadRead as err:
            return None, f"stack unreadable: {err}"


def _unreadable_text(err: BadRead) -> str:
    if err.address == 0:
        return "no G executing on thread 0"
    return f"could not read G struct at {err.address:#x}"


def _private_runtime(name: str) -> bool:
    return name.startswith("runtime.") and len(name) > 8 and not ("A" <= name[8] <= "Z")


def _is_user(name: str) -> bool:
    """Delve's test for a frame UserCurrent may stop at."""
    if "." not in name:
        return False
    if name.startswith("runtime.") and not ("A" <= name[8:9] <= "Z"):
        return False
    return not name.startswith(("internal/", "runtime/internal", "iter."))
