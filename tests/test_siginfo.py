"""tui.debugger.elf's NT_SIGINFO: who sent the signal that dumped the core, or where the fault was.

Three real cores: a Go process killed with `kill -ABRT` from this test, a
nil dereference as Go's runtime reports it (the nil_deref fixture), and a
nil dereference the kernel reports itself (SIGSEGV given back to SIG_DFL).
"""

from __future__ import annotations

import os
import re
import signal
import struct
import subprocess
import time
from pathlib import Path

import pytest

from tui.debugger import elf
from tui.cli.corerun import find_core, go_env, raise_core_limit
from tui.debugger.delve import Delve
from waiting import HANG, wait_for

SLEEPER = """package main

import (
	"fmt"
	"time"
)

func main() {
	fmt.Println("ready")
	time.Sleep(time.Hour)
}
"""

# SIGSEGV back to the kernel's default: the nil dereference then kills the
# process with the kernel's own siginfo, as a C program's would.
KERNEL_FAULT = """package main

import (
	"fmt"
	"syscall"
	"unsafe"
)

type Config struct {
	Name    string
	Retries int
}

var sigDfl [4]uint64 // the kernel's struct sigaction, all zero: SIG_DFL

func main() {
	_, _, errno := syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(syscall.SIGSEGV),
		uintptr(unsafe.Pointer(&sigDfl)), 0, 8, 0, 0)
	if errno != 0 {
		panic(errno)
	}
	var c *Config
	fmt.Println(c.Retries)
}
"""


def build_program(tmp_path: Path, source: str, go: str) -> Path:
    (tmp_path / "go.mod").write_text("module siginfo.example\n\ngo 1.19\n")
    (tmp_path / "main.go").write_text(source)
    subprocess.run([go, "build", "-o", "main", "."], cwd=tmp_path, env=go_env(), check=True, capture_output=True)
    return tmp_path / "main"


# write(2)'s number on the machines the fixtures run on.
_SYS_WRITE = {"x86_64": "1", "aarch64": "64"}[os.uname().machine]


def asleep_outside_write(pid: int) -> bool:
    """Every thread of pid sleeps in the kernel (a futex, a poll, a timed
    sleep), none in a write: the write of "ready" has returned and main
    has parked."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            state = (task / "stat").read_text().rsplit(")", 1)[1].split()[0]
            call = (task / "syscall").read_text().split()
        except (OSError, IndexError):
            return False
        if state != "S" or not call or call[0] in ("running", _SYS_WRITE):
            return False
    return True


def run_to_core(exe: Path, kill_after_ready: bool) -> tuple[Path, int]:
    started = time.time()
    proc = subprocess.Popen([str(exe)], cwd=exe.parent, env=dict(os.environ, GOTRACEBACK="crash"),
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            preexec_fn=raise_core_limit)
    try:
        if kill_after_ready:
            assert proc.stdout.readline().strip() == "ready"
            # Let main park in time.Sleep: a signal that lands while it is
            # still returning from the write of "ready" runs its handler
            # where Delve's unwinding does not show the handler's frames.
            wait_for(lambda: asleep_outside_write(proc.pid), "the program never went to sleep after `ready`",
                     poll=0.01)
            os.kill(proc.pid, signal.SIGABRT)
        proc.wait(timeout=HANG)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
    assert proc.returncode < 0, proc.returncode
    return find_core(exe, exe.parent, proc.pid, -proc.returncode, started), proc.pid


def handler_siginfos(exe: Path, core: Path, dlv: str) -> list[elf.SigInfo]:
    """The siginfo each of Go's signal handlers got: `info` of every
    runtime.sigtrampgo frame on every thread, through Delve."""
    found = []
    delve = Delve.open(str(exe), str(core), dlv=dlv)
    try:
        threads = re.findall(r"Thread (\d+) at", delve.run_raw("threads"))
        assert threads
        for thread in threads:
            assert not delve.run_raw(f"thread {thread}").startswith("error:")
            for frame in delve.backtrace(None, depth=60).frames:
                if frame.function != "runtime.sigtrampgo":
                    continue
                fields = [delve.evaluate(None, frame.index, expr) for expr in ("sig", "info.si_code", "info.si_addr")]
                if None not in fields:
                    signo, code, word = (int(v, 0) for v in fields)
                    found.append(elf.SigInfo.from_fields(signo, code, word))
    finally:
        delve.close()
    return found


def test_kill_abrt(tmp_path, toolchain):
    exe = build_program(tmp_path, SLEEPER, toolchain.go)
    core_path, pid = run_to_core(exe, kill_after_ready=True)
    core = elf.check_core(core_path)
    assert core.pid == pid
    # The note: the runtime caught our SIGABRT and raised one at itself.
    assert core.siginfo == elf.SigInfo(signo=6, code=-6, errno=0, pid=pid, uid=os.getuid())
    assert core.siginfo.sent and core.siginfo.code_name == "SI_TKILL"
    # What a handler got: SI_USER from this test's process, in the word
    # where a fault address would be. The other threads' handlers got the
    # runtime's relay of the crash: SIGQUIT by kill(2) at itself.
    handled = handler_siginfos(exe, core_path, toolchain.dlv)
    ours = elf.SigInfo(signo=6, code=0, errno=0, pid=os.getpid(), uid=os.getuid())
    assert ours in handled, handled
    assert ours.code_name == "SI_USER" and ours.addr is None
    assert set(handled) <= {ours, core.siginfo, elf.SigInfo(3, 0, 0, pid=pid, uid=os.getuid())}, handled


def test_nil_dereference_the_runtime_reports(fixture_core):
    fixture = fixture_core("nil_deref")
    core = elf.check_core(fixture.core)
    # GOTRACEBACK=crash: the SIGSEGV became a panic, the panic an abort the
    # process raised at itself. The fault is not in the note.
    assert core.siginfo == elf.SigInfo(signo=6, code=-6, errno=0, pid=core.pid, uid=os.getuid())
    assert core.pid is not None and core.pid > 0


def test_nil_dereference_the_kernel_reports(tmp_path, toolchain):
    exe = build_program(tmp_path, KERNEL_FAULT, toolchain.go)
    core_path, pid = run_to_core(exe, kill_after_ready=False)
    core = elf.check_core(core_path)
    assert core.signal == 11 and core.pid == pid
    info = core.siginfo
    assert (info.signo, info.code, info.code_name, info.sent) == (11, 1, "SEGV_MAPERR", False)
    assert (info.pid, info.uid) == (None, None)
    # c.Retries is 16 bytes into the nil *Config (a nil check may probe 0 first).
    assert info.addr in (0, 16)


def test_core_of_a_live_process(fixture_core):
    core = elf.check_core(fixture_core("gcore_live").core)
    # gdb's gcore: nothing crashed (pr_cursig 0), the note holds its attach's SIGSTOP.
    assert core.signal == 0
    assert core.siginfo is not None and core.siginfo.signo == signal.SIGSTOP


@pytest.mark.toolchain_independent
@pytest.mark.parametrize("endian", ["<", ">"])
def test_layouts(endian):
    # 64-bit: signo errno code, 4 bytes of padding, the union at 16.
    sent = struct.pack(endian + "iiiiiI", 6, 0, 0, 0, 4242, 1000) + bytes(104)
    assert elf.parse_siginfo(sent, endian, True) == elf.SigInfo(6, 0, 0, pid=4242, uid=1000)
    fault = struct.pack(endian + "iiiiQ", 11, 0, 2, 0, 0xDEAD0) + bytes(104)
    assert elf.parse_siginfo(fault, endian, True) == elf.SigInfo(11, 2, 0, addr=0xDEAD0)
    assert elf.parse_siginfo(fault, endian, True).code_name == "SEGV_ACCERR"
    # 32-bit: the union at 12, a 4-byte address.
    queued = struct.pack(endian + "iiiiI", 10, 0, -1, 77, 0) + bytes(108)
    assert elf.parse_siginfo(queued, endian, False) == elf.SigInfo(10, -1, 0, pid=77, uid=0)
    bus = struct.pack(endian + "iiiI", 7, 0, 2, 0x1000) + bytes(112)
    assert elf.parse_siginfo(bus, endian, False) == elf.SigInfo(7, 2, 0, addr=0x1000)
    # MIPS: si_code before si_errno.
    mips = struct.pack(endian + "iiiiQ", 11, 1, 0, 0, 0x10) + bytes(104)
    assert elf.parse_siginfo(mips, endian, True, e_machine=8) == elf.SigInfo(11, 1, 0, addr=0x10)
    assert elf.parse_siginfo(b"\0" * 20, endian, True) is None


@pytest.mark.toolchain_independent
def test_names_and_fields():
    assert elf.SigInfo(6, -6).code_name == "SI_TKILL"
    assert elf.SigInfo(19, 0x80, addr=0).code_name == "SI_KERNEL"
    assert elf.SigInfo(8, 1, addr=0x401000).code_name == "FPE_INTDIV"
    assert elf.SigInfo(11, 9, addr=0).code_name == "si_code 9"
    # si_addr of a sent signal holds si_pid (low word) and si_uid.
    assert elf.SigInfo.from_fields(6, 0, (1000 << 32) | 3023) == elf.SigInfo(6, 0, 0, pid=3023, uid=1000)
    assert elf.SigInfo.from_fields(11, 1, 0x10) == elf.SigInfo(11, 1, 0, addr=0x10)
