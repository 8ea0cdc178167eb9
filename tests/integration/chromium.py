"""A headless Chromium for tests, driven through the DevTools protocol (no other driver).

The browser is started by the test, on a free loopback port, with its own profile folder,
and stopped by its PID. `Page` sends DevTools commands over the page's websocket (aiohttp's
client) and answers them in order; that is all the tests need: navigate, evaluate,
screenshot.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import httpx

from tests.integration.real_servers import free_port, require_binary
from tests.processes import stop

TERMINAL_HOOK = """
(() => {
  // Keep what the page's websockets receive: the dashboard's terminal output, which
  // xterm.js draws on a canvas (so the DOM holds no text to read).
  const Native = window.WebSocket;
  window.__received = [];
  const decoder = new TextDecoder();
  function Recording(url, protocols) {
    const socket = protocols === undefined ? new Native(url) : new Native(url, protocols);
    socket.addEventListener("message", (event) => {
      const data = event.data;
      if (typeof data === "string") window.__received.push(data);
      else if (data instanceof ArrayBuffer) {
        window.__received.push(decoder.decode(data, { stream: true }));  // a character may span two
      }
      else if (data instanceof Blob) {
        // read later, kept in the order it came
        const slot = window.__received.push("") - 1;
        data.text().then((t) => { window.__received[slot] = t; });
      }
    });
    return socket;
  }
  Recording.prototype = Native.prototype;
  for (const name of ["CONNECTING", "OPEN", "CLOSING", "CLOSED"]) Recording[name] = Native[name];
  window.WebSocket = Recording;
})();
"""
"""Installed before the page's own scripts run."""


def terminal_screen(stream: str, columns: int = 400, lines: int = 150) -> str:
    """The screen a terminal shows after ``stream``, line by line (a terminal emulator,
    pyte, plays it: the dashboard writes only the cells that changed, so a word can be
    split by cursor moves in the stream yet whole on the screen)."""
    import pyte

    screen = pyte.Screen(columns, lines)
    pyte.Stream(screen).feed(stream)
    return "\n".join(line.rstrip() for line in screen.display)


class Page:
    """One browser tab, driven over its DevTools websocket."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self.socket = socket
        self._ids = itertools.count(1)

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Send a DevTools command; its result (events on the way are dropped)."""
        ident = next(self._ids)
        await self.socket.send_json({"id": ident, "method": method, "params": params})
        while True:
            message = json.loads((await self.socket.receive()).data)
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return dict(message.get("result", {}))

    async def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page."""
        result = await self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    async def screenshot(self, path: Path) -> Path:
        """Save a PNG of the page."""
        data = await self.send("Page.captureScreenshot", format="png")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data["data"]))
        return path


@contextlib.asynccontextmanager
async def chromium(profile: Path, size: tuple[int, int] = (1600, 1000)) -> AsyncIterator[Page]:
    """A headless Chromium with one blank tab whose websockets are recorded."""
    binary = require_binary("chromium", "chromium")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--no-default-browser-check", f"--user-data-dir={profile}",
         f"--remote-debugging-port={port}", "--remote-debugging-address=127.0.0.1",
         f"--window-size={size[0]},{size[1]}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        target = await _first_page(port)
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(target, max_msg_size=0) as socket,
        ):
            page = Page(socket)
            await page.send("Page.enable")
            await page.send("Page.addScriptToEvaluateOnNewDocument", source=TERMINAL_HOOK)
            yield page
    finally:
        stop(process)  # with its zygote, renderer and GPU processes: its process group


async def _first_page(port: int, timeout_s: float = 30.0) -> str:
    """The DevTools websocket URL of the browser's first tab, once it answers."""
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                targets = (await client.get(f"http://127.0.0.1:{port}/json/list")).json()
                pages = [t for t in targets if t.get("type") == "page"]
                if pages:
                    return str(pages[0]["webSocketDebuggerUrl"])
            await asyncio.sleep(0.2)
    raise TimeoutError(f"chromium's DevTools did not answer on port {port}")
