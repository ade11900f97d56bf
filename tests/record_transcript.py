"""Record a real dlv session into tests/transcripts/NAME.json.

The snapshot tests replay it so their pictures do not change from machine
to machine; tests/test_app.py checks the same screens against the real dlv.

    .venv/bin/python tests/record_transcript.py goroutine_panic demo_checkout
    .venv/bin/python tests/record_transcript.py --with-core deadlock_chan

--with-core keeps the executable and the core the session was recorded on,
xz-compressed, in tests/data/recorded-cores/NAME/ (main.xz, core.xz), and
records what the native core reader asks dlv too: the snapshot tests then
read that very core natively, the app's default path.

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


RECORDED_CORES = ROOT / "tests" / "data" / "recorded-cores"


def record(name: str, with_core: bool = False) -> Path:
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
    if with_core:  # what the native listing asks dlv (a goroutine on a thread, its check)
        from tui.core.backend import DelveBackend
        from tui.core.native import NativeListing

        with NativeListing(DelveBackend(delve)) as listing:
            for _ in listing.pages():
                pass
            listing.read_waits(snapshot.crash.deadlock)
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
    if with_core:
        import lzma

        kept = RECORDED_CORES / name
        kept.mkdir(parents=True, exist_ok=True)
        for part, source in (("main", exe), ("core", core)):
            (kept / f"{part}.xz").write_bytes(lzma.compress(Path(source).read_bytes(), preset=9 | lzma.PRESET_EXTREME))
    return path


if __name__ == "__main__":
    names = [arg for arg in sys.argv[1:] if arg != "--with-core"]
    for fixture in names or ["goroutine_panic", "demo_checkout"]:
        print(record(fixture, with_core="--with-core" in sys.argv[1:]))
