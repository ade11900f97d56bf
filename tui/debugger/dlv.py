"""Which dlv, and the environment it runs in."""

from __future__ import annotations

import functools
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Callable

from ..parse import ParseError
from ..parse.delve import parse_version
from .batch import Batch
from .startup import OpenError

DLV_VERSION = "v1.27.2"
INSTALL_HINT = f"go install github.com/go-delve/delve/cmd/dlv@{DLV_VERSION}"
# A dlv chosen once for every run (e.g. an older Delve for older Go cores).
DLV_VARIABLE = "GOCORE_TUI_DLV"
TELEMETRY_CHILD = "GO_TELEMETRY_CHILD"
# Delve's readline history, in its config dir (pkg/terminal/terminal.go).
HISTORY_FILE = ".dbg_history"


def find_dlv(explicit: str | None = None) -> str:
    """--dlv, else $GOCORE_TUI_DLV, else the dlv set-up installed beside our
    interpreter, else PATH."""
    for chosen, source in ((explicit, "--dlv"), (os.environ.get(DLV_VARIABLE), DLV_VARIABLE)):
        if chosen:
            if not (os.path.isfile(chosen) and os.access(chosen, os.X_OK)):
                raise OpenError(f"{chosen}: not an executable dlv (check {source})")
            return chosen
    beside = Path(sys.executable).parent / "dlv"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("dlv")
    if found:
        return found
    raise OpenError(f"dlv not found: install Delve with `{INSTALL_HINT}` (or `make setup`), or pass --dlv PATH")


def dlv_version(dlv: str) -> str:
    return ask_dlv_version(dlv)()


def ask_dlv_version(dlv: str) -> Callable[[], str]:
    """Start `dlv version` now; the returned call waits for its answer ("" if
    none). Asked while `dlv core` starts, it costs the first screen nothing.
    It runs as a batch: a quit or a signal meanwhile kills and reaps it."""
    try:
        asked = Batch([dlv, "version"], env=dlv_env())
    except OSError:
        return lambda: ""

    def answer() -> str:
        result = asked.finish(timeout=30)
        try:
            return parse_version(result.output)
        except ParseError:
            return ""

    return answer


def dlv_env() -> dict[str, str]:
    env = dict(os.environ)
    # TERM=dumb turns off both colour and Delve's pager (which would wait
    # on `--More--` forever); a private config dir keeps a user's aliases,
    # colours and substitute-path rules out of our parsing.
    env["TERM"] = "dumb"
    env.pop("DELVE_PAGER", None)
    env["XDG_CONFIG_HOME"] = _private_config_dir()
    # Delve 1.27 calls golang.org/x/telemetry's Start first thing: it opens
    # the counter files and forks `dlv ** telemetry **`, a sidecar meant to
    # outlive dlv (a zombie until init reaps it). With GO_TELEMETRY_CHILD=2
    # Start does nothing at all (x/telemetry start.go: "executed directly or
    # indirectly by a child"): no sidecar, no counters written for the user.
    env[TELEMETRY_CHILD] = "2"
    return env


def dlv_workdir() -> str:
    """The directory every dlv runs in: private and empty.

    Delve's terminal prints a path with its working directory replaced by
    "." (`strings.Replace(path, cwd, ".", 1)`, anywhere in the path): run
    where the user stands, `/src/app/main.go` came back as `./main.go`,
    relative to a directory nothing else knows, and `/home/me/src/x.go`
    as `/home/me./x.go` for a user standing in `/src`. No DWARF path holds
    this directory, so every path comes back as the binary records it."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = os.path.join(cache, "gocore-tui", "dlv-workdir")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError:
        path = _fallback_workdir()
    return path


@functools.lru_cache(maxsize=1)
def _fallback_workdir() -> str:
    return tempfile.mkdtemp(prefix="gocore-tui-dlv-workdir-")


def _private_config_dir() -> str:
    """An empty config home of our own (dlv writes its default config.yml there)."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = os.path.join(cache, "gocore-tui", "dlv-config")
    try:
        os.makedirs(os.path.join(path, "dlv"), exist_ok=True)
    except OSError:
        path = tempfile.mkdtemp(prefix="gocore-tui-dlv-")
    _discard_history(os.path.join(path, "dlv", HISTORY_FILE))
    return path


def _discard_history(path: str) -> None:
    """dlv reads its whole command history when it starts and appends up to
    1000 lines when it exits, with no bound on the file: after a day of
    sessions it was 160 MB and 0.8 s of every start. Pointed at /dev/null,
    it reads nothing and keeps nothing (nobody types into our dlvs)."""
    if os.path.islink(path):
        return
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        staged = f"{path}.{os.getpid()}"
        os.symlink(os.devnull, staged)
        os.replace(staged, path)  # atomic: a dlv starting meanwhile sees one or the other
    except OSError:
        pass  # a history we cannot replace only costs time
