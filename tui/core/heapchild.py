"""The heap reader's own process (see tui/core/heap.py):

    python -m tui.core.heapchild EXE CORE FOLDER PARENT_PID

reads the whole heap, printing `progress STAGE DONE TOTAL` lines as it
goes, writes the reading into FOLDER (save_reading), and ends with one
line: `done`, `unsupported WHY` or `error WHY`. It runs at a lower CPU
priority than the UI and dies with its parent.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .heap import CHILD_NICE, die_with_parent, save_reading


def main(argv: list[str]) -> int:
    executable, core, folder, parent = argv
    die_with_parent(int(parent))
    try:
        os.nice(CHILD_NICE)
    except OSError:
        pass
    from ..corefile.errors import Stopped, Unsupported
    from ..corefile.heap import read_heap_of

    def progress(step) -> None:
        print(f"progress {step.stage} {step.done} {step.total}", flush=True)

    try:
        reading = read_heap_of(executable, core, progress=progress)
        save_reading(reading, Path(folder))
    except (Unsupported, Stopped) as err:
        print(f"unsupported {' '.join(str(err).split())}", flush=True)
        return 0
    except MemoryError:
        print("error not enough memory to read the heap", flush=True)
        return 1
    except OSError as err:
        print(f"error {err.strerror or err}", flush=True)
        return 1
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
