"""However the TUI ends (q, Ctrl+C, SIGTERM, SIGHUP, SIGINT, its terminal
closed, the terminal's own process killed), every process it started is
gone and reaped when it has exited: checked right after the exit, zombies
and Delve's telemetry sidecar included (tests/leftovers.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pexpect
import pytest

import leftovers
from waiting import HANG, wait_for

pytestmark = pytest.mark.e2e


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def tui_argv(fixture) -> list[str]:
    return [sys.executable, "-m", "tui", "--no-gdb", "--dlv", fixture.dlv, str(fixture.exe), str(fixture.core)]


def started(fixture, tag: str) -> tuple[pexpect.spawn, list[int]]:
    argv = tui_argv(fixture)
    child = pexpect.spawn(argv[0], argv[1:], env=leftovers.tagged_env(tag, dict(os.environ, TERM="xterm-256color")),
                          dimensions=(50, 200), encoding="utf-8", codec_errors="replace", timeout=HANG)
    child.expect_exact("Variables · frame")
    dlvs = leftovers.children_of(child.pid, "dlv")
    # The session on screen, and perhaps the second one still listing goroutines.
    assert 1 <= len(dlvs) <= 2
    return child, dlvs


def assert_nothing_left(fixture, tag: str) -> None:
    """Right after the exit: no dlv, no telemetry sidecar, no zombie."""
    left = leftovers.scan((fixture.core,), tag)
    leftovers.kill(left)
    assert not left, "left behind: " + "; ".join(map(str, left))


# SIGKILL stands for a crash of the TUI itself: no handler runs, and dlv
# still goes (its pty closes under it), though only init can reap it then.
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT, signal.SIGKILL])
def test_a_signal_ends_the_tui_and_its_dlv(cores, signum):
    fixture = cores["goroutine_panic"]
    tag = leftovers.new_tag()
    with leftovers.adopting():
        child, dlvs = started(fixture, tag)
        os.kill(child.pid, signum)
        child.expect(pexpect.EOF)
        child.close()
        assert child.signalstatus == signum
        if signum == signal.SIGKILL:
            wait_for(lambda: not any(alive(p) for p in dlvs), "dlv outlived the TUI killed under it")
            leftovers.reap(leftovers.scan_adopted())  # init's job, here ours
        assert_nothing_left(fixture, tag)


@pytest.mark.parametrize("key", ["q", "ctrl+c"])
def test_quitting_leaves_nothing(cores, key):
    fixture = cores["goroutine_panic"]
    tag = leftovers.new_tag()
    with leftovers.adopting():
        child, _ = started(fixture, tag)
        if key == "q":
            child.send("q")
        else:
            child.sendcontrol("c")
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 0
        assert_nothing_left(fixture, tag)


def test_a_closed_terminal_ends_the_tui_and_its_dlv(cores):
    """The terminal window closed: its pty's master goes, the TUI gets SIGHUP."""
    fixture = cores["goroutine_panic"]
    tag = leftovers.new_tag()
    with leftovers.adopting():
        child, _ = started(fixture, tag)
        pid = child.pid
        child.close(force=False)  # closes the master only: no signal sent by us
        wait_for(lambda: not alive(pid), "the TUI outlived its terminal")
        with pytest.raises(ChildProcessError):  # pexpect reaped it; nothing else of it is left
            os.waitpid(pid, os.WNOHANG)
        assert_nothing_left(fixture, tag)


def test_the_terminal_killed_under_the_tui_ends_it_and_its_dlv(cores, installed):
    """The process holding the terminal (a terminal emulator, here script(1))
    killed outright: the TUI, its child, exits and reaps its dlvs; the TUI
    itself, orphaned, is adopted by us (as by init) and reaped here."""
    fixture = cores["goroutine_panic"]
    tag = leftovers.new_tag()
    script = installed("script")
    with leftovers.adopting():
        holder = subprocess.Popen([script, "-qfec", " ".join(map(repr, tui_argv(fixture))), "/dev/null"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  env=leftovers.tagged_env(tag, dict(os.environ, TERM="xterm-256color")),
                                  start_new_session=True)
        seen = b""
        deadline = time.monotonic() + HANG
        os.set_blocking(holder.stdout.fileno(), False)
        while "Variables · frame".encode() not in seen:
            assert time.monotonic() < deadline, f"no first screen: {seen[-500:]!r}"
            seen += holder.stdout.read() or b""
            time.sleep(0.05)
        tui = [left for left in leftovers.scan((fixture.core,), tag) if left.comm.startswith("python")]
        assert len(tui) == 1
        # script(1) runs the TUI through `sh -c`, which may wait for it
        # rather than exec it: that shell is the terminal's, not ours.
        terminal = {tui[0].pid, tui[0].ppid} - {holder.pid}
        holder.kill()
        holder.wait()
        wait_for(lambda: not alive(tui[0].pid), "the TUI outlived the terminal killed under it")
        wait_for(lambda: not any(alive(pid) for pid in terminal), "script's shell outlived the TUI")
        left = leftovers.scan((fixture.core,), tag)
        leftovers.reap([x for x in left if x.pid in terminal])
        assert [x for x in left if x.pid not in terminal] == [], "left behind: " + "; ".join(map(str, left))
        assert_nothing_left(fixture, tag)


def held_gdb(real_gdb: str, folder: Path) -> Path:
    """A folder for the front of PATH whose `gdb` is the real one, held once
    it has loaded the executable and the core (its first command, a `shell
    sleep` that only a kill ends): a gdb still reading the core, for as long
    as the test needs, on any machine."""
    folder.mkdir()
    gdb = folder / "gdb"
    gdb.write_text(f"#!/bin/sh\nexec {real_gdb} -ex 'shell sleep {HELD_GDB_SLEEP}' \"$@\"\n")
    gdb.chmod(0o755)
    return folder


HELD_GDB_SLEEP = 3600


@pytest.mark.parametrize("how", ["q", "SIGTERM"])
def test_a_gdb_still_reading_the_core_goes_with_the_tui(cores, how, installed, tmp_path):
    """The comparison's gdb runs beside the first screen: quitting then
    kills it and reaps it (gdb runs behind setpriv, in its own group)."""
    fixture = cores["goroutine_panic"]
    tag = leftovers.new_tag()
    argv = [a for a in tui_argv(fixture) if a != "--no-gdb"]
    path = f"{held_gdb(installed('gdb'), tmp_path / 'bin')}:{os.environ['PATH']}"
    with leftovers.adopting():
        child = pexpect.spawn(argv[0], argv[1:], dimensions=(50, 200), encoding="utf-8", codec_errors="replace",
                              env=leftovers.tagged_env(tag, dict(os.environ, TERM="xterm-256color", PATH=path)),
                              timeout=HANG)

        def gdb_holds_the_core() -> bool:
            try:
                child.read_nonblocking(1 << 16, timeout=0.02)  # the TUI's screen: read, or it blocks writing
            except pexpect.TIMEOUT:
                pass
            running = leftovers.scan((fixture.core,), tag)
            return any(p.comm == "gdb" for p in running) and \
                any(p.comm == "sleep" and p.cmdline == f"sleep {HELD_GDB_SLEEP}" for p in running)

        wait_for(gdb_holds_the_core, "the comparison's gdb never started on the core", poll=0)
        if how == "q":
            child.send("q")
        else:
            os.kill(child.pid, signal.SIGTERM)
        child.expect(pexpect.EOF)
        child.close()
        assert_nothing_left(fixture, tag)


def test_a_signal_gives_the_terminal_back_as_it_was(cores):
    """Textual's own teardown does not run when a signal ends the TUI: the
    shell would be left in raw mode, on the alternate screen, without a cursor."""
    import termios

    fixture = cores["goroutine_panic"]
    tag = leftovers.new_tag()
    with leftovers.adopting():
        child, _ = started(fixture, tag)
        raw = termios.tcgetattr(child.child_fd)
        assert not raw[3] & termios.ICANON  # the TUI holds the terminal
        os.kill(child.pid, signal.SIGTERM)
        child.expect(pexpect.EOF)
        after = termios.tcgetattr(child.child_fd)
        last = child.before
        child.close()
        assert after[3] & termios.ICANON and after[3] & termios.ECHO
        assert last.rstrip().endswith("\x1b[?1049l\x1b[?25h")
        assert_nothing_left(fixture, tag)
