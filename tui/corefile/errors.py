"""The one exception of the native reader.

Anything this package cannot read the way Delve would (another
architecture, an unknown pclntab, a runtime type missing from DWARF, a
layout that does not make sense, an address the core and the executable do
not hold) raises Unsupported: the caller falls back to Delve and shows
str(err) as the reason. No struct.error, IndexError or KeyError escapes.
"""

from __future__ import annotations


class Unsupported(Exception):
    """str() is one line: what could not be read natively, and why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BadRead(Unsupported):
    """An address neither the core nor the executable holds (a corrupt
    pointer, or memory the kernel did not dump). Per-goroutine readers
    catch it and mark that goroutine unreadable; the rest go on."""

    def __init__(self, address: int, size: int, what: str = "") -> None:
        where = f" ({what})" if what else ""
        super().__init__(f"cannot read {size} bytes at {address:#x}{where}: not in the core or the executable")
        self.address = address
        self.size = size


class Stopped(Exception):
    """The caller asked a long read to stop (the app is quitting)."""
