"""`:`: dlv commands in the frame on screen, with history, refusals and watches."""

from __future__ import annotations

import pytest

from app_driver import moved, running
from waiting import until
from tui.analysis.console import Refused, console_command
from tui.screens.console import ConsoleScreen
from tui.widgets.variables_view import VariablesView


def log_text(app) -> str:
    return "\n".join(entry.plain for entry in app.console_log)


async def send(pilot, app, text: str) -> None:
    before = len(app.console_log)
    await pilot.press(*text, "enter") if text else await pilot.press("enter")
    await until(pilot, lambda: len(app.console_log) > before)


async def open_console(pilot, app) -> None:
    await pilot.press("colon")
    await until(pilot, lambda: isinstance(app.screen, ConsoleScreen))


@pytest.mark.e2e
async def test_print_runs_in_the_frame_on_screen_and_a_watch_follows_navigation(cores):
    fixture = cores["panic_error"]
    async with running(fixture) as (app, pilot):
        await open_console(pilot, app)
        await send(pilot, app, "print err")
        assert '> print err\n' in log_text(app)
        assert "record not found" in log_text(app)  # main.main's err, the frame on screen
        # history: up recalls the command
        await pilot.press("up")
        assert app.screen.query_one("#console-input").value == "print err"
        await pilot.press("ctrl+u")  # clear the line
        # pin it, close, and move: the watch is evaluated in each frame
        await pilot.press("ctrl+t")
        await until(pilot, lambda: app.watches == ["err"])
        await pilot.press("escape")
        variables = app.query_one(VariablesView)
        await until(pilot, lambda: any(label.startswith("err = ") for label in variables.labels()))
        await moved(pilot, app, "d")  # into runtime.gopanic: no `err` there
        await until(pilot, lambda: "err = (not in this frame)" in variables.labels())


@pytest.mark.e2e
async def test_refused_commands_are_not_sent_and_the_session_goes_on(cores):
    fixture = cores["nil_deref"]
    async with running(fixture) as (app, pilot):
        await open_console(pilot, app)
        await send(pilot, app, "exit")
        assert "`exit` is not sent" in log_text(app)
        assert app.core.primary.alive
        await send(pilot, app, "print c")
        assert "nil" in log_text(app).split("> print c")[-1]


@pytest.mark.parametrize("typed, sent", [
    ("print c.Retries", "goroutine 7 frame 3 print c.Retries"),
    ("locals -v", "goroutine 7 frame 3 locals -v"),
    ("stack 5", "goroutine 7 stack 5"),
    ("goroutines -group user", "goroutines -group user"),
])
def test_frame_commands_get_the_scope_on_screen(typed, sent):
    assert console_command(typed, 7, 3) == sent


@pytest.mark.parametrize("typed, why", [
    ("quit", "end the dlv session"), ("continue", "does not run"), ("source /tmp/x.star", "files"),
    ("config max-string-len 9999", "how dlv prints"), ("print 1\nexit", "one line"), ("print \x1b[A", "one line"),
    ("   ", "type a dlv command"),
])
def test_what_is_never_sent(typed, why):
    with pytest.raises(Refused, match=why):
        console_command(typed, 1, 0)
