"""What a real dlv says about every goroutine of a core, unabridged
(tests/data/corefile/truth.star), to hold tui/corefile against."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tui.debugger.delve import Delve

TRUTH_SCRIPT = Path(__file__).parent / "data" / "corefile" / "truth.star"


@dataclass(frozen=True)
class Place:
    pc: int
    file: str
    line: int
    function: str


@dataclass
class TruthGoroutine:
    id: int
    thread: int
    status: int
    wait_reason: int
    wait_since: int
    user: Place | None = None
    go: Place | None = None
    start: Place | None = None
    labels: str = "map[]"
    frames: list[tuple[Place, str]] = field(default_factory=list)


@dataclass
class Truth:
    goroutines: list[TruthGoroutine]
    unreadable: list[str]
    wait_reasons: tuple[str, ...]
    selected: int | None


def read_truth(delve: Delve, depth: int = 64) -> Truth:
    output = delve.runner.run(f"source {TRUTH_SCRIPT}")
    assert "Command failed" not in output, output
    output = delve.runner.run(f"corefile_truth {int(depth)}", timeout=600)
    goroutines: list[TruthGoroutine] = []
    unreadable: list[str] = []
    ended = False
    for line in output.splitlines():
        fields = line.split("\t")
        if fields[0] == "G":
            goroutines.append(TruthGoroutine(*(int(x) for x in fields[1:6])))
        elif fields[0] == "U":
            unreadable.append(fields[1])
        elif fields[0] == "L":
            place = Place(int(fields[2]), fields[3], int(fields[4]), fields[5])
            setattr(goroutines[-1], fields[1], place)
        elif fields[0] == "B":
            goroutines[-1].labels = "\t".join(fields[1:])
        elif fields[0] == "F":
            goroutines[-1].frames.append((Place(int(fields[1]), fields[2], int(fields[3]), fields[4]),
                                          "\t".join(fields[5:])))
        elif fields[0] == "END":
            ended = True
    assert ended, output[-2000:]
    return Truth(goroutines, unreadable, delve.wait_reasons(), delve.current_goroutine())
