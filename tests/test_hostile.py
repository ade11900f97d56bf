"""Hostile inputs: odd paths reach dlv and gdb intact, the inputs are never
modified, and nothing typed or read from the core can become a command."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

from tui.sources.highlight import Highlighter
from tui.sources.resolve import resolve
from tui.debugger.session import PromptSession

from command_line import gocore
from leftovers import dlv_processes_for

NAMES = {
    "space": "my core dir/the main",
    "quotes": "it's \"quoted\"/main",
    "newline": "line\nbreak/main",
    "unicode": "コア-ünï/メイン",
    "dash": "-leading/-main",
    "semicolon": "a;rm -rf x/$(main)",
}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("case", sorted(NAMES))
def test_odd_paths_open_and_the_inputs_stay_unchanged(cores, tmp_path, case):
    fixture = cores["nil_deref"]
    exe = tmp_path / NAMES[case]
    exe.parent.mkdir(parents=True)
    shutil.copy2(fixture.exe, exe)
    core = exe.parent / f"{exe.name} core"
    shutil.copy2(fixture.core, core)
    before = {exe: digest(exe), core: digest(core)}
    # Relative paths from the parent dir: a leading dash needs `--`.
    args = ["--report", "json", "--", os.path.relpath(exe, tmp_path), os.path.relpath(core, tmp_path)]
    if case != "space":
        args.insert(2, "--no-gdb")  # gdb is run once, on the spaced paths; the rest stays fast
    result = gocore(*args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["crash"]["frame"]["function"] == "main.retries"
    if case == "space":
        gdb = report["comparison"]["gdb"]
        assert gdb["threads"] > 0 and gdb["frames"] > 0, gdb  # gdb opened both files too
    assert {p: digest(p) for p in before} == before
    assert dlv_processes_for(core) == []


def test_the_tui_never_writes_to_its_inputs(cores, tmp_path):
    """Whole files hashed around a full report run with gdb (dlv and gdb both open them)."""
    fixture = cores["goroutine_panic"]
    before = (digest(fixture.exe), digest(fixture.core), fixture.core.stat().st_mtime_ns)
    assert gocore(fixture.exe, fixture.core, "--report", "md").returncode == 0
    assert (digest(fixture.exe), digest(fixture.core), fixture.core.stat().st_mtime_ns) == before


def test_only_regular_files_are_shown_as_source(tmp_path):
    fifo = tmp_path / "main.go"
    os.mkfifo(fifo)  # opening it would block the UI forever
    assert resolve(str(fifo)) is None
    assert resolve("/dev/zero") is None
    assert resolve(str(tmp_path)) is None
    loaded = Highlighter().load(str(fifo))
    assert loaded.lines == () and "not on this machine" in loaded.missing_reason


@pytest.mark.parametrize("typed", ["1\nexit", "1\rquit", "1\x1b[A", "1\x00", "1\x04"])
def test_typed_text_cannot_smuggle_a_second_command(typed):
    """Every command typed into the TUI reaches dlv through PromptSession.run."""
    session = PromptSession.__new__(PromptSession)  # no child: the check comes first
    with pytest.raises(ValueError, match="printable"):
        session.run(f"print {typed}")
