"""The header Go printed, rebuilt from what a core keeps (tui/analysis/header.py).

The printBacklog texts are what runtime.printBacklog held in the fixtures'
cores (read with dlv); tests/test_go_oracle.py checks the whole path on
every fixture against Go's own stderr."""

from __future__ import annotations

import pytest

from tui.analysis.header import (BACKLOG_BYTES, PanicRecord, backlog_report, chain_links, fatal_message, killer,
                                 panic_lines, signal_lines)
from tui.model import ChainLink

pytestmark = pytest.mark.toolchain_independent


def ring(text: str, wrapped: bool = False) -> str:
    """A printBacklog as forensics.read_backlog returns it: in write order,
    the never-written rest NUL, or (wrapped) exactly the last 512 bytes."""
    if wrapped:
        assert len(text) > BACKLOG_BYTES
        return text[-BACKLOG_BYTES:]
    return "\x00" * (BACKLOG_BYTES - len(text)) + text


STACK_OVERFLOW = ("runtime: goroutine stack exceeds 1048576-byte limit\n"
                  "runtime: sp=0xc6ec38e0388 stack=[0xc6ec38e0000, 0xc6ec39e0000]\n"
                  "fatal error: stack overflow\n")


def test_a_throw_s_report_is_taken_from_the_end_of_the_backlog():
    # the program's own output before it is not part of the report
    report, cut = backlog_report(ring("starting 3 workers\n" + STACK_OVERFLOW))
    assert report == tuple(STACK_OVERFLOW.splitlines()) and not cut
    assert fatal_message(report) == "stack overflow"


def test_a_fatal_error_raised_while_panicking_keeps_its_chain():
    # Go 1.26: printPreFatalDeferPanic, then the tab-indented fatal error
    report, _ = backlog_report(ring("panic: backend unavailable\n\tfatal error: sync: unlock of unlocked mutex\n"))
    assert report == ("panic: backend unavailable", "\tfatal error: sync: unlock of unlocked mutex")
    assert fatal_message(report) == "sync: unlock of unlocked mutex"


def test_a_second_throw_cut_short_by_the_first_s_crash_is_not_its_message():
    # Two goroutines threw at once: the second's `fatal error: ` reached the
    # ring, its message did not (the first had begun to crash). Go printed
    # both lines in full on stderr; the line the ring cut is not a report.
    report, _ = backlog_report(ring("fatal error: sync: unlock of unlocked mutex\nfatal error: "))
    assert report == ("fatal error: sync: unlock of unlocked mutex",)
    assert fatal_message(report) == "sync: unlock of unlocked mutex"
    assert backlog_report(ring("fatal error: ")) == ((), False)


def test_a_backlog_that_does_not_end_in_a_throw_has_no_report():
    assert backlog_report(ring("listening on :8080\nfatal error: not really\nmore output\n")) == ((), False)
    assert backlog_report(ring("")) == ((), False)


def test_a_multi_line_throw_message_keeps_its_indented_lines():
    report, _ = backlog_report(ring("fatal error: two\n\tlines\n"))
    assert report == ("fatal error: two", "\tlines") and fatal_message(report) == "two\nlines"


def test_a_report_longer_than_the_ring_is_cut_and_its_broken_first_line_dropped():
    dump = "".join(f"0x000000c00009{n:04x}:  0x0000000000000000  0x0000000000000000 \n" for n in range(0, 320, 16))
    text = ("runtime: g 1: unexpected return pc for main.encodeFrame called from 0x4141414141414141\n" + dump
            + "fatal error: unknown caller pc\n")
    report, cut = backlog_report(ring(text, wrapped=True))
    assert cut and report[-1] == "fatal error: unknown caller pc"
    assert report == tuple(text.splitlines())[-len(report):]  # the tail, exactly
    assert report[0].startswith("0x000000c00009") and len(report[0]) == len(report[1])  # no half line


def test_a_cut_report_whose_first_kept_line_is_a_hexdump_marker_is_cut():
    # Go 1.21+'s hexdump: the ring's first whole line may be a marker or the column header
    for first in ("                  ^ FP", "                                     ^ SP",
                  "                   7 6 5 4  3 2 1 0   f e d c  b a 9 8  0123456789abcdef"):
        words = "".join(f"00001d72179a{n:04x}: 00000000 00000000  00000000 00000000  ................\n"
                        for n in range(0, 64, 16))
        text = ("runtime: g 1: unexpected return pc for main.encodeFrame called from 0x4141414141414141\n"
                + "x" * 300 + "\n" + first + "\n" + words + "fatal error: unknown caller pc\n")
        backlog = ring(text, wrapped=True)
        assert backlog.index(first) > 0  # the line before it was cut by the ring
        report, cut = backlog_report(backlog)
        assert cut and report[0] == first and report[-1] == "fatal error: unknown caller pc"


def test_chains_print_oldest_first_as_go_prints_them():
    newest_first = (
        PanicRecord('interface {}(string) "rollback: connection closed"'),
        PanicRecord('interface {}(string) "insert order 42: duplicate key"'),
    )
    links = chain_links(newest_first, "go1.26.8")
    assert [link.value for link in links] == ["insert order 42: duplicate key", "rollback: connection closed"]
    assert panic_lines(links, "go1.26.8") == ("panic: insert order 42: duplicate key",
                                              "\tpanic: rollback: connection closed")
    assert killer(links, "go1.26.8").value == "rollback: connection closed"


def test_a_repanicked_value_is_printed_once_and_is_what_killed():
    links = (ChainLink("job 7: nil handler", recovered=True, repanicked=True), ChainLink("job 7: nil handler"))
    assert panic_lines(links, "go1.26.8") == ("panic: job 7: nil handler [recovered, repanicked]",)
    assert killer(links, "go1.26.8") is links[0]
    # Go 1.19 knows no repanicked: both links are printed
    old = (ChainLink("job 7: nil handler", recovered=True), ChainLink("job 7: nil handler"))
    assert panic_lines(old, "go1.19.8") == ("panic: job 7: nil handler [recovered]", "\tpanic: job 7: nil handler")
    assert killer(old, "go1.19.8") is old[1]


def test_a_goexit_link_prints_nothing_and_kills_nothing():
    links = (ChainLink("", goexit=True), ChainLink("release lease: lease already expired"))
    assert panic_lines(links, "go1.26.8") == ("panic: release lease: lease already expired",)
    assert killer((ChainLink("", goexit=True),), "go1.26.8") is None


def test_named_values_are_printed_as_go_prints_them():
    record = PanicRecord("interface {}(main.Celsius) -300.5", kind="float64")
    assert chain_links((record,), "go1.26.8")[0].value == "main.Celsius(-300.5)"
    assert chain_links((record,), "go1.19.8")[0].value == "main.Celsius(-3.005000e+002)"
    pointer = PanicRecord("interface {}(*main.Request) *{Method: \"BREW\"}", kind="ptr", address=0xC000082000)
    assert chain_links((pointer,), "go1.26.8")[0].value == "(*main.Request) 0xc000082000"


def test_a_value_delve_cut_is_kept_as_delve_printed_it():
    cut = PanicRecord('interface {}(main.State) "draining...+4000 more"', kind="string")
    assert "+4000 more" in chain_links((cut,), "go1.26.8")[0].value


def test_a_fatal_signal_says_its_name_and_whether_it_came_in_c():
    assert signal_lines("SIGSEGV: segmentation violation", in_cgo=True) == (
        "SIGSEGV: segmentation violation", "signal arrived during cgo execution")
    assert signal_lines("SIGABRT: abort", in_cgo=False) == ("SIGABRT: abort",)


def test_a_cut_header_says_so_above_what_is_left_on_screen_and_in_the_report():
    from tui.model import HEADER_CUT_NOTE, Crash, CrashKind
    from tui.widgets.crash_summary import header_text

    kept = ("runtime: sp=0xc6ec38e0388 stack=[0xc6ec38e0000, 0xc6ec39e0000]", "fatal error: stack overflow")
    cut = Crash(CrashKind.FATAL_ERROR, "stack overflow", 6, 1, 1, None, header=kept, header_cut=True)
    assert header_text(cut).plain.splitlines() == [HEADER_CUT_NOTE, *kept]
    assert "earlier lines lost" in HEADER_CUT_NOTE
    whole = Crash(CrashKind.FATAL_ERROR, "stack overflow", 6, 1, 1, None, header=kept)
    assert header_text(whole).plain.splitlines() == list(kept)
