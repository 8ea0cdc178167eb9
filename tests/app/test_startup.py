"""The first frame loads what it shows: the other screens load when first opened."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

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
