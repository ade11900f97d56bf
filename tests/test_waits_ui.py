"""What goroutines wait on, as the TUI and the report show it: the "waiting on" and labels columns, `w`, the `key=value` filter, the
backtrace pane's header, a deadlock's summary, Go's `N minutes`, and the
report's waiting_on / wait_minutes / labels / blocking / deadlock. On real
cores, with the real dlv; the waits themselves are tested in test_waits.py."""

from __future__ import annotations

import json
import re

import pytest

from app_driver import cell, list_through_dlv, running, summary
from command_line import gocore
from waiting import until
from tui.core.goroutines import WAITS_NEED_THE_CORE
from tui.widgets.backtrace_view import BacktraceView
from tui.widgets.goroutine_list import GoroutineList, GoroutineRow, GroupRow, Row

pytestmark = pytest.mark.e2e

# Go's goroutine header: `goroutine 17 gp=0x... m=nil [chan receive, 47 minutes]:`
GO_HEADER = re.compile(r"^goroutine (\d+)(?: gp=\S+ m=\S+(?: mp=\S+)?)? \[([^\]]*)\]:", re.M)


def cells(table: GoroutineList, key: Row) -> dict[str, str]:
    """A row's cells by column title."""
    return {title: cell(table, key, title) for title in table.columns}


def go_minutes(fixture) -> dict[int, int]:
    """The goroutines Go printed `, N minutes` for."""
    found = {}
    for gid, state in GO_HEADER.findall(fixture.stderr.read_text()):
        match = re.search(r", (\d+) minutes", state)
        if match:
            found[int(gid)] = int(match.group(1))
    return found


async def test_the_list_says_what_each_goroutine_waits_on_and_w_groups_by_object(cores):
    fixture = cores["blocked_panic"]
    async with running(fixture, lambda app: app.first_screen_ready and app.waits_complete) as (app, pilot):
        table = app.query_one(GoroutineList)
        await pilot.press("v")  # flat: one row per goroutine
        rows = {key: cells(table, key) for key in table.rows()}
        waiting = {row["waiting on"] for row in rows.values()}
        assert "sync.Mutex main.mu (locked)" in waiting
        assert "chan string backlog (1/1, full) in main.main" in waiting
        assert "a nil channel (forever)" in waiting
        assert any(w.startswith("select: ") and "main.requests" in w for w in waiting)
        assert "labels" in table.columns
        handlers = [row for row in rows.values() if row["labels"]]
        assert sorted(row["labels"] for row in handlers) == [f"id={i} role=handler" for i in range(3)]
        assert all(row["waiting on"] == "chan int main.requests (0/0, unbuffered)" for row in handlers)
        # The location is read first: however long a wait, it is on screen.
        assert table.columns.index("location") < table.columns.index("waiting on")
        drawn = [table.render_line(y).text for y in range(1, min(table.size.height, table.row_count + 1))]
        assert all(re.search(r"\w+\.(go|s):\d+ ", line) for line in drawn), drawn

        await pilot.press("w")
        assert "by what they wait on" in table.border_title
        first = cells(table, table.rows()[0])
        assert first["id / count"] == "×4"
        assert first["waiting on"] == ("3 goroutines receive from and 1 selects to receive from chan int "
                                       "main.requests (0/0, unbuffered); none sends")
        titles = [cells(table, key)["waiting on"] for key in table.rows() if isinstance(key, GroupRow)]
        assert "2 goroutines wait to lock sync.Mutex main.mu (locked)" in titles
        # enter opens the object's bucket: its members are the goroutines that wait there
        table.focus()
        table.move_cursor(row=0)
        await pilot.press("enter")
        members = [key for key in table.rows() if isinstance(key, GoroutineRow)][:4]
        assert len(members) == 4
        assert all("main.requests" in cells(table, key)["waiting on"] for key in members)

        # /role=handler: by label
        await pilot.press("slash")
        await pilot.press(*"role=handler", "enter")
        await pilot.press("w")  # back to the groups by place, still filtered
        assert table.index.flat("role=handler") and len(table.index.flat("role=handler")) == 3
        assert [b.count for b in table.index.buckets("role=handler")] == [3]
        assert table.index.flat("role=nobody") == []
        # a label filter that matches nothing says why
        await pilot.press("slash", *"role=nobody", "enter")
        await until(pilot, lambda: table.row_count == 0)
        assert table.border_title.endswith("/role=nobody: label 'role' is never 'nobody' (it is handler)")
        await pilot.press("slash", *"tier=", "enter")
        await until(pilot, lambda: table.border_title.endswith("/tier="
                                                               ": no goroutine has the label 'tier' (labels here: id, role)"))


async def test_a_deadlock_says_what_everyone_waits_on(cores):
    fixture = cores["deadlock_chan"]
    async with running(fixture, lambda app: app.first_screen_ready and app.waits_complete) as (app, pilot):
        text = summary(app)
        assert "all goroutines are asleep - deadlock!" in text
        assert "everyone waits:" in text
        lines = text[text.index("everyone waits:"):].splitlines()
        assert lines[1].strip() == "5 goroutines send to chan int results (2/2, full) in main.main; none receives"
        assert lines[2].strip() == "1 goroutine waits on sync.WaitGroup wg (counter 5) in main.main"
        title = app.query_one(BacktraceView).border_title
        assert title == "Backtrace · goroutine 1 · waits on sync.WaitGroup wg (counter 5) in main.main"


async def test_wait_minutes_are_the_ones_go_printed(cores):
    fixture = cores["long_wait"]
    printed = go_minutes(fixture)
    assert sorted(printed.values()) == [3, 47]  # the fixture's own doing
    async with running(fixture, lambda app: app.first_screen_ready and app.waits_complete) as (app, pilot):
        table = app.query_one(GoroutineList)
        await pilot.press("v")
        states = {key.id: cells(table, key)["state"] for key in table.rows()}
        shown = {gid: int(re.search(r", (\d+) minutes$", state).group(1))
                 for gid, state in states.items() if re.search(r", (\d+) minutes$", state)}
        assert shown == printed
        longest = max(printed, key=printed.get)
        app.show_goroutine(longest)
        await until(pilot, lambda: app.goroutine_id == longest)
        await until(pilot, lambda: "for 47 minutes" in app.query_one(BacktraceView).border_title)
        assert app.query_one(BacktraceView).border_title.startswith(f"Backtrace · goroutine {longest} · waits on chan int")


async def test_through_dlv_the_waits_are_not_guessed(cores, monkeypatch):
    list_through_dlv(monkeypatch)
    fixture = cores["blocked_panic"]
    async with running(fixture, lambda app: app.first_screen_ready and app.waits_complete) as (app, pilot):
        assert app.store.waits is None and app.store.waits_problem == WAITS_NEED_THE_CORE
        assert app.main.check_action("toggle_by_object", ()) is None  # w greyed out
        await until(pilot, lambda: app.goroutines_complete)
        table = app.query_one(GoroutineList)
        assert "waiting on" not in table.columns  # no empty column for what cannot be known


def test_the_report_has_every_wait_its_object_and_a_deadlock_summary(cores):
    blocked = cores["blocked_panic"]
    result = gocore(blocked.exe, blocked.core, "--report", "json", "--no-gdb")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    items = {item["id"]: item for item in report["goroutines"]["items"]}
    mutex_waiters = [item for item in items.values() if (item["waiting_on"] or {}).get("kind") == "mutex"]
    assert len(mutex_waiters) == 2
    assert all(item["waiting_on"]["name"] == "main.mu" and item["waiting_on"]["type"] == "sync.Mutex"
               for item in mutex_waiters)
    assert all(item["location"]["function"].startswith("main.") for item in mutex_waiters)
    labelled = {item["labels"]["id"]: item for item in items.values() if item["labels"]}
    assert sorted(labelled) == ["0", "1", "2"] and all(i["labels"]["role"] == "handler" for i in labelled.values())
    assert items[1]["waiting_on"] is None and items[1]["crashing"]  # main was running: it panicked
    first = report["blocking"][0]
    assert (first["name"], first["type"], first["len"], first["cap"], first["closed"]) == \
        ("main.requests", "chan int", 0, 0, False)
    assert sorted(first["waiters"]["receive"]) == sorted(int(i) for i in
                                                         (item["id"] for item in labelled.values()))
    assert report["deadlock"] is None

    deadlock = cores["deadlock_chan"]
    report = json.loads(gocore(deadlock.exe, deadlock.core, "--report", "json", "--no-gdb").stdout)
    assert report["deadlock"]["summary"][0] == \
        "5 goroutines send to chan int results (2/2, full) in main.main; none receives"
    assert report["blocking"][0]["count"] == 5 and len(report["blocking"][0]["waiters"]["send"]) == 5

    long_wait = cores["long_wait"]
    report = json.loads(gocore(long_wait.exe, long_wait.core, "--report", "json", "--no-gdb").stdout)
    minutes = {item["id"]: item["wait_minutes"] for item in report["goroutines"]["items"] if item["wait_minutes"]}
    assert minutes == go_minutes(long_wait)
    markdown = gocore(deadlock.exe, deadlock.core, "--report", "md", "--no-gdb").stdout
    assert "## What they wait on" in markdown and "- 5 goroutines send to chan int results" in markdown
