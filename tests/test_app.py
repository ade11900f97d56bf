"""The app driven by Pilot against the real dlv on real cores."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from app_driver import cell, list_through_dlv, moved, running, shown_rows, summary
from leftovers import dlv_processes_for
from snapshot_app import RecordingApp
from waiting import HANG, async_wait_for, until, wait_for
from tui.app import STALE_NOTICE, GocoreApp
from tui.core.backend import DelveBackend
from tui.core import listing as listing_module
from tui.debugger.delve import Delve
from tui.widgets.backtrace_view import BacktraceView
from tui.widgets.crash_summary import CrashSummary
from tui.widgets.goroutine_list import GoroutineList, GoroutineRow, GroupRow
from tui.screens.help import HelpScreen
from tui.screens.main import Ask
from tui.widgets.source_view import SourceView
from tui.widgets.variables_view import VariablesView


@pytest.mark.e2e
async def test_first_screen_shows_the_crash(cores):
    fixture = cores["goroutine_panic"]
    async with running(fixture) as (app, pilot):
        assert "panic: PANIC" in summary(app)
        crashed = app.snapshot.crash.goroutine_id
        assert f"crashed in goroutine {crashed}" in summary(app)
        backtrace = app.query_one(BacktraceView)
        frame = app.backtrace.frames[backtrace.cursor_row]
        assert (frame.function, frame.line) == ("main.main.func1", fixture.crash_line)
        source = app.query_one(SourceView)
        assert source.marked_line == fixture.crash_line
        assert "// CRASH" in source.line_text(source.marked_line)
        await until(pilot, lambda: app.goroutines_complete and app.stacks_complete)
        goroutines = app.query_one(GoroutineList)
        assert len(goroutines.index) == 6
        row = goroutines.row_cells(GoroutineRow(crashed))
        assert str(row[0]) == "✖"
        assert goroutines.cursor_row == goroutines.get_row_index(GoroutineRow(crashed))


@pytest.mark.e2e
async def test_up_and_down_move_between_frames(cores):
    fixture = cores["goroutine_panic"]
    async with running(fixture) as (app, pilot):
        start = app.frame_index
        await moved(pilot, app, "u")
        assert app.frame_index == start + 1
        assert app.query_one(BacktraceView).cursor_row == start + 1
        caller = app.backtrace.frames[start + 1]
        assert app.query_one(SourceView).marked_line == caller.line
        # runtime.goexit's asm_amd64.s is long: the view scrolled to the mark
        assert app.query_one(SourceView).mark_visible
        assert app.query_one(VariablesView).border_title == f"Variables · frame {start + 1}"
        await moved(pilot, app, "d")
        await moved(pilot, app, "d")
        assert app.frame_index == start - 1
        assert app.backtrace.frames[start - 1].function == "runtime.gopanic"
        assert app.query_one(SourceView).mark_visible
        # gopanic's own record holds the panic value; Delve elides it in the
        # short listing and prints it in full when the node is opened
        variables = app.query_one(VariablesView)
        record = next(node for node in variables.root.children[1].children if node.data.name == "p")
        assert record.data.partial and record.allow_expand
        record.expand()
        await until(pilot, lambda: any('arg = interface {}(string) "PANIC"' in line for line in variables.labels()))


class Slowed:
    """The real Delve backend, with frame_state held back (until `gate` is
    set) or failing on demand; `held` notes the goroutine of each frame_state
    call as it starts waiting."""

    def __init__(self, delve: Delve) -> None:
        self.delve, self.fail, self.fail_backtrace = DelveBackend(delve), False, False
        self.gate = threading.Event()
        self.gate.set()
        self.held: list[int | None] = []

    def __getattr__(self, name):
        return getattr(self.delve, name)

    def frame_state(self, goroutine_id, frame_index):
        self.held.append(goroutine_id)
        self.gate.wait(HANG)
        if self.fail:
            raise RuntimeError("frame state refused")
        return self.delve.frame_state(goroutine_id, frame_index)

    def backtrace(self, goroutine_id, slot=None):
        if self.fail_backtrace:
            raise RuntimeError("backtrace refused")
        return self.delve.backtrace(goroutine_id, slot)

    def lister(self):
        return None  # no listing: the core file has it


@pytest.mark.e2e
async def test_stale_panes_say_so_until_the_answer_lands(cores):
    fixture = cores["goroutine_panic"]
    slowed = Slowed(Delve.open(str(fixture.exe), str(fixture.core), dlv=fixture.dlv))
    app = RecordingApp(lambda: slowed, compare_with_gdb=False)
    async with app.run_test(size=(200, 50)) as pilot:
        await until(pilot, lambda: app.first_screen_ready)
        source, variables, backtrace = (app.query_one(SourceView), app.query_one(VariablesView),
                                        app.query_one(BacktraceView))
        # a slow frame switch: source and variables (not the backtrace) say so
        slowed.gate.clear()
        before = app.panes_updated
        await pilot.press("u")
        await until(pilot, lambda: source.has_class("-stale"))
        assert variables.has_class("-stale") and source.border_subtitle == "loading…"
        assert not backtrace.has_class("-stale")
        slowed.gate.set()
        await until(pilot, lambda: app.panes_updated > before)
        assert not app.nav.stale and not source.has_class("-stale") and not source.border_subtitle
        # a fast one leaves nothing marked
        await moved(pilot, app, "d")
        assert not source.has_class("-stale")
        # a failed one: notified, and the old source is not passed off as current
        slowed.fail = True
        await pilot.press("u")
        await until(pilot, lambda: source.border_subtitle == "not updated: dlv failed")
        assert source.has_class("-stale")
        assert any("frame state refused" in n.message for n in app.told)
        # a failed goroutine switch: the old goroutine stays, whole and unmarked
        slowed.fail, slowed.fail_backtrace = False, True
        await moved(pilot, app, "d")
        shown = app.goroutine_id
        await pilot.press("g", "1", "enter")
        await until(pilot, lambda: any("backtrace refused" in n.message for n in app.told))
        # The switch's "loading…" timer, started before the failure, has had
        # its say: its callback was queued before this pause's own wake-up,
        # and the second pause handles what is queued.
        await pilot.pause(STALE_NOTICE)
        await pilot.pause()
        assert app.goroutine_id == shown and not app.nav.stale
        assert not (source.has_class("-stale") or backtrace.has_class("-stale"))
        # a frame move while a goroutine switch waits: the switch is dropped,
        # the backtrace on screen is current again
        slowed.fail_backtrace = False
        slowed.gate.clear()
        slowed.held.clear()
        await pilot.press("g", "1", "enter")
        # the switch has goroutine 1's backtrace and waits for its frame
        await until(pilot, lambda: backtrace.has_class("-stale") and 1 in slowed.held)
        await pilot.press("u")
        assert not backtrace.has_class("-stale") and source.has_class("-stale")
        before, switches = app.panes_updated, app.backend_messages.count("BacktraceLoaded")
        slowed.gate.set()
        # the move's frame drawn, and the switch's answer, come all the same, handled
        await until(pilot, lambda: app.panes_updated > before
                    and app.backend_messages.count("BacktraceLoaded") > switches)
        await pilot.pause()
        assert app.goroutine_id == shown and not app.nav.stale
        assert not source.has_class("-stale")


@pytest.mark.e2e
async def test_switching_goroutines_by_id_and_from_the_table(cores):
    fixture = cores["goroutine_panic"]
    async with running(fixture, lambda a: a.first_screen_ready and a.goroutines_complete and a.stacks_complete) as (app, pilot):
        before = app.panes_updated
        await pilot.press("g", "1", "enter")
        await until(pilot, lambda: app.panes_updated > before and app.goroutine_id == 1)
        frame = app.backtrace.frames[app.frame_index]
        assert frame.function == "main.main"
        source = app.query_one(SourceView)
        assert "<-timer.C" in source.line_text(source.marked_line)
        assert any(line.startswith("timer") for line in app.query_one(VariablesView).labels())
        assert "goroutine 1" in app.query_one(BacktraceView).border_title

        # back to the crashing goroutine with the keyboard, from the table
        crashed = app.snapshot.crash.goroutine_id
        table = app.query_one(GoroutineList)
        table.focus()
        table.move_cursor(row=table.get_row_index(GoroutineRow(crashed)))
        before = app.panes_updated
        await pilot.press("enter")
        await until(pilot, lambda: app.panes_updated > before and app.goroutine_id == crashed)
        assert app.query_one(SourceView).marked_line == fixture.crash_line


@pytest.mark.e2e
async def test_unknown_goroutine_and_non_digits_are_harmless(cores):
    async with running(cores["goroutine_panic"], lambda a: a.first_screen_ready and a.goroutines_complete and a.stacks_complete) as (app, pilot):
        shown = app.goroutine_id
        await pilot.press("g", "9", "9", "9", "9", "enter")
        await until(pilot, lambda: any("no goroutine 9999" in n.message for n in app.told))
        assert app.goroutine_id == shown
        # letters never reach the input (and so never reach dlv)
        await pilot.press("g", "x", ";", "q")
        assert app.screen.query_one("#prompt-text").value == ""
        await pilot.press("escape")


@pytest.mark.e2e
async def test_help_lists_every_binding_and_q_quits(cores):
    async with running(cores["goroutine_panic"]) as (app, pilot):
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        listed = {key for key, _ in app.screen.bindings}
        assert {"u", "d", "g", "/", "c", "?", "q"} <= listed
        await pilot.press("escape")
        await pilot.press("q")
    assert app.return_code == 0


@pytest.mark.e2e
async def test_deadlock_starts_on_the_blocked_main_goroutine(cores):
    fixture = cores["deadlock"]
    async with running(fixture) as (app, pilot):
        text = summary(app)
        assert "fatal error: all goroutines are asleep - deadlock!" in text
        assert "crashed on the system stack (no goroutine); showing goroutine 1" in text
        assert app.goroutine_id == 1
        assert app.query_one(SourceView).marked_line == fixture.crash_line


@pytest.mark.e2e
async def test_nil_dereference_names_the_fault_once(cores):
    fixture = cores["nil_deref"]
    async with running(fixture) as (app, pilot):
        text = summary(app)
        assert "runtime error: invalid memory address or nil pointer dereference" in text
        assert "runtime error: runtime error" not in text
        assert "SIGSEGV at 0x0, then SIGABRT" in text
        assert app.backtrace.frames[app.frame_index].function == "main.retries"
        assert app.query_one(SourceView).marked_line == fixture.crash_line
        assert any(line.startswith("c = ") for line in app.query_one(VariablesView).labels())


@pytest.mark.e2e
async def test_groups_filter_and_flat_view(cores):
    fixture = cores["many_goroutines"]
    async with running(fixture, lambda a: a.first_screen_ready and a.goroutines_complete and a.stacks_complete) as (app, pilot):
        table = app.query_one(GoroutineList)
        buckets = table.index.buckets()
        assert sum(b.count for b in buckets) == len(table.index)
        assert "×200" in [str(table.row_cells(k)[1]) for k in table.group_rows()]
        # expand the biggest group, then pick its first member
        table.focus()
        table.move_cursor(row=table.get_row_index(table.group_rows()[0]))
        await pilot.press("enter")
        member = buckets[0].ids[0]
        assert table.has_row(GoroutineRow(member))
        table.move_cursor(row=table.get_row_index(GoroutineRow(member)))
        before = app.panes_updated
        await pilot.press("enter")
        await until(pilot, lambda: app.panes_updated > before and app.goroutine_id == member)
        assert app.backtrace.frames[app.frame_index].function == "main.idle"
        # filter narrows the groups
        await pilot.press("slash")
        await pilot.press(*"Mutex", "enter")
        assert [b.count for b in table.index.buckets("Mutex")] == [50]
        assert all("Mutex" in cell(table, k, "location") for k in table.rows())
        # flat view lists every matching goroutine
        await pilot.press("v")
        assert table.row_count == 50


@pytest.mark.toolchain_independent
def test_a_large_file_is_shown_at_once_and_highlighted_in_full_later():
    import subprocess

    from tui.cli.corerun import find_go
    from tui.sources.highlight import Highlighter

    goroot = subprocess.run([find_go(), "env", "GOROOT"], capture_output=True, text=True, check=True).stdout.strip()
    big = f"{goroot}/src/runtime/proc.go"
    told = []
    source = Highlighter(on_highlighted=told.append)
    first = source.load(big, line=463)
    assert any(isinstance(line, str) for line in first.lines)  # not highlighted yet away from the frame
    assert first.lines[462].spans  # the frame's line is
    wait_for(lambda: told, "the full highlight never arrived")
    assert told == [big]
    assert all(not isinstance(line, str) for line in source.load(big, line=463).lines)


@pytest.mark.e2e
async def test_a_runtime_file_on_screen_is_highlighted_whole_where_the_view_stays(cores):
    """signal_unix.go (1.5k lines) is shown at once, highlighted around the
    frame; the rest is highlighted behind and the pane takes it in place."""
    async with running(cores["goroutine_panic"]) as (app, pilot):
        view = app.query_one(SourceView)
        while not app.backtrace.frames[app.frame_index].file.endswith("signal_unix.go"):
            await moved(pilot, app, "d")
        path, marked, scrolled = view.path, view.marked_line, view.scroll_offset
        assert not view.fully_highlighted  # plain away from the frame, at first
        await until(pilot, lambda: view.fully_highlighted)
        assert (view.path, view.marked_line, view.scroll_offset) == (path, marked, scrolled)


async def test_table_rows_painted_before_measuring_are_redrawn_at_full_width():
    """A row painted between add_row and the table's idle (a race in a real
    terminal) must not stay cut to the header's widths."""
    from textual.app import App

    from tui.widgets.fitted_table import FittedTable

    class Narrow(App):
        CSS = "FittedTable { height: 5; width: 12; }"

        def compose(self):
            yield FittedTable()

    app = Narrow()
    async with app.run_test(size=(40, 10)) as pilot:
        table = app.query_one(FittedTable)
        table.add_columns("a", "b")
        await pilot.pause()
        table.add_row("x" * 20, "y" * 10)
        assert table.render_line(1).text.strip() == "x  y"  # painted before the widths are known
        await pilot.pause()
        assert table.render_line(1).text == " " + "x" * 11


async def test_a_core_that_cannot_be_opened_shows_why_and_q_exits_2():
    from snapshot_app import failing_app

    from tui.screens.error import ErrorScreen

    app = failing_app()
    async with app.run_test(size=(120, 35)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, ErrorScreen) and app.screen.query("#error-message"))
        assert "was not dumped by ./main" in str(app.screen.query_one("#error-message").render())
        # nothing to navigate: the main screen's keys are off
        assert not {"g", "u", "d", "c"} & set(app.active_bindings)
        assert app.check_action("command_palette", ()) is False
        await pilot.press("g")
        assert isinstance(app.screen, ErrorScreen)
        await pilot.press("q")
    assert app.return_code == 2


@pytest.mark.e2e
async def test_dlv_killed_keeps_the_screen_and_R_restarts_it(cores):
    fixture = cores["goroutine_panic"]
    opened: list[Delve] = []

    def open_backend() -> DelveBackend:
        opened.append(Delve.open(str(fixture.exe), str(fixture.core)))
        return DelveBackend(opened[-1])

    app = GocoreApp(open_backend)
    async with app.run_test(size=(200, 50)) as pilot:
        await until(pilot, lambda: app.first_screen_ready and app.goroutines_complete and app.stacks_complete)
        crash_frame = app.frame_index
        assert not app.main.can_ask(Ask.RESTART)  # nothing to restart yet
        os.kill(opened[0].runner.pid, signal.SIGKILL)
        await pilot.press("u")
        await until(pilot, lambda: app.backend_lost)
        # What was on screen stays: the crash, its backtrace, its source.
        assert "panic: PANIC" in summary(app)
        assert app.query_one(SourceView).marked_line == fixture.crash_line
        assert app.query_one(BacktraceView).row_count == shown_rows(app.backtrace)
        assert "R restarts" in app.query_one(CrashSummary).border_subtitle
        assert app.main.can_ask(Ask.RESTART)

        before = app.panes_updated
        await pilot.press("R")
        await until(pilot, lambda: not app.backend_lost and app.panes_updated > before)
        assert len(opened) == 2 and app.core.primary.delve is opened[1] and opened[1].alive
        assert not opened[0].alive
        # The view comes back where the user was (the u that failed moved the
        # cursor one frame up), from the new session, and navigation works.
        assert app.frame_index == crash_frame + 1
        await moved(pilot, app, "d")
        assert app.frame_index == crash_frame
        assert app.query_one(SourceView).marked_line == fixture.crash_line


@pytest.mark.e2e
async def test_a_parse_problem_is_shown_with_dlvs_text_not_a_traceback(cores, monkeypatch):
    import tui.debugger.delve
    from tui.parse import ParseError

    fixture = cores["goroutine_panic"]
    async with running(fixture, ready=lambda app: app.first_screen_ready and app.goroutines_complete and app.stacks_complete) as (app, pilot):
        def unparseable(output, goroutine_id, simple=False):
            raise ParseError("frame line without a location", raw=output)

        monkeypatch.setattr(tui.debugger.delve, "parse_backtrace", unparseable)
        shown = app.goroutine_id
        before = len(app.told)
        app.select_goroutine(1)
        await until(pilot, lambda: len(app.told) > before)
        note = app.told[-1]
        assert note.severity == "error"
        assert note.message.startswith("goroutine 1: frame line without a location\ndlv printed:\n")
        assert "main.main" in note.message  # dlv's real answer for goroutine 1, its first lines
        # The old goroutine stays on screen, whole.
        assert app.goroutine_id == shown and app.query_one(BacktraceView).row_count == shown_rows(app.backtrace)


@pytest.mark.e2e
async def test_whole_stacks_split_a_group_and_a_member_loads_its_own_path(cores):
    fixture = cores["split_stacks"]
    async with running(fixture, lambda a: a.first_screen_ready and a.goroutines_complete and a.stacks_complete) as (app, pilot):
        table = app.query_one(GoroutineList)
        rows = {k: [cell(table, k, title) for title in ("id / count", "location")] for k in table.rows()}
        parked = {cells[0]: cells[1] for key, cells in rows.items() if isinstance(key, GroupRow) and "main.park" in cells[1]}
        assert parked == {"×20": "main.go:15 main.park  via main.viaRight", "×10": "main.go:15 main.park  via main.viaLeft"}
        assert "Goroutines 34 in" in table.border_title and "stacks read" not in table.border_title
        # expand the viaLeft group and pick a member: its backtrace goes through viaLeft
        key = next(key for key, cells in rows.items() if cells[0] == "×10")
        table.focus()
        table.move_cursor(row=table.get_row_index(key))
        await pilot.press("enter")
        bucket = table.bucket(key)
        assert all(table.has_row(GoroutineRow(gid)) for gid in bucket.ids)
        member = bucket.ids[-1]
        table.move_cursor(row=table.get_row_index(GoroutineRow(member)))
        before = app.panes_updated
        await pilot.press("enter")
        await until(pilot, lambda: app.panes_updated > before and app.goroutine_id == member)
        functions = [frame.function for frame in app.backtrace.frames]
        assert "main.viaLeft" in functions and "main.viaRight" not in functions


@pytest.mark.e2e
async def test_the_list_and_whole_stacks_come_from_the_core_file_with_no_second_dlv(cores, monkeypatch):
    spawned = []
    monkeypatch.setattr(Delve, "spawn_helper", lambda self: spawned.append(self))
    fixture = cores["many_goroutines"]
    expected = Delve.open(str(fixture.exe), str(fixture.core), dlv=fixture.dlv)
    try:
        listed = {g.id: g for g in expected.goroutines()[0]}
    finally:
        expected.close()
    async with running(fixture, lambda a: a.first_screen_ready and a.goroutines_complete and a.stacks_complete) as (app, pilot):
        index = app.query_one(GoroutineList).index
        assert not spawned  # no second dlv: nothing to list through it
        assert sorted(index.by_id) == sorted(listed) and index.stacks_known == len(listed)
        # every goroutine as Delve's own listing has it, but for the line of a
        # location that is the goroutine's innermost frame: Go's (pc-1), not Delve's (pc)
        def seen(g, innermost: bool):
            return (g.location.function, g.location.file, None if innermost else g.location.line, g.wait_reason,
                    g.thread)

        innermost = {gid: index.stack_of(gid)[0] == g.location for gid, g in index.by_id.items()}
        assert {gid: seen(g, innermost[gid]) for gid, g in index.by_id.items()} == \
            {gid: seen(g, innermost[gid]) for gid, g in listed.items()}
        assert not [n for n in app.told if "through dlv" in n.message]
        # a goroutine only the core file listed switches as quickly as any other
        last = max(index.by_id)
        before = app.panes_updated
        await pilot.press("g", *str(last), "enter")
        await until(pilot, lambda: app.panes_updated > before and app.goroutine_id == last)


@pytest.mark.e2e
async def test_a_core_the_native_reader_cannot_read_is_listed_through_dlv_and_says_so(cores, monkeypatch):
    list_through_dlv(monkeypatch, "the native listing disagrees with Delve on goroutine 7's stack")
    fixture = cores["many_goroutines"]
    async with running(fixture, lambda a: a.first_screen_ready and a.goroutines_complete and a.stacks_complete) as (app, pilot):
        assert len(app.query_one(GoroutineList).index) == 356 and app.store.index.stacks_known == 356
        assert any("listing goroutines through dlv: the native listing disagrees" in n.message
                   for n in app.told), [n.message for n in app.told]


@pytest.mark.e2e
async def test_stacks_come_from_a_second_dlv_that_leaves_when_done(cores, monkeypatch):
    list_through_dlv(monkeypatch)
    listers: list[Delve] = []
    spawn = Delve.spawn_helper

    def recorded(self):
        listers.append(spawn(self))
        return listers[-1]

    monkeypatch.setattr(Delve, "spawn_helper", recorded)
    fixture = cores["many_goroutines"]
    async with running(fixture, lambda a: a.first_screen_ready and a.goroutines_complete and a.stacks_complete) as (app, pilot):
        (lister,) = listers
        first = app.core.primary.delve
        assert lister is not first and lister.runner.pid != first.runner.pid
        assert len(app.query_one(GoroutineList).index) == 356
        # Its work done, the second dlv is gone; the first still answers.
        assert app.core.helper() is None and not lister.alive
        await moved(pilot, app, "u")
        assert first.alive


@pytest.mark.e2e
async def test_two_dlvs_list_a_core_from_both_ends_and_every_goroutine_arrives(cores, monkeypatch):
    list_through_dlv(monkeypatch)
    # Pages of 40: the 356 goroutines are a list long enough to split.
    monkeypatch.setattr(listing_module, "PAGE_SIZE", 40)
    pages_from: dict[int, int] = {}
    warmed_from: list[int | None] = []
    paginate, warm = Delve.goroutine_pages, Delve.warm_cache

    second_listed = threading.Event()

    def counted(self, claim=None):
        for page in paginate(self, claim):
            pages_from[self.runner.pid] = pages_from.get(self.runner.pid, 0) + 1
            if self is not listing_first[0]:
                second_listed.set()
            yield page
            # A small list is over before the second dlv is up: here the
            # first waits for it, as the first of a huge list would.
            second_listed.wait(HANG)

    listing_first = []
    allgs_length = Delve.allgs_length

    def first_asked(self):
        listing_first.append(self)
        return allgs_length(self)

    def recorded_warm(self, start, chunk=10_000):
        warmed_from.append(start)
        warm(self, start, chunk)

    fixture = cores["many_goroutines"]
    expected = Delve.open(str(fixture.exe), str(fixture.core), dlv=fixture.dlv)
    try:
        expected_ids = sorted(g.id for g in expected.goroutines()[0])
    finally:
        expected.close()
    monkeypatch.setattr(Delve, "goroutine_pages", counted)
    monkeypatch.setattr(Delve, "warm_cache", recorded_warm)
    monkeypatch.setattr(Delve, "allgs_length", first_asked)
    async with running(fixture, lambda a: a.goroutines_complete and a.stacks_complete and warmed_from) as (app, pilot):
        index = app.query_one(GoroutineList).index
        assert sorted(index.by_id) == expected_ids
        assert all(list(bucket.ids) == sorted(bucket.ids) for bucket in index.buckets())  # whichever end listed them
        main = app.core.primary.delve.runner.pid
        assert pages_from.get(main, 0) >= 1 and len(pages_from) == 2, pages_from  # the second dlv listed too
        assert warmed_from[0] and warmed_from[0] > 0
        # The last goroutine came from the second dlv: the first still switches to it.
        last = expected_ids[-1]
        before = app.panes_updated
        await pilot.press("g", *str(last), "enter")
        await until(pilot, lambda: app.panes_updated > before and app.goroutine_id == last)
        assert app.backtrace.frames and f"goroutine {last}" in app.query_one(BacktraceView).border_title


@pytest.mark.e2e
@pytest.mark.parametrize("slow", ["first", "second"])
async def test_a_quit_while_a_dlv_is_still_starting_leaves_none_behind(cores, monkeypatch, slow):
    """The user quits before a dlv is up: it is closed the moment it comes up
    (here it comes up only once the app has quit)."""
    list_through_dlv(monkeypatch)
    fixture = cores["goroutine_panic"]
    spawn = Delve.spawn_helper
    started = threading.Event()

    def after_the_quit() -> None:
        wait_for(lambda: app.core.closed, "the app never quit")

    def open_backend() -> DelveBackend:
        if slow == "first":
            after_the_quit()
        started.set()
        return DelveBackend(Delve.open(str(fixture.exe), str(fixture.core), dlv=fixture.dlv))

    def slow_lister(self):
        after_the_quit()
        return spawn(self)

    monkeypatch.setattr(Delve, "spawn_helper", slow_lister)
    app = GocoreApp(open_backend)
    async with app.run_test(size=(200, 50)) as pilot:
        if slow == "second":
            await until(pilot, lambda: app.first_screen_ready)
            assert not app.core.has_helper  # still starting
    assert not app.first_screen_ready or slow == "second"
    await async_wait_for(lambda: started.is_set() and not dlv_processes_for(fixture.core),
                         f"dlv left running on {fixture.core}")


@pytest.mark.e2e
async def test_t_shows_what_go_printed_beside_delves_view(cores):
    from textual.widgets import Static

    from tui.screens.traceback import TracebackScreen

    fixture = cores["nil_deref"]
    printed = "panic: runtime error: invalid memory address or nil pointer dereference\n[signal SIGSEGV: segmentation violation]\n"
    delve = Delve.open(str(fixture.exe), str(fixture.core))
    app = GocoreApp(lambda: DelveBackend(delve), go_traceback=printed)
    async with app.run_test(size=(200, 50)) as pilot:
        await until(pilot, lambda: app.first_screen_ready)
        assert app.main.can_ask(Ask.TRACEBACK)
        await pilot.press("t")
        await until(pilot, lambda: isinstance(app.screen, TracebackScreen))
        shown = str(app.screen.query_one("#traceback-text", Static).render())
        assert shown == printed.rstrip("\n")  # brackets kept: not read as markup
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, TracebackScreen))


@pytest.mark.e2e
async def test_t_is_not_offered_without_a_traceback(cores):
    async with running(cores["goroutine_panic"]) as (app, pilot):
        assert not app.main.can_ask(Ask.TRACEBACK)


@pytest.mark.e2e
async def test_no_color_draws_every_pane(cores, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    async with running(cores["goroutine_panic"], lambda a: a.first_screen_ready and a.goroutines_complete and a.stacks_complete) as (app, pilot):
        await moved(pilot, app, "u")
        await pilot.pause()  # and a repaint, through the monochrome filter
        assert app.query_one(SourceView).marked_line and app.is_running


@pytest.mark.e2e
async def test_a_light_theme_rehighlights_the_source_for_a_light_background(cores):
    from tui.sources.highlight import DARK_STYLE, LIGHT_STYLE

    async with running(cores["goroutine_panic"]) as (app, pilot):
        view = app.query_one(SourceView)
        dark = str(list(view.render_line(view.marked_line - 1 - view.scroll_offset.y)))
        before = app.panes_updated
        app.theme = "textual-light"
        await until(pilot, lambda: app.panes_updated > before)
        assert app.highlighter.style == LIGHT_STYLE
        await pilot.pause()
        light = str(list(view.render_line(view.marked_line - 1 - view.scroll_offset.y)))
        assert light != dark and "// CRASH" in view.line_text(view.marked_line)
        app.theme = "textual-dark"
        await until(pilot, lambda: app.highlighter.style == DARK_STYLE)
