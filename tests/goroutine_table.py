"""Print, per fixture core, how many of the goroutines Go printed when it
crashed gocore-tui shows as Go did (state, minutes, whole stack, creator),
and every disagreement (tests/goroutine_oracle.py).

    PYTHONPATH=. .venv/bin/python tests/goroutine_table.py                 # the latest toolchain
    GOCORE_TOOLCHAIN=debian PYTHONPATH=. .venv/bin/python tests/goroutine_table.py
    PYTHONPATH=. .venv/bin/python tests/goroutine_table.py deadlock waits  # some fixtures
    PYTHONPATH=. .venv/bin/python tests/goroutine_table.py server           # go-httpbin's three cores

With no names, the latest toolchain's table ends with go-httpbin's three
cores (tests/servercores.py: they need Go 1.22+).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import toolchains  # noqa: E402
from corecache import fixture_names, go_version, make_core  # noqa: E402
from goroutine_oracle import disagreements, expected, shown_from_inventory  # noqa: E402
from servercores import WAYS, make_server_core  # noqa: E402
from tui.core.backend import DelveBackend  # noqa: E402
from tui.core.inventory import take_inventory  # noqa: E402
from tui.debugger.delve import Delve  # noqa: E402


def verdict_of(exe: str, core: str, dlv: str, stderr: str):
    delve = Delve.open(exe, core, dlv=dlv)
    try:
        backend = DelveBackend(delve)
        inventory = take_inventory(backend, None)
        return disagreements(expected(stderr), shown_from_inventory(backend, inventory)), inventory.through_dlv
    finally:
        delve.close()


def main() -> None:
    toolchain = toolchains.current()
    version = go_version(toolchain.go)
    names = sys.argv[1:] or fixture_names() + (["server"] if toolchain.is_latest else [])
    if "server" in names:
        names = [n for n in names if n != "server"] + [f"server-{way}" for way in WAYS]
    totals = [0, 0]
    print(f"| fixture ({toolchain.name}) | agree / total | listed but not printed | via dlv |")
    print("| --- | --- | --- | --- |")
    notes = []
    for name in names:
        if name.startswith("server-"):
            fixture = make_server_core(name.removeprefix("server-"), toolchain)
        else:
            fixture = make_core(name, version, toolchain)
        text = fixture.stderr.read_text()
        if not text:
            print(f"| {name} | (a gcore dump: Go printed nothing) | | |")
            continue
        verdict, through_dlv = verdict_of(str(fixture.exe), str(fixture.core), fixture.dlv, text)
        totals[0] += len(verdict.agree)
        totals[1] += verdict.total
        print(f"| {name} | {len(verdict.agree)} / {verdict.total} | {len(verdict.extra)} | "
              f"{'yes' if through_dlv else ''} |", flush=True)
        notes += [f"{name}: {line}" for line in verdict.lines()]
        if through_dlv:
            notes.append(f"{name}: listed through dlv: {through_dlv}")
    print(f"| all | {totals[0]} / {totals[1]} | | |")
    print()
    for note in notes:
        print(note)


if __name__ == "__main__":
    main()
