"""The Go and Delve the suite runs against, chosen by GOCORE_TOOLCHAIN.

`make test` runs the suite twice: with the pinned latest Delve (`make setup`
puts it in .venv/bin) and the machine's Go, then with GOCORE_TOOLCHAIN=debian:
Debian 12's `delve` 1.20.2 and Go 1.19 (packages `delve` and `golang-1.19-go`),
used by path so that the machine's default `go` stays what it is. Parsers
and behaviour must hold across both, since users bring the dlv they have.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tui.cli.corerun import find_go, go_env

VARIABLE = "GOCORE_TOOLCHAIN"
LATEST, DEBIAN = "latest", "debian"
# Where Debian 12's packages put them (dpkg -L golang-1.19-go delve).
DEBIAN_GO = "/usr/lib/go-1.19/bin/go"
DEBIAN_DLV = "/usr/bin/dlv"


class ToolchainMissing(Exception):
    """str() says what to install."""


@dataclass(frozen=True)
class Toolchain:
    name: str  # LATEST or DEBIAN: also the core cache's folder
    go: str
    dlv: str

    @property
    def is_latest(self) -> bool:
        return self.name == LATEST


def _latest() -> Toolchain:
    beside = Path(sys.executable).parent / "dlv"
    dlv = str(beside) if beside.exists() else shutil.which("dlv")
    if dlv is None:
        raise ToolchainMissing(f"dlv not found in {beside.parent} or on PATH; run `make setup`")
    return Toolchain(LATEST, find_go(), dlv)


def _debian() -> Toolchain:
    for path in (DEBIAN_GO, DEBIAN_DLV):
        if not os.access(path, os.X_OK):
            raise ToolchainMissing(f"{path} is missing: {VARIABLE}={DEBIAN} needs Debian 12's packages "
                                   f"(`make test` installs them: apt-get install golang-1.19-go delve)")
    return Toolchain(DEBIAN, DEBIAN_GO, DEBIAN_DLV)


def named(name: str) -> Toolchain:
    if name == LATEST:
        return _latest()
    if name == DEBIAN:
        return _debian()
    raise ToolchainMissing(f"{VARIABLE}={name}: unknown toolchain (use {LATEST} or {DEBIAN})")


def current() -> Toolchain:
    return named(os.environ.get(VARIABLE, LATEST) or LATEST)


def other(than: Toolchain) -> Toolchain:
    """The toolchain the current leg does not use (raises ToolchainMissing)."""
    return named(DEBIAN if than.is_latest else LATEST)


def goroot_of(go: str) -> Path:
    out = subprocess.run([go, "env", "GOROOT"], capture_output=True, text=True, env=go_env(), check=True)
    return Path(out.stdout.strip())
