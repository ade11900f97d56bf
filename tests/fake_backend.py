"""A Backend without Go or dlv, for the app's own behaviour: navigation,
staleness, restart, the console, and the races between them.

A World holds what a core would say (goroutines, their backtraces, each
frame's variables); FakeBackend answers from it, records every call, and
can be slowed (gates), made to fail, or killed. The real-dlv tests in
tests/test_app.py check the same screens against the real thing.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from tui.analysis.crash import CrashEvidence, analyse
from tui.debugger.session import SessionDied
from tui.model import Backtrace, Frame, FrameState, Goroutine, Instruction, Location, Snapshot, Target, Variable
from waiting import HANG


def source_file(folder: Path, lines: int = 30) -> Path:
    """A Go file whose line N says which line it is."""
    path = folder / "main.go"
    path.write_text("package main\n" + "".join(f"// line {n}\n" for n in range(2, lines + 1)))
    return path


@dataclass
class World:
    """What the fake core holds. Goroutine 1 crashed in main.crash; the
    others wait in main.wait; every stack has runtime frames on top."""

    file: str
    goroutines: int = 5
    crashing: int = 1
    # A crash on the thread's system stack, as Delve 1.20 shows one: the
    # crashing thread's stack (-mode simple) differs from the goroutine's own.
    system_stack: bool = False
    # Runtime frames between the signal and the crashing frame (a deep stack).
    extra_runtime_frames: int = 0
    # Where the crashing stack's runtime files are: somewhere no source is
    # found for, and their frames show instructions instead.
    runtime_dir: str = "/go/src/runtime"

    def backtrace(self, goroutine_id: int | None) -> Backtrace:
        if goroutine_id == self.crashing:
            frames = [("runtime.raise", f"{self.runtime_dir}/sys_linux_amd64.s", 154, 0x1000),
                      *[(f"runtime.deep{n}", f"{self.runtime_dir}/deep.go", 10 + n, 0x1100 + n)
                        for n in range(self.extra_runtime_frames)],
                      ("runtime.gopanic", f"{self.runtime_dir}/panic.go", 879, 0x2000),
                      ("main.crash", self.file, 10, 0x3000),
                      ("main.main", self.file, 20, 0x4000),
                      ("runtime.main", "/go/src/runtime/proc.go", 283, 0x5000)]
        else:
            frames = [("runtime.gopark", "/go/src/runtime/proc.go", 463, 0x6000),
                      ("main.wait", self.file, 15, 0x7000 + (goroutine_id or 0)),
                      ("runtime.goexit", "/go/src/runtime/asm_amd64.s", 1771, 0x8000)]
        return Backtrace(goroutine_id, tuple(Frame(i, pc, f, file, line) for i, (f, file, line, pc) in enumerate(frames)))

    def thread_stack(self) -> Backtrace:
        """The crashing thread's stack in `-mode simple`: four frames of the
        system stack, then the goroutine's own from main.crash on, so a
        frame's index differs from its index in the goroutine's own stack."""
        own = self.backtrace(self.crashing).frames
        extra = [Frame(0, 0x9000, "runtime.raise", "/go/src/runtime/sys_linux_amd64.s", 154),
                 Frame(1, 0x9100, "runtime.fatalthrow", "/go/src/runtime/panic.go", 1100),
                 Frame(2, 0x9200, "runtime.throw", "/go/src/runtime/panic.go", 1023),
                 Frame(3, 0x9300, "runtime.systemstack", "/go/src/runtime/asm_amd64.s", 509)]
        return Backtrace(self.crashing, tuple(extra + [Frame(i + 4, f.pc, f.function, f.file, f.line)
                                                       for i, f in enumerate(own[2:])]), simple=True)

    def state(self, goroutine_id: int | None, frame_index: int) -> FrameState:
        return FrameState(goroutine_id, frame_index,
                          args=(Variable("n", str(frame_index), "int", "arg"),),
                          locals=(Variable("where", f'"g{goroutine_id} f{frame_index}"', "string"),
                                  Variable("cfg", "*main.Config {Name: ...}", "*main.Config", expr="cfg",
                                           partial=True)))

    def listed(self) -> list[Goroutine]:
        place = Location(self.file, 15, "main.wait")
        return [Goroutine(gid, Location(self.file, 10, "main.crash") if gid == self.crashing else place,
                          wait_reason="" if gid == self.crashing else "chan receive", selected=gid == self.crashing)
                for gid in range(1, self.goroutines + 1)]


@dataclass
class FakeBackend:
    world: World
    name: str = "first"
    calls: list = field(default_factory=list)
    die_at_page: int | None = None  # the n-th listing page kills it
    helper: "FakeBackend | None | object" = None
    gate: threading.Event = field(default_factory=threading.Event)  # frame_state waits for it
    closed: bool = False
    dead: bool = False

    def __post_init__(self) -> None:
        self.gate.set()
        self.target = Target("./main", "./core", "go1.26.8", "fake")

    @property
    def alive(self) -> bool:
        return not (self.dead or self.closed)

    def _call(self, *what) -> None:
        self.calls.append(what)
        if not self.alive:
            raise SessionDied("the debugger session is closed" if self.closed else "dlv died")

    def snapshot(self) -> Snapshot:
        self._call("snapshot")
        world = self.world
        own = world.backtrace(world.crashing)
        stack = world.thread_stack() if world.system_stack else own
        crash = analyse(CrashEvidence(stack, world.crashing, panic_value='interface {}(string) "boom"',
                                      goroutine_backtrace=own if world.system_stack else None), own)
        index = crash.frame.index if crash.frame else 0
        return Snapshot(self.target, crash, (), own, world.state(world.crashing, index),
                        crash_backtrace=stack if world.system_stack else None)

    def backtrace(self, goroutine_id, slot=None):
        self._call("backtrace", goroutine_id)
        return self.world.backtrace(goroutine_id)

    def frame_state(self, goroutine_id, frame_index):
        self._call("frame_state", goroutine_id, frame_index)
        self.gate.wait(HANG)
        return self.world.state(goroutine_id, frame_index)

    def expand(self, goroutine_id, frame_index, variable):
        self._call("expand", goroutine_id, frame_index, variable.expr)
        return Variable(variable.name, f"in g{goroutine_id} f{frame_index}", variable.type, variable.kind,
                        children=(Variable("Name", '"x"', "string"),))

    def evaluate(self, goroutine_id, frame_index, expression):
        self._call("evaluate", goroutine_id, frame_index, expression)
        return f"{expression}@f{frame_index}"

    def disassemble(self, goroutine_id, frame_index):
        self._call("disassemble", goroutine_id, frame_index)
        return (Instruction(0x3000, "main.go:10", "CALL main.boom", True),)

    def run(self, command):
        self._call("run", command)
        return f"ran {command}\n"

    def lister(self):
        return self  # it lists goroutines itself, as dlv does

    def spawn_helper(self):
        self.calls.append(("spawn_helper",))
        return self.helper() if callable(self.helper) else self.helper

    def allgs_length(self):
        self._call("allgs_length")
        return self.world.goroutines

    def goroutine_pages(self, claim):
        listed = self.world.listed()
        page, number = claim(0), 0
        while page is not None:
            if number == self.die_at_page:
                self.dead = True
            self._call("page", page)
            start, count = page
            number += 1
            end = min(len(listed), start + count)
            yield tuple(listed[start:end])
            page = claim(end if end < len(listed) else -1)

    def stack_pages(self):
        self._call("stacks")
        stacks = []
        for goroutine in self.world.listed():
            frames = self.world.backtrace(goroutine.id).frames
            stacks.append((goroutine.id, tuple(f.location for f in frames)))
        yield tuple(stacks)

    def warm_cache(self, start):
        self._call("warm", start)

    def close(self):
        self.closed = True
        self.calls.append(("close",))
