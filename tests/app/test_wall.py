"""The NOC wall: read-only, big digits, cycles its views, and holds on a critical alert or a
SEV1/SEV2 incident until it resolves; the clock and the data age always on screen."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from textual.widgets import ContentSwitcher, Digits, Footer

from tests.app.conftest import AppFactory
from tui.app import InferdeckApp, SnapshotReady
from tui.config import WallConfig
from tui.model import Alert, Severity
from tui.screens.wall import ViewBar, WallScreen
from widgets.header import FleetHeader
from widgets.wall import HeadlineTile, headlines, split_unit


def _wall_app(make_app: AppFactory, views: tuple[str, ...] = ("fleet", "backends", "alerts"),
              ) -> InferdeckApp:  # fmt: skip
    app, _ = make_app()
    app.wall = WallConfig(views=views, cycle_s=3600)  # the test moves the cycle itself
    return app


def _bar(app: InferdeckApp) -> str:
    return str(app.screen.query_one(ViewBar).render())


def _current(app: InferdeckApp) -> str | None:
    return app.screen.query_one(ContentSwitcher).current


def _critical(taken_at: float) -> Alert:
    labels = {"alertname": "LLMServiceDown", "backend": "blue-0"}
    return Alert("LLMServiceDown", Severity.CRITICAL, "blue-0 is down", labels, taken_at - 30, "f1")


async def test_wall_shows_headline_figures_in_big_digits_and_no_footer(
    make_app: AppFactory,
) -> None:
    app = _wall_app(make_app)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, WallScreen)
        assert not app.screen.query(Footer)
        tiles = list(app.screen.query(HeadlineTile))
        assert [t.border_title for t in tiles][:3] == ["Backends up", "TTFT p95", "E2E p95"]
        digits = tiles[0].query_one(Digits)
        assert digits.value == "3/3"
        header = str(app.screen.query_one(FleetHeader).render_lines(
            app.screen.query_one(FleetHeader).region.reset_offset)[0].text)  # fmt: skip
        assert "data " in header and ":" in header  # the data age and the clock
        assert "VIEW Fleet (1/3)" in _bar(app)


async def test_wall_cycles_through_the_chosen_views(make_app: AppFactory) -> None:
    app = _wall_app(make_app)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, WallScreen)
        seen = []
        for _ in range(4):
            seen.append((_current(app), _bar(app).split(" · ")[0]))
            screen.next_view()
            await pilot.pause()
        assert seen == [
            ("view-fleet", "VIEW Fleet (1/3)"),
            ("view-backends", "VIEW Backends (2/3)"),
            ("view-alerts", "VIEW Alerts (3/3)"),
            ("view-fleet", "VIEW Fleet (1/3)"),
        ]


async def test_a_critical_alert_holds_the_wall_until_it_resolves(make_app: AppFactory) -> None:
    app = _wall_app(make_app)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, WallScreen)
        calm = app.latest
        assert calm is not None and not calm.alerts
        burning = dataclasses.replace(calm, alerts=(_critical(calm.taken_at),))
        app.post_message(SnapshotReady(burning))
        await pilot.pause()
        assert _current(app) == "view-incident"
        assert "INCIDENT" in _bar(app) and "LLMServiceDown" in _bar(app)
        for _ in range(2):  # the cycle goes on underneath, the wall stays on the incident
            screen.next_view()
            await pilot.pause()
            assert _current(app) == "view-incident"
        app.post_message(SnapshotReady(dataclasses.replace(calm, taken_at=calm.taken_at + 1)))
        await pilot.pause()
        assert _current(app) == "view-alerts"  # the cycle's view now: fleet + 2 turns
        assert "INCIDENT" not in _bar(app)


async def test_a_warning_does_not_interrupt(make_app: AppFactory) -> None:
    app = _wall_app(make_app)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        calm = app.latest
        assert calm is not None
        warning = dataclasses.replace(_critical(calm.taken_at), name="GPUHighTemperature",
                                      severity=Severity.WARNING,
                                      labels={"alertname": "GPUHighTemperature"})  # fmt: skip
        app.post_message(SnapshotReady(dataclasses.replace(calm, alerts=(warning,))))
        await pilot.pause()
        assert _current(app) == "view-fleet"


@pytest.mark.parametrize("key", ["R", "3", "4", "p", "ctrl+p", "question_mark", "w"])
async def test_keys_do_nothing_on_the_wall(make_app: AppFactory, key: str) -> None:
    app = _wall_app(make_app)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        await pilot.press(key)
        await pilot.pause()
        assert app.screen is screen
        assert not app.paused


def test_headline_values_split_for_big_digits() -> None:
    assert split_unit("33.8s") == ("33.8", "s")
    assert split_unit("38ms") == ("38", "ms")
    assert split_unit("0.0%") == ("0.0", "%")
    assert split_unit("1.6k") == ("1.6", "k")
    assert split_unit("—") == ("—", "")


async def test_headline_levels_are_words_as_well(make_app: AppFactory) -> None:
    app, source = make_app()
    source.fleet.set_fault("blue-0", "crash")
    snapshot = app.hub.record(source, source.poll())
    for _ in range(5):
        snapshot = app.hub.record(source, source.poll())
    up = next(h for h in headlines(snapshot) if h.key == "up")
    assert (up.value, up.level) == ("2/3", "warn")


def test_wall_flag_opens_the_wall_read_only_in_high_contrast(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tui.commands.main import main

    seen: dict[str, object] = {}

    def run(self: InferdeckApp) -> None:
        seen.update(theme=self._initial_theme, wall=self.wall, actions=self.actions_off)

    monkeypatch.setattr(InferdeckApp, "run", run)
    config = tmp_path / "c.yaml"
    config.write_text(
        "backends:\n  - {name: a, pool: p, url: 'http://127.0.0.1:9'}\n"
        "wall:\n  views: [fleet, alerts]\n  cycle_s: 30\n"
        f"state_dir: {tmp_path}\n"
    )
    assert main(["-c", str(config), "--wall"]) == 0
    assert seen["theme"] == "inferdeck-high-contrast"
    assert seen["wall"] == WallConfig(views=("fleet", "alerts"), cycle_s=30.0)
    assert str(seen["actions"]).startswith("read-only")
    assert main(["-c", str(config), "--wall", "--theme", "inferdeck-mono"]) == 0
    assert seen["theme"] == "inferdeck-mono"
