"""Record a real dlv session into tests/transcripts/NAME.json.

The snapshot tests replay it so their pictures do not change from machine
to machine; tests/test_app.py checks the same screens against the real dlv.

    .venv/bin/python tests/record_transcript.py goroutine_panic demo_checkout

Run from the repository root, so dlv prints fixture paths relative to it.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tui.cli.corerun import build_and_crash  # noqa: E402
from tui.analysis.forensics import read_snapshot  # noqa: E402
from tui.analysis.showdown import read_delve_values  # noqa: E402
from tui.debugger.delve import Delve  # noqa: E402
from tui.debugger.session import save_transcript  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def record(name: str) -> Path:
    out = ROOT / "build" / "transcript-cores" / name
    exe, core, _fresh = build_and_crash(ROOT / "tests" / "fixtures" / name, out)
    delve = Delve.open(str(exe), str(core))
    session = delve.runner
    session.transcript = []
    delve._go_version()
    snapshot = read_snapshot(delve)
    delve.allgs_length()  # how the app decides whether a second dlv lists too
    goroutines, _ = delve.goroutines()
    read_snapshot(delve, goroutines)
    list(delve.stack_pages())  # whole stacks, for grouping by stack
    # Every frame of every goroutine, so navigation works in the replay too.
    for goroutine in goroutines:
        backtrace = delve.backtrace(goroutine.id)
        for frame in backtrace.frames:
            delve.frame_state(goroutine.id, frame.index)
    # The comparison prints the faulting frame's values in full.
    read_delve_values(delve.evaluate, snapshot.frame)
    from tui.debugger.gdb import goroot_from_frames, run_gdb

    gdb = run_gdb(str(exe), str(core), snapshot.crash.goroutine_id, goroot_from_frames(snapshot.crash_stack.frames),
                  faulting=snapshot.crash.frame)

    def relative(text: str) -> str:
        return text.replace(f"{out}/", "./").replace(f"{ROOT}/", "./")

    meta = {
        "executable": "./main",
        "core": "./core",
        "go_version": delve.target.go_version,
        "delve_version": delve.target.delve_version,
        "recorded_with": "tests/record_transcript.py",
        "gdb_plain": relative(gdb.plain_output),
        "gdb_go": relative(gdb.go_output),
        "gdb_detail": relative(gdb.detail_output),
        "gdb_seconds": round(gdb.seconds, 2),
        "delve_seconds": round(snapshot.seconds, 2),
        "runtime_gdb": gdb.runtime_gdb,
    }
    path = ROOT / "tests" / "transcripts" / f"{name}.json"
    # Paths under the checkout are kept relative (as dlv itself prints them
    # for the working directory), so the replay is the same on any machine.
    pairs = [(cmd, out.replace(f"{ROOT}/", "./")) for cmd, out in session.transcript]
    save_transcript(path, session.banner, pairs, meta)
    delve.close()
    return path


if __name__ == "__main__":
    for fixture in sys.argv[1:] or ["goroutine_panic", "demo_checkout"]:
        print(record(fixture))
