"""Snapshots of the console's own screens: a backend's detail (120x40, and 80x24 with an
incident) and the help over the Alerts screen at 80x24.

Fixed simulator seed and virtual clock (tui.screenshots). Update on purpose with
`pytest tests/app/test_console_snapshots.py --snapshot-update` and review the SVG diffs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from tui.screenshots import SCENES, Scene, build_app, settle

INCIDENT = next(s for s in SCENES if s.name == "overview-incident-120x40").prepare
CONSOLE_SCENES = (
    Scene("detail-backend-120x40", (120, 40), keys=("3", "enter")),
    Scene("detail-alert-incident-80x24", (80, 24), prepare=INCIDENT, keys=("4", "enter")),
    Scene("help-alerts-80x24", (80, 24), prepare=INCIDENT, keys=("4", "question_mark")),
)


@pytest.mark.parametrize("scene", CONSOLE_SCENES, ids=[s.name for s in CONSOLE_SCENES])
def test_console_snapshot(scene: Scene, snap_compare: Callable[..., bool]) -> None:
    async def keys_then_reads(pilot: Pilot[Any]) -> None:
        await settle(pilot, scene.keys)

    assert snap_compare(build_app(scene), terminal_size=scene.size, run_before=keys_then_reads)
