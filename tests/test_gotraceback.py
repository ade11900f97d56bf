"""tui.parse.gotraceback on what Go programs really printed as they died.

The texts under tests/data/go/<go version>/ are the stderr of the fixtures
(tests/fixtures/NAME, run by tests/corecache.py with GOTRACEBACK=crash) and
of tests/data/go/wait_minutes.go.txt, copied from build/test-cores; see
tests/data/go/README.md.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui.parse import ParseError
from tui.parse.gotraceback import (
    GoTraceback,
    function_package,
    is_main_module,
    parse_traceback,
)

pytestmark = pytest.mark.toolchain_independent

DATA = Path(__file__).parent / "data" / "go"
GO126, GO119 = "go1.26.8", "go1.19.8"
MODULE = "gocoretui.example/fixtures"
RECORDED = sorted(DATA.glob("go1.*/*.stderr"))


def recorded(version: str, name: str) -> str:
    return (DATA / version / f"{name}.stderr").read_text()


def parsed(version: str, name: str) -> GoTraceback:
    return parse_traceback(recorded(version, name))


def own_frame(trace: GoTraceback):
    block = trace.goroutine(trace.crashing_goroutine)
    return block.first_frame_in(lambda package: is_main_module(package, MODULE))


@pytest.mark.parametrize("path", RECORDED, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_recorded_line_is_understood(path):
    trace = parse_traceback(path.read_text())
    assert trace.unparsed == ()
    assert trace.goroutines and all(block.frames or block.stack_unavailable for block in trace.goroutines)


# What each header says, as Go printed it (without [signal ...] and PC= lines).
HEADERS = {
    (GO126, "chain_three_repanic"): ["panic: db: pool exhausted [recovered, repanicked]"],
    (GO119, "chain_three_repanic"): ["panic: db: pool exhausted [recovered]",
                                     "\tpanic: db: pool exhausted [recovered]",
                                     "\tpanic: db: pool exhausted [recovered]",
                                     "\tpanic: db: pool exhausted"],
    (GO126, "chain_repanic_then_cleanup_panic"): ["panic: upload: disk full [recovered, repanicked]",
                                                  "\tpanic: cleanup: remove /tmp/upload-1: busy"],
    (GO119, "chain_repanic_then_cleanup_panic"): ["panic: upload: disk full [recovered]",
                                                  "\tpanic: upload: disk full",
                                                  "\tpanic: cleanup: remove /tmp/upload-1: busy"],
    (GO126, "goexit_during_panic"): ["panic: parse: unexpected EOF", "\tpanic: unlock: not held"],
    (GO126, "fatal_unlock_in_panic"): ["panic: backend unavailable",
                                       "\tfatal error: sync: unlock of unlocked mutex"],
    (GO119, "fatal_unlock_in_panic"): ["fatal error: sync: unlock of unlocked mutex"],
    (GO126, "value_complex64"): ["panic: main.Phasor(0.11+3i)"],
    (GO119, "value_complex64"): ["panic: main.Phasor(+1.100000e-001+3.000000e+000i)"],
    (GO126, "value_float32"): ["panic: main.Kilograms(-0.099999994)"],
    (GO119, "value_float32"): ["panic: main.Kilograms(-9.999999e-002)"],
    (GO126, "panic_struct"): ["panic: (main.Failure) 0x4a37b8"],
    (GO126, "value_multiline"): ["panic: migration 0042 failed:", "\tALTER TABLE orders",
                                 "\t  ADD COLUMN total numeric NOT NULL", '\t(column "total" contains null values)'],
    (GO119, "value_multiline"): ["panic: migration 0042 failed:", "ALTER TABLE orders",
                                 "  ADD COLUMN total numeric NOT NULL", '(column "total" contains null values)'],
    (GO126, "printing_panics_type"): ["fatal error: panic while printing panic value: type runtime.errorString"],
    (GO126, "wild_pointer"): ["unexpected fault address 0xdead0", "fatal error: fault"],
    (GO126, "cgo_crash"): ["SIGSEGV: segmentation violation", "signal arrived during cgo execution"],
    (GO119, "cgo_crash"): ["fatal error: unexpected signal during runtime execution"],
    (GO126, "syscall_abort"): ["SIGABRT: abort"],
    (GO119, "deadlock"): ["fatal error: all goroutines are asleep - deadlock!"],
    (GO126, "decoder_repanic"): ["panic: runtime error: index out of range [0] with length 0 [recovered, repanicked]"],
}


@pytest.mark.parametrize("version, name", sorted(HEADERS))
def test_header_lines_are_what_go_printed(version, name):
    assert list(parsed(version, name).header_lines) == HEADERS[(version, name)]


def test_a_repanic_prints_once_from_go_1_25_and_every_link_before():
    new = parsed(GO126, "chain_three_repanic")
    assert [(l.kind, l.text, l.recovered, l.repanicked) for l in new.chain] == [
        ("panic", "db: pool exhausted", True, True)]
    old = parsed(GO119, "chain_three_repanic")
    assert [(l.nested, l.recovered, l.repanicked) for l in old.chain] == [
        (False, True, False), (True, True, False), (True, True, False), (True, False, False)]
    assert {l.text for l in old.chain} == {"db: pool exhausted"}
    # the middleware's own log lines come first: the program's output, not Go's
    assert new.noise == ("tracing: recovered db: pool exhausted", "auth: recovered db: pool exhausted",
                         "access-log: recovered db: pool exhausted")


def test_a_fatal_error_while_panicking_is_a_nested_link():
    chain = parsed(GO126, "fatal_unlock_in_panic").chain
    assert [(l.kind, l.nested, l.text) for l in chain] == [
        ("panic", False, "backend unavailable"), ("fatal error", True, "sync: unlock of unlocked mutex")]


def test_continuation_lines_of_a_value_stay_with_it():
    new = parsed(GO126, "value_multiline").chain
    assert len(new) == 1 and new[0].text.splitlines()[1:] == [
        "\tALTER TABLE orders", "\t  ADD COLUMN total numeric NOT NULL", '\t(column "total" contains null values)']
    old = parsed(GO119, "value_multiline").chain
    assert len(old) == 1 and old[0].text.splitlines()[1] == "ALTER TABLE orders"


def test_a_traceback_inside_a_panic_value_is_not_a_goroutine():
    # Go 1.19 prints debug.Stack()'s lines in the value unindented: only the
    # blank line before Go's own `goroutine 1 [running]:` separates them.
    for version in (GO119, GO126):
        trace = parsed(version, "value_with_stack")
        second = trace.chain[1]
        assert second.text.startswith("task 3 failed: runtime error: integer divide by zero\n")
        assert "goroutine 1 [running]:" in second.text and "runtime/debug.Stack()" in second.text
        assert trace.crashing_goroutine == 1
        assert own_frame(trace).function == "main.runTask.func1"
        assert trace.goroutines[0].frames[0].function == "panic"
    assert parsed(GO119, "value_with_stack").header[2] == "goroutine 1 [running]:"
    # debug.Stack() ends in a newline: Go 1.19 prints it as a blank line of the
    # value, before the blank line that separates the header from the stacks
    assert parsed(GO119, "value_with_stack").header_lines[-2:] == (
        "\t/work/wt-oracle/tests/fixtures/value_with_stack/main.go:33 +0x25", "")
    assert parsed(GO126, "value_with_stack").header_lines[-1] == "\t"
    assert parsed(GO126, "value_with_stack").header[2] == "\tgoroutine 1 [running]:"


def test_goroutine_headers_of_both_formats():
    new = parsed(GO126, "goexit_during_panic")
    first = new.goroutines[0]
    assert (first.id, first.state, first.m, first.wait_minutes) == (17, "running", 0, None)
    assert first.gp is not None and first.mp is not None
    waiting = [g for g in new.goroutines if g.m is None]
    assert waiting and all(g.mp is None and g.gp for g in waiting)
    assert first.created_by.function == "main.main" and first.created_by.goroutine == 1
    old = parsed(GO119, "goexit_during_panic").goroutines[0]
    assert (old.id, old.state, old.gp, old.m, old.mp) == (17, "running", None, None, None)
    assert old.created_by.function == "main.main" and old.created_by.goroutine is None


def test_frames_keep_function_args_place_and_pcs():
    frames = parsed(GO126, "chain_deferred_panic").goroutines[0].frames
    assert [f.function for f in frames[:5]] == [
        "panic", "main.(*Tx).Rollback", "main.saveOrder.deferwrap1", "panic", "main.(*Tx).Insert"]
    rollback = frames[1]
    assert rollback.file.endswith("tests/fixtures/chain_deferred_panic/main.go") and rollback.line == 15
    assert rollback.offset == 0x35 and rollback.pc and rollback.sp and rollback.fp
    assert rollback.package == "main" and not rollback.inlined


def test_wait_minutes_and_locked_to_thread():
    for version, mutex in ((GO126, "sync.Mutex.Lock"), (GO119, "semacquire")):
        trace = parsed(version, "wait_minutes")
        states = {g.id: (g.state, g.wait_minutes, g.locked_to_thread) for g in trace.goroutines}
        assert states[17] == ("chan receive", 1, False)
        assert states[18] == (mutex, 1, True)
        assert states[19] == ("select (no cases)", 1, False)
        assert states[1] == ("running", None, False)


def test_a_throw_on_the_system_stack():
    for version in (GO119, GO126):
        deadlock = parsed(version, "deadlock")
        assert deadlock.runtime_stack and deadlock.runtime_stack[0].function == "runtime.fatal"
        # the scheduler found the deadlock: goroutine 1 was only waiting
        assert deadlock.goroutines[0].state == "chan send" and deadlock.crashing_goroutine is None
        overflow = parsed(version, "stack_overflow")
        assert overflow.runtime_stack[0].function == "runtime.throw"
        # the thread's goroutine is printed first, running
        assert overflow.crashing_goroutine == 1 and overflow.goroutines[0].state == "running"
    assert parsed(GO126, "stack_overflow").header_lines[2] == "fatal error: stack overflow"


def test_elided_frames():
    new = parsed(GO126, "stack_overflow").goroutines[0]
    assert new.elided and new.elided_frames == 26091 and len(new.frames) == 100
    old = parsed(GO119, "stack_overflow").goroutines[0]
    assert old.elided and old.elided_frames is None and len(old.frames) == 100


def test_a_goroutine_on_another_thread():
    other = [g for g in parsed(GO126, "concurrent_map").goroutines if g.stack_unavailable]
    assert len(other) == 1 and other[0].state == "running" and other[0].frames == ()
    assert other[0].created_by.function == "main.main"


def test_a_fatal_signal_with_its_thread_dumps_and_registers():
    trace = parsed(GO126, "cgo_crash")
    signal = trace.fatal_signal
    assert (signal.name, signal.description, signal.m, signal.sigcode, signal.addr) == (
        "SIGSEGV", "segmentation violation", 0, 1, 0)
    assert signal.pc == 0x489759 and trace.chain == () and trace.signal is None
    assert trace.crashing_goroutine == 1 and trace.goroutines[0].state == "syscall"
    assert [name for name, _ in trace.registers][:3] == ["rax", "rbx", "rcx"] and len(trace.registers) == 21
    assert dict(trace.registers)["rip"] == signal.pc
    assert len(trace.threads) == 4
    for dump in trace.threads:
        assert (dump.signal.name, dump.signal.description) == ("SIGQUIT", "quit")
        assert [g.id for g in dump.goroutines] == [0] and dump.goroutines[0].state == "idle"
        assert len(dump.registers) == 21
    # the thread's g0 is not a goroutine of the program
    assert all(g.id != 0 for g in trace.goroutines)


def test_a_signal_raised_inside_a_raw_syscall():
    for version in (GO119, GO126):
        trace = parsed(version, "syscall_abort")
        assert trace.noise == ("state: journal checksum mismatch; aborting for a core dump",)
        assert (trace.fatal_signal.name, trace.fatal_signal.sigcode) == ("SIGABRT", 18446744073709551610)
        first = trace.goroutines[0]
        assert first.state == "running" and first.locked_to_thread
        assert [f.package for f in first.frames[1:3]] == ["syscall", "syscall"]
        assert own_frame(trace).function == "main.abortOnCorruption"


def test_signal_note_of_a_fault():
    note = parsed(GO126, "wild_pointer").signal
    assert (note.name, note.description, note.code, note.addr, note.pc) == (
        "SIGSEGV", "segmentation violation", 1, 0xdead0, 0x4844F5)
    assert [l.text for l in parsed(GO126, "wild_pointer").chain] == ["fault"]
    note = parsed(GO119, "printing_panics_type").signal
    assert (note.name, note.addr) == ("SIGSEGV", 0)


def test_unknown_caller_pc_keeps_the_diagnostics():
    for version in (GO119, GO126):
        trace = parsed(version, "unknown_caller_pc")
        assert trace.header[0] == "runtime: g 1: unexpected return pc for main.encodeFrame called from 0x4141414141414141"
        assert trace.header[1].startswith("stack: frame={sp:")
        assert trace.header_lines[-1] == "fatal error: unknown caller pc"
        assert [l.text for l in trace.chain] == ["unknown caller pc"]
        block = trace.goroutines[0]
        assert (block.id, block.state) == (1, "copystack") and trace.crashing_goroutine == 1
        assert block.notes[0].startswith("runtime: g 1: unexpected return pc for main.encodeFrame")
        assert own_frame(trace).function == "main.checksum"


def test_the_program_s_own_frame():
    lib = parsed(GO126, "lib_repanic")
    assert lib.noise == ("middleware: panic serving /orders/17: order 17 has no customer",)
    assert own_frame(lib).function == "gocoretui.example/fixtures/lib_repanic/middleware.Recover.func1.1"
    for version in (GO119, GO126):
        decoder = parsed(version, "decoder_repanic")
        first = decoder.goroutines[0].frames[1]
        assert first.function == "example.com/yamlish%2ev3.handleErr"
        assert first.package == "example.com/yamlish.v3"
        assert own_frame(decoder).function == "main.loadConfig"
        # cgo's generated wrapper is package main but not the program's code
        cgo = parsed(version, "cgo_crash")
        assert own_frame(cgo).function == "main.callC"
        # the Error method the runtime called while printing
        assert own_frame(parsed(version, "printing_panics_type")).function == "main.ValidationError.Error"


def test_function_packages():
    assert function_package("panic") == "runtime"
    assert function_package("main.(*Cache).Refresh.deferwrap1") == "main"
    assert function_package("runtime.goexit") == "runtime"
    assert function_package("internal/runtime/syscall/linux.Syscall6") == "internal/runtime/syscall/linux"
    assert function_package("gocoretui.example/fixtures/lib_repanic/middleware.Recover.func1.1") == \
        "gocoretui.example/fixtures/lib_repanic/middleware"
    assert function_package("gopkg.in/yaml%2ev3.handleErr") == "gopkg.in/yaml.v3"
    assert function_package("main.Map[go.shape.*example.com/x.T]") == "main"
    assert is_main_module("main", MODULE) and is_main_module(MODULE + "/a/b", MODULE)
    assert not is_main_module(MODULE + "x/a", MODULE) and not is_main_module("example.com/yamlish.v3", MODULE)


def test_a_logged_stack_before_the_report_is_noise():
    # A service that logged a whole earlier crash report on stderr, then died
    # for real: the last report is Go's, the first is the program's output.
    logged = recorded(GO126, "panic_struct")
    real = recorded(GO126, "chain_deferred_panic")
    for joined in (logged + real, logged + "\n" + real, logged + "2024/05/01 12:00:00 recovered, serving\n" + real):
        trace = parse_traceback(joined)
        assert trace.header_lines == ("panic: insert order 42: duplicate key", "\tpanic: rollback: connection closed")
        assert trace.noise[0] == "panic: (main.Failure) 0x4a37b8" and trace.unparsed == ()
        assert trace.crashing_goroutine == 1 and own_frame(trace).function == "main.(*Tx).Rollback"
        assert len(trace.goroutines) == len(parse_traceback(real).goroutines)


def test_text_without_a_go_report_is_a_parse_error():
    for text in ("", "\n", "starting server on :8080\nlistening\n", "main.main()\n\t/x/main.go:3 +0x1d\n"):
        with pytest.raises(ParseError):
            parse_traceback(text)


def test_a_bare_goroutine_dump_has_an_empty_header():
    text = "goroutine 1 [running]:\nmain.main()\n\t/x/main.go:3 +0x1d\n"
    trace = parse_traceback(text)
    assert trace.header == () and trace.goroutines[0].frames[0].function == "main.main"


# Property tests: synthetic blocks rendered the way runtime/traceback.go
# prints them parse back; arbitrary text only ever raises ParseError.

_names = st.from_regex(r"[a-z]{1,8}(/[a-z]{1,8}){0,2}\.[A-Za-z]{1,8}(\.func[0-9])?", fullmatch=True)
_frames = st.lists(st.tuples(_names, st.sampled_from(["", "0x1, 0x2", "{0x4c7c20?, 0x4ef8d0?}", "..."]),
                             st.integers(1, 99999), st.integers(0, 0xFFFF)), min_size=1, max_size=6)
_states = st.sampled_from(["running", "chan receive", "select (no cases)", "sync.Mutex.Lock", "force gc (idle)",
                           "syscall", "GC worker (idle)", "semacquire"])


@settings(max_examples=200, deadline=None)
@given(goid=st.integers(1, 10**7), state=_states, minutes=st.one_of(st.none(), st.integers(1, 10**5)),
       locked=st.booleans(), frames=_frames, new_format=st.booleans(), creator=st.one_of(st.none(), _names))
def test_rendered_blocks_parse_back(goid, state, minutes, locked, frames, new_format, creator):
    status = state + (f", {minutes} minutes" if minutes else "") + (", locked to thread" if locked else "")
    where = " gp=0xc000001000 m=nil" if new_format else ""
    lines = ["panic: boom", "", f"goroutine {goid}{where} [{status}]:"]
    for function, args, line, offset in frames:
        lines += [f"{function}({args})", f"\t/src/app/main.go:{line} +0x{offset:x}"]
    if creator:
        lines += [f"created by {creator}" + (" in goroutine 1" if new_format else ""), "\t/src/app/main.go:7 +0x25"]
    trace = parse_traceback("\n".join(lines) + "\n")
    block = trace.goroutines[0]
    assert trace.unparsed == () and trace.crashing_goroutine == goid
    assert (block.state, block.wait_minutes, block.locked_to_thread) == (state, minutes, locked)
    assert [(f.function, f.args, f.line, f.offset) for f in block.frames] == list(frames)
    assert (block.created_by.function if block.created_by else None) == creator


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=400))
def test_arbitrary_text_parses_or_raises_parse_error(text):
    try:
        parse_traceback(text)
    except ParseError:
        pass


_pieces = st.sampled_from(["panic: x", "\tpanic: y [recovered]", "fatal error: z", "", "goroutine 1 [running]:",
                           "goroutine 2 gp=0x1 m=3 mp=0x2 [chan send, 3 minutes]:", "main.f(0x1)", "main.f(",
                           "\t/a.go:3 +0x1", "\t/a.go:x", "created by main.g in goroutine 1", "-----",
                           "SIGQUIT: quit", "PC=0x1 m=0 sigcode=0", "rax    0x0", "runtime stack:",
                           "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x1]",
                           "...additional frames elided...", "[originating from goroutine 1]:", "runtime: oops"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_pieces, max_size=30))
def test_shuffled_traceback_lines_parse_or_raise_parse_error(pieces):
    try:
        trace = parse_traceback("\n".join(pieces))
    except ParseError:
        return
    assert isinstance(trace, GoTraceback)
