"""A thread's whole stack as it stood at the crash, from its registers:
through the signal handler (the kernel's signal frame holds the
interrupted registers), the runtime's stack switches, C code, and on into
the goroutine it ran, as Go's traceback crosses them:

- Go code by its pcsp table (CFA = SP + delta + 8, the return address
  below the CFA);
- the signal handler: runtime.sigtramp's return address is the restorer
  (runtime.sigreturn__sigaction, Go 1.19's runtime.sigreturn), and the
  kernel's rt_sigframe puts the interrupted context (a ucontext) right
  above it: the frame under it is a trap (its line at its pc);
- runtime.systemstack on the system stack goes on at the goroutine's
  g.sched (systemstack saved it there), runtime.morestack too;
  runtime.asmcgocall goes on where the goroutine entered the C call
  (g.syscallpc/syscallsp), as Go's traceback starts a goroutine in C;
- C code by its unwind tables (cfi.py), else by its frame pointer.

    walker = ThreadWalker(native)
    frames = walker.walk(thread)      # ThreadFrame per physical frame, innermost first
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from .cfi import RIP, RSP, CfiError
from .cmodules import CodeModules
from .errors import BadRead, Unsupported
from .memory import Thread

# DWARF register numbers (cfi.py) of user_regs_struct's registers.
_DWARF = {"rax": 0, "rdx": 1, "rcx": 2, "rbx": 3, "rsi": 4, "rdi": 5, "rbp": 6, "rsp": 7, "r8": 8, "r9": 9,
          "r10": 10, "r11": 11, "r12": 12, "r13": 13, "r14": 14, "r15": 15, "rip": 16}
RBP = 6
# uc_mcontext.gregs in a ucontext (after uc_flags, uc_link, uc_stack), and
# each greg's DWARF number, in the kernel's order (REG_R8 ... REG_RIP).
_GREGS_AT = 40
_GREGS = (8, 9, 10, 11, 12, 13, 14, 15, 5, 4, 6, 3, 1, 0, 2, 7, 16)
# The kernel's rt_sigframe: the restorer's address, then its struct
# ucontext (304 bytes on x86-64), then the siginfo.
_SIGINFO_AT = 304
_RESTORERS = frozenset({"runtime.sigreturn__sigaction", "runtime.sigreturn"})
_HANDLERS = frozenset({"runtime.sigtramp", "runtime.cgoSigtramp"})
_BOTTOM = frozenset({"runtime.goexit", "runtime.mstart", "runtime.mstart0", "runtime.rt0_go", "runtime.mcall"})
# A thread's stack deeper than this is a loop in a corrupt core.
MAX_FRAMES = 100_000


@dataclass(frozen=True)
class SignalInfo:
    """The siginfo the kernel gave a signal handler: signo, si_code and the
    word after them (si_addr of a fault; si_pid | si_uid << 32 of a signal
    a process sent)."""

    signo: int
    code: int
    address: int


@dataclass(frozen=True)
class ThreadFrame:
    """One physical frame of a thread's stack. trap: stopped by a trap
    (the thread's own registers, or a signal), its line at pc itself; c:
    C code; function: the physical function's name; goroutine: on the
    stack of the goroutine the thread ran (not its system or signal stack)."""

    pc: int
    sp: int
    function: str
    trap: bool
    c: bool
    goroutine: bool
    signal: SignalInfo | None = None  # the signal that stopped this frame (the first under a handler)


class ThreadWalker:
    """Walks the threads of one open core (a NativeCore)."""

    def __init__(self, native, modules: CodeModules | None = None) -> None:
        self.native = native
        self.memory = native.memory
        self.modules = modules or CodeModules(native.memory, native.exe, native.layouts)

    def close(self) -> None:
        self.modules.close()

    def _thread_gs(self, thread: Thread) -> tuple[int, int, int]:
        """(the goroutine the thread runs, its m's g0, the g TLS holds), 0 when unknown."""
        native = self.native
        try:
            tls_g = self.memory.u64((thread.fs_base + native.tls_g_offset()) & (2**64 - 1))
            if not tls_g:
                return 0, 0, 0
            m = self.memory.u64(tls_g + native.g.offset("m"))
            if not m:
                return 0, 0, tls_g
            return native.m.read(self.memory, m, "curg"), native.m.read(self.memory, m, "g0"), tls_g
        except (BadRead, Unsupported):
            return 0, 0, 0

    def walk(self, thread: Thread) -> list[ThreadFrame]:
        """The thread's physical frames, innermost first, as far as they can be read."""
        registers = {number: thread.register(name) for name, number in _DWARF.items()}
        curg, _g0, _tls = self._thread_gs(thread)
        curg_record = None
        if curg:
            try:
                curg_record = self.native.read_g(curg)
            except BadRead:
                curg_record = None
        frames: list[ThreadFrame] = []
        trap = True
        signal: SignalInfo | None = None
        names = self.native.names
        walker = self.native.walker
        for _ in range(MAX_FRAMES):
            pc, sp = registers.get(RIP, 0), registers.get(RSP, 0)
            if not pc:
                break
            on_goroutine = curg_record is not None and curg_record.stack_lo <= sp < curg_record.stack_hi
            func = names.func(pc)
            if func is not None:
                frames.append(ThreadFrame(pc, sp, func.name, trap, False, on_goroutine, signal if trap else None))
                if trap:
                    signal = None
                if func.name in _BOTTOM:
                    break
                switched = self._switch(func.name, curg_record, on_goroutine)
                if switched is not None:
                    registers = switched
                    trap = False
                    continue
                try:
                    delta = walker.pclntab.sp_delta(func, pc - walker.bias)
                    if delta < 0:
                        break
                    cfa = sp + delta + 8
                    ret = self.memory.u64(cfa - 8)
                    if func.name in _HANDLERS:
                        signal = self._siginfo(cfa)
                        ret_func = names.func(ret)
                        if ret_func is not None and ret_func.name in _RESTORERS:
                            registers = self._signal_context(cfa)
                            trap = True
                            continue
                    caller = dict(registers)
                    caller[RIP], caller[RSP] = ret, cfa
                    if delta > 0:  # a Go frame of non-zero size saved its caller's BP below the return address
                        caller[RBP] = self.memory.u64(cfa - 16)
                    registers = caller
                except BadRead:
                    break
            else:
                frames.append(ThreadFrame(pc, sp, "", trap, True, on_goroutine, signal if trap else None))
                if trap:
                    signal = None
                caller, handler = self._c_caller(registers, trap)
                if caller is None:
                    break
                registers = caller
                if handler:  # libc's restorer (cgo installs handlers through libc): the caller was interrupted
                    trap = True
                    continue
            trap = False
        return frames

    def _switch(self, function: str, g, on_goroutine: bool) -> dict[int, int] | None:
        """Where the walk goes on at a stack switch (None: not one)."""
        if g is None or on_goroutine:
            return None
        if function in ("runtime.systemstack", "runtime.morestack"):
            return {RIP: g.pc, RSP: g.sp, RBP: g.bp}
        if function == "runtime.asmcgocall" and g.syscall_sp:
            return {RIP: g.syscall_pc, RSP: g.syscall_sp, RBP: g.syscall_bp}
        return None

    def _siginfo(self, ucontext: int) -> SignalInfo | None:
        try:
            signo, _errno, code, _pad, address = struct.unpack("<iiiiQ", self.memory.read(ucontext + _SIGINFO_AT, 24))
        except (BadRead, struct.error):
            return None
        return SignalInfo(signo, code, address)

    def _signal_context(self, ucontext: int) -> dict[int, int]:
        words = self.memory.words(ucontext + _GREGS_AT, len(_GREGS))
        return {number: value for number, value in zip(_GREGS, words)}

    def _c_caller(self, registers: dict[int, int], trap: bool) -> tuple[dict[int, int] | None, bool]:
        """(The caller's registers of a C frame: by its unwind table, else by
        its frame pointer, None where neither works; whether the frame is
        a signal handler's, its caller stopped by the signal)."""
        pc = registers[RIP]
        image = self.modules.image_of(pc)
        if image is not None and image.table is not None:
            try:
                # A return address may lie past the end of a call to a
                # function that does not return (abort): look it up at pc-1.
                row = image.table.row(pc - image.bias - (0 if trap else 1))
                if row is not None:
                    return row.unwind(registers, self.memory.u64), row.signal
            except (CfiError, BadRead, struct.error):
                pass
        bp = registers.get(RBP, 0)
        try:
            if bp and bp > registers.get(RSP, 0):
                caller = dict(registers)
                caller[RBP], caller[RIP] = self.memory.words(bp, 2)
                caller[RSP] = bp + 16
                return caller, False
        except BadRead:
            pass
        return None, False
