"""Cores of a real open-source Go server that nobody here shaped: go-httpbin
(github.com/mccutchen/go-httpbin/v2, cmd/go-httpbin), built from the Go
module proxy in a module of its own (tests/servermod), put under load on
loopback, then sent SIGABRT as an operator takes the core of a stuck
service (GOTRACEBACK=crash: Go prints every goroutine, the kernel dumps).

Built three ways, as production builds are (optimized: no -N -l):
plain, -buildmode=pie, -trimpath. Cached in build/test-cores/<toolchain>/
server-<way>/ with main, core and stderr, keyed by the module's files,
the Go version and this recipe.

The module needs Go 1.22 or newer (every version of go-httpbin the proxy
serves says so): the Debian leg's Go 1.19 cannot build it, and its Delve
1.20 cannot read a newer Go's cores; the server is on the latest leg only.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import resource
import shutil
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from corecache import CACHE, ROOT, _is_valid, go_version
from toolchains import Toolchain
from tui.cli.corerun import find_core

MODULE = ROOT / "tests" / "servermod"
PACKAGE = "github.com/mccutchen/go-httpbin/v2/cmd/go-httpbin"
WAYS = {"plain": (), "pie": ("-buildmode=pie",), "trimpath": ("-trimpath",)}
RECIPE = "1"
# Clients of each kind, kept busy while the core is taken: slow responses
# (the server's goroutines parked in timers and writes), streams, idle
# keep-alive connections (parked in reads), quick requests.
SLOW, STREAMS, IDLE, QUICK = 60, 40, 60, 40


@dataclass(frozen=True)
class ServerCore:
    name: str  # server-plain ...
    exe: Path
    core: Path
    stderr: Path
    dlv: str
    go: str


def _key(way: str, version: str) -> str:
    digest = hashlib.sha256(f"{version}\0{RECIPE}\0{way}".encode())
    for path in sorted(MODULE.iterdir()):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def make_server_core(way: str, toolchain: Toolchain) -> ServerCore:
    version = go_version(toolchain.go)
    out = CACHE / toolchain.name / f"server-{way}"
    key = _key(way, version)
    if not _is_valid(out, key):
        shutil.rmtree(out, ignore_errors=True)
        tree = out / "module"
        shutil.copytree(MODULE, tree)
        env = dict(os.environ, GOFLAGS="-mod=mod", GOTOOLCHAIN="local", GOWORK="off")
        subprocess.run([toolchain.go, "build", *WAYS[way], "-o", str(out / "main"), PACKAGE], cwd=tree, env=env,
                       check=True, capture_output=True, text=True)
        core, stderr = _crash_under_load(out / "main", out)
        if core != out / "core":
            shutil.move(str(core), out / "core")
        (out / "stderr").write_text(stderr)
        (out / "key").write_text(key)
    return ServerCore(f"server-{way}", out / "main", out / "core", out / "stderr", toolchain.dlv, toolchain.go)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _crash_under_load(exe: Path, cwd: Path) -> tuple[Path, str]:
    port = _free_port()
    env = dict(os.environ, GOTRACEBACK="crash")
    started = time.time()
    proc = subprocess.Popen([str(exe), "-host", "127.0.0.1", "-port", str(port), "-max-duration", "60s"], cwd=cwd,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, errors="replace",
                            preexec_fn=_cores_unlimited)
    stop = threading.Event()
    try:
        _wait_listening(port)
        paths = (["/delay/30"] * SLOW + ["/drip?duration=30&numbytes=30"] * STREAMS + [None] * IDLE
                 + ["/get", "/bytes/4096", "/uuid", "/headers"] * (QUICK // 4))
        threads = [threading.Thread(target=_client, args=(port, path, stop), daemon=True) for path in paths]
        for thread in threads:
            thread.start()
        time.sleep(2)  # every client connected and waiting
        os.kill(proc.pid, signal.SIGABRT)
        _, stderr = proc.communicate(timeout=120)
    finally:
        stop.set()
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return find_core(exe, cwd, proc.pid, -proc.returncode, started), stderr


def _cores_unlimited() -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))


def _wait_listening(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"go-httpbin never listened on 127.0.0.1:{port}")


def _client(port: int, path: str | None, stop: threading.Event) -> None:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=90)
        if path is None:  # an idle keep-alive connection: one request, then nothing
            connection.request("GET", "/get")
            connection.getresponse().read()
            stop.wait(60)
            return
        while not stop.is_set():
            connection.request("GET", path)
            connection.getresponse().read()
    except (OSError, http.client.HTTPException):
        pass  # the server died: that was the point
