"""Load-test scenarios as data: the handbook's five ship, mistakes are FILE:LINE, the
shape follows the stages, and the report judges the criteria."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.analysis.slo import STANDARD
from tui.config import ConfigError, parse_config
from tui.loadtest.config import (
    LoadtestConfig,
    check_caps,
    is_loopback,
    known_targets,
    loadtest_config,
)
from tui.loadtest.report import judge, percentile, recovery_s
from tui.loadtest.scenario import find_scenario, load_scenarios, parse_scenario
from tui.loadtest.shape import Step, asked_requests, target_at, users_for


def test_the_handbooks_five_scenarios_ship_with_its_users_and_durations() -> None:
    shipped = load_scenarios()
    seen = {n: (s.load, [s_.target for s_ in s.stages], s.duration_s)
            for n, s in shipped.items()}  # fmt: skip
    assert seen == {
        "baseline": ("users", [10], 300),
        "peak": ("users", [50], 600),
        "sustained": ("users", [30], 3600),
        "spike": ("users", [10, 100, 10], 900),
        "soak": ("users", [30], 8 * 3600),
    }
    spike = shipped["spike"]
    assert spike.spike_end_s == 600
    assert spike.criteria.recovery_within_s == 300
    assert all(s.criteria.error_rate_below == 0.01 for s in shipped.values())


def test_the_operators_scenario_wins_over_the_shipped_one(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text(
        "name: spike\nload: rate\nstages: [{duration: 30s, target: 5}]\n"
    )
    assert find_scenario("spike", tmp_path).load == "rate"
    with pytest.raises(ConfigError, match="no scenario 'nope'; known: baseline"):
        find_scenario("nope", tmp_path)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("name: x\nstages:\n  - {duration: 5m}\n", ":3: a stage needs 'target'"),
        ("name: x\nstages:\n  - {duration: soon, target: 3}\n", ":3: 'duration': bad duration"),
        ("name: x\nload: burst\nstages: [{duration: 1m, target: 1}]\n",
         ":2: 'load' must be users or rate, not 'burst'"),
        ("name: x\nstages: []\n", ":2: 'stages' needs at least one stage"),
        ("name: x\nstages: [{duration: 1m, target: 1}]\ncriteria:\n  error_rate_below: 5\n",
         ":4: 'error_rate_below' is a fraction"),
        ("name: x\nstages: [{duration: 1m, target: 1, ramp: 2m}]\n",
         ":2: a stage's 'ramp' is longer than its 'duration'"),
        ("name: x\nstages: [{duration: 1m, target: 1}]\nwhen: now\n",
         ":3: unknown key 'when' in a scenario"),
        ("stages: [{duration: 1m, target: 1}]\n", ":1: a scenario needs 'name'"),
        ("name: [x\n", ":2: not valid YAML"),
    ],
)  # fmt: skip
def test_scenario_mistakes_name_file_and_line(text: str, error: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_scenario(text, "my.yaml")
    assert str(caught.value).startswith("my.yaml")
    assert error in str(caught.value)


def test_scaling_multiplies_targets_and_stretches_time_with_the_recovery_limit() -> None:
    spike = load_scenarios()["spike"].scaled(0.1, 90.0)
    assert [s.target for s in spike.stages] == pytest.approx([1, 10, 1])
    assert [s.duration_s for s in spike.stages] == pytest.approx([30, 30, 30])
    assert spike.criteria.recovery_within_s == pytest.approx(30)
    assert spike.spike_end_s == pytest.approx(60)


def test_the_shape_ramps_holds_and_ends() -> None:
    steps = [Step(10, 10, ramp_s=5), Step(10, 100), Step(10, 10, ramp_s=10)]
    assert target_at(steps, 0) == 0
    assert target_at(steps, 2.5) == pytest.approx(5)
    assert target_at(steps, 7) == 10
    assert target_at(steps, 12) == 100
    assert target_at(steps, 25) == pytest.approx(55)
    assert target_at(steps, 30) is None
    assert users_for("users", 9.6, 1.0) == 10
    assert users_for("rate", 7.5, 2.0) == 4
    assert asked_requests([Step(10, 4)], 10) == pytest.approx(40)


def _rec(t: float, ok: bool = True, ttft: float = 0.1, e2e: float = 1.0, kind: str = "") -> dict:
    return {"t": t, "end": t + e2e, "ok": ok, "ttft": ttft, "e2e": e2e, "itl": 0.01,
            "out": 10, "kind": kind}  # fmt: skip


def test_the_report_judges_p95_and_error_rate() -> None:
    scenario = load_scenarios()["baseline"]
    records = [_rec(i * 0.1, e2e=1.0 + i / 100) for i in range(98)]
    records += [_rec(10, ok=False, kind="http_500"), _rec(10, ok=False, kind="timeout")]
    report = judge(records, scenario, STANDARD, target="http://x", run_s=10)
    assert report.requests == 100 and report.ok == 98
    assert report.errors == {"http_500": 1, "timeout": 1}
    assert report.e2e["p95"] == pytest.approx(1.0 + 93 / 100)
    assert {v.name: v.met for v in report.verdicts} == {
        "TTFT p95 within SLO": True, "E2E p95 within SLO": True, "error rate": False,
    }  # fmt: skip
    assert not report.passed
    assert report.output_tokens == 980 and report.requests_per_s == 10


def test_recovery_is_measured_from_the_spikes_end_until_the_limits_hold() -> None:
    spike = parse_scenario(
        "name: s\nstages:\n  - {duration: 10s, target: 1}\n  - {duration: 10s, target: 9, "
        "spike: true}\n  - {duration: 40s, target: 1}\ncriteria:\n  e2e_p95_within_slo: true\n"
        "  recovery_within: 15s\n  recovery_window: 4s\n"
    )
    slow_until = 32.0  # requests keep breaking the E2E limit until 12 s after the spike
    records = [_rec(t / 2, e2e=20.0 if t / 2 + 20 < slow_until else 1.0) for t in range(0, 116)]
    took = recovery_s(records, spike, STANDARD, 60)
    assert took is not None and 10 <= took <= 13
    report = judge(records, spike, STANDARD, target="x", run_s=60)
    assert [v.met for v in report.verdicts if v.name.startswith("recovery")] == [True]
    never = [_rec(t, e2e=20.0) for t in range(0, 58)]
    assert recovery_s(never, spike, STANDARD, 60) is None


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 0.95) is None
    assert percentile([3, 1, 2], 0.5) == 2
    assert percentile(list(range(1, 101)), 0.95) == 95


def test_caps_and_targets_come_from_the_config(tmp_path: Path) -> None:
    (tmp_path / "lt").mkdir()
    config = parse_config(
        "backends:\n  - {name: a, pool: blue, url: 'http://10.0.0.5:8000'}\n"
        "loadtest:\n  scenarios_dir: lt\n  max_users: 20\n  max_duration: 10m\n"
        "  targets: ['http://llm.internal:8080']\n",
        str(tmp_path / "c.yaml"),
    )
    settings = loadtest_config(config)
    assert settings.max_users == 20 and settings.max_duration_s == 600
    assert known_targets(config, settings) == {"http://10.0.0.5:8000", "http://llm.internal:8080"}
    with pytest.raises(ConfigError, match="asks for 50 users, over the cap of 20"):
        check_caps(50, "users", 60, settings)
    with pytest.raises(ConfigError, match="lasts 3600s, over the cap of 600s"):
        check_caps(10, "users", 3600, settings)
    check_caps(20, "users", 600, settings)
    assert is_loopback("http://127.0.0.1:9") and is_loopback("http://localhost")
    assert is_loopback("http://[::1]:80") and not is_loopback("http://10.0.0.5")
    assert LoadtestConfig().max_rate == 200


def test_a_bad_loadtest_section_names_file_and_line(tmp_path: Path) -> None:
    config = parse_config("loadtest:\n  max_users: -3\n", "c.yaml")
    with pytest.raises(ConfigError, match=r"^c.yaml:2: 'max_users' must be greater than 0"):
        loadtest_config(config)
    config = parse_config("loadtest:\n  burst: 3\n", "c.yaml")
    with pytest.raises(ConfigError, match=r"^c.yaml:2: unknown key 'burst' in loadtest"):
        loadtest_config(config)


def test_the_example_config_documents_loadtest_and_autopilot() -> None:
    from tui.config import load_config
    from tui.ops.autopilot.config import autopilot_config

    example = Path(__file__).parents[2] / "tui" / "data" / "example.yaml"
    config = load_config(example)
    assert loadtest_config(config).max_duration_s == 8 * 3600
    settings = autopilot_config(config)
    assert settings.mode == "propose" and settings.max_actions_per_hour == 6
    assert {r.name for r in settings.rules} == {
        "restart-on-oom",
        "scale-on-queue",
        "alert-on-degradation",
    }
