"""What every waiting goroutine of a Go core waits on, read from the
runtime's own structures.

    native = NativeCore.open("main", "core")
    listing = native.listing()
    reading = read_waits(native, listing)       # in the background
    reading.waits[5]    -> Wait(goroutine=5, kind="chan receive", address=0xc000..., ...)
    reading.objects[a]  -> WaitObject(kind="chan", type="chan int", name="results in main.main", len=2, cap=2, ...)
    reading.waiters[a]  -> {"send": (6, 7, 8, 9, 10)}

One pass over allgs (reader.py) reads every g's wait reason and hands
each waiting goroutine to the reader of its kind, every offset from the
executable's DWARF through the runtime's decoders (tui/corefile/runtime):
- channels.py: a channel send or receive (g.waiting's sudog.c), a select
  (one sudog per case, each case's direction from its channel's queues);
- semaphores.py: sync.Mutex, RWMutex, WaitGroup and plain semaphores,
  through the runtime's semaphore table;
- conds.py: sync.Cond, through its notifyList;
- netpoll.py: an I/O wait's pollDesc and fd;
- sleeps, system calls and the runtime's own waits by their kind only;
- clock.py: the runtime's clock at the crash, for Go's `, N minutes`.
Names come from names.py.

Nothing raises past read_waits but Unsupported, for a core whose runtime
this does not model; a goroutine whose sudog is unreadable keeps its kind,
with no address and a detail saying so, and the reading's notes say why.

Cost: one pass over allgs (one read per g), one more read per channel
waiter, a walk of the semaphore treaps, and a few hundred reads for the
rest; at 100k goroutines about a fifth of the native listing (bench/native_waits.py).
"""

from ...model.waits import (KINDS, OBJECT_KINDS, ROLES, Clock, SelectCase, Wait, WaitObject, WaitReading, WaitRow,
                            WaitRows, wait_minutes)
from .clock import file_time, read_clock
from .reader import WaitReader, read_waits

__all__ = ["KINDS", "OBJECT_KINDS", "ROLES", "Clock", "SelectCase", "Wait", "WaitObject", "WaitReading", "WaitRow",
           "WaitRows", "WaitReader", "file_time", "read_clock", "read_waits", "wait_minutes"]
