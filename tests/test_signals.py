"""However the TUI ends (q, Ctrl+C, SIGTERM, SIGHUP, SIGINT), its dlv goes with it."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pexpect
import pytest

pytestmark = pytest.mark.e2e


def dlv_children(pid: int) -> list[int]:
    found = []
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            found += [int(x) for x in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
        except OSError:
            pass
    return [p for p in found if Path(f"/proc/{p}/comm").read_text().strip() == "dlv"]


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def started(fixture) -> tuple[pexpect.spawn, list[int]]:
    child = pexpect.spawn(str(Path(sys.executable).parent / "gocore-tui"), [str(fixture.exe), str(fixture.core), "--no-gdb", "--dlv", fixture.dlv],
                          env=dict(os.environ, TERM="xterm-256color"), dimensions=(50, 200),
                          encoding="utf-8", codec_errors="replace", timeout=30)
    child.expect_exact("Variables · frame")
    dlvs = dlv_children(child.pid)
    # The session on screen, and perhaps the second one still listing goroutines.
    assert 1 <= len(dlvs) <= 2
    return child, dlvs


def gone(pids: list[int], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while any(alive(p) for p in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


# SIGKILL stands for a crash of the TUI itself: no handler runs, and dlv
# still goes (its pty closes under it).
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT, signal.SIGKILL])
def test_a_signal_ends_the_tui_and_its_dlv(cores, signum):
    child, dlvs = started(cores["goroutine_panic"])
    os.kill(child.pid, signum)
    child.expect(pexpect.EOF)
    child.close()
    assert child.signalstatus == signum
    assert gone(dlvs)


def test_ctrl_c_quits_cleanly(cores):
    child, dlvs = started(cores["goroutine_panic"])
    child.sendcontrol("c")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert gone(dlvs)
