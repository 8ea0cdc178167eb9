"""`inferdeck screenshots`: regenerate screenshots/ from the demo, with a fixed seed and clock.

The same scenes are the snapshot tests' scenes, so the README shows what CI checks.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from themes import WALL_THEME
from tui.analysis.alert_rules import immediate
from tui.analysis.capacity import HostMetrics
from tui.app import InferdeckApp
from tui.config import Config, WallConfig
from tui.demo_data import warmed_hub
from tui.judging import demo_judging
from tui.ops.alerts.local_acks import AckStore, LocalAlerting
from tui.ops.build import operations_for
from tui.ops.incidents import tracker_for
from tui.sources.simulated import VirtualFleetSource


@dataclass(frozen=True)
class Scene:
    """One screenshot: a name, a terminal size, a theme and what to do to the fleet first."""

    name: str
    size: tuple[int, int]
    theme: str = "inferdeck-dark"
    prepare: Callable[[VirtualFleetSource], int] | None = None  # returns seconds to run after
    keys: tuple[str, ...] = ()  # pressed before the picture is taken
    incidents: bool = False  # track incidents (in a throw-away database) while preparing
    wall: bool = False  # the NOC wall (``--wall``) instead of the console


def _incident(source: VirtualFleetSource) -> int:
    """blue-0 crashed, blue-1 three times slower: an evening to remember."""
    source.fleet.set_fault("blue-0", "crash")
    source.fleet.set_fault("blue-1", "latency", 3.0)
    return 45


SCENES = (
    Scene("overview-dark-120x40", (120, 40)),
    Scene("overview-light-120x40", (120, 40), theme="inferdeck-light"),
    # the other themes in an incident, so that their warning and breach colours show
    *(
        Scene(
            f"overview-{theme.removeprefix('inferdeck-')}-120x40",
            (120, 40),
            theme=theme,
            prepare=_incident,
        )
        for theme in ("inferdeck-high-contrast", "inferdeck-colorblind", "inferdeck-mono")
    ),
    Scene("overview-dark-80x24", (80, 24)),
    Scene("overview-incident-80x24", (80, 24), prepare=_incident),
    Scene("overview-incident-200x60", (200, 60), prepare=_incident),
    Scene("overview-incident-120x40", (120, 40), prepare=_incident),
    Scene("gpus-dark-120x40", (120, 40), keys=("2",)),
    Scene("backends-incident-120x40", (120, 40), prepare=_incident, keys=("3",)),
    Scene("backends-incident-160x40", (160, 40), prepare=_incident, keys=("3",)),
    Scene("alerts-incident-120x40", (120, 40), prepare=_incident, keys=("4",)),
    Scene("containers-dark-120x40", (120, 40), keys=("c",)),
    Scene("traffic-dark-120x40", (120, 40), keys=("5",)),
    Scene("runbooks-dark-120x40", (120, 40), keys=("6",)),
    Scene("incidents-120x40", (120, 40), prepare=_incident, keys=("i",), incidents=True),
    Scene("incidents-80x24", (80, 24), prepare=_incident, keys=("i",), incidents=True),
    Scene("slo-dark-120x40", (120, 40), keys=("7",)),
    Scene("slo-dark-80x24", (80, 24), keys=("7",)),
    Scene("capacity-dark-120x40", (120, 40), keys=("8",)),
    Scene("capacity-dark-80x24", (80, 24), keys=("8",)),
    Scene("models-dark-120x40", (120, 40), keys=("9",)),
    Scene("models-dark-80x24", (80, 24), keys=("9",)),
    # the drill-down: `enter` on the slow backend, its figures, history, GPU and alerts
    Scene(
        "backend-detail-incident-120x40", (120, 40), prepare=_incident, keys=("3", "down", "enter")
    ),
    Scene("wall-120x40", (120, 40), theme=WALL_THEME, wall=True),
    Scene("wall-incident-120x40", (120, 40), theme=WALL_THEME, wall=True, prepare=_incident),
)


def build_app(scene: Scene, seed: int = 7) -> InferdeckApp:
    """The app for a scene: a warmed virtual fleet, a frozen clock, no background thread.

    The hub raises the handbook's alerts itself (as the demo does), at once; acks go to a
    throw-away folder, and so do the incidents a scene tracks (with the actions to change
    them).
    """
    hub, source = warmed_hub(seed=seed, seconds=90)
    scratch = Path(tempfile.mkdtemp(prefix="inferdeck-shots-"))
    hub.alerts_hook = LocalAlerting(AckStore(scratch / "acks.json"), rules=immediate())
    config = Config(path=None, environment="demo", state_dir=str(scratch))
    tracker = tracker_for(config) if scene.incidents else None
    if scene.prepare is not None:
        for _ in range(scene.prepare(source)):
            hub.record(source, source.poll())
            if tracker is not None and hub.latest is not None:
                tracker.observe(hub.latest)
    assert hub.latest is not None
    judging = demo_judging(hub.latest, read_local=demo_host)
    app = InferdeckApp(hub, theme=scene.theme, clock=source.clock, start_hub=False,
                       judging=judging, wall=WallConfig() if scene.wall else None)  # fmt: skip
    if scene.incidents:
        app.ops = operations_for(config)
        app.ops.executor.note = None  # "not shared" names the throw-away folder: no picture
    return app


async def settle(pilot: Pilot[Any], keys: tuple[str, ...]) -> None:
    """Press ``keys``, then wait until the screen's reads (the incidents') are shown."""
    await pilot.press(*keys)
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def demo_host() -> HostMetrics:
    """This machine's metrics, fixed: a picture must not depend on the machine taking it."""
    return HostMetrics("demo-host", "psutil", cpu_pct=42.0, mem_pct=78.0, disk_io_pct=12.0,
                       disk_used_pct={"/": 48.0, "/mnt/models": 93.0})  # fmt: skip


async def _shoot(scene: Scene, folder: Path) -> Path:
    app = build_app(scene)
    async with app.run_test(size=scene.size) as pilot:
        await settle(pilot, scene.keys)
        path = folder / f"{scene.name}.svg"
        app.save_screenshot(filename=path.name, path=str(folder))
    return path


def regenerate(folder: Path) -> list[Path]:
    """Write every scene's SVG into ``folder``; returns the paths written."""
    os.environ["TZ"] = "UTC"
    time.tzset()
    folder.mkdir(parents=True, exist_ok=True)
    return [asyncio.run(_shoot(scene, folder)) for scene in SCENES]
