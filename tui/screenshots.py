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

from tui.analysis.alert_rules import immediate
from tui.analysis.capacity import HostMetrics
from tui.app import InferdeckApp
from tui.demo_data import warmed_hub
from tui.judging import demo_judging
from tui.ops.alerts.local_acks import AckStore, LocalAlerting
from tui.sources.simulated import VirtualFleetSource


@dataclass(frozen=True)
class Scene:
    """One screenshot: a name, a terminal size, a theme and what to do to the fleet first."""

    name: str
    size: tuple[int, int]
    theme: str = "inferdeck-dark"
    prepare: Callable[[VirtualFleetSource], int] | None = None  # returns seconds to run after
    keys: tuple[str, ...] = ()  # pressed before the picture is taken


def _incident(source: VirtualFleetSource) -> int:
    """blue-0 crashed, blue-1 three times slower: an evening to remember."""
    source.fleet.set_fault("blue-0", "crash")
    source.fleet.set_fault("blue-1", "latency", 3.0)
    return 45


SCENES = (
    Scene("overview-dark-120x40", (120, 40)),
    Scene("overview-light-120x40", (120, 40), theme="inferdeck-light"),
    Scene("overview-dark-80x24", (80, 24)),
    Scene("overview-incident-120x40", (120, 40), prepare=_incident),
    Scene("gpus-dark-120x40", (120, 40), keys=("2",)),
    Scene("backends-incident-160x40", (160, 40), prepare=_incident, keys=("3",)),
    Scene("alerts-incident-120x40", (120, 40), prepare=_incident, keys=("4",)),
    Scene("traffic-dark-120x40", (120, 40), keys=("5",)),
    Scene("slo-dark-120x40", (120, 40), keys=("7",)),
    Scene("slo-dark-80x24", (80, 24), keys=("7",)),
    Scene("capacity-dark-120x40", (120, 40), keys=("8",)),
    Scene("models-dark-120x40", (120, 40), keys=("9",)),
)


def build_app(scene: Scene, seed: int = 7) -> InferdeckApp:
    """The app for a scene: a warmed virtual fleet, a frozen clock, no background thread.

    The hub raises the handbook's alerts itself (as the demo does), at once; acks go to a
    throw-away folder.
    """
    hub, source = warmed_hub(seed=seed, seconds=90)
    scratch = Path(tempfile.mkdtemp(prefix="inferdeck-shots-"))
    hub.alerts_hook = LocalAlerting(AckStore(scratch / "acks.json"), rules=immediate())
    if scene.prepare is not None:
        for _ in range(scene.prepare(source)):
            hub.record(source, source.poll())
    assert hub.latest is not None
    judging = demo_judging(hub.latest, read_local=demo_host)
    return InferdeckApp(
        hub, theme=scene.theme, clock=source.clock, start_hub=False, judging=judging
    )


def demo_host() -> HostMetrics:
    """This machine's metrics, fixed: a picture must not depend on the machine taking it."""
    return HostMetrics("demo-host", "psutil", cpu_pct=42.0, mem_pct=78.0, disk_io_pct=12.0,
                       disk_used_pct={"/": 48.0, "/mnt/models": 93.0})  # fmt: skip


async def _shoot(scene: Scene, folder: Path) -> Path:
    app = build_app(scene)
    async with app.run_test(size=scene.size) as pilot:
        await pilot.press(*scene.keys)
        await app.workers.wait_for_complete()  # the Capacity screen reads its hosts in one
        await pilot.pause()
        path = folder / f"{scene.name}.svg"
        app.save_screenshot(filename=path.name, path=str(folder))
    return path


def regenerate(folder: Path) -> list[Path]:
    """Write every scene's SVG into ``folder``; returns the paths written."""
    os.environ["TZ"] = "UTC"
    time.tzset()
    folder.mkdir(parents=True, exist_ok=True)
    return [asyncio.run(_shoot(scene, folder)) for scene in SCENES]
