"""Batch debugger runs (gdb -batch) never outlive us, however we end."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tui.debugger.batch import run_batch
from waiting import wait_for

ROOT = Path(__file__).resolve().parents[1]


def sleepers(tag: str) -> list[int]:
    out = subprocess.run(["pgrep", "-f", f"sleep {tag}"], capture_output=True, text=True).stdout
    return [int(pid) for pid in out.split()]


# A batch run's timeout in the tests that time one out: what the run prints
# at once must be out before it. That took 0.05 s at most under two CPU hogs.
CUT_OFF_AFTER = 2.0


def test_a_timeout_kills_the_run_and_keeps_its_output():
    result = run_batch(["sh", "-c", "echo frame-0; exec sleep 301"], timeout=CUT_OFF_AFTER)
    assert result.timed_out and "frame-0" in result.output
    assert sleepers("301") == []


def test_a_missing_program_is_file_not_found():
    with pytest.raises(FileNotFoundError):
        run_batch(["gocore-no-such-debugger"], timeout=1)


@pytest.mark.parametrize("ending", ["sigkill", "exit", "stop_batches"])
def test_no_batch_run_outlives_its_caller(ending, tmp_path):
    tag = {"sigkill": "302", "exit": "303", "stop_batches": "304"}[ending]
    script = textwrap.dedent(f"""
        import os, sys, threading, time
        from tui.debugger.batch import run_batch, stop_batches
        threading.Thread(target=run_batch, args=(["sleep", "{tag}"], 600), daemon=True).start()
        def sleeping():
            for pid in filter(str.isdigit, os.listdir("/proc")):
                try:
                    argv = open(f"/proc/{{pid}}/cmdline", "rb").read().split(b"\\0")
                    if argv[0].rsplit(b"/", 1)[-1] == b"sleep" and argv[1:2] == [b"{tag}"]:
                        return True
                except OSError:
                    pass
        while not sleeping():  # the batch run is up
            time.sleep(0.01)
        print("running", flush=True)
        if "{ending}" == "stop_batches":
            stop_batches()
            time.sleep(30)
        elif "{ending}" == "exit":
            sys.exit(0)  # the atexit reaper
        else:
            time.sleep(30)  # killed outright by the test
    """)
    child = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "running"
        if ending == "sigkill":
            assert sleepers(tag)
            child.kill()
        wait_for(lambda: sleepers(tag) == [], f"sleep {tag} outlived its caller ({ending})")
    finally:
        child.kill()
        child.wait()
        for pid in sleepers(tag):
            subprocess.run(["kill", "-9", str(pid)])


@pytest.mark.parametrize("adopting", [True, False])
def test_a_debuggers_orphan_is_reaped_by_us_not_left_for_init(adopting):
    """gdb forks a probe at start-up; its group killed meanwhile, the probe
    is orphaned. Adopting orphans (as the CLI does), the exit kills and
    reaps it; without, it outlives us (the check that this test can fail)."""
    import leftovers

    tag = "305" if adopting else "306"
    script = textwrap.dedent(f"""
        import subprocess, sys
        from tui.debugger import children
        from tui.debugger.session import close_all_sessions
        if {adopting}:
            children.adopt_orphans()
        # A parent that leaves its child behind: the child is orphaned at once.
        subprocess.run(["sh", "-c", "sleep {tag} >/dev/null 2>&1 & exit 0"])
        print("orphaned", flush=True)
        close_all_sessions()
    """)
    with leftovers.adopting():
        child = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=30)
        assert child.stdout.strip() == "orphaned", child.stderr
        try:
            if adopting:
                assert sleepers(tag) == []
            else:
                wait_for(lambda: sleepers(tag) != [], f"the orphaned sleep {tag} never showed")
        finally:
            for pid in sleepers(tag):
                subprocess.run(["kill", "-9", str(pid)])
            time.sleep(0.1)
            leftovers.reap(leftovers.scan_adopted())
