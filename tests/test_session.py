"""The pty session on the real dlv: a command past its timeout is interrupted
and never answers the next one; a hung dlv is stopped; hostile text is refused."""

from __future__ import annotations

import os
import signal

import pytest

from tui.debugger.delve import Delve
from tui.debugger.session import CommandTimeout, SessionDied

# A Starlark command that runs for minutes: dlv cancels it on Ctrl+C.
SPIN = """
def command_gocore_spin(args):
    n = 0
    for i in range(1000000000):
        n += i
    print(n)
"""


@pytest.fixture
def delve(cores, dlv_path, tmp_path):
    core = cores["goroutine_panic"]
    opened = Delve.open(str(core.exe), str(core.core), dlv=str(dlv_path))
    script = tmp_path / "spin.star"
    script.write_text(SPIN)
    opened.runner.run(f"source {script}")
    yield opened
    opened.close()


def test_a_command_past_its_timeout_is_interrupted_and_the_session_goes_on(delve):
    # The spin runs for minutes: any timeout is past, and none is a race.
    # Wherever the ^C lands (before dlv has read the line, which a second ^C
    # covers, or in the loop) the session must come back.
    before = delve.backtrace(1)
    with pytest.raises(CommandTimeout, match="interrupted"):
        delve.runner.run("gocore_spin", timeout=0.3)
    assert delve.runner.is_alive()
    # The next answers are their own, not the cancelled command's leftovers.
    assert delve.backtrace(1) == before
    assert delve.evaluate(None, 0, '"after"') == '"after"'


def test_a_hung_dlv_is_stopped_not_waited_on(delve, monkeypatch):
    # A stopped dlv answers nothing, however long it is given: short waits.
    monkeypatch.setattr("tui.debugger.session.INTERRUPT_GRACE", 1.0)
    pid = delve.runner.pid
    os.kill(pid, signal.SIGSTOP)  # hung: answers nothing, not even Ctrl+C
    try:
        with pytest.raises(SessionDied, match="nor stop when interrupted"):
            delve.runner.run("goroutine", timeout=0.3)
    finally:
        try:
            os.kill(pid, signal.SIGCONT)
        except ProcessLookupError:
            pass
    assert not delve.runner.is_alive()
    with pytest.raises(SessionDied):
        delve.runner.run("goroutine")


@pytest.mark.parametrize("text", ["goroutine\nexit", "print 1\rquit", "print \x03", "print \x15x", "   ", "print \x7f"])
def test_control_characters_never_reach_the_pty(delve, text):
    with pytest.raises(ValueError, match="one line of printable text"):
        delve.runner.run(text)
    assert delve.evaluate(None, 0, "1+1") == "2"
