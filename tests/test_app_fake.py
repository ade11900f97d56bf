"""The app's own behaviour on a fake Backend (tests/fake_backend.py): no Go,
no dlv. Navigation, staleness, restart and the console, and the seams
between the app, its workers and its dlvs where bugs lived."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import threading
import time

import pytest

from fake_backend import FakeBackend, World, source_file
from leftovers import children_of
from tui.app import GocoreApp
from tui.screens.main import Ask
from tui.widgets.backtrace_view import BacktraceView
from tui.widgets.goroutine_list import GoroutineList
from tui.widgets.source_view import SourceView
from tui.widgets.variables_view import VariablesView
from waiting import HANG, async_wait_for, until, wait_for

pytestmark = pytest.mark.toolchain_independent


def everything_loaded(app) -> bool:
    return app.first_screen_ready and app.goroutines_complete and app.stacks_complete


@contextlib.asynccontextmanager
async def running(backends, ready=everything_loaded, **kwargs):
    """The app on fake backends: each (re)start takes the next of `backends`."""
    queue = list(backends)
    app = GocoreApp(lambda: queue.pop(0), compare_with_gdb=False, **kwargs)
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: ready(app))
        yield app, pilot


@pytest.fixture
def world(tmp_path) -> World:
    return World(str(source_file(tmp_path)))


async def test_the_first_screen_opens_on_the_crashing_frame_and_u_d_move(world):
    first = FakeBackend(world)
    async with running([first]) as (app, pilot):
        assert (app.goroutine_id, app.frame_index) == (1, 2)
        assert app.backtrace.frames[app.frame_index].function == "main.crash"
        assert app.query_one(SourceView).marked_line == 10
        assert len(app.store) == 5
        before = app.panes_updated
        await pilot.press("u")
        await until(pilot, lambda: app.panes_updated > before)
        assert app.frame_index == 3 and app.query_one(SourceView).marked_line == 20
        assert ("frame_state", 1, 3) in first.calls
        # the top of the stack: d past frame 0 does nothing
        for _ in range(4):
            await pilot.press("d")
        await until(pilot, lambda: app.frame_index == 0)
        assert app.main.check_action("down", ()) is None and app.main.check_action("up", ())
        # the footer says so: d greyed out, u not (the same keys, only their greying updated)
        await until(pilot, lambda: footer_key(app, "d").has_class("-disabled"))
        assert not footer_key(app, "u").has_class("-disabled")
        await pilot.press("u")
        await until(pilot, lambda: not footer_key(app, "d").has_class("-disabled"))


def footer_key(app, key: str):
    return next(k for k in app.main.query("Footer FooterKey") if k.key == key)


async def test_a_goroutine_switch_lands_on_its_first_user_frame(world):
    async with running([FakeBackend(world)]) as (app, pilot):
        app.select_goroutine(3)
        await until(pilot, lambda: app.goroutine_id == 3 and not app.nav.stale)
        assert app.backtrace.frames[app.frame_index].function == "main.wait"
        assert "where = \"g3 f1\"" in " ".join(app.query_one(VariablesView).labels())


async def test_a_slow_frame_is_marked_stale_then_fresh(world):
    first = FakeBackend(world)
    async with running([first]) as (app, pilot):
        source = app.query_one(SourceView)
        first.gate.clear()
        await pilot.press("u")
        await until(pilot, lambda: source.has_class("-stale"))
        assert source.border_subtitle == "loading…"
        first.gate.set()
        await until(pilot, lambda: not source.has_class("-stale"))
        assert not app.nav.stale


async def test_grouped_flat_and_filter_are_reactive_and_the_footer_follows(world):
    async with running([FakeBackend(world)]) as (app, pilot):
        pane = app.query_one("#goroutines")
        assert "in 2 groups" in pane.border_title
        await pilot.press("v")
        assert not app.main.grouped and not pane.grouped and "(flat)" in pane.border_title
        assert pane.row_count == 5
        app.main.goroutine_filter = "crash"
        await pilot.pause()
        assert pane.row_count == 1 and pane.border_title == "Goroutines: 1 of 5 (flat)  /crash"
        await pilot.press("v")
        assert pane.border_title == "Goroutines: 1 of 5, 1 group  /crash"
        app.main.goroutine_filter = "parser"
        await pilot.pause()
        assert pane.row_count == 0 and pane.border_title.endswith(
            "/parser: no goroutine's function, file, wait reason or id contains 'parser'")
        # R is offered only once dlv is lost: the footer's bindings say so
        # without anyone refreshing them by hand
        assert "R" not in app.active_bindings or not app.active_bindings["R"].enabled


async def test_dlv_dying_keeps_the_screen_and_R_starts_a_new_one_where_the_user_was(world):
    first, second = FakeBackend(world), FakeBackend(world, name="second")
    async with running([first, second]) as (app, pilot):
        await pilot.press("u")
        await until(pilot, lambda: app.frame_index == 3)
        first.dead = True
        await pilot.press("d")
        await until(pilot, lambda: app.backend_lost)
        assert app.main.can_ask(Ask.RESTART)
        assert sum("dlv stopped" in notice.message for notice in app.told) == 1
        await pilot.press("R")
        await until(pilot, lambda: not app.backend_lost and app.core.primary is second and not app.nav.stale)
        assert ("backtrace", 1) in second.calls and app.frame_index == 2
        assert first.closed


async def test_the_console_runs_in_the_frame_on_screen(world):
    first = FakeBackend(world)
    async with running([first]) as (app, pilot):
        await pilot.press("colon")
        await pilot.press(*"print where", "enter")
        await until(pilot, lambda: ("run", "goroutine 1 frame 2 print where") in first.calls)
        await until(pilot, lambda: any("ran goroutine 1 frame 2 print where" in str(e) for e in app.console_log))
        await pilot.press(*"exit", "enter")
        await until(pilot, lambda: any("`exit` is not sent" in str(e) for e in app.console_log))
        assert ("run", "exit") not in first.calls


# -- the seams between the app, its jobs and its dlvs: each test fails before its fix-----------------------


async def test_after_a_restart_the_stacks_come_from_the_new_dlv_not_the_retired_helper(world):
    """Bug 1: the helper is retired when the list is cut; after R the stacks
    pass used to get that closed helper back ("the debugger session is closed")."""
    helper = FakeBackend(world, name="helper")
    first = FakeBackend(world, die_at_page=0, helper=helper)
    second = FakeBackend(world, name="second")
    async with running([first, second], ready=lambda a: a.backend_lost) as (app, pilot):
        assert helper.closed  # retired when the list was cut
        await pilot.press("R")
        await until(pilot, lambda: everything_loaded(app) and not app.backend_lost)
        assert ("stacks",) in second.calls and ("stacks",) not in helper.calls
        assert not [f for f in app.failures if "closed" in f]
        assert app.store.index.stacks_known == 5 and len(app.store) == 5


async def test_a_variable_opened_then_u_is_printed_in_the_frame_it_was_opened_in(world):
    """Bug 2: the worker read the frame on screen when it ran, not when the
    node was opened: a quick u printed the expression in the wrong frame."""
    first = FakeBackend(world)
    async with running([first]) as (app, pilot):
        tree = app.query_one(VariablesView)
        node = next(n for group in tree.root.children for n in group.children
                    if n.data is not None and n.data.name == "cfg")
        first.gate.clear()  # the frame switch's answer waits: the tree still shows frame 2
        node.expand()
        app.select_frame(3)  # u, before the node's expansion is even handled
        await until(pilot, lambda: any(c[0] == "expand" for c in first.calls))
        first.gate.set()
        assert ("expand", 1, 2, "cfg") in first.calls


async def test_a_frame_picked_on_the_thread_stack_reads_the_variables_of_that_frame(world):
    """Bug 3: after a system-stack crash (Delve 1.20's `stack -mode simple`),
    a frame chosen in the comparison pane loaded its variables by its index
    in the thread's stack, which `frame N` reads as another frame."""
    world.system_stack = True
    first = FakeBackend(world)
    async with running([first]) as (app, pilot):
        crash_stack = app.snapshot.crash_stack
        assert crash_stack.simple and crash_stack.frames[4].function == "main.crash"
        await pilot.press("c")  # the comparison, where the user picks main.crash on the thread's stack
        await until(pilot, lambda: app.screen is not app.main)
        app.screen.dismiss(4)
        await until(pilot, lambda: app.backtrace is crash_stack and app.frame_index == 4 and not app.nav.stale)
        assert ("frame_state", 1, 2) in first.calls and ("frame_state", 1, 4) not in first.calls
        assert 'where = "g1 f2"' in " ".join(app.query_one(VariablesView).labels())
        # a frame of the system stack itself: said so, nothing asked of dlv
        app.select_frame(3)
        await until(pilot, lambda: app.frame_index == 3 and not app.nav.stale)
        assert "system stack" in " ".join(app.query_one(VariablesView).labels())
        assert ("frame_state", 1, 3) not in first.calls


def test_a_theme_switch_during_background_highlighting_gets_the_new_colours(tmp_path):
    """Bug 4: the highlight cache key had no style: a file whose background
    pass began in the dark theme stayed dark after a switch to light."""
    from tui.sources.highlight import DARK_STYLE, LIGHT_STYLE, Highlighter, highlight_code

    big = source_file(tmp_path, lines=400)
    done = threading.Event()
    highlighter = Highlighter(on_highlighted=lambda path: done.set())
    assert highlighter.load(str(big), line=200).style == DARK_STYLE  # window now, whole file later
    highlighter.use_light(True)
    assert done.wait(HANG)
    light = highlighter.load(str(big), line=200)
    assert light.style == LIGHT_STYLE
    expected = highlight_code(big.read_text(), str(big), LIGHT_STYLE)
    assert [line.spans if not isinstance(line, str) else line for line in light.lines[190:200]] == \
        [line.spans for line in expected[190:200]]


# How long closing a session that another thread reads may take: it kills
# the child at once rather than asking it to quit and waiting. The bound
# tells that from a close that waits for the reader (here a minute); the
# worst measured under two CPU hogs on 2 CPUs was 0.16 s.
SESSION_CLOSED_WITHIN = 10.0


def test_closing_a_session_another_thread_reads_kills_it_at_once_and_reaps_it(tmp_path):
    """Bug 5: close() did not take the command lock; it could close the pty
    under a reading thread, and waited up to 2 s per dlv (on the UI thread)."""
    from tui.debugger.session import PromptSession, SessionError

    repl = tmp_path / "repl.sh"
    repl.write_text("#!/bin/sh\nprintf '(fake) '\nwhile read line; do sleep 60; printf '(fake) '; done\n")
    repl.chmod(0o755)
    session = PromptSession([str(repl)], "(fake) ", startup_timeout=10)
    failures = []

    def read() -> None:
        try:
            session.run("slow", timeout=60)
        except SessionError as err:
            failures.append(err)

    reader = threading.Thread(target=read)
    reader.start()
    # The reader holds the pty: its command reached the child, which sleeps on it.
    wait_for(lambda: children_of(session.child.pid, "sleep"), "the command never reached the child")
    started = time.monotonic()
    session.close()
    assert time.monotonic() - started < SESSION_CLOSED_WITHIN
    assert session.child.signalstatus == signal.SIGKILL  # killed, not asked to quit
    reader.join(HANG)
    assert not reader.is_alive() and failures  # it got EOF, not a closed fd under it
    assert not session.child.isalive()


def loading_dlvs() -> list[str]:
    """The helper dlv of the test below, still loading: `sleep 6061`."""
    return subprocess.run(["pgrep", "-f", "sleep 6061"], capture_output=True, text=True).stdout.split()


# How long a quit may take while the helper dlv loads: the bound tells
# "waits for nothing" from "waits for the helper" (its startup timeout, two
# minutes here); the worst measured under two CPU hogs on 2 CPUs was 1.3 s.
QUIT_WITHIN = 10.0


async def test_quitting_while_the_helper_still_loads_the_core_waits_for_nothing(world, tmp_path):
    """Bug 6: a quit soon after opening a big core waited for the second dlv
    to finish loading (thread workers are waited for at exit, no timeout)."""
    from tui.debugger.session import PromptSession

    loading = tmp_path / "loading-dlv.sh"
    loading.write_text("#!/bin/sh\nexec sleep 6061\n")  # a dlv that never gets to its prompt
    loading.chmod(0o755)
    first = FakeBackend(world, helper=lambda: PromptSession([str(loading)], "(dlv) ", startup_timeout=120))
    world.goroutines = 40  # long enough that the list wants the helper
    app = GocoreApp(lambda: first, compare_with_gdb=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: app.first_screen_ready and ("spawn_helper",) in first.calls and loading_dlvs())
        started = time.monotonic()
        await pilot.press("q")
    assert time.monotonic() - started < QUIT_WITHIN
    await async_wait_for(lambda: not loading_dlvs(), "the loading dlv outlived the quit")


async def test_long_lived_structures_are_frozen_on_the_ui_thread_only(world, tmp_path, monkeypatch):
    """Bug 7: gc.freeze() ran on the highlighting timer thread, freezing
    whatever cyclic garbage was alive at that moment there."""
    import gc

    frozen_on = []
    monkeypatch.setattr(gc, "freeze", lambda: frozen_on.append(threading.current_thread().name))
    world.file = str(source_file(tmp_path, lines=400))  # large: highlighted whole in the background
    from tui.cli.tuning import freeze_long_lived

    async with running([FakeBackend(world)], on_settled=freeze_long_lived) as (app, pilot):
        view = app.query_one(SourceView)
        await until(pilot, lambda: view.fully_highlighted)
        await pilot.pause()  # what the highlighting posted, handled
    assert frozen_on and set(frozen_on) == {threading.main_thread().name}


def row_in_view(widget, row: int) -> bool:
    """A row of a list pane (under its one header line) is on screen."""
    top = widget.scroll_offset.y
    visible = widget.scrollable_content_region.height - 1
    return top <= row < top + visible


@pytest.mark.parametrize("size", [(100, 30), (80, 24), (200, 50)])
async def test_the_selected_rows_are_in_view_at_every_size(world, size):
    """A deep stack at a small size: the crashing frame's row, and the
    crashing goroutine's, are on screen from the start and after a resize."""
    world.extra_runtime_frames, world.goroutines, world.crashing = 20, 60, 60
    app = GocoreApp(lambda: FakeBackend(world), compare_with_gdb=False)
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: everything_loaded(app))
        backtrace, goroutines = app.query_one(BacktraceView), app.query_one(GoroutineList)
        assert app.frame_index == 22  # main.crash, under 22 runtime frames
        await until(pilot, lambda: row_in_view(backtrace, app.frame_index)
                    and row_in_view(goroutines, goroutines.cursor_row))
        await pilot.resize_terminal(size[0], size[1] - 4)
        await until(pilot, lambda: row_in_view(backtrace, app.frame_index)
                    and row_in_view(goroutines, goroutines.cursor_row))


async def test_the_palette_offers_every_action_on_screen_and_an_exact_id_first(world):
    """ctrl+p: each key the footer offers is there by its name, and `18` is
    goroutine 18 before any frame whose text happens to hold a 1 and an 8."""
    from textual.command import CommandList, CommandPalette

    world.goroutines = 30
    async with running([FakeBackend(world)]) as (app, pilot):
        titles = {command.title for command in app.get_system_commands(app.main)}
        offered = {binding.description for _, binding, enabled, _ in app.main.active_bindings.values()
                   if binding.show and enabled}
        assert {"GDB vs Delve", "Build", "Export", "Console", "Filter", "Caller"} <= offered <= titles
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press("1", "8")
        commands = app.screen.query_one(CommandList)
        await until(pilot, lambda: commands.option_count > 1)
        first = str(commands.get_option_at_index(0).prompt)
        assert first.startswith("goroutine 18 "), first


async def test_a_switches_what_is_on_screen_and_nothing_else(world):
    """A frame without source shows its instructions by itself; `a` there
    shows its source pane (saying why there is none), and a frame with
    source afterwards still shows its source."""
    world.runtime_dir = "/build-machine/gone/runtime-ish"  # no source here for the runtime's frames
    first = FakeBackend(world)
    async with running([first]) as (app, pilot):
        source = app.query_one(SourceView)

        def shown(disassembly: bool) -> bool:
            return not app.nav.stale and source.border_title.startswith("Disassembly" if disassembly else "Source")

        for _ in range(2):  # down to runtime.raise, which has no source here
            before = app.panes_updated
            await pilot.press("d")
            await until(pilot, lambda: app.panes_updated > before)
        assert app.frame_index == 0
        await until(pilot, lambda: shown(disassembly=True))
        await pilot.press("a")
        await until(pilot, lambda: shown(disassembly=False))
        await pilot.press("u")  # runtime.gopanic: no source either, its instructions again
        await until(pilot, lambda: app.frame_index == 1 and shown(disassembly=True))
        await pilot.press("u")  # main.crash: its source, not instructions
        await until(pilot, lambda: app.frame_index == 2 and shown(disassembly=False))
        await pilot.press("a")
        await until(pilot, lambda: shown(disassembly=True))
        await pilot.press("a")
        await until(pilot, lambda: shown(disassembly=False))


async def test_each_screens_help_lists_that_screens_keys(world):
    from tui.screens.comparison import ComparisonScreen
    from tui.screens.help import HelpScreen

    async with running([FakeBackend(world)]) as (app, pilot):
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        main_keys = {key for key, _ in app.screen.bindings}
        assert {"u", "d", "g", "c", "a", "/", "?", "q"} <= main_keys
        await pilot.press("escape", "c")
        await until(pilot, lambda: isinstance(app.screen, ComparisonScreen))
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        keys = dict(app.screen.bindings)
        assert {"b", "g", "r", "f", "esc", "?", "q"} <= set(keys)
        assert "Delve's stack beside what gdb printed" in keys["g"]  # g picks a goroutine here
        assert not {"u", "d", "a", "/"} & set(keys)


async def test_keys_typed_ahead_of_a_prompt_are_kept(world):
    """`/auditor⏎` and `g3⏎` in one burst, as a terminal delivers keys typed
    fast: every key lands in the prompt (none runs a key of the screen
    behind: a, u, d, i, t are keys there), and Enter applies what was typed."""
    from textual import events

    def burst(*keys: str) -> None:
        for key in keys:  # all queued before the first is handled
            character = {"slash": "/", "enter": None}.get(key, key)
            app.post_message(events.Key(key, character))

    world.goroutines = 8
    async with running([FakeBackend(world)]) as (app, pilot):
        frame = app.frame_index
        burst("slash", *"auditor", "enter")
        await until(pilot, lambda: app.main.goroutine_filter == "auditor" and not app.main.prompting)
        assert app.frame_index == frame and app.screen is app.main and not app.show_disassembly
        burst("slash", *"wait", "enter")
        await until(pilot, lambda: app.main.goroutine_filter == "wait")
        burst("g", "3", "enter")
        await until(pilot, lambda: app.goroutine_id == 3)