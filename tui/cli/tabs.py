"""`gocore-tui serve`'s server: textual-serve's, made to account for every
tab's app process it starts.

textual-serve starts one app process per websocket. Its own bookkeeping
loses them: when a write to a closed websocket fails it stops reading the
app's stdout (and the app then blocks once the pipe is full), its stop()
only asks the app to quit and never makes sure it did, and stopping the
server does not stop the apps. Here each tab's stdout is read until the
app exits, whatever became of the websocket; a tab whose websocket closes
is asked to quit, then terminated, then killed, and reaped (within
QUIT_GRACE + TERM_GRACE; its driver's own deadline ends it sooner); and
stopping the server (SIGINT, SIGTERM, SIGHUP) does the same for every tab
before the server exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal

from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

# After "quit": how long the app has to exit on its own (its driver's own
# deadline is shorter), then after SIGTERM; SIGKILL after that.
QUIT_GRACE = 1.5
TERM_GRACE = 0.4
# A websocket ping this often, answered within half of it, or the tab is
# taken for gone (a browser frozen or off the network): textual-serve's 15 s
# kept a vanished tab's app and dlvs for up to 22 s.
HEARTBEAT = 5.0


class TabService(AppService):
    """One tab's app process, read to its end and always reaped."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._connected = True
        self._stopping: asyncio.Task | None = None

    async def on_data(self, payload: bytes) -> None:
        if self._connected:
            try:
                await self.remote_write_bytes(payload)
            except (ConnectionError, RuntimeError):
                self._connected = False  # the websocket is gone: go on reading, drop the output

    async def on_meta(self, data: bytes) -> None:
        if not self._connected:
            return
        try:
            await super().on_meta(data)
        except (ConnectionError, RuntimeError):
            self._connected = False

    async def stop(self) -> None:
        """Quit the app and reap it; concurrent callers share one stop."""
        if self._process is None:
            return
        if self._stopping is None:
            self._stopping = asyncio.ensure_future(self._stop())
        await asyncio.shield(self._stopping)

    async def _stop(self) -> None:
        self._connected = False
        process = self._process
        await self._download_manager.cancel_app_downloads(app_service_id=self.app_service_id)
        await self.send_meta({"type": "quit"})
        for grace, then in ((QUIT_GRACE, signal.SIGTERM), (TERM_GRACE, signal.SIGKILL), (None, None)):
            try:
                await asyncio.wait_for(process.wait(), grace)  # reaped
                break
            except asyncio.TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(then)
        if self._task is not None:
            # stdout to its end; a send to a frozen browser is not waited for.
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(self._task, TERM_GRACE)
            self._task = None


class TabServer(Server):
    """textual-serve's Server with TabService tabs, all stopped with it."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.tabs: dict[TabService, web.WebSocketResponse] = {}

    def serve(self, debug: bool = False) -> None:
        # Server.serve() takes this loop and handles SIGINT and SIGTERM on
        # it; a hang-up of its terminal stops the tabs just as well.
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signal.SIGHUP, self.request_exit)
        super().serve(debug)

    async def on_shutdown(self, app: web.Application) -> None:
        """Before the server stops: every tab's app quits, and is reaped."""
        await asyncio.gather(*(self._end_tab(tab, socket) for tab, socket in list(self.tabs.items())))

    @staticmethod
    async def _end_tab(tab: TabService, socket: web.WebSocketResponse) -> None:
        await tab.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(socket.close(), TERM_GRACE)

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """Server.handle_websocket, with a TabService that is stopped however
        the websocket ends (the tab closed, the browser killed, the network
        gone and the heartbeat missed, the server stopping)."""
        websocket = web.WebSocketResponse(heartbeat=HEARTBEAT)
        width = to_int(request.query.get("width", "80"), 80)
        height = to_int(request.query.get("height", "24"), 24)
        await websocket.prepare(request)
        tab = TabService(self.command, write_bytes=websocket.send_bytes, write_str=websocket.send_str,
                         close=websocket.close, download_manager=self.download_manager, debug=self.debug)
        self.tabs[tab] = websocket
        try:
            await tab.start(width, height)
            await self._process_messages(websocket, tab)
        except (asyncio.CancelledError, ConnectionError, ValueError):
            pass  # cancelled (the server stops), or a broken frame: the socket is as good as closed
        finally:
            await asyncio.shield(tab.stop())
            self.tabs.pop(tab, None)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(websocket.close(), TERM_GRACE)
        return websocket
