"""`gocore-tui serve EXE CORE`: the TUI in a browser, loaded in headless Chromium."""

from __future__ import annotations

import asyncio
import json
import shlex
import shutil
import signal
import socket
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

import leftovers
import toolchains
from browser import Browser, find_chromium
from leftovers import dlv_processes_for
from waiting import HANG, wait_for
from tui.cli.serve import HOST, TAB_DRIVER, ServeRequest, app_command
from tui.cli.tabs import HEARTBEAT


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def start_serve(*args: str | Path, tag: str | None = None) -> subprocess.Popen:
    command = [sys.executable, "-m", "tui", "serve", "--dlv", toolchains.current().dlv, *map(str, args)]
    env = leftovers.tagged_env(tag) if tag else None
    # Its output goes to a file: a pipe nobody reads would fill and block the server.
    log = tempfile.TemporaryFile("w+")
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, text=True, start_new_session=True,
                              env=env)
    server.log = log
    return server


def output_of(server: subprocess.Popen) -> str:
    server.log.seek(0)
    return server.log.read()


def is_listening(port: int) -> bool:
    try:
        socket.create_connection((HOST, port), timeout=1).close()
        return True
    except OSError:
        return False


def wait_listening(server: subprocess.Popen, port: int, timeout: float = HANG) -> None:
    deadline = time.monotonic() + timeout
    while not is_listening(port):
        if server.poll() is not None:
            pytest.fail(f"serve exited with {server.returncode}: {output_of(server)}")
        if time.monotonic() > deadline:
            pytest.fail(f"serve did not listen on {HOST}:{port} in {timeout:.0f} s")
        time.sleep(0.1)


# A tab's app, and its dlvs, are gone this long after its websocket closed
# (or, for the frozen browser, after the heartbeat's missed pong). That a tab
# goes at all is the point; the bound tells "leaves" from "runs on for ever"
# (the bugs these tests came from). Measured under two CPU hogs on 2 CPUs:
# at most 0.6 s, and 1.7 s for the tab whose stdout nobody reads.
TAB_GONE = 10.0


def tab_processes(core: Path, tag: str, server: subprocess.Popen) -> list[leftovers.Leftover]:
    """The tab apps (`python -m tui ... core`) and their dlvs, zombies included."""
    return leftovers.scan((core,), tag, ignore=(server.pid,))


async def wait_tabs_gone(core: Path, tag: str, server: subprocess.Popen, timeout: float, why: str) -> float:
    """Seconds until no tab process of `core` is left; fails after timeout,
    saying how much CPU each leftover burns."""
    started = time.monotonic()
    while left := [p for p in tab_processes(core, tag, server) if p.state != "Z"]:
        if time.monotonic() - started > timeout:
            use = leftovers.cpu_use(left)
            leftovers.kill(left)
            pytest.fail(f"{why}: after {timeout:g}s still running: "
                        + "; ".join(f"{p} at {use.get(p.pid, 0):.0%} CPU" for p in left))
        await asyncio.sleep(0.05)
    return time.monotonic() - started


def assert_reaped(core: Path, tag: str, server: subprocess.Popen) -> None:
    """Nothing of the tabs left, not even a zombie: reaped by the tab (its
    dlvs) and by the server (the tab); a tab orphaned by a killed server is
    adopted by us, and reaped here, as init would."""
    left = tab_processes(core, tag, server)
    if server.poll() is not None and server.returncode < 0:
        orphans = [p for p in left if p.state == "Z" and p.comm.startswith("python")]
        leftovers.reap(orphans)
        left = [p for p in left if p not in orphans]
    leftovers.kill(left)
    assert not left, "left behind: " + "; ".join(map(str, left))


def copied_pair(fixture, tmp_path) -> tuple[Path, Path]:
    # A folder a shell would split and a file name like an option: the
    # command textual-serve runs for each tab must keep them whole.
    folder = tmp_path / "it's a core"
    folder.mkdir()
    exe, core = folder / "main", folder / "-core"
    shutil.copy2(fixture.exe, exe)
    shutil.copy2(fixture.core, core)
    return exe, core


async def test_serve_shows_the_crash_and_a_tab_leaves_with_its_websocket(fixture_core, tmp_path):
    """Each way a websocket ends takes its tab's app and dlvs with it, within
    TAB_GONE: the tab closed, the browser killed, the browser off the network
    (frozen: only the heartbeat notices); stopping the server takes the last."""
    chromium = find_chromium()
    if chromium is None:
        pytest.fail("no chromium on PATH: `make test` installs Debian's (apt-get install chromium)")
    exe, core = copied_pair(fixture_core("goroutine_panic"), tmp_path)
    tag = leftovers.new_tag()
    port = free_port()
    url = f"http://{HOST}:{port}/"
    with leftovers.adopting():
        server = start_serve("--port", str(port), "--no-gdb", "--", exe, core, tag=tag)
        try:
            wait_listening(server, port)
            async with Browser(chromium, tmp_path / "profile") as browser:
                await browser.open(url)
                # The panes draw in separate frames (the source loads after the
                # summary), so each text is waited for, not read from one frame.
                for text in ("panic: PANIC", "crashed in goroutine", "main.main.func1",
                             'panic("PANIC") // CRASH',  # the source pane, at the faulting line
                             "Caller"):  # the footer's keys, though the page never had the focus
                    await browser.wait_for_text(text, timeout=HANG)
                assert "-first-byte" in await browser.evaluate("document.body.className")  # the page drew it
                await browser.screenshot(tmp_path / "serve.png")
                assert dlv_processes_for(core), "the tab's gocore-tui reads the core with a dlv of its own"
                await browser.close_tab()
                await wait_tabs_gone(core, tag, server, TAB_GONE, "the tab was closed")
                assert server.poll() is None
            for how in ("killed", "frozen"):
                async with Browser(chromium, tmp_path / f"profile-{how}") as browser:
                    await browser.open(url)
                    await browser.wait_for_text("panic: PANIC", timeout=HANG)
                    if how == "killed":
                        browser.kill()
                        await wait_tabs_gone(core, tag, server, TAB_GONE, "the browser was killed")
                    else:
                        browser.freeze()
                        # The heartbeat: a ping, and half a period for its pong.
                        await wait_tabs_gone(core, tag, server, 1.5 * HEARTBEAT + TAB_GONE, "the browser went off the network")
                assert_reaped(core, tag, server)
                assert server.poll() is None
            # Stopping the server while a tab is open ends that tab first.
            async with Browser(chromium, tmp_path / "profile-last") as browser:
                await browser.open(url)
                await browser.wait_for_text("panic: PANIC", timeout=HANG)
                server.send_signal(signal.SIGTERM)
                assert server.wait(HANG) == 0
                assert_reaped(core, tag, server)  # right after the server's exit
            assert not is_listening(port)
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()
    assert not dlv_processes_for(core)


@pytest.mark.parametrize("how", ["SIGINT", "SIGHUP", "SIGKILL"])
async def test_stopping_the_server_ends_every_tab(fixture_core, tmp_path, how):
    """Ctrl+C (SIGINT to the server alone: its tabs' apps hear it from the
    server), a hang-up of its terminal, or the server killed outright: then
    the tabs see their stdin end and leave on their own."""
    chromium = find_chromium()
    if chromium is None:
        pytest.fail("no chromium on PATH: `make test` installs Debian's (apt-get install chromium)")
    fixture = fixture_core("goroutine_panic")
    exe, core = copied_pair(fixture, tmp_path)
    tag = leftovers.new_tag()
    port = free_port()
    with leftovers.adopting():
        server = start_serve("--port", str(port), "--no-gdb", "--", exe, core, tag=tag)
        try:
            wait_listening(server, port)
            async with Browser(chromium, tmp_path / "profile") as browser:
                for _ in range(2):  # two tabs, two apps
                    await browser.open(f"http://{HOST}:{port}/")
                    await browser.wait_for_text("panic: PANIC", timeout=HANG)
                # (the browser reads the open tab only: that was the second app's first screen)
                assert len([p for p in tab_processes(core, tag, server)
                            if p.comm.startswith("python") and " -m tui " in p.cmdline]) == 2
                server.send_signal(getattr(signal, how))
                server.wait(HANG)
                if how == "SIGKILL":
                    await wait_tabs_gone(core, tag, server, TAB_GONE, "the server was killed")
                else:
                    assert server.returncode == 0
                assert_reaped(core, tag, server)
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()


def _packet(kind: bytes, payload: bytes) -> bytes:
    return kind + len(payload).to_bytes(4, "big") + payload


def start_tab(fixture, tag: str) -> subprocess.Popen:
    """One tab's app as textual-serve starts it (sh -c COMMAND, pipes, its
    environment), without the server: the test is the server."""
    request = ServeRequest(str(fixture.exe), str(fixture.core), 0, no_gdb=True)
    env = leftovers.tagged_env(tag, dict(os.environ, TEXTUAL_DRIVER="textual.drivers.web_driver:WebDriver",
                                         COLUMNS="160", ROWS="50"))
    tab = subprocess.Popen(["/bin/sh", "-c", app_command(request, fixture.dlv)], stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    shown, deadline = b"", time.monotonic() + HANG
    while b"PANIC" not in shown:  # its first screen, drawn
        assert time.monotonic() < deadline and tab.poll() is None, "the tab's app did not draw its first screen"
        shown += os.read(tab.stdout.fileno(), 1 << 16)
    return tab


def tab_gone(tab: subprocess.Popen, fixture, tag: str, why: str) -> None:
    """Gone within TAB_GONE, and nothing of it left (its dlvs reaped by it)."""
    try:
        tab.wait(TAB_GONE)
    except subprocess.TimeoutExpired:
        left = leftovers.scan((fixture.core,), tag)
        use = leftovers.cpu_use(left)
        tab.kill()
        leftovers.kill(left)
        pytest.fail(f"{why}: the tab still ran after {TAB_GONE:g}s: "
                    + "; ".join(f"{p} at {use.get(p.pid, 0):.0%} CPU" for p in left))
    left = leftovers.scan((fixture.core,), tag)
    leftovers.kill(left)
    assert not left, "left behind: " + "; ".join(map(str, left))


def test_a_tab_whose_server_is_gone_leaves(fixture_core):
    """stdin at EOF (the server died): Textual's web driver alone only ends
    its input thread, and the app and its dlvs ran on for ever."""
    fixture = fixture_core("goroutine_panic")
    tag = leftovers.new_tag()
    with leftovers.adopting():
        tab = start_tab(fixture, tag)
        tab.stdin.close()
        tab.stdout.close()
        tab_gone(tab, fixture, tag, "stdin and stdout closed")


# write(2)'s number: for a kernel that hides wchan's symbols.
_SYS_WRITE = {"x86_64": "1", "aarch64": "64"}.get(os.uname().machine)


def blocked_writing_a_pipe(pid: int) -> bool:
    """A thread of `pid` sleeps in a write(2) to its stdout, a full pipe."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            state = (task / "stat").read_text().rsplit(")", 1)[1].split()[0]
            wchan = (task / "wchan").read_text()
            call = (task / "syscall").read_text().split()
        except (OSError, IndexError):
            continue
        if state == "S" and (wchan.endswith("pipe_write") or call[:2] == [_SYS_WRITE, "0x1"]):
            return True
    return False


def test_a_tab_nobody_reads_still_quits(fixture_core):
    """textual-serve stops reading a tab's stdout once a write to its closed
    websocket fails; the app fills the pipe and blocks in a write on its
    event loop's thread, where neither the "quit" packet nor SIGTERM (a
    loop callback in Textual's web driver) can run. Quit must still end it."""
    fixture = fixture_core("goroutine_panic")
    tag = leftovers.new_tag()
    with leftovers.adopting():
        tab = start_tab(fixture, tag)
        # Nobody reads any more; every resize redraws the whole screen, until
        # the app is blocked in a write to its full stdout.
        for n in range(1000):  # 1000 packets fit in stdin's pipe
            if blocked_writing_a_pipe(tab.pid):
                break
            size = {"type": "resize", "width": 100 + n % 2 * 60, "height": 40 + n % 2 * 10}
            tab.stdin.write(_packet(b"M", json.dumps(size).encode()))
            tab.stdin.flush()
            time.sleep(0.02)
        wait_for(lambda: blocked_writing_a_pipe(tab.pid), "the tab's app never blocked on its full stdout")
        tab.stdin.write(_packet(b"M", b'{"type": "quit"}'))
        tab.stdin.flush()
        tab_gone(tab, fixture, tag, "quit, with a full stdout")
        tab.stdout.close()
        tab.stdin.close()


def test_serve_refuses_a_core_of_another_program_before_listening(fixture_core):
    exe, core = fixture_core("goroutine_panic").exe, fixture_core("nil_deref").core
    port = free_port()
    server = start_serve("--port", str(port), exe, core)
    server.wait(timeout=HANG)
    output = output_of(server)
    assert server.returncode == 2
    assert output.count("\n") == 1 and "Traceback" not in output
    assert output.startswith(f"gocore-tui: serve: {core} was not dumped by {exe}")
    assert not is_listening(port)
    assert not dlv_processes_for(core)


def test_serve_names_a_port_in_use(fixture_core):
    fixture = fixture_core("goroutine_panic")
    with socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = start_serve("--port", str(port), fixture.exe, fixture.core)
        server.wait(timeout=HANG)
    output = output_of(server)
    assert server.returncode == 2
    assert output == f"gocore-tui: serve: port {port} on {HOST} is in use; pick another with --port\n"
    assert not dlv_processes_for(fixture.core)


@pytest.mark.toolchain_independent
def test_each_tab_runs_the_same_options_with_every_path_kept_whole():
    request = ServeRequest("/tmp/a b/it's", "-core\nx", 8000, substitute_path=("/build=/src dir",),
                           no_gdb=True, force=True)
    argv = shlex.split(app_command(request, "/opt/dl v"))
    # exec: the shell becomes the app (signals reach it, and it is the server's child)
    assert argv[:5] == ["exec", "env", f"TEXTUAL_DRIVER={TAB_DRIVER}", sys.executable, "-m"]
    assert argv[5:] == ["tui", "--dlv", "/opt/dl v", "--substitute-path", "/build=/src dir", "--no-gdb", "--force",
                        "--", "/tmp/a b/it's", str(Path("-core\nx").resolve())]
