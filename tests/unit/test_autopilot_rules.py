"""The autopilot's rules as data and its decisions: matches after their hold time,
cooldowns and hourly caps hold a second action back, and the pool's maximum is kept."""

from __future__ import annotations

import pytest

from tui.config import ConfigError, parse_config
from tui.model import Backend, Container, FleetSnapshot, Pool, Traffic
from tui.ops.autopilot.config import autopilot_config
from tui.ops.autopilot.engine import Autopilot
from tui.ops.autopilot.rules import shipped_rules


def _snap(
    t: float, waiting: float | None = 0, restarts: int = 0, errors: float = 0.0
) -> FleetSnapshot:
    return FleetSnapshot(
        taken_at=t, environment="test", slo_tier="standard",
        pools=(Pool("blue", 2, 2, waiting=waiting), Pool("green", 1, 1, waiting=0)),
        fleet=Pool("fleet", 3, 3, traffic=Traffic(error_rate=errors)),
        backends=(Backend("green-0", "green", "http://x", container="lab-vllm-green-0"),),
        containers=(Container("lab-vllm-green-0", "id1", restart_count=restarts),),
    )  # fmt: skip


def test_the_handbooks_three_rules_ship_with_their_numbers() -> None:
    rules = {r.name: r for r in shipped_rules()}
    oom, queue, errors = (
        rules["restart-on-oom"],
        rules["scale-on-queue"],
        rules["alert-on-degradation"],
    )
    assert (oom.metric, oom.over, oom.within_s, oom.action, oom.cooldown_s) == (
        "oom_restarts",
        3,
        600,
        "restart",
        1800,
    )
    assert (queue.metric, queue.over, queue.for_s, queue.action, queue.cooldown_s,
            queue.max_replicas) == ("queue_depth", 20, 300, "scale-out", 900, 4)  # fmt: skip
    assert (errors.metric, errors.over, errors.action) == ("error_rate", 0.05, "notify")


def test_the_queue_rule_proposes_only_after_holding_for_its_time() -> None:
    pilot = Autopilot(shipped_rules())
    assert pilot.observe(_snap(0, waiting=25)).proposals == ()
    assert pilot.observe(_snap(200, waiting=25)).proposals == ()
    pilot.observe(_snap(250, waiting=5))  # dipped: starts over
    assert pilot.observe(_snap(400, waiting=25)).proposals == ()
    found = pilot.observe(_snap(700, waiting=25)).proposals
    assert [p.line() for p in found] == ["scale out blue (rule scale-on-queue)"]
    assert pilot.observe(_snap(701, waiting=None)).proposals == ()  # unknown: starts over


def test_restarts_are_counted_within_the_window_and_name_the_backend() -> None:
    config = parse_config(
        "autopilot:\n  rules:\n    - {name: restart-on-oom, when: {metric: container_restarts,"
        " over: 3, within: 10m}, action: restart}\n", "c.yaml")  # fmt: skip
    pilot = Autopilot(autopilot_config(config).rules)
    pilot.observe(_snap(0, restarts=7))  # restarts before inferdeck watched do not count
    assert pilot.observe(_snap(60, restarts=9)).proposals == ()
    found = pilot.observe(_snap(120, restarts=11)).proposals
    assert [p.line() for p in found] == ["restart green-0 (rule restart-on-oom)"]
    assert found[0].target == "lab-vllm-green-0"
    assert pilot.observe(_snap(800, restarts=11)).proposals == ()  # the window moved on


def test_a_cooldown_and_the_hourly_cap_hold_a_second_action_back() -> None:
    config = parse_config(
        "autopilot:\n  rules:\n    - {name: scale-on-queue, when: {metric: queue_depth, "
        "over: 2, for: 1s}, action: scale-out, cooldown: 60s, max_per_hour: 2, "
        "max_replicas: 9}\n", "c.yaml")  # fmt: skip
    rules = autopilot_config(config).rules
    pilot = Autopilot(rules)
    pilot.observe(_snap(0, waiting=5))
    first = pilot.observe(_snap(2, waiting=5)).proposals
    assert [p.target for p in first] == ["blue"]
    pilot.applied(first[0], 2)
    pilot.observe(_snap(3, waiting=5))
    held = pilot.observe(_snap(10, waiting=5))
    assert held.proposals == ()
    assert [why for _, why in held.held] == ["cooldown: 52s left"]
    again = pilot.observe(_snap(70, waiting=5)).proposals
    pilot.applied(again[0], 70)
    pilot.observe(_snap(140, waiting=5))
    capped = pilot.observe(_snap(142, waiting=5))
    assert capped.proposals == ()
    assert [why for _, why in capped.held] == ["cap: 2 actions of this rule in the last hour"]
    assert [p.target for p in pilot.observe(_snap(3603, waiting=5)).proposals] == ["blue"]


def test_scale_out_stops_at_the_pools_maximum() -> None:
    servers = {"blue": 4}
    pilot = Autopilot(shipped_rules(), servers_in=lambda pool: servers.get(pool, 1))
    pilot.observe(_snap(0, waiting=30))
    decision = pilot.observe(_snap(301, waiting=30))
    assert decision.proposals == ()
    assert [why for _, why in decision.held] == ["pool at its maximum of 4 servers"]


def test_the_error_rule_notifies_for_the_fleet() -> None:
    pilot = Autopilot(shipped_rules())
    found = pilot.observe(_snap(0, errors=0.2)).proposals
    assert [(p.line(), p.reason) for p in found] == [
        ("notify fleet (rule alert-on-degradation)", "error rate 20.0% > 5%")
    ]


def test_autopilot_on_and_rule_mistakes_in_the_config() -> None:
    assert autopilot_config(parse_config("autopilot: on\n", "c.yaml")).mode == "on"
    assert autopilot_config(parse_config("{}\n", "c.yaml")).mode == "propose"
    assert autopilot_config(None).mode == "propose"
    off = autopilot_config(parse_config("autopilot: {mode: off, disable: [scale-on-queue]}\n",
                                        "c.yaml"))  # fmt: skip
    assert off.mode == "off" and "scale-on-queue" not in {r.name for r in off.rules}
    for text, error in (
        ("autopilot: sometimes\n", "c.yaml:1: autopilot mode must be off, propose or on"),
        ("autopilot:\n  rules:\n    - {name: x, when: {metric: heat, over: 1}, action: notify}\n",
         "c.yaml:3: 'metric' must be one of oom_restarts, container_restarts, queue_depth"),
        ("autopilot:\n  rules:\n    - {name: x, when: {metric: queue_depth, over: 1},"
         " action: restart}\n", "c.yaml:3: rule x: action restart does not fit metric queue_depth"),
        ("autopilot:\n  rules:\n    - {name: x, when: {metric: queue_depth, over: 1},"
         " action: notify, cooldown: soon}\n", "c.yaml:3: 'cooldown': bad duration"),
        ("autopilot:\n  scaler: {kind: kubernetes}\n",
         "c.yaml:2: scaler kind 'kubernetes' is not built"),
        ("autopilot:\n  notify:\n    - {url: nope}\n", "c.yaml:3: 'url' must be an http(s) URL"),
    ):  # fmt: skip
        with pytest.raises(ConfigError) as caught:
            autopilot_config(parse_config(text, "c.yaml"))
        assert str(caught.value).startswith(error), str(caught.value)
