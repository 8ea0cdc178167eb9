"""The cost command on the handbook's example, and node exporter answers → host metrics."""

from __future__ import annotations

from tui.commands._observe import Observation
from tui.commands.capacity import cost_for, describe_cost
from tui.config import parse_config
from tui.model import FleetSnapshot
from tui.sources.host import hosts_from_answers, node_queries

HANDBOOK = """\
backends: [{name: b, pool: p, url: "http://h:1"}]
cost:
  monthly:
    - {name: Hardware amortization, usd: 5000, allocation: fixed}
    - {name: Power, usd: 400, allocation: metered}
    - {name: Cooling, usd: 100, allocation: estimated}
    - {name: Network, usd: 200, allocation: fixed}
    - {name: Maintenance, usd: 500, allocation: fixed}
  monthly_requests: 500000
  cloud: {name: GPT-4o, per_request_usd: 0.03}
"""


def test_cost_command_on_the_handbooks_example() -> None:
    config = parse_config(HANDBOOK, "c.yaml")
    snapshot = FleetSnapshot(taken_at=0.0, environment="t", slo_tier="standard")
    seen = Observation(config, snapshot, [snapshot], 1.0, None, None, False)
    report = cost_for(seen)
    text = describe_cost(report)
    assert "  Total                            $6,200" in text
    assert "Requests a month 500,000 (config)" in text
    assert "Cost per request $0.0124" in text
    assert "GPT-4o per request $0.03: 59% cheaper" in text


def test_node_exporter_answers_become_hosts() -> None:
    def item(value: float, **labels: str) -> dict:
        return {"metric": labels, "value": [0, str(value)]}

    hosts = hosts_from_answers(
        {
            "cpu": [item(93.0, instance="gpu-1:9100")],
            "mem": [item(40.0, instance="gpu-1:9100"), item(50.0, instance="gpu-2:9100")],
            "disk_used": [item(91.0, instance="gpu-1:9100", mountpoint="/mnt/models")],
        }
    )
    assert [(h.host, h.cpu_pct, h.mem_pct, h.disk_used_pct) for h in hosts] == [
        ("gpu-1:9100", 93.0, 40.0, {"/mnt/models": 91.0}),
        ("gpu-2:9100", None, 50.0, {}),
    ]
    assert 'job="node"' in node_queries()["cpu"] and 'mode="idle"' in node_queries()["cpu"]
