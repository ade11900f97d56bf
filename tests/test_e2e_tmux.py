"""The installed gocore-tui in a real terminal (tmux 200x50), as a user runs it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from leftovers import dlv_processes_for
from terminal import tmux, wait_for_screen
from waiting import wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def _tmux(installed) -> None:
    installed("tmux")  # `make test` installs it: missing, these tests fail


def start_installed(session: str, fixture, toolchain, args: str = "", env: str = "", then: str = "") -> None:
    """The installed gocore-tui on a fixture core in a new 200x50 tmux session.

    A plain PATH without the venv: the tool must find its own dlv (the
    pinned one beside it); another toolchain's dlv is named with --dlv.
    """
    installed = Path(sys.executable).parent / "gocore-tui"
    assert installed.exists(), "make setup installs gocore-tui into .venv/bin"
    dlv = "" if toolchain.is_latest else f" --dlv {fixture.dlv}"
    command = (f"env -i HOME={os.environ.get('HOME', '/root')} PATH=/usr/bin:/bin TERM=xterm-256color {env} "
               f"{installed} {fixture.exe} {fixture.core}{args}{dlv}; {then} sleep 600")
    tmux("new-session", "-d", "-s", session, "-x", "200", "-y", "50", command)


def test_installed_tui_marks_the_faulting_line_and_quits_cleanly(cores, toolchain, tmp_path):
    fixture = cores["goroutine_panic"]
    session = f"gocore-e2e-{os.getpid()}"
    status = tmp_path / "status"
    start_installed(session, fixture, toolchain, then=f"echo $? > {status};")
    try:
        marked = f"▶ {fixture.crash_line}"
        # Everything read below is waited for: tmux can capture a frame half drawn.
        screen = wait_for_screen(session, lambda s: "Goroutines 6" in s and "panic: PANIC" in s
                                 and re.search(r"Variables · frame \d+", s)
                                 and any(marked in row and 'panic("PANIC") // CRASH' in row for row in s.splitlines()))

        # the faulting frame's index depends on the Go release's runtime frames
        user = int(re.search(r"Variables · frame (\d+)", screen)[1])
        wait_for_screen(session, lambda s: re.search(rf"^\W*{user}\s+main\.main\.func1\s", s, re.M))
        tmux("send-keys", "-t", session, "u")
        wait_for_screen(session, lambda s: f"Variables · frame {user + 1}" in s)
        tmux("send-keys", "-t", session, "d")
        wait_for_screen(session, lambda s: f"Variables · frame {user}" in s and marked in s)

        # the GDB-vs-Delve pane, computed from both debuggers' output
        tmux("send-keys", "-t", session, "c")
        wait_for_screen(session, lambda s: "frames resolved to a function and line" in s and "Delve function" in s
                        and "gdb function" in s and "(Delve vs gdb)." in s)
        tmux("send-keys", "-t", session, "Escape")
        wait_for_screen(session, lambda s: marked in s)

        tmux("send-keys", "-t", session, "q")
        wait_for(lambda: status.exists() and status.read_text().strip(), "gocore-tui did not exit on q")
        assert status.read_text().strip() == "0"
        assert not dlv_processes_for(fixture.core)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)


def test_e_hands_the_terminal_to_the_editor_and_takes_it_back(cores, toolchain, tmp_path):
    fixture = cores["nil_deref"]
    record = tmp_path / "editor-args"
    editor = tmp_path / "editor"
    # An editor that shows itself full-screen, notes its arguments and waits for a key.
    editor.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {record}\nclear\necho FAKE-EDITOR-OPEN\nread answer\n')
    editor.chmod(0o755)
    session = f"gocore-e2e-edit-{os.getpid()}"
    start_installed(session, fixture, toolchain, args=" --no-gdb", env=f"VISUAL={editor}")
    try:
        marked = f"▶ {fixture.crash_line}"
        wait_for_screen(session, lambda s: marked in s)
        tmux("send-keys", "-t", session, "e")
        screen = wait_for_screen(session, lambda s: "FAKE-EDITOR-OPEN" in s)
        assert marked not in screen  # the editor has the whole terminal
        assert record.read_text().splitlines() == [f"+{fixture.crash_line}", str(fixture.source)]
        tmux("send-keys", "-t", session, "Enter")
        wait_for_screen(session, lambda s: marked in s and "FAKE-EDITOR-OPEN" not in s)  # the TUI is back
        tmux("send-keys", "-t", session, "q")
        wait_for(lambda: not dlv_processes_for(fixture.core), "dlv outlived the TUI")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
