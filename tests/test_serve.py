"""`gocore-tui serve EXE CORE`: the TUI in a browser, loaded in headless Chromium."""

from __future__ import annotations

import asyncio
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import toolchains
from browser import Browser, find_chromium
from test_cli import dlv_processes_for
from tui.cli.serve import HOST, ServeRequest, app_command


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def start_serve(*args: str | Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "tui", "serve", "--dlv", toolchains.current().dlv, *map(str, args)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)


def is_listening(port: int) -> bool:
    try:
        socket.create_connection((HOST, port), timeout=1).close()
        return True
    except OSError:
        return False


def wait_listening(server: subprocess.Popen, port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not is_listening(port):
        if server.poll() is not None:
            pytest.fail(f"serve exited with {server.returncode}: {server.stdout.read()}")
        if time.monotonic() > deadline:
            pytest.fail(f"serve did not listen on {HOST}:{port} in {timeout:.0f} s")
        time.sleep(0.1)


async def wait_until(condition, timeout: float, failure: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{failure} after {timeout:.0f} s")
        await asyncio.sleep(0.1)


async def test_serve_shows_the_crash_in_chromium_and_leaves_nothing_behind(fixture_core, tmp_path):
    chromium = find_chromium()
    if chromium is None:
        pytest.fail("no chromium on PATH: `make test` installs Debian's (apt-get install chromium)")
    fixture = fixture_core("goroutine_panic")
    # A folder a shell would split and a file name like an option: the
    # command textual-serve runs for each tab must keep them whole.
    folder = tmp_path / "it's a core"
    folder.mkdir()
    exe, core = folder / "main", folder / "-core"
    shutil.copy2(fixture.exe, exe)
    shutil.copy2(fixture.core, core)
    port = free_port()
    server = start_serve("--port", str(port), "--no-gdb", "--", exe, core)
    url = f"http://{HOST}:{port}/"
    try:
        wait_listening(server, port)
        async with Browser(chromium, tmp_path / "profile") as browser:
            await browser.open(url)
            # The panes draw in separate frames (the source loads after the
            # summary), so each text is waited for, not read from one frame.
            for text in ("panic: PANIC", "crashed in goroutine", "main.main.func1",
                         'panic("PANIC") // CRASH'):  # the last: the source pane, at the faulting line
                await browser.wait_for_text(text, timeout=60)
            assert "-first-byte" in await browser.evaluate("document.body.className")  # the page drew it
            await browser.screenshot(tmp_path / "serve.png")
            assert dlv_processes_for(core), "the tab's gocore-tui reads the core with a dlv of its own"
            await browser.close_tab()
            # Closing the tab quits its gocore-tui, and its dlv with it; the server stays.
            await wait_until(lambda: not dlv_processes_for(core), 30, "the tab's dlv still ran")
            assert server.poll() is None
            # Stopping the server while a tab is open ends that tab's dlv too.
            await browser.open(url)
            await browser.wait_for_text("panic: PANIC", timeout=60)
            server.send_signal(signal.SIGTERM)
            assert server.wait(30) == 0
            await wait_until(lambda: not dlv_processes_for(core), 30, "a dlv outlived the server")
        assert not is_listening(port)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert not dlv_processes_for(core)


def test_serve_refuses_a_core_of_another_program_before_listening(fixture_core):
    exe, core = fixture_core("goroutine_panic").exe, fixture_core("nil_deref").core
    port = free_port()
    server = start_serve("--port", str(port), exe, core)
    output, _ = server.communicate(timeout=120)
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
        output, _ = server.communicate(timeout=60)
    assert server.returncode == 2
    assert output == f"gocore-tui: serve: port {port} on {HOST} is in use; pick another with --port\n"
    assert not dlv_processes_for(fixture.core)


@pytest.mark.toolchain_independent
def test_each_tab_runs_the_same_options_with_every_path_kept_whole():
    request = ServeRequest("/tmp/a b/it's", "-core\nx", 8000, substitute_path=("/build=/src dir",),
                           no_gdb=True, force=True)
    argv = shlex.split(app_command(request, "/opt/dl v"))
    assert argv[:2] == [sys.executable, "-m"]
    assert argv[2:] == ["tui", "--dlv", "/opt/dl v", "--substitute-path", "/build=/src dir", "--no-gdb", "--force",
                        "--", "/tmp/a b/it's", str(Path("-core\nx").resolve())]
