"""`inferdeck screenshots` shows what the issue asks for: among its scenes, a backend's
detail view (the drill-down an operator reaches with `enter`), in an incident."""

from __future__ import annotations

from tests.app.outside import screen_text
from tui.screens.detail import DetailScreen
from tui.screenshots import SCENES, build_app, settle


async def test_the_screenshots_hold_a_backends_detail_in_an_incident() -> None:
    details = [s for s in SCENES if "detail" in s.name]
    assert details, "no detail view among the screenshots"
    scene = details[0]
    app = build_app(scene)
    async with app.run_test(size=scene.size) as pilot:
        await settle(pilot, scene.keys)
        screen = app.screen
        assert isinstance(screen, DetailScreen)
        assert (screen.kind, screen.key) == ("backend", "blue-1")  # the slow one, alerting
        text = screen_text(app)
        assert "Backend blue-1" in text and "QueueBacklog" in text and "History" in text
