"""The app fed by a transcript recorded from a real dlv session, for frozen
pictures. tests/test_app.py checks the same screens against the real dlv."""

from __future__ import annotations

import dataclasses
import lzma
import os
from pathlib import Path

from tui.app import GocoreApp
from tui.core.backend import DelveBackend
from tui.debugger.buildinfo import read_build_info
from tui.debugger.delve import Delve, replay
from tui.debugger.startup import OpenError
from tui.model import Snapshot

TRANSCRIPTS = Path(__file__).parent / "transcripts"
# The executable and core some sessions were recorded on (record_transcript.py --with-core).
RECORDED_CORES = Path(__file__).parent / "data" / "recorded-cores"
# The recorded DWARF paths are relative to the repository ("./tests/fixtures/..."),
# as the recording printed them, or where the committed recorded cores were
# built (what their binaries say, read natively); map both so that the
# sources are found, and the pictures do not depend on where pytest runs.
RECORDED_BUILD_DIR = "/work/wt-tests/tests/fixtures"
SUBSTITUTIONS = (("./tests/fixtures", str(Path(__file__).parent / "fixtures")),
                 (RECORDED_BUILD_DIR, str(Path(__file__).parent / "fixtures")))


class RecordingApp(GocoreApp):
    """Notes the name of every backend message (tui/messages.py) posted to
    it, so a test can check the sequence before it looks at the picture."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.backend_messages: list[str] = []

    def post_message(self, message) -> bool:
        if type(message).__module__ == "tui.messages":
            name = type(message).__name__
            event = getattr(message, "event", None)  # GoroutinesRead carries what was read
            # list.append: safe from worker threads
            self.backend_messages.append(f"{name}.{type(event).__name__}" if event is not None else name)
        return super().post_message(message)


def as_recorded(snapshot: Snapshot, delve: Delve) -> Snapshot:
    """A replayed snapshot took as long as the recorded one did (dlv's
    answers come from a file here, at this machine's speed)."""
    return dataclasses.replace(snapshot, seconds=delve.open_seconds)


class ReplayedBackend(DelveBackend):
    """A recorded dlv session as the app's backend."""

    def snapshot(self) -> Snapshot:
        return as_recorded(super().snapshot(), self.delve)


def recorded_app(name: str = "goroutine_panic", open_heap=None) -> RecordingApp:
    """open_heap: the heap to show (tests/fake_heap.py); a recording has none of its own."""
    delve = replay(str(TRANSCRIPTS / f"{name}.json"))
    return RecordingApp(lambda: ReplayedBackend(delve), substitutions=SUBSTITUTIONS,
                        title_paths=(delve.target.executable, delve.target.core), compare_with_gdb=False,
                        read_core_natively=False,  # a recording has no core file: dlv's listing, recorded
                        open_heap=open_heap)


def natively_read_app(name: str, folder: Path) -> RecordingApp:
    """The app on a recorded session with the native core reader on (the
    default): the session's own executable and core are unpacked into
    folder, which must be the working directory while the app runs (the
    recording names them ./main and ./core). The core gets no file time
    (1970): the clock the wait minutes are counted on is then the runtime's
    own last reading, read from the core, not this machine's clock."""
    for part in ("main", "core"):
        (folder / part).write_bytes(lzma.decompress((RECORDED_CORES / name / f"{part}.xz").read_bytes()))
    (folder / "main").chmod(0o755)
    os.utime(folder / "core", (0, 0))
    delve = replay(str(TRANSCRIPTS / f"{name}.json"))
    # As a live session would: the executable's build info says its main module ("your code").
    delve.target = dataclasses.replace(delve.target, build=read_build_info(str(folder / "main")))
    return RecordingApp(lambda: ReplayedBackend(delve), substitutions=SUBSTITUTIONS,
                        title_paths=(delve.target.executable, delve.target.core), compare_with_gdb=False)


def failing_app() -> RecordingApp:
    def refuse():
        raise OpenError("./core was not dumped by ./main: the executable's first page differs from the core's copy; "
                        "pass the exact binary that crashed, or --force to open anyway")

    return RecordingApp(refuse, title_paths=("./main", "./core"), compare_with_gdb=False)


def recorded_gdb_run(name: str = "goroutine_panic", faulting=None):
    """gdb's output on the same core, recorded beside the dlv transcript
    (faulting: Delve's faulting frame, as the app passes it)."""
    import json

    from tui.debugger.gdb import gdb_run_from_outputs

    meta = json.loads((TRANSCRIPTS / f"{name}.json").read_text())["meta"]
    return gdb_run_from_outputs(meta["gdb_plain"], meta["gdb_go"], meta["gdb_seconds"], runtime_gdb=meta["runtime_gdb"],
                                detail_output=meta.get("gdb_detail", ""), faulting=faulting)


def recorded_demo():
    """What the app computes on the demo core, from the recorded dlv session
    and the gdb runs recorded beside it: (delve, snapshot, goroutines, gdb run)."""
    from tui.analysis.forensics import read_snapshot

    delve = replay(str(TRANSCRIPTS / "demo_checkout.json"))
    goroutines, _ = delve.goroutines()
    snapshot = as_recorded(read_snapshot(delve, goroutines), delve)
    return delve, snapshot, goroutines, recorded_gdb_run("demo_checkout", snapshot.crash.frame)
