"""Two goroutines that throw at once (two map writers each catch the
other): Go prints both `fatal error:` lines, then the first thrower's
traceback; the core stops in the last one. The summary says what Go said."""

from __future__ import annotations

import pytest

from tui.analysis.crash import with_every_throw
from tui.analysis.forensics import first_thrower
from tui.model import Backtrace, Frame
from tui.parse import ParseError
from tui.parse.delve import parse_throwers

pytestmark = pytest.mark.toolchain_independent

WRITES = "concurrent map writes"


def test_the_missing_fatal_lines_follow_the_kept_ones():
    kept = (f"fatal error: {WRITES}",)
    assert with_every_throw(kept, (WRITES, WRITES)) == (f"fatal error: {WRITES}",) * 2
    # both printed before the first began to die: the backlog kept both
    assert with_every_throw(kept * 2, (WRITES, WRITES)) == kept * 2
    assert with_every_throw(kept, (WRITES, "concurrent map read and map write")) == (
        *kept, "fatal error: concurrent map read and map write")
    assert with_every_throw(kept, (WRITES, "")) == kept  # unreadable: not made up


def test_throwers_are_read_as_goroutine_and_thread():
    assert parse_throwers("T\t1\t15180\nT\t17\t15184\n") == {1: 15180, 17: 15184}
    assert parse_throwers("\n") == {}
    with pytest.raises(ParseError):
        parse_throwers("Command failed: no such command")


class TwoThrowers:
    """A dlv on a core where goroutines 1 (on the crashing thread) and 17 threw."""

    def __init__(self, throwers: dict[int, int], current: int, runs: dict[int, int] | None = None) -> None:
        self._throwers, self.current, self.switched = throwers, current, []
        # thread -> the goroutine it runs when switched to
        self.runs = runs or {thread: goroutine for goroutine, thread in throwers.items()}

    def throwers(self):
        return dict(self._throwers)

    def current_goroutine(self):
        return self.current

    def switch_thread(self, thread_id):
        self.switched.append(thread_id)
        self.current = self.runs[thread_id]

    def backtrace(self, goroutine_id):
        return Backtrace(goroutine_id, (Frame(0, 0x1, "runtime.fatal", "/go/src/runtime/panic.go", 1066),))

    def evaluate(self, goroutine_id, frame_index, expression):
        return f'"{WRITES}"' if expression == "s" else None


def test_the_goroutine_go_printed_first_is_made_current():
    delve = TwoThrowers({1: 15180, 17: 15184}, current=1)
    assert first_thrower(delve, 1) == (17, ((1, WRITES),))
    assert delve.switched == [15184] and delve.current == 17


@pytest.mark.parametrize("throwers", [{1: 15180}, {}, {17: 15184, 18: 15185}])
def test_one_throw_or_none_on_the_crashing_thread_changes_nothing(throwers):
    delve = TwoThrowers(throwers, current=1)
    assert first_thrower(delve, 1) == (1, ())
    assert delve.switched == []


def test_a_thread_that_runs_another_goroutine_is_left_where_the_core_stopped():
    delve = TwoThrowers({1: 15180, 17: 15184}, current=1, runs={15180: 1, 15184: 5})
    assert first_thrower(delve, 1) == (1, ())
    assert delve.switched == [15184, 15180] and delve.current == 1
