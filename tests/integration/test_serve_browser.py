"""`inferdeck serve` in a real browser: headless Chromium (started here) opens the page,
the dashboard's panels arrive over the websocket and are drawn, read-only; a screenshot
of the page is kept as a test artefact."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.chromium import Page, chromium, terminal_screen
from tests.integration.real_servers import free_port, free_port_block

PANELS = ("GPUs", "Queue", "Latency", "Throughput", "Alerts", "Backends")
"""The overview's panel titles."""


def artefacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where pictures a person should look at go: $INFERDECK_TEST_ARTEFACTS, else under
    pytest's base temporary folder."""
    folder = os.environ.get("INFERDECK_TEST_ARTEFACTS")
    return Path(folder) if folder else tmp_path_factory.getbasetemp() / "artefacts"


def wait_until_served(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"inferdeck serve exited: {log.read_text()}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"inferdeck serve never answered on {url}: {log.read_text()}")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """`inferdeck serve --demo` on a free port; stopped (with every dashboard it started)."""
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tui.commands", "serve", "--demo", "--port", str(port),
             "--port-base", str(free_port_block())],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_served(url, process, log)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # the server and the dashboards it started
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


async def test_the_dashboard_renders_in_a_browser(
    served: str, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    async with chromium(tmp_path / "profile") as page:
        await page.send("Page.navigate", url=served)
        screen = ""
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            screen = terminal_screen(await received_output(page))
            if drawn(screen):
                break
            await asyncio.sleep(0.5)
        shot = await page.screenshot(artefacts(tmp_path_factory) / "serve-dashboard.png")
        print(f"screenshot: {shot}")
        shown = await page.evaluate(
            "document.body.classList.contains('-first-byte')"
            " && !!document.querySelector('.textual-terminal canvas, .textual-terminal .xterm')"
        )
    missing = [panel for panel in PANELS if f"─ {panel} " not in screen]
    assert missing == [], f"panels never drawn: {missing}\n{screen}"
    assert "blue-0" in screen, screen
    # a browser cannot act unless serve says --allow-actions
    assert "READ-ONLY" in screen, screen
    assert shown, "the page never showed its terminal"
    assert shot.stat().st_size > 10_000


async def received_output(page: Page) -> str:
    """The terminal output the page's websockets have received so far (not serve's JSON
    control messages)."""
    received = await page.evaluate("window.__received || []") or []
    return "".join(part for part in received if not part.startswith('["'))


def drawn(screen: str) -> bool:
    """Whether the screen shows the whole overview: every panel's title in its border (a
    word alone could be the footer's "2 GPUs" or a column's "Queue p95", drawn before the
    panels), a backend row and the header's read-only mark."""
    return (
        all(f"─ {panel} " in screen for panel in PANELS)
        and "blue-0" in screen
        and "READ-ONLY" in screen
    )
