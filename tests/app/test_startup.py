"""The first frame loads what it shows: the other screens load when first opened."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.processes import running_sim
from tui.app import YOUNG_OBJECTS

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    from tui.app import InferdeckApp
    from tui.demo_data import warmed_hub

    async def main():
        hub, source = warmed_hub(seconds=10)
        app = InferdeckApp(hub, clock=source.clock, start_hub=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            print(" ".join(sorted(m for m in sys.modules if m.startswith("tui.screens."))))
            await pilot.press("2")
            await pilot.pause()
            print(type(app.screen).__name__)

    asyncio.run(main())
    """
)


def test_the_overview_comes_up_without_the_other_screens_and_they_open_on_their_key() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "TZ": "UTC"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    loaded, shown = done.stdout.split("\n")[:2]
    assert "tui.screens.overview" in loaded.split()
    later = {"tui.screens.tables", "tui.screens.alerts", "tui.screens.runbooks",
             "tui.screens.incidents", "tui.screens.detail", "tui.screens.help"}  # fmt: skip
    assert not later & set(loaded.split())
    assert shown == "GpusScreen"


DASHBOARD_SCRIPT = textwrap.dedent(
    """
    import asyncio, gc, json, sys
    from tui.app import InferdeckApp
    from tui.commands.main import main
    from widgets.backends import BackendsTable

    seen = {"restyled": [], "restyled_at_start": []}
    display = InferdeckApp._display
    update_styles = InferdeckApp.update_styles

    def first_display(self, screen, renderable):
        if "rows" not in seen and type(screen).__name__ == "OverviewScreen":
            seen["rows"] = screen.query_one(BackendsTable).row_count
            seen["collector_during_start"] = gc.isenabled()
            seen["modules"] = sorted(sys.modules)  # what the first frame needed
        display(self, screen, renderable)

    def restyle(self, node, animate=True):  # a node and all below it styled again
        if "rows" not in seen:
            seen["restyled"].append(type(node).__name__)
        if "paused" not in seen:
            seen["restyled_at_start"].append(type(node).__name__)
        update_styles(self, node, animate)

    async def first_frame(app):
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            seen["paused"] = True
            for _ in range(100):  # it comes back on a moment after the first frame
                if gc.isenabled():
                    break
                await pilot.pause(0.1)
            seen["collector_after_first_frame"] = gc.isenabled()
            seen["frozen_after_first_frame"] = gc.get_freeze_count()
            seen["young_collection_every"] = gc.get_threshold()[0]
            app.exit()

    InferdeckApp._display = first_display
    InferdeckApp.update_styles = restyle
    InferdeckApp.run = lambda self, **_: asyncio.run(first_frame(self))
    main(["-c", sys.argv[1]])
    print(json.dumps(seen))
    """
)

NOT_AT_START = {
    "httpx": "the actions' HTTP client (scraping uses h11)",
    "aiohttp": "the simulator's HTTP server (10-12 MB, scraping uses h11)",
    "click": "httpx's command line",
    "pygments": "httpx's command line",
    "tui.sources.simctl": "the demo simulator's control source",
    "tui.ops.runbooks.runner": "the runbook runner",
    "tui.ops.runbooks.catalog": "the runbook catalogue",
    "tui.ops.autopilot.pilot": "the autopilot, with no rule the config can act on",
    "tui.sources.docker": "the container engine, not configured",
    "tui.ops.build": "the operations, made just after the first frame",
    "tui.ops.executor": "the executor (the alerts hook needs only tui.ops.action)",
    "tui.recording.recorder": "the flight recorder, started just after the first frame",
    "tui.recording.writer": "the flight recorder's writer",
    "tui.incidents.tracker": "the incident tracker, started just after the first frame",
    "tui.config_judgement": "the capacity, cost and models sections, absent from the config",
    "tui.analysis.capacity": "the Capacity screen's figures",
    "prometheus_client": "its package's HTTP server and collectors: the parser is loaded alone",
}
"""Modules `inferdeck -c FILE` must not load before its first frame when FILE names only
backends and a GPU exporter, and what each is."""


@pytest.fixture(scope="module")
def scraped_dashboard(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """`inferdeck -c FILE` up to its first frame, FILE watching a separate `inferdeck sim`:
    the overview's first frame (rows in its backends table) and the modules loaded by then."""
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "TZ": "UTC",
           "HOME": str(tmp_path_factory.mktemp("home"))}  # fmt: skip
    with running_sim("--port-base", "0", env=env) as (_, fleet):  # stopped by PID
        config = tmp_path_factory.mktemp("config") / "inferdeck.yaml"
        backends = "".join(
            f"  - {{name: {b['name']}, pool: {b['pool']}, url: '{b['url']}'}}\n"
            for b in fleet["backends"]
        )
        config.write_text(
            f"environment: test\nrecording: {{dir: '{config.parent / 'rec'}'}}\nbackends:\n"
            + backends
            + f"sources:\n  scrape:\n    gpu_exporters: ['{fleet['gpu_exporter']}']\n"
        )  # fmt: skip
        done = subprocess.run(
            [sys.executable, "-c", DASHBOARD_SCRIPT, str(config)],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    seen: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return seen


def test_the_dashboards_first_frame_shows_the_first_collection(
    scraped_dashboard: dict[str, object],
) -> None:
    # the overview is drawn once the hub's first poll is in: every backend has its row
    assert scraped_dashboard["rows"] == 3


def test_the_cycle_collector_is_off_while_the_dashboard_starts_and_on_after_its_first_frame(
    scraped_dashboard: dict[str, object],
) -> None:
    assert scraped_dashboard["collector_during_start"] is False
    assert scraped_dashboard["collector_after_first_frame"] is True  # or memory would leak
    frozen = scraped_dashboard["frozen_after_first_frame"]
    assert isinstance(frozen, int) and frozen > 10_000  # start-up's objects: never scanned again
    # a refresh's thousands of short-lived objects are not scanned four times a second
    assert scraped_dashboard["young_collection_every"] == YOUNG_OBJECTS


def test_the_overview_is_not_styled_again_before_its_first_frame(
    scraped_dashboard: dict[str, object],
) -> None:
    # Styling every widget is a tenth of the first frame. Textual styles each as it is
    # mounted and the screen once more as it comes up; the size classes (-wide, -tall)
    # set only at the first resize, or each footer key made compact only after mount,
    # would style them all again.
    restyled = scraped_dashboard["restyled"]
    assert isinstance(restyled, list)
    assert restyled.count("OverviewScreen") == 1, restyled
    at_start = scraped_dashboard["restyled_at_start"]
    assert isinstance(at_start, list)
    assert "FooterKey" not in at_start, at_start


@pytest.mark.parametrize("module", sorted(NOT_AT_START))
def test_the_dashboard_starts_without_what_its_first_frame_does_not_need(
    scraped_dashboard: dict[str, object], module: str
) -> None:
    loaded = scraped_dashboard["modules"]
    assert isinstance(loaded, list)
    assert "tui.screens.overview" in loaded  # the first frame was drawn
    assert module not in loaded, NOT_AT_START[module]


async def test_a_backend_that_never_answers_does_not_hold_the_first_frame() -> None:
    import socket

    from rich.console import RenderableType
    from textual.screen import Screen

    from tui.app import InferdeckApp
    from tui.hub import Hub
    from tui.model import SourceState
    from tui.sources.scrape import ScrapeSource, ScrapeTarget

    silent = socket.socket()  # takes connections (the backlog) and never answers them
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    url = f"http://127.0.0.1:{silent.getsockname()[1]}"
    hub = Hub([ScrapeSource([ScrapeTarget("blue-0", "blue", url)], timeout_s=30.0)])
    hub.start()
    seen: dict[str, object] = {}

    class App(InferdeckApp):
        def _display(self, screen: Screen, renderable: RenderableType | None) -> None:
            if not seen and type(screen).__name__ == "OverviewScreen":
                seen["states"] = [s.state for s in self.latest.sources] if self.latest else None
            super()._display(screen, renderable)

    try:
        app = App(hub, start_hub=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
    finally:
        hub.stop()
        silent.close()
    # drawn while the backend's first scrape still waits for its 30 s timeout
    assert seen["states"] == [SourceState.PENDING]


NEVER_LOADED = {
    "prometheus_client": "its package's HTTP server and collectors (the parser is loaded alone)",
    "http.server": "prometheus_client's exposition server",
    "html": "the incident export's escaping (html.entities, ~1 MB): loaded when exporting",
    "hashlib": "OpenSSL's digests: loaded for an audit record without an id",
    "secrets": "hmac and hashlib, for a recording's session name",
    "ssl": "OpenSSL (~4 MB), which asyncio imports: loaded when something asks for TLS",
    "importlib.abc": "importlib.resources, tempfile and more (~12 ms of start)",
}
"""Modules a running dashboard watching backends does without, and what each would bring."""


def test_a_running_dashboard_does_without_modules_it_never_uses() -> None:
    # everything a dashboard scraping backends loads, up to its helpers started just after
    # the first frame (the recorder, the tracker, the operations), started as `inferdeck`
    # starts (asyncio imported first, without OpenSSL: `tui.tls_on_demand`)
    script = (
        "import sys\n"
        "from tui import tls_on_demand\n"
        "assert tls_on_demand.defer()\n"
        "import tui.wiring, tui.app, tui.screens.overview, tui.sources.scrape\n"
        "import tui.sources._fetch, tui.sources.promtext\n"
        "import tui.recording.recorder, tui.incidents.tracker, tui.ops.build\n"
        f"print(sorted(m for m in {sorted(NEVER_LOADED)!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=60, check=True, cwd=ROOT)  # fmt: skip
    assert out.stdout.strip() == "[]", NEVER_LOADED
