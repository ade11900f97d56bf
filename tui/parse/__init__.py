"""Pure text -> model functions for dlv and gdb output. No I/O here."""

from .errors import ParseError

__all__ = ["ParseError"]
