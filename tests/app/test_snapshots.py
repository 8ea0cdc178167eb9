"""Snapshot tests: the overview at 120x40 and 80x24, per theme, healthy and in an incident;
the other screens, the Incidents screen at both sizes, and the SLO screen at 80x24.

Fixed simulator seed, virtual clock (see tui.screenshots). Update on purpose with
`pytest tests/app/test_snapshots.py --snapshot-update` and review the SVG diffs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from tui.screenshots import SCENES, Scene, build_app, settle


@pytest.mark.parametrize("scene", SCENES, ids=[s.name for s in SCENES])
def test_overview_snapshot(scene: Scene, snap_compare: Callable[..., bool]) -> None:
    async def keys_then_reads(pilot: Pilot[Any]) -> None:
        await settle(pilot, scene.keys)

    assert snap_compare(build_app(scene), terminal_size=scene.size, run_before=keys_then_reads)
