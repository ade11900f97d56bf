"""A production core opened from the developer's own checkout: an
optimized -trimpath build of a module whose dependencies come through the
module cache (tests/prodmods/feed, built offline by tests/prodcores.py).

Its sources are found without flags (checkout, GOROOT, module cache), every
frame says where its source came from, names read as Go writes them, the
build info is the binary's own, and a module missing from the cache is
downloaded on a key, asking first, without touching the user's go.mod."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys

import pytest

from leftovers import dlv_processes_for
from prodcores import copy_checkout, prod_cores
from toolchains import goroot_of
from waiting import until
from tui.app import GocoreApp
from tui.cli.corerun import go_env
from tui.core.backend import DelveBackend
from tui.debugger.delve import Delve
from tui.screens.confirm import ConfirmScreen
from tui.widgets.source_view import SourceView

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def feed(toolchain):
    return prod_cores(toolchain)["feed"]


def developer(tmp_path, goroot, modcache, proxy=None) -> dict[str, str]:
    """A developer's environment: their own HOME and module cache, Go's env file off."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = dict(os.environ, HOME=str(home), GOENV="off", GOROOT=str(goroot), GOMODCACHE=str(modcache),
               GOFLAGS="-modcacherw", GOSUMDB="off", GOTOOLCHAIN="local")
    env["GOPROXY"] = f"file://{proxy}" if proxy else "off"
    return env


def report_from(core, checkout, env) -> dict:
    command = [sys.executable, "-m", "tui", "--dlv", core.dlv, str(core.exe), str(core.core), "--report", "json",
               "--no-gdb"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=180, cwd=checkout, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_every_frame_says_where_its_source_came_from_and_names_read_as_go_writes_them(feed, toolchain, tmp_path):
    checkout = copy_checkout("feed", feed.module_dir, tmp_path / "work")
    goroot = goroot_of(toolchain.go)
    report = report_from(feed, checkout, developer(tmp_path, goroot, feed.modcache))
    frames = report["backtrace"]
    by_function = {f["function"]: f for f in frames}
    assert not [f for f in frames if "%" in f["function"]]  # no linker escapes anywhere
    handler = by_function["example.org/yaml.v1.handleErr"]
    assert (handler["source_origin"], handler["source_path"]) == (
        "module cache", str(feed.modcache / "example.org" / "yaml.v1@v1.3.0" / "yaml.go"))
    assert by_function["example.org/Acme/retry.Do"]["source_origin"] == "module cache"
    own = [f for f in frames if f["own"]]
    assert own and all(f["source_origin"] == "checkout" and f["source_path"].startswith(str(checkout)) for f in own)
    assert all(f["source_origin"] == "GOROOT" and f["source_path"].startswith(str(goroot)) for f in frames
               if f["runtime"] and f["file"].endswith((".go", ".s")))
    # your frame: the feed's own callback, not yaml's deferred handler that panicked again
    crash = report["crash"]
    assert crash["frame"]["function"] == "main.(*Source).UnmarshalYAML.func1" and crash["frame"]["own"]
    assert crash["raised_in"]["function"] == "example.org/yaml.v1.handleErr"
    assert report["source"]["origin"] == "checkout" and "// CRASH" in "\n".join(report["source"]["lines"])
    assert not dlv_processes_for(feed.core)


def test_the_build_info_is_what_go_version_m_says(feed, toolchain, tmp_path):
    checkout = copy_checkout("feed", feed.module_dir, tmp_path / "work")
    build = report_from(feed, checkout, developer(tmp_path, goroot_of(toolchain.go), feed.modcache))["target"]["build"]
    listed = subprocess.run([toolchain.go, "version", "-m", str(feed.exe)], capture_output=True, text=True,
                            env=go_env(), check=True).stdout
    rows = [line.split("\t")[1:] for line in listed.splitlines() if line.startswith("\t")]
    assert ["mod", build["main"]["path"], build["main"]["version"]] == rows[1][:3]
    deps = {(d["path"], d["version"], d["sum"]) for d in build["deps"]}
    assert deps == {tuple(r[1:4]) if len(r) > 3 else (r[1], r[2], None) for r in rows if r[0] == "dep"}
    settings = {r[1].split("=", 1)[0]: r[1].split("=", 1)[1] for r in rows if r[0] == "build"}
    assert build["settings"] == settings and build["settings"]["-trimpath"] == "true"
    assert build["go"] == listed.split(": ", 1)[1].splitlines()[0]


async def test_a_module_missing_from_the_cache_is_downloaded_on_D_without_touching_go_mod(
        feed, toolchain, tmp_path, monkeypatch):
    checkout = copy_checkout("feed", feed.module_dir, tmp_path / "work")
    before = hashlib.sha256((checkout / "go.mod").read_bytes()).hexdigest()
    sums = (checkout / "go.sum").read_bytes() if (checkout / "go.sum").exists() else None
    empty = tmp_path / "modcache"
    for key, value in developer(tmp_path, goroot_of(toolchain.go), empty, proxy=feed.proxy).items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(checkout)
    delve = Delve.open(str(feed.exe), str(feed.core), dlv=feed.dlv)
    app = GocoreApp(lambda: DelveBackend(delve), compare_with_gdb=False)
    async with app.run_test(size=(200, 50)) as pilot:
        await until(pilot, lambda: app.first_screen_ready)
        handler = next(f for f in app.backtrace.frames if f.function == "example.org/yaml.v1.handleErr")
        before_panes = app.panes_updated
        app.select_frame(handler.index)
        await until(pilot, lambda: app.panes_updated > before_panes)
        source = app.query_one(SourceView)
        assert app.main.download == "go mod download example.org/yaml.v1@v1.3.0"
        assert app.main.check_action("download", ())
        await pilot.press("D")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        before_panes = app.panes_updated
        await pilot.press("y")
        await until(pilot, lambda: app.panes_updated > before_panes and source.marked_line == handler.line, 120)
        assert "module cache" in source.border_title and source.line_text(handler.line).strip()
        assert not app.main.download
    assert (empty / "example.org" / "yaml.v1@v1.3.0" / "yaml.go").is_file()
    assert hashlib.sha256((checkout / "go.mod").read_bytes()).hexdigest() == before
    assert ((checkout / "go.sum").read_bytes() if (checkout / "go.sum").exists() else None) == sums
    shutil.rmtree(empty, ignore_errors=True)


async def test_optimized_frames_say_optimized_away_and_the_build_info_is_on_i(feed, toolchain, tmp_path, monkeypatch):
    from rich.console import Console

    from tui.screens.build import BuildInfoScreen, build_table
    from tui.widgets.backtrace_view import BacktraceView
    from tui.widgets.crash_summary import CrashSummary
    from tui.widgets.variables_view import VariablesView

    checkout = copy_checkout("feed", feed.module_dir, tmp_path / "work")
    for key, value in developer(tmp_path, goroot_of(toolchain.go), feed.modcache).items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(checkout)
    delve = Delve.open(str(feed.exe), str(feed.core), dlv=feed.dlv)
    app = GocoreApp(lambda: DelveBackend(delve), compare_with_gdb=False)
    async with app.run_test(size=(200, 50)) as pilot:
        await until(pilot, lambda: app.first_screen_ready)
        summary = str(app.query_one(CrashSummary).render())
        assert "built from example.com/feed  (-trimpath, 2 dependencies)" in summary
        variables = app.query_one(VariablesView)
        labels = variables.labels()
        gone = [label for label in labels if label.endswith("= optimized away") or "= optimized away  " in label]
        assert gone, labels
        assert variables.border_title.endswith("· optimized")
        # Delve's own words are one level down
        node = next(n for g in variables.root.children for n in g.children
                    if n.data is not None and n.data.optimized_away)
        node.expand()
        await pilot.pause()
        assert any(label.startswith("Delve: (unreadable") for label in variables.labels())
        # where each frame's source is, in the backtrace
        table = app.query_one(BacktraceView)
        sources = {str(table.get_row_at(row)[1]): str(table.get_row_at(row)[3]) for row in range(table.row_count)}
        assert sources["main.(*Source).UnmarshalYAML.func1"] == "checkout"
        assert sources["example.org/yaml.v1.handleErr"] == "module cache" and sources["runtime.gopanic"] == "GOROOT"
        await pilot.press("i")
        await until(pilot, lambda: isinstance(app.screen, BuildInfoScreen))
        console = Console(width=200)
        with console.capture() as shown:
            console.print(build_table(app.screen.build))
        assert "example.org/yaml.v1 v1.3.0" in shown.get() and "-trimpath=true" in shown.get()
