"""gdb parsers on recorded gdb 13.1 output, and the pure comparison."""

from pathlib import Path

import pytest

from hypothesis import given, strategies as st

from snapshot_app import recorded_demo
from tui.analysis.compare import RowMark, align, compare, verdict, Score
from tui.analysis.showdown import collect_stacks, one_line, read_delve_values, score
from tui.debugger.delve import replay
from tui.debugger.gdb import faulting_frame_index, gdb_run_from_outputs
from tui.model import Crash, CrashKind, Frame, GdbRun, Goroutine, Location, Variable
from tui.parse.delve import parse_backtrace as parse_delve_backtrace
from tui.parse.delve import parse_goroutines as parse_delve_goroutines
from tui.parse.gdb import (SIGNAL_HANDLER, fold_noise, parse_backtrace, parse_frame_values, parse_goroutine_stack,
                           parse_goroutines, parse_thread_stacks, parse_threads, parse_values, python_errors, section,
                           sections, value_problem)

pytestmark = pytest.mark.toolchain_independent

DATA = Path(__file__).parent / "data"
TRANSCRIPTS = Path(__file__).parent / "transcripts"


def gdb_text(name: str) -> str:
    return (DATA / "gdb" / f"{name}.txt").read_text()


def dlv_text(name: str) -> str:
    return (DATA / "dlv" / f"{name}.txt").read_text()


def test_gdb_backtrace_of_the_seed_core():
    frames, stopped = parse_backtrace(gdb_text("goroutine_panic.plain"))
    # The startup "#0" line is not counted twice.
    assert [f.index for f in frames] == list(range(14))
    assert frames[0].pc == 0 and frames[0].function == "runtime.raise"
    assert frames[5].function == SIGNAL_HANDLER
    assert frames[11].function == "main.main.func1" and frames[11].line == 15
    assert frames[-1].function == "???" and stopped


def test_gdb_threads_goroutines_and_failures():
    assert parse_threads(gdb_text("goroutine_panic.plain")) == 4
    goroutines = parse_goroutines(gdb_text("goroutine_panic.go"))
    assert [g.id for g in goroutines] == [1, 2, 3, 4, 17, 18]
    assert all(g.function.startswith("runtime.") for g in goroutines)
    assert next(g for g in goroutines if g.selected).id == 18
    # runtime-gdb.py cannot walk a parked goroutine's stack without a process.
    errors = python_errors(gdb_text("goroutine_panic.go"))
    assert any("without a process to debug" in e for e in errors)


def test_noise_is_folded_not_lost():
    text = gdb_text("goroutine_panic.plain")
    kept, folded = fold_noise(text)
    # four "[New LWP n]" lines and the ten lines of the auto-load warning
    assert folded == 14 and "[New LWP" not in kept and "auto-load" not in kept
    assert "#11 0x00000000004d2bc5 in main.main.func1" in kept


def _delve_frames(name):
    return parse_delve_backtrace(dlv_text(name)).frames


def test_alignment_puts_the_same_frame_on_one_row():
    rows = align(_delve_frames("goroutine_panic.stack"), parse_backtrace(gdb_text("goroutine_panic.plain"))[0])
    user = [r for r in rows if r.is_user]
    assert len(user) == 1 and user[0].mark is RowMark.SAME
    assert user[0].delve.pc == user[0].gdb.pc == 0x4D2BC5
    assert rows[-1].mark is RowMark.GDB_UNKNOWN and rows[-1].delve is None
    assert any(r.mark is RowMark.SIGNAL_HANDLER for r in rows)


def test_gdb_reports_another_line_after_a_sigpanic():
    rows = align(_delve_frames("nil_deref.stack"), parse_backtrace(gdb_text("nil_deref.plain"))[0])
    retries = next(r for r in rows if r.delve and r.delve.function == "main.retries")
    assert retries.mark is RowMark.WRONG_LINE
    assert (retries.delve.line, retries.gdb.line) == (10, 9)


def _crash(frame: Frame, message="PANIC") -> Crash:
    return Crash(CrashKind.PANIC, message, 6, 18, 18, frame)


def test_scorecard_numbers_come_from_the_parsed_frames():
    delve_frames = _delve_frames("goroutine_panic.stack")
    goroutines, _ = parse_delve_goroutines(dlv_text("goroutine_panic.goroutines"))
    frames, stopped = parse_backtrace(gdb_text("goroutine_panic.plain"))
    run = GdbRun(frames=frames, stopped_early=stopped, threads=4,
                 goroutines=parse_goroutines(gdb_text("goroutine_panic.go")),
                 plain_output=gdb_text("goroutine_panic.plain"), seconds=0.3)
    user_frame = delve_frames[8]
    result = compare(_crash(user_frame), delve_frames, delve_frames, goroutines, run, 0.2)
    assert (result.delve.frames, result.delve.frames_resolved) == (10, 10)
    assert (result.gdb.frames, result.gdb.frames_resolved) == (14, 12)
    assert result.delve.reached_user_frame
    assert result.gdb.reached_user_frame == any(
        f.function == "main.main.func1" and f.line == 15 for f in frames)
    assert (result.delve.goroutines_visible, result.gdb.goroutines_visible) == (6, 6)
    assert (result.delve.user_locations, result.gdb.user_locations) == (2, 1)
    assert result.delve.panic_value and not result.gdb.panic_value
    # Without Delve's whole stacks nobody has one; runtime-gdb.py gives no wait reason.
    assert (result.delve.goroutine_stacks, result.gdb.goroutine_stacks) == (0, 0)
    assert (result.delve.wait_reasons, result.gdb.wait_reasons) == (4, 0)
    assert result.verdict.startswith("Delve wins 4 of 8 measures: goroutines with a user location (2 vs 1), "
                                     "goroutines with a wait reason (4 vs 0), panic value recovered (yes vs no)")


def test_the_verdict_follows_the_numbers_when_gdb_does_better():
    # A cgo crash where gdb resolves C frames Delve shows as ???.
    delve = Score(frames=6, frames_resolved=3, reached_user_frame=False, goroutines_visible=4,
                  user_locations=1, panic_value=False, seconds=0.1)
    gdb = Score(frames=6, frames_resolved=6, reached_user_frame=True, goroutines_visible=4,
                user_locations=1, panic_value=False, seconds=0.3)
    sentence = verdict(delve, gdb, "crash_in_c at crash.c:7")
    assert sentence.startswith("gdb wins 2 of 8 measures")
    assert "3/6 vs 6/6" in sentence


def test_unmatched_delve_frames_are_marked_missing():
    d = (Frame(0, 0x10, "main.a", "a.go", 1), Frame(1, 0x20, "main.b", "a.go", 2))
    g = (Frame(0, 0x10, "main.a", "a.go", 1),)
    rows = align(d, g)
    assert [r.mark for r in rows] == [RowMark.SAME, RowMark.GDB_MISSING]
    goroutine = Goroutine(1, Location("a.go", 1, "main.a"))
    assert not goroutine.is_runtime


def test_a_hung_debugger_is_cut_off_and_what_it_printed_is_kept():
    from tui.debugger.batch import run_batch

    # Cut off at 2 s: what it prints at once is out by then (0.05 s at most under two CPU hogs).
    result = run_batch(["bash", "-c", "echo '#0  0x1 in main.f () at a.go:3'; sleep 30"], timeout=2.0)
    assert result.timed_out and result.seconds < 30  # not waited for
    assert parse_backtrace(result.output)[0][0].function == "main.f"


# --- the demo core (tests/transcripts/demo_checkout.json: dlv 1.27.2 and gdb 13 on Go 1.26) ---


def test_gdb_sections_threads_and_goroutine_stacks_of_the_demo_core():
    _, snapshot, goroutines, run = recorded_demo()
    meta = replay(str(TRANSCRIPTS / "demo_checkout.json")).runner.meta
    assert [name for name, _ in sections(meta["gdb_go"])] == ["", "info goroutines", "threads"]
    # `thread apply all bt`: one stack an OS thread, each with its LWP
    assert [stack.thread for stack in run.thread_stacks] == [4, 3, 2, 1]
    assert all(stack.lwp for stack in run.thread_stacks)
    crashing = next(g for g in goroutines if g.id == snapshot.crash.goroutine_id)
    on_crashing_thread = next(stack for stack in run.thread_stacks if stack.lwp == crashing.thread)
    assert [f.function for f in on_crashing_thread.frames][11:14] == ["main.checkout", "main.main.func1", "runtime.goexit"]
    # `goroutine N bt` for each goroutine runtime-gdb.py listed: only the running one comes back
    assert [stack.goroutine_id for stack in run.goroutine_stacks] == [g.id for g in run.goroutines]
    walked = [stack for stack in run.goroutine_stacks if not stack.error]
    assert [stack.goroutine_id for stack in walked] == [crashing.id]
    assert {stack.error for stack in run.goroutine_stacks if stack.error} == {
        "You can't do that without a process to debug."}
    assert run.goroutines_untried == 0


def test_gdb_values_of_the_faulting_frame():
    _, snapshot, _, run = recorded_demo()
    values = run.values
    assert values.frame.function == "main.checkout" and values.frame.line == 90 and not values.error
    assert values.frame.index == faulting_frame_index(run.frames, snapshot.crash.frame) == 11
    printed = {v.name: (v.kind, v.problem) for v in values.args + values.locals}
    assert printed == {"order": ("arg", ""), "items": ("arg", ""), "discount": ("arg", "raw interface"),
                       "stock": ("arg", ""), "err": ("local", "raw interface"), "total": ("local", "")}
    stock = next(v for v in values.args if v.name == "stock")
    assert stock.value == 'map[string]int = {["book-42"] = 5, ["mug-7"] = 2}'


def test_delve_prints_the_same_frame_in_full():
    delve, snapshot, _, _ = recorded_demo()
    values = {v.name: v.value for v in read_delve_values(delve.evaluate, snapshot.frame)}
    assert values["discount"] == "interface {}(float64) 0.15"
    assert values["err"] == 'error(*errors.errorString) *{s: "card declined",}'
    assert values["stock"] == 'map[string]int ["book-42": 5, "mug-7": 2,]'
    assert values["items"].startswith('[]main.Item len: 2, cap: 2, [{SKU: "book-42", Qty: 2, Price: 39.5}, ')
    # `locals` alone elides them
    assert {v.name: v.partial for v in snapshot.frame.args}["stock"]


def test_demo_scorecard_and_verdict_come_from_what_each_printed():
    delve, snapshot, goroutines, run = recorded_demo()
    stacks = collect_stacks(delve.stack_pages())
    result = score(snapshot, goroutines, run, stacks, read_delve_values(delve.evaluate, snapshot.frame))
    d, g = result.delve, result.gdb
    assert (d.goroutines_visible, g.goroutines_visible) == (11, 11)
    # Delve: every goroutine's whole stack; gdb: the crashing one's, on its thread
    assert (d.goroutine_stacks, g.goroutine_stacks) == (11, 1)
    whole = [pair for pair in result.goroutines if pair.gdb_whole]
    assert [pair.id for pair in whole] == [snapshot.crash.goroutine_id] and whole[0].crashing
    assert whole[0].gdb.thread == 1
    parked = next(pair for pair in result.goroutines if pair.id == 1)
    assert parked.delve_whole and not parked.gdb_whole
    assert parked.gdb.error == "You can't do that without a process to debug."
    # six variables; gdb prints the interface and the error raw
    assert (d.values_read, g.values_read, len(result.values)) == (6, 4, 6)
    assert [row.name for row in result.values if not row.gdb_read] == ["discount", "err"]
    assert (d.wait_reasons, g.wait_reasons) == (10, 0)
    assert result.verdict == (
        "Delve wins 6 of 8 measures: goroutines with a user location (7 vs 1), goroutines with their whole stack "
        "(11 vs 1), variables of the faulting frame read as Go values (6/6 vs 4/6), goroutines with a wait reason "
        "(10 vs 0), panic value recovered (yes vs no), frames resolved to a function and line (11/11 vs 13/15) "
        "(Delve vs gdb).")


def test_without_the_stacks_read_the_crashing_goroutine_counts_from_the_first_screen():
    _, snapshot, goroutines, run = recorded_demo()
    result = score(snapshot, goroutines, run)
    assert (result.delve.goroutine_stacks, result.gdb.goroutine_stacks) == (1, 1)
    # the first screen's `args` / `locals`: elided, still Go values
    assert result.delve.values_read == 6


def test_gdb_stopping_at_unknown_frames_reads_no_values():
    # Go 1.19: gdb's bt ends in `??` inside runtime.sigtramp; the faulting frame is not in it.
    frames = (Frame(0, 0, "runtime.raise", "sys_linux_amd64.s", 159), Frame(4, 0x466bc6, "runtime.sigtramp", "s.s", 359),
              Frame(5, 0x466cc0, "???", "", 0))
    faulting = Frame(9, 0x49d96e, "main.checkout", "main.go", 90)
    assert faulting_frame_index(frames, faulting) is None
    plain = "\n".join(["#0  runtime.raise () at /x/sys_linux_amd64.s:159",
                       "#4  0x0000000000466bc6 in runtime.sigtramp () at /x/sys_linux_amd64.s:359",
                       "#5  0x0000000000466cc0 in ?? ()"])
    run = gdb_run_from_outputs(plain, faulting=faulting)
    assert run.values.error == "gdb's backtrace of the crashing thread has no frame of main.checkout (it stops at ??)"
    delve_values = (Variable("discount", "interface {}(float64) 0.15", kind="arg"),)
    result = compare(Crash(CrashKind.PANIC, "boom", 6, 5, 5, faulting), (faulting,), (faulting,), (), run, 0.1,
                     delve_values=delve_values)
    assert (result.delve.values_read, result.gdb.values_read) == (1, 0)
    assert result.values[0].gdb_problem == "not printed" and result.values_note == run.values.error


def test_a_failed_frame_command_takes_no_values_of_another_frame():
    # After "No frame at level 99." gdb prints the values of the frame it was in.
    values = parse_frame_values("No frame at level 99.", "No arguments.", "mp = 0x5ae700")
    assert values.frame is None and values.error == "No frame at level 99." and not values.locals


def test_value_problems():
    assert value_problem("{_type = 0x4c90c0, data = 0x4f09e8}") == "raw interface"
    assert value_problem("{tab = 0x4f1138 <go:itab.*errors.errorString,error>, data = 0xc0000140a0}") == "raw interface"
    assert value_problem("{tab = 0x0, data = 0x0}") == "raw interface"
    assert value_problem("<optimized out>") == "optimized out"
    assert value_problem("<error: Cannot access memory at address 0x8>") == "error"
    assert value_problem('{ID = 1042, Customer = "ada"}') == ""
    assert value_problem('map[string]int = {["a"] = 1}') == ""
    # a struct holding a raw interface is not a Go value either
    assert value_problem("{Name = 0x1, Err = {tab = 0x4f1138, data = 0x1}}") == "raw interface"


def test_values_no_values_and_continuations():
    assert parse_values("No arguments.", "arg") == ((), "")
    assert parse_values("No symbol table info available.", "local") == ((), "No symbol table info available.")
    values, error = parse_values("s = {a = 1,\n  b = 2}\n&x = 0xc000012345", "local")
    assert not error and [(v.name, v.value) for v in values] == [("s", "{a = 1, b = 2}"), ("&x", "0xc000012345")]


def test_goroutine_stack_and_thread_headers():
    failed = parse_goroutine_stack(7, "Python Exception <class 'gdb.error'>: You can't do that without a process "
                                      "to debug.\nError occurred in Python: You can't do that without a process to debug.")
    assert failed.error == "You can't do that without a process to debug." and failed.source == "goroutine 7 bt"
    stacks = parse_thread_stacks("\nThread 2 (Thread 0x7f3b2c9fe6c0 (LWP 6531)):\n#0  runtime.futex () at a.s:1\n"
                                 "\nThread 1 (LWP 6530):\n#0  runtime.raise () at a.s:2\n#1  0x1 in main.f () at m.go:3")
    assert [(s.thread, s.lwp, len(s.frames)) for s in stacks] == [(2, 6531, 1), (1, 6530, 2)]
    assert stacks[1].source == "thread 1 (LWP 6530): bt"


def test_runtime_gdb_py_prints_no_wait_reason_but_one_would_be_read():
    assert parse_goroutines("  1 waiting  runtime.gopark")[0].wait_reason == ""
    assert parse_goroutines("  1 waiting  runtime.gopark [chan receive]")[0].wait_reason == "chan receive"


def test_delve_print_on_one_line():
    assert one_line('main.Order {\n\tID: 1042,\n\tCustomer: "ada",}') == 'main.Order {ID: 1042, Customer: "ada",}'
    assert one_line('map[string]int [\n\t"a": 5, \n\t"b": 2, \n]') == 'map[string]int ["a": 5, "b": 2,]'


@given(st.text())
def test_gdb_parsers_take_any_text(text):
    sections(text), section(text, "threads"), parse_thread_stacks(text), parse_values(text, "arg")
    parse_goroutine_stack(1, text), parse_frame_values(text, text, text), gdb_run_from_outputs(text, text, detail_output=text)
