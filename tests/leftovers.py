"""What gocore-tui left running (or dead but unreaped) after it exited.

A process is ours when its command line names one of the test's files
(dlv core EXE CORE, gdb ... EXE CORE, serve's per-tab `python -m tui ...`),
or when it carries the test's tag in its environment (Delve 1.27's telemetry
sidecar `dlv ** telemetry **` names no file, but inherits dlv's environment).

A zombie has neither a command line nor an environment any more. So the
test process makes itself a child subreaper (prctl PR_SET_CHILD_SUBREAPER)
while it watches: whatever gocore-tui leaves behind when it exits is then
re-parented to the test, not to init, and stays visible as a zombie (state Z)
until the test reaps it, instead of vanishing into init's own reaping.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

TAG_VARIABLE = "GOCORE_TEST_TAG"
TELEMETRY = b"** telemetry **"
# Processes gocore-tui starts: dlv (and its telemetry sidecar), `nice` in
# front of the helper dlv, gdb behind setpriv, serve's per-tab apps.
CHILD_NAMES = ("dlv", "gdb", "nice", "setpriv", "python", "python3", "sh")
_PR_SET_CHILD_SUBREAPER = 36
_lock = threading.Lock()
_adopting = 0


@dataclass(frozen=True)
class Leftover:
    pid: int
    ppid: int
    state: str  # R, S, D, Z ... as in /proc/PID/stat
    comm: str
    cmdline: str
    cpu_seconds: float

    def __str__(self) -> str:
        return f"{self.pid} ({self.comm}, state {self.state}, ppid {self.ppid}, {self.cpu_seconds:.2f}s CPU): " \
               f"{self.cmdline or '<no command line>'}"


def new_tag() -> str:
    return uuid.uuid4().hex


def tagged_env(tag: str, base: dict[str, str] | None = None) -> dict[str, str]:
    return dict(os.environ if base is None else base, **{TAG_VARIABLE: tag})


def _stat(pid: str) -> tuple[str, str, int, float] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    comm = raw[raw.index("(") + 1:raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2:].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return fields[0], comm, int(fields[1]), (int(fields[11]) + int(fields[12])) / ticks


def scan(paths: tuple[str | os.PathLike, ...] = (), tag: str | None = None,
         ignore: tuple[int, ...] = ()) -> list[Leftover]:
    """Processes that name one of `paths`, carry `tag`, or are zombies
    adopted by this process (see adopting()) with a child's name; the test
    process itself and `ignore` (processes the test still runs on purpose)
    are left out."""
    wanted = [str(p).encode() for p in paths]
    me = os.getpid()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me or int(entry) in ignore:
            continue
        stat = _stat(entry)
        if stat is None:
            continue
        state, comm, ppid, cpu = stat
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            cmdline = b""
        ours = any(w in cmdline for w in wanted)
        if not ours and tag is not None:
            try:
                ours = f"{TAG_VARIABLE}={tag}".encode() in Path(f"/proc/{entry}/environ").read_bytes().split(b"\0")
            except OSError:
                pass
        if not ours and ppid == me and (state == "Z" and comm in CHILD_NAMES or TELEMETRY in cmdline):
            ours = True  # an orphan re-parented to us: nobody reaped it, or a sidecar that outlived its dlv
        if ours:
            found.append(Leftover(int(entry), ppid, state, comm, cmdline.replace(b"\0", b" ").decode(errors="replace").strip(),
                                  cpu))
    return found


def children_of(pid: int, comm: str | None = None) -> list[int]:
    """pid's live children (those named `comm`, if given)."""
    found = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    for task in tasks:
        try:
            found += [int(x) for x in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
        except OSError:
            pass
    if comm is None:
        return found
    named = []
    for child in found:
        try:
            if Path(f"/proc/{child}/comm").read_text().strip() == comm:
                named.append(child)
        except OSError:
            pass
    return named


def dlv_processes_for(path: Path, names: tuple[str, ...] = ("dlv",)) -> list[int]:
    """Live dlv processes (or others by `names`) whose command line names this file."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and Path(argv[0].decode(errors="replace")).name in names and str(path).encode() in argv:
            found.append(int(entry.name))
    return found


def reap(leftovers: list[Leftover]) -> None:
    """Reap the zombies among them that were re-parented to us."""
    for left in leftovers:
        if left.state == "Z" and left.ppid == os.getpid():
            with contextlib.suppress(ChildProcessError):
                os.waitpid(left.pid, os.WNOHANG)


def kill(leftovers: list[Leftover]) -> None:
    """Clean up after a failed check, so one failure does not spill into
    the next test: kill the live ones, reap the zombies re-parented to us."""
    for left in leftovers:
        if left.state != "Z":
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(left.pid, 9)
    time.sleep(0.05)
    reap(leftovers)


def scan_adopted() -> list[Leftover]:
    return [left for left in scan() if left.ppid == os.getpid()]


def wait_gone(paths: tuple[str | os.PathLike, ...] = (), tag: str | None = None, timeout: float = 0.0,
              ignore: tuple[int, ...] = ()) -> list[Leftover]:
    """What is still there after `timeout` seconds (0: right now); reaped zombies are not retried."""
    deadline = time.monotonic() + timeout
    while True:
        left = scan(paths, tag, ignore)
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.05)


@contextlib.contextmanager
def adopting():
    """While inside, orphans of our descendants are re-parented to this
    process (so that their zombies can be seen and reaped here)."""
    global _adopting
    libc = ctypes.CDLL(None, use_errno=True)
    with _lock:
        if _adopting == 0 and libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")
        _adopting += 1
    try:
        yield
    finally:
        with _lock:
            _adopting -= 1
            if _adopting == 0:
                libc.prctl(_PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)


def cpu_use(leftovers: list[Leftover], seconds: float = 0.5) -> dict[int, float]:
    """Share of one CPU each live leftover used over `seconds` (1.0: spinning)."""
    before = {left.pid: left.cpu_seconds for left in leftovers if left.state != "Z"}
    time.sleep(seconds)
    use = {}
    for pid, cpu in before.items():
        stat = _stat(str(pid))
        if stat is not None:
            use[pid] = (stat[3] - cpu) / seconds
    return use
