"""The app fed by a transcript recorded from a real dlv session, for frozen
pictures. tests/test_app.py checks the same screens against the real dlv."""

from __future__ import annotations

from pathlib import Path

from tui.app import GocoreApp
from tui.core.backend import DelveBackend
from tui.debugger.delve import replay
from tui.debugger.startup import OpenError

TRANSCRIPTS = Path(__file__).parent / "transcripts"
# The recorded DWARF paths are relative to the repository ("./tests/fixtures/...");
# map them so the pictures do not depend on where pytest is started.
SUBSTITUTIONS = (("./tests/fixtures", str(Path(__file__).parent / "fixtures")),)


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


def recorded_app(name: str = "goroutine_panic", open_heap=None) -> RecordingApp:
    """open_heap: the heap to show (tests/fake_heap.py); a recording has none of its own."""
    delve = replay(str(TRANSCRIPTS / f"{name}.json"))
    return RecordingApp(lambda: DelveBackend(delve), substitutions=SUBSTITUTIONS,
                        title_paths=(delve.target.executable, delve.target.core), compare_with_gdb=False,
                        read_core_natively=False,  # a recording has no core file: dlv's listing, recorded
                        open_heap=open_heap)


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
