"""`gocore-tui serve EXE CORE`: the same TUI in a browser, through textual-serve.

Each browser tab that connects gets a gocore-tui process (and a dlv) of its
own, started by textual-serve through a shell that execs it; however the
tab's websocket ends, that process quits, and stopping the server stops
every tab's first (tabs.py). A tab's own driver ends it when the server is
gone (tab_driver.py). The inputs are checked once here, before serving, so
that a bad pair is a one-line error at this terminal and not a blank page
in the browser.
"""

from __future__ import annotations

import errno
import os
import shlex
import socket
import sys
from dataclasses import dataclass

from ..debugger.delve import Delve
from ..debugger.startup import OpenError

# A core holds the crashed process's memory, secrets included: it is served
# to this machine only, never to the network.
HOST = "127.0.0.1"
DEFAULT_PORT = 8000


class ServeError(Exception):
    """What stops `serve` before it serves. str() is the one line the user sees."""


@dataclass(frozen=True)
class ServeRequest:
    executable: str
    core: str
    port: int
    dlv: str | None = None
    substitute_path: tuple[str, ...] = ()
    no_gdb: bool = False
    force: bool = False
    no_heap: bool = False


# The driver every tab's app runs with (Textual reads it at start).
TAB_DRIVER = "tui.cli.tab_driver:TabDriver"


def app_argv(request: ServeRequest, dlv_path: str) -> list[str]:
    """The gocore-tui command each tab runs."""
    argv = [sys.executable, "-m", "tui", "--dlv", dlv_path]
    for spec in request.substitute_path:
        argv += ["--substitute-path", spec]
    if request.no_gdb:
        argv.append("--no-gdb")
    if request.force:
        argv.append("--force")
    if request.no_heap:
        argv.append("--no-heap")
    argv += ["--", os.path.abspath(request.executable), os.path.abspath(request.core)]
    return argv


def app_command(request: ServeRequest, dlv_path: str) -> str:
    """The shell command textual-serve runs for each tab. `exec`: the shell
    becomes the app, so that the server's signals reach it and nothing sits
    between them. Every argument is quoted, and the paths come after `--`,
    so a path with spaces, quotes or a leading dash stays one argument."""
    return shlex.join(["exec", "env", f"TEXTUAL_DRIVER={TAB_DRIVER}", *app_argv(request, dlv_path)])


def check_port(port: int) -> None:
    if not 0 < port < 65536:
        raise ServeError(f"--port {port}: give a port between 1 and 65535")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError as err:
            raise ServeError(_port_problem(port, err)) from None


def _port_problem(port: int, err: OSError) -> str:
    if err.errno == errno.EADDRINUSE:
        return f"port {port} on {HOST} is in use; pick another with --port"
    return f"cannot listen on {HOST}:{port} ({err.strerror}); pick another port with --port"


def check_core(request: ServeRequest) -> str:
    """Open the pair once, as a tab would, and close it: every bad input is
    refused here with the same message the TUI gives. Returns the dlv used,
    so that every tab uses the same one."""
    try:
        delve = Delve.open(request.executable, request.core, dlv=request.dlv, force=request.force)
    except OpenError as err:
        raise ServeError(str(err)) from None
    try:
        return delve.launch.dlv if delve.launch else "dlv"
    finally:
        delve.close()


def serve(request: ServeRequest) -> int:
    check_port(request.port)
    dlv_path = check_core(request)
    from .tabs import TabServer  # imported late: aiohttp is not free

    title = f"gocore-tui {os.path.basename(request.executable)} {os.path.basename(request.core)}"
    server = TabServer(app_command(request, dlv_path), host=HOST, port=request.port, title=title)
    try:
        server.serve()
    except OSError as err:  # the port was taken between the check and the listen
        raise ServeError(_port_problem(request.port, err)) from None
    return 0
