"""Headless Chromium, driven over the DevTools protocol, for `serve`'s tests.

textual-serve's page draws the terminal on a canvas (xterm.js), so the text
is not in the DOM: what the page shows is read from the terminal output the
page received over its websocket, with the escape sequences taken out.
aiohttp (which textual-serve brings) speaks the protocol's websocket.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

import aiohttp

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
# CSI (colours, cursor moves), OSC (titles, links) and the two-byte escapes.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")


def find_chromium() -> str | None:
    return next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)


def terminal_text(output: bytes) -> str:
    return _ESCAPES.sub("", output.decode("utf-8", errors="replace"))


class Browser:
    """One headless Chromium, looking at one tab at a time. Use as an async context manager."""

    def __init__(self, chromium: str, profile: Path) -> None:
        # --no-sandbox: tests may run as root; --disable-dev-shm-usage: a
        # container's /dev/shm is often too small for Chromium.
        self._argv = [chromium, "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                      "--disable-breakpad", "--disable-crash-reporter", "--no-first-run",
                      "--remote-debugging-port=0", f"--user-data-dir={profile}", "--window-size=1600,1000",
                      "about:blank"]
        self._ids = itertools.count(1)
        self._replies: dict[int, asyncio.Future] = {}
        self.received = bytearray()  # the terminal output the open tab's websocket received
        self._session: str | None = None  # the open tab's DevTools session
        self.process: subprocess.Popen | None = None
        self._gone = False  # killed or frozen: nobody to ask to close

    async def __aenter__(self) -> "Browser":
        self.process = subprocess.Popen(self._argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                        start_new_session=True)
        endpoint = await asyncio.to_thread(self._devtools_endpoint)
        self._http = aiohttp.ClientSession()
        self._socket = await self._http.ws_connect(endpoint, max_msg_size=0)
        self._reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc) -> None:
        if not self._gone:
            try:
                await asyncio.wait_for(self.call("Browser.close"), 10)
            except (asyncio.TimeoutError, aiohttp.ClientError, ConnectionError):
                pass
        self._reader.cancel()
        await self._socket.close()
        await self._http.close()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            pass
        with contextlib.suppress(ProcessLookupError):  # helpers that outlived it (its own session)
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def _devtools_endpoint(self) -> str:
        for raw in self.process.stderr:
            line = raw.decode(errors="replace")
            if line.startswith("DevTools listening on "):
                return line.split(" on ", 1)[1].strip()
        raise RuntimeError(f"chromium exited ({self.process.wait()}) before opening its DevTools port")

    async def _read(self) -> None:
        async for message in self._socket:
            event = message.json()
            if "id" in event:
                future = self._replies.pop(event["id"])
                if "error" in event:
                    future.set_exception(RuntimeError(f"DevTools: {event['error']}"))
                else:
                    future.set_result(event.get("result", {}))
            elif event.get("method") == "Network.webSocketFrameReceived" and event.get("sessionId") == self._session:
                response = event["params"]["response"]
                if response["opcode"] == 2:  # binary: textual-serve's terminal output
                    self.received += base64.b64decode(response["payloadData"])

    async def call(self, method: str, session: str | None = None, **params):
        command_id = next(self._ids)
        reply = self._replies[command_id] = asyncio.get_running_loop().create_future()
        message = {"id": command_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        await self._socket.send_json(message)
        return await asyncio.wait_for(reply, 30)

    async def open(self, url: str) -> None:
        """Open url in a new tab; `received` is its terminal output from now on."""
        self._session = None  # the tab open so far is no longer read
        self.received.clear()
        self._target = (await self.call("Target.createTarget", url="about:blank"))["targetId"]
        attached = await self.call("Target.attachToTarget", targetId=self._target, flatten=True)
        self._session = attached["sessionId"]
        await self.call("Network.enable", session=self._session)
        await self.call("Page.navigate", session=self._session, url=url)

    async def evaluate(self, expression: str):
        result = await self.call("Runtime.evaluate", session=self._session, expression=expression, returnByValue=True)
        return result["result"].get("value")

    async def screenshot(self, path: Path) -> None:
        shot = await self.call("Page.captureScreenshot", session=self._session, format="png")
        path.write_bytes(base64.b64decode(shot["data"]))

    def kill(self) -> None:
        """The browser killed outright (every Chromium process): its sockets
        close without a websocket close frame."""
        self._gone = True
        os.killpg(self.process.pid, signal.SIGKILL)

    def freeze(self) -> None:
        """The browser stopped (SIGSTOP): its connections stay open and say
        nothing, as when the network is gone."""
        self._gone = True
        os.killpg(self.process.pid, signal.SIGSTOP)

    async def close_tab(self) -> None:
        await self.call("Target.closeTarget", targetId=self._target)

    async def wait_for_text(self, text: str, timeout: float) -> str:
        """The page's terminal text once it holds `text`; raises TimeoutError with what it held."""
        deadline = asyncio.get_running_loop().time() + timeout
        while text not in (shown := terminal_text(bytes(self.received))):
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{text!r} not shown in {timeout:.0f} s; the page got:\n{shown[-2000:]}")
            await asyncio.sleep(0.2)
        return shown
