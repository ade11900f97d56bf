"""gdb parsers on recorded gdb 13.1 output, and the pure comparison."""

from pathlib import Path

import pytest

from tui.analysis.compare import RowMark, align, compare, verdict, Score
from tui.model import Crash, CrashKind, Frame, GdbRun, Goroutine, Location
from tui.parse.delve import parse_backtrace as parse_delve_backtrace
from tui.parse.delve import parse_goroutines as parse_delve_goroutines
from tui.parse.gdb import SIGNAL_HANDLER, fold_noise, parse_backtrace, parse_goroutines, parse_threads, python_errors

pytestmark = pytest.mark.toolchain_independent

DATA = Path(__file__).parent / "data"


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
    assert result.verdict.startswith("Delve wins 3 of 5")


def test_the_verdict_follows_the_numbers_when_gdb_does_better():
    # A cgo crash where gdb resolves C frames Delve shows as ???.
    delve = Score(frames=6, frames_resolved=3, reached_user_frame=False, goroutines_visible=4,
                  user_locations=1, panic_value=False, seconds=0.1)
    gdb = Score(frames=6, frames_resolved=6, reached_user_frame=True, goroutines_visible=4,
                user_locations=1, panic_value=False, seconds=0.3)
    sentence = verdict(delve, gdb, "crash_in_c at crash.c:7")
    assert sentence.startswith("gdb wins 2 of 5 measures")
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

    result = run_batch(["bash", "-c", "echo '#0  0x1 in main.f () at a.go:3'; sleep 30"], timeout=1.0)
    assert result.timed_out and result.seconds < 5
    assert parse_backtrace(result.output)[0][0].function == "main.f"
