"""The driver of one `gocore-tui serve` tab: Textual's web driver, made to
end the app when its server does.

textual-serve runs each tab's app with stdin and stdout as pipes to the
server; when the browser's websocket closes, the server writes a "quit"
packet to stdin and reads stdout until the app exits. Textual's WebDriver
leaves three ways for the app to outlive its tab:
  - stdin at EOF (the server died, or was stopped before it could say quit)
    only ends the driver's input thread: the app runs on with no one
    connected, its dlvs with it, for ever;
  - a server that stopped reading stdout (textual-serve stops as soon as a
    write to a closed websocket fails) leaves the app's writes blocked once
    the pipe is full, on the thread that runs the event loop: the "quit"
    packet, and SIGTERM (which WebDriver turns into a loop callback), then
    never run, and only SIGKILL ends the process;
  - a write to a server that is gone raises in the middle of a repaint.
Here, EOF, a failed write, "quit" and SIGINT/SIGTERM/SIGHUP each ask the app
to exit, and arm a deadline: if the app has not exited by then (its loop is
stuck), every dlv and gdb it started is closed and reaped from this thread,
and the process exits.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading

from textual import messages
from textual.drivers.web_driver import WebDriver

from ..debugger.session import close_all_sessions

# A tab's app is gone this long after its server said quit (or went away),
# however stuck its event loop is: the tab's dlvs included, reaped.
EXIT_DEADLINE = 1.2


class TabDriver(WebDriver):
    def __init__(self, app, **kwargs) -> None:
        super().__init__(app, **kwargs)
        self._write = self._write_all
        self._leaving = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    def _write_all(self, data: bytes) -> None:
        """Every byte of a packet (a signal can cut a pipe write short), and
        no exception into a repaint when the server is gone."""
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(self.fileno, view):]
            except OSError:  # EPIPE, EBADF: nobody reads this tab any more
                self.leave()
                return

    def start_application_mode(self) -> None:
        self._loop = asyncio.get_running_loop()
        super().start_application_mode()
        # Python-level handlers, not loop callbacks: they run even while the
        # loop's thread is blocked in a write.
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum, _frame) -> None:
        self.leave()

    def run_input_thread(self) -> None:
        super().run_input_thread()
        if not self.exit_event.is_set():  # stdin ended, not the app: the server is gone
            self.leave()

    def on_meta(self, packet_type: str, payload: dict) -> None:
        if packet_type == "quit":  # the tab's websocket closed
            self.leave()
        else:
            super().on_meta(packet_type, payload)

    def leave(self) -> None:
        """Ask the app to exit; end the process at the deadline if it has not."""
        if self._leaving.is_set():
            return
        self._leaving.set()
        if self._loop is not None and not self._loop.is_closed():
            try:  # safe from a signal handler and from any thread
                self._loop.call_soon_threadsafe(self._app.post_message, messages.ExitApp())
            except RuntimeError:  # the loop closed meanwhile: the app is exiting anyway
                pass
        deadline = threading.Timer(EXIT_DEADLINE, self._exit_now)
        deadline.daemon = True
        deadline.start()

    @staticmethod
    def _exit_now() -> None:
        close_all_sessions()
        os._exit(0)
