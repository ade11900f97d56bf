"""Record what dlv reads of each fixture's panic chain (g._panic and its
links) into tests/data/go/<go version>/panic-chains.json, with the header Go
printed on stderr as that same core was written (go_header).

    PYTHONPATH=. .venv/bin/python tests/record_panic_chains.py
    GOCORE_TOOLCHAIN=debian PYTHONPATH=. .venv/bin/python tests/record_panic_chains.py

Run from the repository root; builds missing cores first. For the crashing
goroutine G (from Go's own traceback), with `config max-string-len 4096`:

    goroutine G print runtime.curg._panic == nil
    goroutine G print runtime.curg._panic.arg            (then .link.arg, ...)
    goroutine G print runtime.curg._panic.recovered      (.goexit; .repanicked from Go 1.25,
                                                          .aborted before Go 1.22)
    goroutine G print (*runtime.eface)(uintptr(&runtime.curg._panic.arg))._type.Kind_   (._type.kind before Go 1.21)
    goroutine G print (*runtime.eface)(uintptr(&runtime.curg._panic.arg)).data

tests/test_panicvalue.py turns these into Go's header and compares it with
the recorded stderr; tests/data/go/README.md says what works on which dlv.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import toolchains  # noqa: E402
from corecache import fixture_names, go_version, make_core  # noqa: E402
from tui.debugger.delve import PROMPT  # noqa: E402
from tui.debugger.dlv import dlv_env, dlv_version  # noqa: E402
from tui.parse.gotraceback import parse_traceback  # noqa: E402
from tui.debugger.session import PromptSession  # noqa: E402

DATA = Path(__file__).resolve().parent / "data" / "go"
MAX_LINKS = 8


def chain(session: PromptSession, goroutine: int | None, flags: tuple[str, ...], kind_field: str) -> list[dict]:
    prefix = f"goroutine {goroutine} " if goroutine else ""
    links, path = [], "runtime.curg._panic"
    for _ in range(MAX_LINKS):
        if session.run(f"{prefix}print {path} == nil").strip() != "false":
            break
        link = {"path": path, "arg": session.run(f"{prefix}print {path}.arg").strip()}
        for flag in flags:
            link[flag] = session.run(f"{prefix}print {path}.{flag}").strip()
        eface = f"(*runtime.eface)(uintptr(&{path}.arg))"
        if not link["arg"].endswith(" nil"):
            link["kind"] = session.run(f"{prefix}print {eface}._type.{kind_field}").strip()
            link["data"] = session.run(f"{prefix}print {eface}.data").strip()
        links.append(link)
        path += ".link"
    return links


def main() -> int:
    chosen = toolchains.current()
    version = go_version(chosen.go).split()[2]  # "go version go1.26.8 linux/amd64"
    minor = int(version.split(".")[1])
    flags = ("recovered", "goexit") + (("repanicked",) if minor >= 25 else ()) + (("aborted",) if minor < 22 else ())
    kind_field = "Kind_" if minor >= 21 else "kind"
    records: dict[str, dict] = {}
    for name in fixture_names():
        fixture = make_core(name, go_version(chosen.go), chosen)
        text = fixture.stderr.read_text()
        if not text:
            continue
        trace = parse_traceback(text)
        goroutine = trace.crashing_goroutine
        session = PromptSession([chosen.dlv, "core", str(fixture.exe), str(fixture.core)], PROMPT, env=dlv_env())
        try:
            session.run("config max-string-len 4096")
            # what Go printed on stderr as this very core was written
            records[name] = {"goroutine": goroutine, "go_header": list(trace.header_lines),
                             "links": chain(session, goroutine, flags, kind_field)}
        finally:
            session.close()
        print(f"{name}: {len(records[name]['links'])} link(s)", flush=True)
    out = DATA / version / "panic-chains.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"go": version, "dlv": dlv_version(chosen.dlv), "newest_first": True}
    out.write_text(json.dumps({"meta": meta, "fixtures": records}, indent=1, sort_keys=True) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
