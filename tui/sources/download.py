"""`go mod download MOD@VERSION` for a module whose source is not in the
module cache. It runs outside any module (in an empty directory), so the
user's go.mod and go.sum are never touched; only GOMODCACHE is written."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
from typing import Callable

_TIMEOUT = 600


class DownloadError(Exception):
    """str() is the one line the user sees."""


def download_argv(command: str) -> list[str]:
    """The argv for locate's `go mod download mod@version` text, checked:
    nothing but one module@version is run."""
    words = shlex.split(command)
    if words[:3] != ["go", "mod", "download"] or len(words) != 4 or "@" not in words[3] or words[3].startswith("-"):
        raise DownloadError(f"not a module download: {command!r}")
    go = shutil.which("go") or shutil.which("go", path="/usr/local/go/bin")
    if go is None:
        raise DownloadError("go: not found on PATH; install Go to download module sources")
    return [go, "mod", "download", "-x", words[3]]


def run_download(command: str, progress: Callable[[str], None]) -> None:
    """Run it, passing each line it prints to progress(); DownloadError
    with its last line when it fails."""
    argv = download_argv(command)
    # GOFLAGS=-mod=... or -modfile would point at a go.mod: not here.
    env = dict(os.environ, GOFLAGS="", GO111MODULE="on")
    last = ""
    with tempfile.TemporaryDirectory(prefix="gocore-tui-download-") as empty:
        process = subprocess.Popen(argv, cwd=empty, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, text=True, errors="replace", start_new_session=True)
        try:
            for line in process.stdout:
                line = line.rstrip()
                if line:
                    last = line
                    progress(line)
            process.wait(timeout=_TIMEOUT)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    if process.returncode != 0:
        raise DownloadError(f"{command} failed: {last or f'exit status {process.returncode}'}")
