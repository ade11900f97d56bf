"""`x` writes the report of the view on screen; `e` opens the frame in $EDITOR."""

from __future__ import annotations

import re
import stat

import pytest

from app_driver import moved, running
from waiting import until
from tui.sources.editor import editor_command


@pytest.mark.e2e
async def test_x_writes_the_report_of_this_view_and_never_overwrites(cores, tmp_path):
    fixture = cores["goroutine_panic"]
    async with running(fixture, lambda a: a.first_screen_ready and a.goroutines_complete and a.stacks_complete) as (app, pilot):
        app.export_folder = tmp_path
        await moved(pilot, app, "u")  # the view is now the crash frame's caller
        shown = app.backtrace.frames[app.frame_index]
        await pilot.press("x")
        first = tmp_path / "gocore-main-core.md"
        await until(pilot, lambda: first.exists())
        text = first.read_text()
        assert "| Message | PANIC |" in text
        assert f"## Backtrace of goroutine {app.goroutine_id}" in text
        assert f"## Source: {shown.file}:{shown.line}" in text
        await pilot.press("x")
        await until(pilot, lambda: (tmp_path / "gocore-main-core-1.md").exists())
        assert first.read_text() == text  # the first one untouched


@pytest.mark.e2e
async def test_e_opens_the_frame_in_the_editor_and_comes_back(cores, tmp_path, monkeypatch):
    fixture = cores["nil_deref"]
    record = tmp_path / "args"
    editor = tmp_path / "fake-editor"
    editor.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {record}\n')
    editor.chmod(editor.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("VISUAL", str(editor))
    async with running(fixture) as (app, pilot):
        frame = app.backtrace.frames[app.frame_index]
        await pilot.press("e")
        await until(pilot, lambda: record.exists())
        assert record.read_text().splitlines() == [f"+{fixture.crash_line}", str(fixture.source)]
        assert frame.line == fixture.crash_line
        await moved(pilot, app, "u")  # the TUI is back and answers
        assert app.frame_index == frame.index + 1


@pytest.mark.parametrize("editor, expected", [
    ("vim", ["vim", "+12", "/src/main.go"]),
    ("nano -w", ["nano", "-w", "+12", "/src/main.go"]),
    ("code --wait", ["code", "--wait", "-g", "/src/main.go:12"]),
    ("/opt/bin/subl", ["/opt/bin/subl", "/src/main.go:12"]),
])
def test_each_editor_gets_the_line_its_own_way(editor, expected):
    assert editor_command("/src/main.go", 12, {"EDITOR": editor}) == expected
    assert editor_command("/src/main.go", 12, {}) == ["vi", "+12", "/src/main.go"]


def palette_offers(app, text: str) -> bool:
    """The command palette's highlighted hit (what enter runs) holds text."""
    from textual.command import CommandList
    from textual.css.query import NoMatches

    try:
        hits = app.screen.query_one(CommandList)
    except NoMatches:
        return False
    return hits.highlighted is not None and text in str(hits.get_option_at_index(hits.highlighted).prompt)


@pytest.mark.e2e
async def test_the_palette_finds_a_goroutine_by_id_and_a_frame_by_function(cores):
    from textual.command import CommandPalette

    fixture = cores["goroutine_panic"]
    async with running(fixture, lambda a: a.first_screen_ready and a.goroutines_complete and a.stacks_complete) as (app, pilot):
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"goroutine 1")
        await until(pilot, lambda: palette_offers(app, "goroutine 1 "))
        await pilot.press("enter")
        await until(pilot, lambda: app.goroutine_id == 1 and not isinstance(app.screen, CommandPalette))
        await until(pilot, lambda: app.backtrace.goroutine_id == 1)
        # now a frame of goroutine 1's backtrace, by function
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"chanrecv1")
        await until(pilot, lambda: palette_offers(app, "runtime.chanrecv1 "))
        await pilot.press("enter")
        await until(pilot, lambda: app.backtrace.frames[app.frame_index].function == "runtime.chanrecv1")


@pytest.mark.e2e
async def test_slash_in_the_source_pane_searches_the_file(cores):
    from tui.widgets.source_view import SourceView

    fixture = cores["goroutine_panic"]  # "timer" is on lines 2, 13 and 18; the crash on 15
    async with running(fixture, lambda a: a.first_screen_ready and a.goroutines_complete and a.stacks_complete) as (app, pilot):
        source = app.query_one(SourceView)
        source.focus()
        await pilot.press("slash", *"TIMER", "enter")
        await until(pilot, lambda: source.found_line == 18)  # forward from the marked line, any case
        await pilot.press("n")
        assert source.found_line == 2  # wrapped around
        await pilot.press("n")
        assert source.found_line == 13
        await pilot.press("N", "N")
        assert source.found_line == 18
        assert app.query_one("#goroutines").filter_text == ""  # the goroutine filter was not touched
        await pilot.press("slash", *"no such text", "enter")
        await until(pilot, lambda: source.search_text == "no such text")
        assert source.found_line == 0  # nothing highlighted


def test_disassembly_parses_and_marks_the_call_of_a_caller_frame():
    from pathlib import Path

    from tui.model import Frame
    from tui.parse.delve import parse_disassembly
    from tui.sources.highlight import disassembly

    text = (Path(__file__).parent / "data" / "dlv" / "nil_deref.disassemble.txt").read_text()
    instructions = parse_disassembly(text)
    assert (instructions[0].pc, instructions[0].location, instructions[0].text) == (
        0x484520, "main.go:13", "cmp rsp, qword ptr [r14+0x10]")
    # main.main is a caller: its PC is the return address after `call main.retries`
    listing = disassembly(Frame(11, 0x48453e, "main.main", "main.go", 15), instructions)
    assert "call main.retries" in listing.lines[listing.marked_line - 1].plain


@pytest.mark.e2e
async def test_a_toggles_the_source_pane_to_the_frames_instructions(cores):
    from tui.widgets.source_view import SourceView

    fixture = cores["nil_deref"]
    async with running(fixture) as (app, pilot):
        source = app.query_one(SourceView)
        before = app.panes_updated
        await pilot.press("a")
        await until(pilot, lambda: app.panes_updated > before)
        assert source.border_title == "Disassembly · main.retries"
        marked = source.line_text(source.marked_line)
        assert marked.startswith("main.go:10")  # the faulting instruction is on the faulting line
        await moved(pilot, app, "u")  # main.main: the call into retries is marked
        # Delve 1.20 writes Go assembler's `call $main.retries`, later ones `call main.retries`.
        assert re.search(r"call \$?main\.retries", source.line_text(source.marked_line))
        await moved(pilot, app, "a")
        assert source.border_title.startswith("Source") and source.marked_line == 15
