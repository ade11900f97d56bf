"""Record a real dlv session into tests/transcripts/NAME.json.

The snapshot tests replay it so their pictures do not change from machine
to machine; tests/test_app.py checks the same screens against the real dlv.

    .venv/bin/python tests/record_transcript.py goroutine_panic

Run from the repository root, so dlv prints fixture paths relative to it.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tui.corerun import build, crash  # noqa: E402
from tui.delve import Delve  # noqa: E402
from tui.session import save_transcript  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def record(name: str) -> Path:
    out = ROOT / "build" / "transcript-cores" / name
    exe = build(ROOT / "tests" / "fixtures" / name, out)
    core = crash(exe, out).core
    delve = Delve.open(str(exe), str(core))
    session = delve.runner
    session.transcript = []
    delve._go_version()
    snapshot = delve.snapshot()
    # Every frame of every goroutine, so navigation works in the replay too.
    for goroutine in snapshot.goroutines:
        backtrace = delve.backtrace(goroutine.id)
        for frame in backtrace.frames:
            delve.frame_state(goroutine.id, frame.index)
    meta = {
        "executable": "./main",
        "core": "./core",
        "go_version": delve.target.go_version,
        "delve_version": delve.target.delve_version,
        "recorded_with": "tests/record_transcript.py",
    }
    path = ROOT / "tests" / "transcripts" / f"{name}.json"
    save_transcript(path, session.banner, session.transcript, meta)
    delve.close()
    return path


if __name__ == "__main__":
    for fixture in sys.argv[1:] or ["goroutine_panic"]:
        print(record(fixture))
