"""Debian 12's dlv 1.20.2 on Go 1.19 cores: its recorded output (tests/data/dlv/1.20.2,
written by tests/record_dlv_outputs.py) through the same parsers and crash rules.
The real dlv 1.20.2 runs the whole suite in the second leg of `make test`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.analysis import crash, forensics
from tui.debugger.delve import Delve
from tui.model import Target
from tui.parse.delve import (
    parse_backtrace,
    parse_current_goroutine,
    parse_frame_offsets,
    parse_goroutine_page,
    parse_goroutines,
    parse_listing_pc,
    parse_memory_words,
    parse_string_array,
    parse_version,
    page_next_start,
)
from tui.debugger.startup import delve_for_go, explain_startup_failure

pytestmark = pytest.mark.toolchain_independent

DATA = Path(__file__).parent / "data" / "dlv"


def recorded(name: str, version: str = "1.20.2") -> str:
    return (DATA / version / f"{name}.txt").read_text()


class Recorded:
    """A CommandRunner answering from recorded output, by command."""

    def __init__(self, answers: dict[str, str]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    def run(self, command: str, timeout: float | None = None) -> str:
        self.asked.append(command)
        return self.answers.get(command, f"Command failed: not recorded: {command}")

    def close(self) -> None:
        pass


def test_version():
    assert parse_version(recorded("version")) == "1.20.2"


def test_go_1_19_panic_frames():
    backtrace = parse_backtrace(recorded("goroutine_panic.stack"), 6)
    assert crash.panic_frame(backtrace).index == 8
    user = backtrace.first_user_frame()
    assert (user.index, user.function, user.line) == (9, "main.main.func1", 15)
    assert user.file == "./tests/fixtures/goroutine_panic/main.go"


def test_goroutines_text_and_current_goroutine():
    goroutines, total = parse_goroutines(recorded("goroutine_panic.goroutines"))
    assert total == len(goroutines) == 6
    assert [g.id for g in goroutines if g.selected] == [6]
    assert goroutines[0].wait_reason == "chan receive" and goroutines[5].thread is not None
    assert parse_current_goroutine(recorded("goroutine_panic.goroutine")) == 6


def test_paging_script_and_go_1_19_wait_reasons():
    reasons = parse_string_array(recorded("many_goroutines.waitreasons"))
    # Go 1.19 numbers them differently from 1.26: read from the target, not a table
    assert len(reasons) == 27 and reasons[14] == "chan receive" and reasons[19] == "sleep"
    page, _ = parse_goroutine_page(recorded("many_goroutines.page0"), reasons)
    assert page_next_start(recorded("many_goroutines.page0")) > 0
    assert len(page) == 40
    first = page[0]
    assert (first.id, first.wait_reason, first.location.function) == (1, "sleep", "time.Sleep")
    idle = [g for g in page if g.location.function == "main.idle"]
    assert idle and all(g.wait_reason == "chan receive" and g.start.function == "main.main.func1" for g in idle)


def deadlock_delve() -> tuple[Delve, Recorded]:
    low = parse_frame_offsets(recorded("deadlock.stack-offsets"))[8]
    runner = Recorded({
        "stack 256": recorded("deadlock.stack"),
        "frame 9 print s": recorded("deadlock.fatal-arg"),
        "stack -offsets 9": recorded("deadlock.stack-offsets"),
        "list runtime.fatal.func1": recorded("deadlock.list-closure"),
        f"x -count 6 -size 8 -x {low:#x}": recorded("deadlock.fatal-frame"),
        f"frame 9 print *(*string)({low + 16:#x})": recorded("deadlock.closure-string"),
    })
    return Delve(runner, Target("main", "core")), runner


def test_fatal_message_read_from_the_closure_when_s_is_unreadable():
    # Go 1.19's runtime.fatal: `s` has no location at the crash PC
    assert recorded("deadlock.fatal-arg").startswith("(unreadable could not find loclist entry")
    delve, runner = deadlock_delve()
    evidence = forensics.evidence(delve, None)
    assert evidence.fatal_message == '"all goroutines are asleep - deadlock!"'
    assert any(command.startswith("frame 9 print *(*string)(") for command in runner.asked)


def test_no_closure_in_the_frame_leaves_the_unreadable_value():
    delve, runner = deadlock_delve()
    frame_words = recorded("deadlock.fatal-frame").replace("0x00000000004332a0", "0x0000000000000001")
    runner.answers[next(c for c in runner.answers if c.startswith("x "))] = frame_words
    assert forensics.evidence(delve, None).fatal_message.startswith("(unreadable")


def test_frame_offsets_memory_words_and_listing_pc():
    addresses = parse_frame_offsets(recorded("deadlock.stack-offsets"))
    assert len(addresses) == 10 and addresses[9] - addresses[8] == 0x30
    words = parse_memory_words(recorded("deadlock.fatal-frame"))
    assert words[1:4] == (0x4332A0, 0x4706B3, 37)
    assert parse_listing_pc(recorded("deadlock.list-closure")) == 0x4332A6


def test_fault_signal_through_runtime_curg_when_gp_is_unreadable():
    stack = recorded("nil_deref.stack")
    runner = Recorded({
        "goroutine 1 stack 256": stack,
        "goroutine 1 frame 8 print p.arg": recorded("nil_deref.panic-arg"),
        "goroutine 1 frame 1 print sig": "6\n",
        "goroutine 1 frame 10 print gp.sig": recorded("nil_deref.sigpanic-gp"),
        "goroutine 1 print runtime.curg.sig": recorded("nil_deref.sigpanic-curg"),
        "goroutine 1 frame 10 print gp.sigcode1": recorded("nil_deref.sigpanic-gp"),
        "goroutine 1 print runtime.curg.sigcode1": "0\n",
    })
    evidence = forensics.evidence(Delve(runner, Target("main", "core")), 1)
    assert (evidence.signal, evidence.fault_signal, evidence.fault_address) == (6, 11, 0)
    found = crash.analyse(evidence, evidence.backtrace)
    assert found.kind is crash.CrashKind.RUNTIME_ERROR
    assert found.frame.function == "main.retries"


@pytest.mark.parametrize("dlv, go, release", [
    # dlv 1.20.2 prints the version without "go": "Go version 1.26.8"
    ("1.20.2", "1.26", "v1.27"),
    ("1.27.2", "1.19", "v1.22"),
])
def test_go_outside_the_range_names_the_delve_release(dlv, go, release):
    message = explain_startup_failure(recorded("startup.other-go", dlv), "/x/main", "/x/core", dlv)
    assert "\n" not in message
    assert f"built with Go {go}" in message and f"dlv {dlv}" in message
    assert f"go install github.com/go-delve/delve/cmd/dlv@{release}" in message


@pytest.mark.parametrize("go_minor, release", [
    # the newest tag whose MinSupportedVersionOfGoMinor..Max covers it
    (17, "v1.9.1"), (18, "v1.21.0"), (19, "v1.22"), (21, "v1.25.0"), (24, "v1.26"), (26, "v1.27"), (30, "latest"),
])
def test_the_delve_release_for_each_go(go_minor, release):
    assert delve_for_go(go_minor) == release
