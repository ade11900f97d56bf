"""Go's traceback rules (tui/corefile/traceback.py) on Delve's frames,
without a core: which pc Go looks a frame up at, where a goroutine's own
stack starts in its thread's, and a system call's frame."""

from __future__ import annotations

import pytest

from tui.corefile.traceback import GoFrame, StackStart, dying_prefix, ends_with, go_frames, injected_calls, sym_pc
from tui.model import Frame, Location

pytestmark = pytest.mark.toolchain_independent

# A made-up symbolizer: each pc's function and its line at Go's pc (pc-1, or pc for a trap).
FUNCTIONS = {0x100: "runtime.gopark", 0x200: "main.wait", 0x300: "runtime.goexit", 0x400: "runtime.sigpanic",
             0x500: "main.crash", 0x600: "runtime.fatalpanic", 0x700: "runtime.gopanic", 0x800: "runtime.raise",
             0x900: "syscall.Syscall", 0xA00: "internal/runtime/syscall/linux.Syscall6"}


def symbolize(pc: int, trap: bool) -> tuple[Location, ...]:
    function = FUNCTIONS[pc & ~0xFF]
    line = pc & 0xFF if trap else (pc & 0xFF) - 1  # line = the low byte of the pc Go looks up
    return (Location("/src/x.go", line, function),)


def delve(*pcs: int, delve_lines: dict[int, int] | None = None) -> tuple[Frame, ...]:
    """Delve's frames: its innermost line at pc, the others at pc-1."""
    frames = []
    for index, pc in enumerate(pcs):
        line = (delve_lines or {}).get(index, (pc & 0xFF) - (0 if index == 0 else 1))
        frames.append(Frame(index, pc, FUNCTIONS[pc & ~0xFF], "/src/x.go", line))
    return tuple(frames)


def test_go_looks_a_frame_up_at_pc_minus_one_but_at_a_trap_or_an_entry():
    assert sym_pc(0x110, 0x100, False) == 0x10F
    assert sym_pc(0x110, 0x100, True) == 0x110
    assert sym_pc(0x100, 0x100, False) == 0x100


def test_a_parked_goroutine_s_innermost_line_is_go_s_not_delve_s():
    frames, own_from = go_frames(delve(0x163, 0x212, 0x301), StackStart(), symbolize, "go1.26.8")
    assert own_from == 0
    assert [f.line for f in frames] == [0x62, 0x11, 0x00]  # Delve said 0x63 for gopark


def test_the_frame_a_signal_stopped_is_taken_at_its_pc():
    # gopanic <- sigpanic <- main.crash (faulted at 0x522): Go looks main.crash up at 0x522
    frames, _ = go_frames(delve(0x780, 0x430, 0x522, 0x301), StackStart(on_thread=True), symbolize, "go1.26.8")
    assert frames[2].line == 0x22
    # Go 1.21+ treats an async preemption's caller so too; Go 1.19 only sigpanic's
    assert "runtime.asyncPreempt" in injected_calls("go1.26.8") and "runtime.asyncPreempt" not in injected_calls("go1.19.8")


def test_the_dying_goroutine_starts_after_fatalpanic_and_its_thread_s_frames_are_apart():
    frames, own_from = go_frames(delve(0x810, 0x620, 0x711, 0x212, 0x301), StackStart(on_thread=True), symbolize,
                                 "go1.26.8")
    assert own_from == 2 and frames[own_from].function == "runtime.gopanic"


def test_a_system_call_starts_at_syscallpc_and_the_thread_s_frames_inside_it_are_apart():
    # The thread is deeper in the kernel call (Syscall6, then Syscall at 0x957); Go starts at syscallpc 0x925.
    frames, own_from = go_frames(delve(0xA24, 0x957, 0x212, 0x301), StackStart(syscall_pc=0x925, on_thread=True),
                                 symbolize, "go1.26.8")
    assert own_from == 1
    assert (frames[1].function, frames[1].line) == ("syscall.Syscall", 0x24)


def test_a_stack_known_without_delve_decides_where_it_is_the_end_of_delve_s():
    # Delve 1.20's view of a goroutine that overflowed its stack: the thread's pc, then its saved state.
    go_stack = [GoFrame(0x212, symbolize(0x212, False)), GoFrame(0x301, symbolize(0x301, False))]
    frames, own_from = go_frames(delve(0x810, 0x212, 0x301), StackStart(on_thread=True), symbolize, "go1.19.8",
                                 go_stack)
    assert own_from == 1


def test_a_stack_with_a_frame_delve_skipped_is_not_the_end_of_delve_s():
    # Delve skips the caller (main.wait) of a frameless function a preemption signal stopped.
    go_stack = [GoFrame(pc, symbolize(pc, False)) for pc in (0x163, 0x520, 0x212, 0x301)]
    assert ends_with(delve(0x163, 0x520, 0x212, 0x301), go_stack, False)
    assert not ends_with(delve(0x163, 0x520, 0x301), go_stack, False)
    assert ends_with(delve(0x810, 0x163, 0x520, 0x212, 0x301), go_stack, False)  # the thread's frames above


def test_the_dying_runtime_s_frames_on_g_sched_are_not_the_goroutine_s():
    assert dying_prefix(["runtime.systemstack_switch", "runtime.fatalthrow", "runtime.throw"]) == 2
    assert dying_prefix(["runtime.gopark", "main.wait"]) == 0
