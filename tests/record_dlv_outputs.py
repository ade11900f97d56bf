"""Record what one dlv prints for the commands gocore-tui parses, into
tests/data/dlv/<version>/, from the cores of a toolchain (tests/toolchains.py).

    GOCORE_TOOLCHAIN=debian .venv/bin/python tests/record_dlv_outputs.py

Run from the repository root after the suite has built that toolchain's cores
(build/test-cores/<toolchain>/). The parser tests read these files, so a
format change in another Delve release shows up as a failing parser test.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import toolchains  # noqa: E402
from corecache import CACHE  # noqa: E402
from tui.debugger.delve import PAGES_SCRIPT, PROMPT
from tui.debugger.dlv import dlv_env, dlv_version  # noqa: E402
from tui.parse.delve import parse_frame_offsets  # noqa: E402
from tui.debugger.session import PromptSession, SessionError  # noqa: E402

DATA = Path(__file__).resolve().parent / "data" / "dlv"

# name of the output file -> command, per fixture core
COMMANDS = {
    "deadlock": {
        "stack": "stack",
        "fatal-arg": "frame 9 print s",
        "stack-offsets": "stack -offsets 9",
        "list-closure": "list runtime.fatal.func1",
    },
    "nil_deref": {
        "stack": "stack",
        "sigpanic-gp": "frame 10 print gp.sig",
        "sigpanic-curg": "frame 10 print runtime.curg.sig",
        "panic-arg": "frame 8 print p.arg",
    },
    "goroutine_panic": {"stack": "stack", "goroutines": "goroutines", "goroutine": "goroutine"},
    "many_goroutines": {"waitreasons": "print runtime.waitReasonStrings", "page0": "gocore_page 0 40"},
}


def record(name: str, commands: dict[str, str], chosen: toolchains.Toolchain, out: Path) -> None:
    core = CACHE / chosen.name / name
    session = PromptSession([chosen.dlv, "core", str(core / "main"), str(core / "core")], PROMPT, env=dlv_env())
    try:
        session.run(f"source {PAGES_SCRIPT}")
        for label, command in commands.items():
            (out / f"{name}.{label}.txt").write_text(session.run(command))
        if name == "deadlock":
            # the frame of runtime.fatal, word by word (its closure holds the message)
            low = parse_frame_offsets(session.run("stack -offsets 9"))[8]
            (out / "deadlock.fatal-frame.txt").write_text(session.run(f"x -count 6 -size 8 -x {low:#x}"))
            (out / "deadlock.closure-string.txt").write_text(session.run(f"frame 9 print *(*string)({low + 16:#x})"))
    finally:
        session.close()


def startup_failure(exe: Path, core: Path, dlv: str) -> str:
    """What dlv prints when it refuses a core (it exits 1)."""
    try:
        PromptSession([dlv, "core", str(exe), str(core)], PROMPT, env=dlv_env()).close()
    except SessionError as err:
        return str(err)
    return ""


def main() -> int:
    chosen = toolchains.current()
    out = DATA / dlv_version(chosen.dlv)
    out.mkdir(parents=True, exist_ok=True)
    (out / "version.txt").write_text(subprocess.run([chosen.dlv, "version"], capture_output=True, text=True).stdout)
    for name, commands in COMMANDS.items():
        record(name, commands, chosen, out)
    # The other toolchain's core: outside this dlv's Go range.
    other = CACHE / (toolchains.LATEST if chosen.name == toolchains.DEBIAN else toolchains.DEBIAN) / "goroutine_panic"
    if other.exists():
        (out / "startup.other-go.txt").write_text(startup_failure(other / "main", other / "core", chosen.dlv))
    print(f"recorded into {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
