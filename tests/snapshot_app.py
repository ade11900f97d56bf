"""The app fed by a transcript recorded from a real dlv session, for frozen
pictures. tests/test_app.py checks the same screens against the real dlv."""

from __future__ import annotations

from pathlib import Path

from tui.app import GocoreApp
from tui.delve import replay
from tui.startup import OpenError

TRANSCRIPTS = Path(__file__).parent / "transcripts"


def recorded_app(name: str = "goroutine_panic") -> GocoreApp:
    delve = replay(str(TRANSCRIPTS / f"{name}.json"))
    return GocoreApp(lambda: delve, title_paths=(delve.target.executable, delve.target.core), compare_with_gdb=False)


def failing_app() -> GocoreApp:
    def refuse():
        raise OpenError("./core was not dumped by ./main: the executable's first page differs from the core's copy; "
                        "pass the exact binary that crashed, or --force to open anyway")

    return GocoreApp(refuse, title_paths=("./main", "./core"), compare_with_gdb=False)


def recorded_gdb_run():
    """gdb's output on the same core, recorded beside the dlv transcript."""
    import json

    from tui.gdb import gdb_run_from_outputs

    meta = json.loads((TRANSCRIPTS / "goroutine_panic.json").read_text())["meta"]
    return gdb_run_from_outputs(meta["gdb_plain"], meta["gdb_go"], meta["gdb_seconds"], runtime_gdb=meta["runtime_gdb"])
