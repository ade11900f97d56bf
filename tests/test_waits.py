"""What every goroutine waits on: tui/corefile/waits.py and
names.py on real cores of both toolchains (GOCORE_TOOLCHAIN=latest: Go
1.26, Delve 1.27; debian: Go 1.19, Delve 1.20, whose runtime structures
differ), held against

- what each fixture program did (tests/fixtures/deadlock_*, blocked_panic,
  leak_10k, labels, long_wait, waits: which goroutines wait on which
  channel, lock, WaitGroup or Cond, its state, its name);
- Go's own traceback of every fixture (its stderr): the kind of each
  goroutine's wait against the state Go printed, and the minutes Go
  printed (`[chan receive, 47 minutes]`) against ours;
- Delve: each object's state read through Delve's own expression
  evaluator (`print (*runtime.hchan)(ADDR).qcount` ...), and each name
  evaluated by Delve to the same address (`print uintptr(&main.mu)`,
  a local in the frame the name says);

and tui/analysis/blocking.py and the arithmetic on synthetic inputs.
"""

from __future__ import annotations

import functools
import json
import os
import re
from types import MappingProxyType

import pytest
from hypothesis import given, strategies as st

from corecache import crashed_fixture_names
from tui.analysis.blocking import (analyse, blocking_report, deadlock_report, describe, goroutine_fields,
                                   waiting_on)
from tui.corefile.dwarf import Field, Type
from tui.corefile.names import _cfa_expression, field_path, is_user_package, package_of
from tui.corefile.native import NativeCore
from tui.model.waits import Clock, SelectCase, Wait, WaitObject, WaitReading, WaitRows, row_of, wait_minutes
from tui.corefile.waits import file_time, read_waits
from tui.debugger.delve import Delve
from tui.parse.gotraceback import parse_traceback

independent = pytest.mark.toolchain_independent


@functools.lru_cache(maxsize=None)
def _read(exe: str, core: str) -> tuple[WaitReading, dict[int, tuple[str, ...]]]:
    """The waits of a core, and each goroutine's stack as function names."""
    with NativeCore.open(exe, core) as native:
        listing = native.listing()
        reading = read_waits(native, listing)
    stacks = {gid: tuple(location.function for location in stack) for gid, stack in listing.stacks}
    return reading, stacks


def waits_of(fixture) -> WaitReading:
    return _read(str(fixture.exe), str(fixture.core))[0]


def stacks_of(fixture) -> dict[int, tuple[str, ...]]:
    return _read(str(fixture.exe), str(fixture.core))[1]


def go_traceback(fixture):
    return parse_traceback(fixture.stderr.read_text())


def by_name(reading: WaitReading, name: str) -> WaitObject:
    found = [o for o in reading.objects.values() if o.name == name]
    assert len(found) == 1, f"no single object named {name!r}: {[o.name for o in reading.objects.values()]}"
    return found[0]


def waiters(reading: WaitReading, obj: WaitObject) -> dict[str, list[int]]:
    return {role: sorted(ids) for role, ids in reading.waiters[obj.address].items()}


def ids_in(fixture, state: str, function: str | None = None) -> list[int]:
    """Goroutines Go printed in a state (and with a frame of function)."""
    return sorted({g.id for g in go_traceback(fixture).goroutines
                   if g.state == state and (function is None or any(f.function == function for f in g.frames))})


def ids_with_frame(fixture, function: str) -> list[int]:
    return sorted(gid for gid, functions in stacks_of(fixture).items() if function in functions)


# Every fixture: the kinds and minutes against Go's own traceback.

# Go's state of a goroutine -> the kinds of wait it may be read as.
_KINDS_OF_STATE = {
    "chan receive": {"chan receive"}, "chan send": {"chan send"}, "chan receive (nil chan)": {"chan receive"},
    "chan send (nil chan)": {"chan send"}, "select": {"select"}, "select (no cases)": {"select"},
    "sync.Mutex.Lock": {"mutex", "rwmutex write"}, "sync.RWMutex.RLock": {"rwmutex read"},
    "sync.RWMutex.Lock": {"rwmutex write"}, "sync.WaitGroup.Wait": {"waitgroup"}, "sync.Cond.Wait": {"cond"},
    "semacquire": {"mutex", "rwmutex read", "rwmutex write", "waitgroup", "semaphore"}, "sleep": {"sleep"},
    "IO wait": {"io"}, "syscall": {"syscall"},
}
# States of goroutines that wait on nothing (status running, runnable, copystack ...).
_NOT_WAITING = ("running", "runnable", "copystack", "preempted", "dead", "idle")
_NEEDS_OBJECT = {"chan receive", "chan send", "mutex", "rwmutex read", "rwmutex write", "waitgroup", "cond"}


@pytest.mark.e2e
@pytest.mark.parametrize("name", crashed_fixture_names())
def test_every_wait_agrees_with_go_s_traceback(fixture_core, name):
    """For every goroutine Go printed: the kind of its wait fits the state
    Go printed, a wait on an object found it (a nil channel aside), and our
    minutes are Go's (None or 0 where Go printed none: under a minute, or
    no GC saw it blocked)."""
    fixture = fixture_core(name)
    reading = waits_of(fixture)
    assert not reading.notes, reading.notes
    text = fixture.stderr.read_text()
    assert text, f"{name}: Go printed no traceback beside the core"
    seen: set[int] = set()
    compared = 0
    for block in parse_traceback(text).goroutines:
        if block.id in seen or block.id == 0 or block.state in _NOT_WAITING:
            continue
        seen.add(block.id)
        assert block.id in reading.waits, f"goroutine {block.id} [{block.state}] not read as waiting"
        wait = reading.waits[block.id]
        allowed = _KINDS_OF_STATE.get(block.state, {"other"})
        assert wait.kind in allowed, f"goroutine {block.id} [{block.state}]: read as {wait}"
        if wait.kind in _NEEDS_OBJECT and wait.detail != "nil chan":
            assert wait.address and wait.address in reading.objects, f"goroutine {block.id}: {wait}"
        if wait.kind == "select" and block.state == "select":
            assert wait.cases and all(c.dir in ("send", "receive") for c in wait.cases), wait
        if block.wait_minutes is not None:
            assert reading.minutes(block.id) == block.wait_minutes, (block.id, wait, reading.clock)
        else:
            assert reading.minutes(block.id) in (None, 0), (block.id, wait, reading.clock)
        compared += 1
    assert compared


@pytest.mark.e2e
def test_a_live_process_s_goroutines_wait_too(fixture_core):
    """gcore_live, dumped alive: no traceback to compare with, but its
    goroutines are read as waiting, without a note."""
    reading = waits_of(fixture_core("gcore_live"))
    assert not reading.notes, reading.notes
    assert reading.waits


# The fixtures, one by one, against what the programs did.


@pytest.mark.e2e
def test_deadlock_through_a_full_channel_and_a_waitgroup(fixture_core):
    fixture = fixture_core("deadlock_chan")
    reading = waits_of(fixture)
    results = by_name(reading, "results in main.main")
    assert (results.kind, results.type, results.elem, results.len, results.cap, results.closed) == (
        "chan", "chan int", "int", 2, 2, False)
    senders = ids_in(fixture, "chan send")
    assert len(senders) == 5 and waiters(reading, results) == {"send": senders}
    wg = by_name(reading, "wg in main.main")
    assert (wg.kind, wg.type, wg.counter, wg.queued) == ("waitgroup", "sync.WaitGroup", 5, 1)
    assert waiters(reading, wg) == {"wait": [1]} and reading.waits[1].kind == "waitgroup"
    analysis = analyse(reading, deadlock=True)
    assert analysis.summary == (
        "5 goroutines send to chan int results (2/2, full) in main.main; none receives",
        "1 goroutine waits on sync.WaitGroup wg (counter 5) in main.main")
    assert deadlock_report(analysis)["objects"] == [f"0x{results.address:x}", f"0x{wg.address:x}"]


@pytest.mark.e2e
def test_deadlock_of_two_mutexes_taken_in_opposite_orders(fixture_core):
    fixture = fixture_core("deadlock_mutex")
    reading = waits_of(fixture)
    checking = by_name(reading, "main.bank.checking.Mutex")
    savings = by_name(reading, "main.bank.savings.Mutex")
    assert savings.address - checking.address == 16  # account{Mutex; balance int}
    for mutex, count in ((checking, 2), (savings, 1)):
        assert (mutex.kind, mutex.type, mutex.named_by, mutex.locked, mutex.queued) == (
            "mutex", "sync.Mutex", "global", True, count)
    transfers = ids_with_frame(fixture, "main.transfer")
    audit = ids_with_frame(fixture, "main.audit")
    assert len(transfers) == 2 and len(audit) == 1
    assert sorted(waiters(reading, checking)["lock"] + waiters(reading, savings)["lock"]) == sorted(transfers + audit)
    assert audit[0] in waiters(reading, checking)["lock"]
    reply = by_name(reading, "reply in main.main")
    assert waiters(reading, reply) == {"receive": [1]} and (reply.len, reply.cap) == (0, 0)
    summary = analyse(reading, deadlock=True).summary
    assert summary[0] == "2 goroutines wait to lock sync.Mutex main.bank.checking.Mutex (locked)"


@pytest.mark.e2e
def test_rwmutex_readers_and_writers_in_every_waiting_state(fixture_core):
    fixture = fixture_core("deadlock_rwmutex")
    reading = waits_of(fixture)
    mu = by_name(reading, "main.users.mu")  # users is a *table: the path goes through the pointer
    assert (mu.kind, mu.type, mu.named_by) == ("rwmutex", "sync.RWMutex", "global pointer")
    # One reader holds it, two wait behind the first writer; that writer
    # waits for the reader to leave, the second waits for the writer lock.
    assert (mu.readers, mu.writer, mu.departing, mu.locked, mu.queued) == (3, True, 1, True, 1)
    on_writer_sem = [g for g in ids_with_frame(fixture, "sync.(*RWMutex).Lock")
                     if not any("lockSlow" in f for f in stacks_of(fixture)[g])]
    on_w = [g for g in ids_with_frame(fixture, "sync.(*RWMutex).Lock") if g not in on_writer_sem]
    late_readers = ids_with_frame(fixture, "sync.(*RWMutex).RLock")
    assert len(on_writer_sem) == len(on_w) == 1 and len(late_readers) == 2
    assert waiters(reading, mu) == {"lock": sorted(on_writer_sem + on_w), "rlock": late_readers}
    assert {reading.waits[g].kind for g in on_w + on_writer_sem} == {"rwmutex write"}
    assert analyse(reading).objects[0].description == (
        "2 goroutines wait to lock and 2 wait to read-lock sync.RWMutex main.users.mu (3 readers, a writer waiting)")


@pytest.mark.e2e
def test_select_cases_and_their_directions(fixture_core):
    fixture = fixture_core("deadlock_select")
    reading = waits_of(fixture)
    workers = ids_with_frame(fixture, "main.(*pool).work")
    dispatcher = ids_with_frame(fixture, "main.dispatch")
    assert len(workers) == 3 and len(dispatcher) == 1
    jobs, quit_ = by_name(reading, "p.jobs in main.main"), by_name(reading, "p.quit in main.main")
    assert (jobs.type, quit_.type, jobs.named_by) == ("chan int", "chan struct {}", "local heap")
    assert waiters(reading, jobs) == waiters(reading, quit_) == {"select receive": workers}
    out, timeout = by_name(reading, "out in main.main"), by_name(reading, "timeout in main.main")
    assert waiters(reading, out) == {"select send": dispatcher}
    assert waiters(reading, timeout) == {"select receive": dispatcher}
    done = by_name(reading, "done in main.main")
    main = reading.waits[1]
    assert main.kind == "select" and len(main.cases) == 2 and {c.dir for c in main.cases} == {"receive"}
    signals = next(reading.objects[c.address] for c in main.cases if c.address != done.address)
    assert (signals.type, signals.len, signals.cap) == ("chan int", 0, 1)
    assert reading.waits[dispatcher[0]].cases == tuple(sorted(
        (SelectCase(out.address, "send"), SelectCase(timeout.address, "receive")), key=lambda c: c.address))
    # One goroutine, two cases on one channel: each case's direction from its own sudog.
    (echo,) = ids_with_frame(fixture, "main.echo")
    cases = reading.waits[echo].cases
    assert len(cases) == 2 and cases[0].address == cases[1].address and {c.dir for c in cases} == {"send", "receive"}
    loop = reading.objects[cases[0].address]
    assert waiters(reading, loop) == {"select send": [echo], "select receive": [echo]}
    assert analyse(reading).objects[[b.address for b in analyse(reading).objects].index(loop.address)].description \
        .startswith("1 goroutine selects to send to and receive from chan int (0/0, unbuffered)")
    # A goroutine in a select counts once per channel, and the report lists its cases.
    report = waiting_on(reading, dispatcher[0])
    assert report["kind"] == "select" and report["address"] is None
    assert {(c["name"], c["dir"]) for c in report["cases"]} == {("out in main.main", "send"),
                                                                ("timeout in main.main", "receive")}


@pytest.mark.e2e
def test_condition_variable_waiters(fixture_core):
    fixture = fixture_core("deadlock_cond")
    reading = waits_of(fixture)
    ready = by_name(reading, "main.queue.ready")  # a *sync.Cond field of a global struct
    consumers = ids_with_frame(fixture, "main.consume")
    assert (ready.kind, ready.type, ready.queued) == ("cond", "sync.Cond", 3)
    assert waiters(reading, ready) == {"wait": consumers} and len(consumers) == 3
    group = by_name(reading, "consumers in main.main")
    assert (group.counter, group.queued) == (3, 1) and waiters(reading, group) == {"wait": [1]}


@pytest.mark.e2e
def test_a_panic_while_goroutines_block_in_every_way(fixture_core, toolchain):
    fixture = fixture_core("blocked_panic")
    reading = waits_of(fixture)
    handlers = ids_with_frame(fixture, "main.handle")
    selecting = [g for g, w in reading.waits.items() if w.kind == "select" and w.cases]
    assert len(handlers) == 3 and len(selecting) == 1
    requests = by_name(reading, "main.requests")
    assert requests.named_by == "global pointer" and requests.type == "chan int"
    assert waiters(reading, requests) == {"receive": handlers, "select receive": selecting}
    assert sorted(dict(reading.labels[g])["id"] for g in handlers) == ["0", "1", "2"]
    assert all(dict(reading.labels[g])["role"] == "handler" for g in handlers)
    mu = by_name(reading, "main.mu")
    assert (mu.locked, mu.queued, len(waiters(reading, mu)["lock"])) == (True, 2, 2)
    backlog = by_name(reading, "backlog in main.main")
    assert (backlog.len, backlog.cap, backlog.elem) == (1, 1, "string")
    assert len(waiters(reading, backlog)["send"]) == 1 and waiters(reading, backlog)["select send"] == selecting
    pending = by_name(reading, "pending in main.main")
    assert (pending.counter, pending.queued) == (1, 1)
    kinds = [w.kind for w in (reading.waits[g] for g in reading.waits) if w.kind != "other"]
    for kind, count in (("io", 1), ("syscall", 1)):
        assert kinds.count(kind) == count, kinds
    io = next(reading.waits[g] for g in reading.waits if reading.waits[g].kind == "io")
    fd = reading.objects[io.address]
    assert io.detail == "read" and fd.kind == "fd" and fd.name == f"fd {fd.fd}" and fd.fd > 2
    syscall = next(reading.waits[g] for g in reading.waits if reading.waits[g].kind == "syscall")
    assert "main.main.func" in syscall.detail
    (timer,) = [o for o in reading.objects.values() if o.type == "chan time.Time"]
    assert (timer.cap, len(waiters(reading, timer)["receive"])) == (1, 1)
    # Go 1.23+ links a timer channel to its timer (hchan.timer); Go 1.19 does not.
    if toolchain.is_latest:
        assert (timer.name, timer.named_by) == ("(a timer's channel)", "hchan.timer")
    else:
        assert timer.named_by == "stack word"
    nil = [g for g in reading.waits if reading.waits[g].detail == "nil chan"]
    assert len(nil) == 1 and analyse(reading).forever == {"nil chan": tuple(nil)}
    # Two GCs ran after they parked: every one of them has a waitsince, and it is under a minute.
    user = [g for g in reading.waits if any(f.startswith("main.") for f in stacks_of(fixture).get(g, ()))]
    assert len(user) >= 13 and all(reading.waits[g].since and reading.minutes(g) == 0 for g in user)


@pytest.mark.e2e
def test_a_leak_of_ten_thousand_receivers_on_one_channel(fixture_core):
    reading = waits_of(fixture_core("leak_10k"))
    replies = by_name(reading, "main.replies")
    assert (replies.type, replies.elem) == ("chan main.reply", "main.reply")
    assert len(reading.waiters[replies.address]["receive"]) == 10_000
    top = analyse(reading).objects[0]
    assert top.count == 10_000
    assert top.description == "10000 goroutines receive from chan main.reply main.replies (0/0, unbuffered); none sends"


_LABEL_SETS = [
    {"worker": "7"},
    {"service": "api v2", "handler": "users"},  # nested pprof.Do: merged, the inner value wins
    {"service": "api v2", "handler": "users"},  # started inside it: inherited
    {f"k{i:02d}": f"välue {i}" for i in range(12)},  # SetGoroutineLabels
    {f"k{i:02d}": f"välue {i}" for i in range(27)},  # Go 1.19: a map still growing
]


@pytest.mark.e2e
def test_pprof_labels_as_the_program_set_them(fixture_core, toolchain):
    fixture = fixture_core("labels")
    reading = waits_of(fixture)
    block = by_name(reading, "main.block")
    waiting = [g for ids in reading.waiters[block.address].values() for g in ids]
    assert len(waiting) == 6
    found = sorted((dict(reading.labels.get(g, {})) for g in waiting), key=lambda d: sorted(d.items()))
    assert found == sorted(_LABEL_SETS + [{}], key=lambda d: sorted(d.items()))
    assert all(goroutine_fields(reading, g)["labels"] == dict(reading.labels.get(g, {})) for g in waiting)
    # Go 1.26 prints them itself under GODEBUG=tracebacklabels=1 (Go 1.19 cannot).
    printed = {g.id: json.loads("{" + g.labels + "}") for g in go_traceback(fixture).goroutines if g.labels}
    if toolchain.is_latest:
        assert len(printed) == 5
    else:
        assert printed == {}
    for gid, labels in printed.items():
        assert dict(reading.labels[gid]) == labels


# Nanoseconds from the runtime's last clock reading to the core file's time.
DUMP_TOOK_AT_MOST = 10 * 10**9


@pytest.mark.e2e
def test_wait_minutes_are_go_s(fixture_core):
    """long_wait moved two goroutines' g.waitsince back by 47m30s and 3m30s
    just before it panicked; Go printed 47 and 3 minutes."""
    fixture = fixture_core("long_wait")
    reading = waits_of(fixture)
    minutes = {}
    for variable in ("long", "short", "gced", "late"):
        channel = by_name(reading, f"{variable} in main.main")
        (gid,) = reading.waiters[channel.address]["receive"]
        minutes[variable] = reading.minutes(gid)
        assert goroutine_fields(reading, gid)["wait_minutes"] == minutes[variable]
    assert minutes == {"long": 47, "short": 3, "gced": 0, "late": None}
    printed = {g.id: g.wait_minutes for g in go_traceback(fixture).goroutines if g.wait_minutes}
    assert sorted(printed.values()) == [3, 47]
    # The core file's time, unless the kernel's coarse file clock put it
    # behind Go's last reading (a loaded machine): then that reading. Either
    # way the core file's time lands in the runtime's clock just after that
    # reading: the dump took 0.06 s at most under two CPU hogs on 2 CPUs,
    # where a time taken in the wrong clock is off by the machine's uptime
    # (minutes at least) or by decades (the wall clock).
    assert reading.clock.source in ("core file time", "latest runtime clock reading") and not reading.clock.exact
    assert 0 <= reading.clock.now - reading.clock.low < DUMP_TOOK_AT_MOST


@pytest.mark.e2e
def test_minutes_without_the_core_file_time(fixture_core, tmp_path):
    """A core copied from elsewhere (here: dated 1970) falls back on the
    latest clock reading the runtime left in the core: lower, but only by
    the time since the last GC or poll."""
    fixture = fixture_core("long_wait")
    copy = tmp_path / "core"
    copy.write_bytes(fixture.core.read_bytes())
    os.utime(copy, (0, 0))
    with NativeCore.open(str(fixture.exe), str(copy)) as native:
        reading = read_waits(native, native.listing(), names=False)
    assert reading.clock.source == "latest runtime clock reading" and reading.clock.now == reading.clock.low
    assert sorted(m for m in (reading.minutes(g) for g in reading.waits) if m) == [3, 47]


@pytest.mark.e2e
def test_the_optimized_waits_fixture(fixture_core):
    """tests/fixtures/waits (optimizer on): locals named from DWARF location lists."""
    fixture = fixture_core("waits")
    reading = waits_of(fixture)
    for name, kind in (("mu in main.main", "mutex"), ("never in main.main", "waitgroup"),
                       ("cond in main.main", "cond"), ("main.block", "chan"), ("s.requests in main.main", "chan")):
        obj = by_name(reading, name)
        assert obj.kind == kind
    assert by_name(reading, "mu in main.main").locked is True
    assert by_name(reading, "never in main.main").counter == 1
    assert sum(1 for g in reading.waits if reading.waits[g].kind == "io") == 1


# Against Delve: every object's state and name, through Delve's own evaluator.

_DELVE_FIXTURES = ["deadlock_chan", "deadlock_mutex", "deadlock_rwmutex", "deadlock_select", "deadlock_cond",
                   "blocked_panic", "long_wait", "leak_10k"]


def _delve_int(delve: Delve, scope: tuple[int | None, int | None], *expressions: str) -> int:
    """The first of the expressions Delve evaluates to an integer (field
    paths differ between Go 1.19 and 1.26)."""
    for expression in expressions:
        value = delve.evaluate_int(*scope, expression)
        if value is not None:
            return value
        text = delve.evaluate(*scope, expression)
        if text in ("true", "false"):
            return int(text == "true")
    raise AssertionError(f"Delve evaluates none of {expressions}")


def _state_from_delve(delve: Delve, obj: WaitObject) -> dict:
    # Types by their quoted full names: Delve takes sync.X for internal/sync.X
    # in Go 1.24+ (two packages named sync).
    a = f"{obj.address:#x}"
    none = (None, None)
    if obj.kind == "chan":
        c = f'(*"runtime.hchan")({a})'
        return {"len": _delve_int(delve, none, f"{c}.qcount"), "cap": _delve_int(delve, none, f"{c}.dataqsiz"),
                "closed": _delve_int(delve, none, f"{c}.closed") != 0}
    if obj.kind == "mutex":
        state = _delve_int(delve, none, f'(*"sync.Mutex")({a}).mu.state', f'(*"sync.Mutex")({a}).state')
        return {"locked": bool(state & 1), "queued": (state & 0xFFFFFFFF) >> 3}
    if obj.kind == "rwmutex":
        m = f'(*"sync.RWMutex")({a})'
        count = _delve_int(delve, none, f"{m}.readerCount.v", f"{m}.readerCount")
        departing = _delve_int(delve, none, f"{m}.readerWait.v", f"{m}.readerWait")
        state = _delve_int(delve, none, f"{m}.w.mu.state", f"{m}.w.state")
        return {"readers": count + (1 << 30) if count < 0 else count, "writer": count < 0,
                "departing": departing, "locked": bool(state & 1)}
    if obj.kind == "waitgroup":
        w = f'(*"sync.WaitGroup")({a})'
        state = _delve_int(delve, none, f"{w}.state.v", f"{w}.state1")
        counter = (state >> 32) & 0xFFFFFFFF
        return {"counter": counter - (1 << 32) if counter >> 31 else counter, "queued": state & 0x7FFFFFFF}
    if obj.kind == "cond":
        n = f'(*"sync.Cond")({a}).notify'
        return {"queued": (_delve_int(delve, none, f"{n}.wait.v", f"{n}.wait", f"{n}.wait.value")
                           - _delve_int(delve, none, f"{n}.notify")) & 0xFFFFFFFF}
    return {}


def _frame_of(delve: Delve, goroutine: int, function: str) -> int:
    frames = delve.backtrace(goroutine, depth=64).frames
    return next(f.index for f in frames if f.function == function)


@pytest.mark.e2e
@pytest.mark.parametrize("name", _DELVE_FIXTURES)
def test_objects_and_names_agree_with_delve(fixture_core, name):
    fixture = fixture_core(name)
    reading = waits_of(fixture)
    delve = Delve.open(str(fixture.exe), str(fixture.core), dlv=fixture.dlv)
    checked = named = 0
    try:
        for obj in reading.objects.values():
            expected = _state_from_delve(delve, obj)
            assert {k: getattr(obj, k) for k in expected} == expected, obj
            checked += bool(expected)
            if obj.named_by not in ("global", "global pointer", "global heap", "local", "local heap"):
                continue
            expression, scope = obj.name, (None, None)
            if obj.named_by.startswith("local"):
                expression, function = obj.name.rsplit(" in ", 1)
                scope = (obj.name_goroutine, _frame_of(delve, obj.name_goroutine, function))
            if obj.kind == "chan":
                address = _delve_int(delve, scope, f"*(*uintptr)(uintptr(&{expression}))")
            else:
                # The object itself (main.mu), or a pointer to it (main.queue.ready, a *sync.Cond).
                address = _delve_int(delve, scope, f"uintptr(&{expression})")
                if address != obj.address and re.match(r"\(?\*", delve.evaluate(*scope, expression) or ""):
                    address = _delve_int(delve, scope, f"uintptr({expression})")
            assert address == obj.address, (obj.name, obj.named_by, hex(address), hex(obj.address))
            named += 1
    finally:
        delve.close()
    assert checked == len([o for o in reading.objects.values() if o.kind != "fd"])
    assert named >= 1


@pytest.mark.e2e
def test_garbage_in_sudogs_and_the_semaphore_table_stays_per_goroutine(fixture_core, tmp_path):
    """A sender's g.waiting and the WaitGroup's treap node pointing into
    nowhere: those waits lose their object, with a note; the rest reads as before."""
    import struct

    fixture = fixture_core("deadlock_chan")
    clean = waits_of(fixture)
    results = by_name(clean, "results in main.main")
    victim = clean.waiters[results.address]["send"][0]
    data = bytearray(fixture.core.read_bytes())
    with NativeCore.open(str(fixture.exe), str(fixture.core)) as native:
        def patch(address: int, value: int) -> None:
            buffer, offset = native.memory.locate(address, 8)
            assert buffer is native.core.data
            struct.pack_into("<Q", data, offset, value)

        records = {r.id: r for r in native.records() if not isinstance(r, Exception)}
        patch(records[victim].address + native.g.offset("waiting"), 0xDEAD0000)
        table = native.exe.symbol("runtime.semtable")[0] + native.bias
        semtable = native.layouts.type("runtime.semTable")
        root = semtable.elem.field("root")[0] + native.layouts.type("runtime.semaRoot").field("treap")[0]
        for index in range(semtable.count):
            at = table + index * semtable.elem.size + root
            if native.memory.u64(at):
                patch(at, 0xBEEF0000)
    copy = tmp_path / "core"
    copy.write_bytes(bytes(data))
    with NativeCore.open(str(fixture.exe), str(copy)) as native:
        reading = read_waits(native, native.listing())
    assert reading.waits[victim].kind == "chan send" and not reading.waits[victim].address
    assert reading.waits[victim].detail == "sudog unreadable"
    assert reading.waits[1].kind == "waitgroup" and reading.waits[1].detail == "not in the semaphore table"
    assert reading.notes
    others = [g for g in clean.waiters[results.address]["send"] if g != victim]
    assert sorted(reading.waiters[results.address]["send"]) == sorted(others)


# The pure parts.


@independent
@pytest.mark.parametrize(("delta", "minutes"), [
    (0, 0), (59_999_999_999, 0), (60_000_000_000, 1), (47 * 60 * 10**9 + 30 * 10**9, 47),
    (-1, 0), (-60_000_000_000, -1), (-119_999_999_999, -1),  # int64 division truncates toward zero
])
def test_wait_minutes_is_go_s_int64_arithmetic(delta, minutes):
    assert wait_minutes(10**15 + delta, 10**15) == minutes


@independent
def test_clock_minutes_need_a_waitsince_and_a_clock():
    assert Clock(None, 0, "none").minutes(123) is None
    assert Clock(10**12, 10**12, "x").minutes(0) is None
    assert Clock(10**12 + 61 * 10**9, 0, "x").minutes(10**12) == 1


@independent
def test_the_core_file_time_on_this_machine_s_monotonic_clock(tmp_path):
    core = tmp_path / "core"
    core.write_bytes(b"")
    second = 10**9
    os.utime(core, ns=(1_000 * second, 1_000 * second))
    # Booted at wall time 100 s, now 2000 s wall = 1900 s monotonic: the core is 1000 s old.
    assert file_time(str(core), 1_900 * second, 2_000 * second, 100 * second) == 900 * second
    assert file_time(str(core), 1_900 * second, 2_000 * second, 1_500 * second) is None  # dumped before this boot
    assert file_time(str(core), 1_900 * second, 500 * second, 100 * second) is None  # from the future
    assert file_time(str(tmp_path / "missing"), 1, 2, 0) is None


def _type(name, kind, size, fields=(), elem=None, count=0):
    return Type(name, kind, size, elem=elem, count=count, fields=tuple(Field(*f) for f in fields))


@independent
def test_field_paths_through_structs_and_arrays():
    mutex = _type("sync.Mutex", "struct", 8, [("state", 0, _type("int32", "int32", 4)),
                                              ("sema", 4, _type("uint32", "uint32", 4))])
    chan = _type("chan int", "chan", 8)
    account = _type("main.account", "struct", 16, [("Mutex", 0, mutex), ("balance", 8, _type("int", "int", 8))])
    accounts = _type("[4]main.account", "array", 64, elem=account, count=4)
    bank = _type("main.bank", "struct", 80, [("_", 0, _type("", "struct", 0)), ("done", 0, chan),
                                             ("all", 8, accounts), ("n", 72, _type("int", "int", 8))])
    assert field_path(bank, 8 + 32, "sync.Mutex") == ".all[2].Mutex"
    assert field_path(bank, 0, None) == ".done"
    assert field_path(bank, 12, "sync.Mutex") is None  # inside a Mutex, not at one
    assert field_path(bank, 72, None) is None  # an int is no pointer
    assert field_path(mutex, 0, "sync.Mutex") == ""


@independent
@pytest.mark.parametrize(("expr", "offset"), [
    (bytes([0x9C]), 0),  # DW_OP_call_frame_cfa
    (bytes([0x91, 0x68]), -24),  # DW_OP_fbreg -24
    (bytes([0x91, 0x90, 0x7F]), -112),
    (bytes([0x9C, 0x11, 0x10, 0x22]), 16),  # cfa, consts 16, plus
    (bytes([0x91, 0x68, 0x93, 0x08, 0x50, 0x93, 0x08]), -24),  # the first piece of a pair
    (bytes([0x50]), None),  # DW_OP_reg0: in a register
    (bytes([0x03]) + (0x4000).to_bytes(8, "little"), None),  # DW_OP_addr: a global
])
def test_cfa_relative_locations(expr, offset):
    assert _cfa_expression(expr) == offset


@independent
@pytest.mark.parametrize(("name", "package", "user"), [
    ("main.main.func1", "main", True), ("sync.(*Mutex).Lock", "sync", False),
    ("net/http.(*conn).serve", "net/http", False), ("example.com/yamlish%2ev3.Decode", "example.com/yamlish.v3", True),
    ("gocoretui.example/fixtures/lib.F", "gocoretui.example/fixtures/lib", True), ("runtime.gopark", "runtime", False),
])
def test_packages_of_symbols(name, package, user):
    assert package_of(name) == package and is_user_package(package) == user


def _reading(objects, waits, waiters, labels=None, clock=None) -> WaitReading:
    rows = {w.goroutine: row_of(w) for w in waits}
    return WaitReading(WaitRows(rows), MappingProxyType({o.address: o for o in objects}),
                       MappingProxyType({a: MappingProxyType({r: tuple(i) for r, i in roles.items()})
                                         for a, roles in waiters.items()}),
                       MappingProxyType(labels or {}), clock or Clock(None, 0, "none"))


_CHAN = WaitObject(0x1000, "chan", "chan int", "results in main.main", "local", len=2, cap=2, closed=False,
                   elem="int", name_goroutine=1)
_MU = WaitObject(0x2000, "mutex", "sync.Mutex", "main.mu", "global", locked=True, queued=2, starving=False)


@independent
def test_blocking_objects_biggest_first_and_described():
    waits = [Wait(g, "chan send", 0x1000) for g in (5, 6, 7)] + [Wait(g, "mutex", 0x2000) for g in (8, 9, 10, 11, 14)]
    waits.append(Wait(12, "select", cases=(SelectCase(0x1000, "receive"),)))
    waits.append(Wait(13, "chan receive", detail="nil chan"))
    waiters = {0x1000: {"send": [5, 6, 7], "select receive": [12]}, 0x2000: {"lock": [8, 9, 10, 11, 14]}}
    analysis = analyse(_reading([_CHAN, _MU], waits, waiters), deadlock=True)
    assert [b.address for b in analysis.objects] == [0x2000, 0x1000]
    assert [b.description for b in analysis.objects] == [
        "5 goroutines wait to lock sync.Mutex main.mu (locked)",
        "3 goroutines send to and 1 selects to receive from chan int results (2/2, full) in main.main"]
    assert analysis.summary == tuple(b.description for b in analysis.objects) + (
        "1 goroutine blocks on a nil channel",)
    entry = blocking_report(analysis)[1]
    assert entry == {"address": "0x1000", "kind": "chan", "type": "chan int", "name": "results in main.main",
                     "named_by": "local", "len": 2, "cap": 2, "closed": False, "elem": "int",
                     "waiters": {"send": [5, 6, 7], "select receive": [12]}, "count": 4,
                     "description": analysis.objects[1].description}
    assert blocking_report(analysis)[0]["queued"] == 2 and "len" not in blocking_report(analysis)[0]
    assert analyse(_reading([_CHAN, _MU], waits, waiters)).summary == ()


@independent
def test_goroutine_fields_of_the_report():
    clock = Clock(10**13, 10**13, "core file time")
    since = 10**13 - 47 * 60 * 10**9 - 1
    waits = [Wait(5, "chan send", 0x1000, since=since), Wait(6, "sleep"),
             Wait(7, "select", cases=(SelectCase(0x1000, "send"), SelectCase(0x3000, "")))]
    reading = _reading([_CHAN], waits, {0x1000: {"send": [5]}}, {5: MappingProxyType({"k": "v"})}, clock)
    assert goroutine_fields(reading, 5) == {
        "waiting_on": {"kind": "chan send", "address": "0x1000", "type": "chan int", "name": "results in main.main"},
        "wait_minutes": 47, "labels": {"k": "v"}}
    assert goroutine_fields(reading, 6) == {
        "waiting_on": {"kind": "sleep", "address": None, "type": "", "name": ""}, "wait_minutes": None, "labels": {}}
    assert goroutine_fields(reading, 99) == {"waiting_on": None, "wait_minutes": None, "labels": {}}
    assert waiting_on(reading, 7)["cases"] == [
        {"address": "0x1000", "type": "chan int", "name": "results in main.main", "dir": "send"},
        {"address": "0x3000", "type": "", "name": "", "dir": ""}]
    json.dumps([goroutine_fields(reading, g) for g in (5, 6, 7)])


# Names come from symbols and DWARF: printable text.
_PRINTABLE = st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"))
_OBJECTS = st.builds(
    WaitObject, address=st.integers(1, 2**48), kind=st.sampled_from(["chan", "mutex", "rwmutex", "waitgroup",
                                                                     "cond", "semaphore", "fd"]),
    type=st.text(_PRINTABLE, max_size=12), name=st.text(_PRINTABLE, max_size=20), named_by=st.sampled_from(["", "global", "local",
                                                                                     "stack word"]),
    len=st.none() | st.integers(0, 10), cap=st.none() | st.integers(0, 10), closed=st.none() | st.booleans(),
    locked=st.none() | st.booleans(), readers=st.none() | st.integers(0, 5), writer=st.none() | st.booleans(),
    departing=st.none() | st.integers(0, 5), counter=st.none() | st.integers(-2, 5))
_ROLES = st.dictionaries(st.sampled_from(["send", "receive", "select send", "select receive", "select", "lock",
                                          "rlock", "wait", "acquire", "read", "write", "odd"]),
                         st.lists(st.integers(1, 50), min_size=1, max_size=5, unique=True), max_size=4)


@independent
@given(st.lists(st.tuples(_OBJECTS, _ROLES), max_size=6, unique_by=lambda t: t[0].address))
def test_any_reading_analyses_into_json(pairs):
    objects = [o for o, _ in pairs]
    reading = _reading(objects, [], {o.address: roles for o, roles in pairs})
    analysis = analyse(reading, deadlock=True)
    counts = [b.count for b in analysis.objects]
    assert counts == sorted(counts, reverse=True) and len(counts) == len(objects)
    for b in analysis.objects:
        assert b.count == len({g for ids in b.waiters.values() for g in ids})
        assert b.description and "\n" not in b.description
        assert describe(b.obj, b.waiters) == b.description
    json.dumps(blocking_report(analysis))
    json.dumps(deadlock_report(analysis))


@independent
def test_report_addresses_are_hex_like_the_rest_of_the_report():
    reading = _reading([_MU], [Wait(8, "mutex", 0x2000)], {0x2000: {"lock": [8]}})
    assert re.fullmatch(r"0x[0-9a-f]+", waiting_on(reading, 8)["address"])


@pytest.mark.e2e
@pytest.mark.parametrize("name", ["labels", "blocked_panic", "waits"])
def test_labels_without_the_listing_are_the_listing_s(fixture_core, name):
    """read_waits(native) alone reads every live goroutine's labels as the listing does."""
    fixture = fixture_core(name)
    with NativeCore.open(str(fixture.exe), str(fixture.core)) as native:
        listing = native.listing()
        alone = read_waits(native, names=False)
    assert {g: dict(v) for g, v in alone.labels.items()} == {g: v for g, v in listing.labels.items() if v}
    assert alone.labels
