"""The user's terminal as it was before the TUI took it, for an exit that
Textual does not see: killed by a signal, the app's own teardown never
runs, and the shell would be left in raw mode on the alternate screen."""

from __future__ import annotations

import os
import sys
import termios
from typing import Callable

# What Textual's Linux driver turns on, turned off (its stop_application_mode):
# the kitty keyboard protocol, mouse reports, bracketed paste, in-band resize,
# focus events, the alternate screen and the hidden cursor.
_RESET = ("\x1b[<u" "\x1b[?1000l\x1b[?1003l\x1b[?1015l\x1b[?1006l\x1b[?1016l" "\x1b[?2004l\x1b[?2048l"
          "\x1b[?1004l\x1b[?1049l\x1b[?25h")


def terminal_restorer() -> Callable[[], None]:
    """A call that puts the terminal back as it is now (a no-op off a tty)."""
    try:
        settings_fd, screen_fd = sys.__stdin__.fileno(), sys.__stderr__.fileno()
        if not (os.isatty(settings_fd) and os.isatty(screen_fd)):
            return lambda: None
        settings = termios.tcgetattr(settings_fd)
    except (AttributeError, OSError, ValueError, termios.error):
        return lambda: None

    def restore() -> None:
        try:
            os.write(screen_fd, _RESET.encode())
            termios.tcsetattr(settings_fd, termios.TCSANOW, settings)
        except (OSError, termios.error):
            pass  # the terminal is gone (SIGHUP): nothing to restore

    return restore
