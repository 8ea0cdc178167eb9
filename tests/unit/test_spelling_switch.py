"""A target whose vLLM names switch spelling (``vllm:x`` → ``vllm_x``, an upgrade that turns
on OpenMetrics escaping) neither breaks nor under-reads a query: ``promtool test rules``
evaluates the shipped rules and the collectors' own PromQL across the switch."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.integration.real_servers import require_binary
from tests.unit.test_rules import RULES, _series
from tui.sources._promql import probes, quantile_expr, rate_chain

B0 = {"job": "vllm", "instance": "h:1", "backend": "blue-0", "pool": "blue"}
# 60 requests a minute; colon spelling up to minute 10, escaped from minute 11 (the counter
# goes on: same process, new exposition). Half of them take <= 1 s, all <= 20 s.
COLON = {"1": "0+30x10 _x10", "20": "0+60x10 _x10", "+Inf": "0+60x10 _x10"}
ESCAPED = {"1": "_x11 330+30x10", "20": "_x11 660+60x10", "+Inf": "_x11 660+60x10"}


def _switching(name: str) -> list[dict[str, str]]:
    base = name.removeprefix("vllm:")
    out = [_series(f"vllm:{base}_bucket", {**B0, "le": le}, v) for le, v in COLON.items()]
    out += [_series(f"vllm_{base}_bucket", {**B0, "le": le}, v) for le, v in ESCAPED.items()]
    out.append(_series(f"vllm:{base}_count", B0, COLON["+Inf"]))
    out.append(_series(f"vllm_{base}_count", B0, ESCAPED["+Inf"]))
    return out


def _promtool_test(tmp_path: Path, rules: dict[str, Any], test: dict[str, Any]) -> None:
    promtool = require_binary("promtool", "prometheus")
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(rules))
    spec = {"rule_files": [str(tmp_path / "rules.yml")], "evaluation_interval": "1m",
            "tests": [{"interval": "1m", **test}]}  # fmt: skip
    (tmp_path / "test.yml").write_text(json.dumps(spec))
    done = subprocess.run(
        [promtool, "test", "rules", str(tmp_path / "test.yml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _shipped_without_annotations() -> dict[str, Any]:
    data = yaml.safe_load(RULES.read_text())
    for group in data["groups"]:
        for rule in group["rules"]:
            rule.pop("annotations", None)
    return data


def test_shipped_latency_rule_keeps_working_across_a_spelling_switch(tmp_path: Path) -> None:
    # p95 of a distribution with all of its upper half in (1 s, 20 s]: 18.1 s, above 10 s
    series = _switching("vllm:e2e_request_latency_seconds")
    labels = {k: B0[k] for k in ("instance", "backend", "pool")}
    _promtool_test(
        tmp_path,
        _shipped_without_annotations(),
        {
            "input_series": series,
            "alert_rule_test": [
                # minutes 11-16 hold both spellings in the 5m window: still one series, firing
                {"eval_time": t, "alertname": "LLMHighLatency",
                 "exp_alerts": [{"exp_labels": {**labels, "severity": "warning"}}]}
                for t in ("9m", "13m", "16m")
            ],
        },
    )  # fmt: skip


def test_collector_rates_do_not_under_read_across_a_spelling_switch(tmp_path: Path) -> None:
    count = probes("vllm:e2e_request_latency_seconds", "_count")
    ttft_like = quantile_expr("vllm:e2e_request_latency_seconds", 0.5, ("instance",), "5m")
    _promtool_test(
        tmp_path,
        {"groups": []},
        {
            "input_series": _switching("vllm:e2e_request_latency_seconds"),
            "promql_expr_test": [
                # 1 request/s throughout: before, during and after the switch
                {"expr": f"sum{rate_chain(count, '5m')}", "eval_time": t,
                 "exp_samples": [{"labels": "{}", "value": 1}]}
                for t in ("8m", "13m", "19m")
            ]
            + [
                # the median stays at the 1 s bound (half the requests at or below it)
                {"expr": ttft_like, "eval_time": "13m",
                 "exp_samples": [{"labels": '{instance="h:1"}', "value": 1}]}
            ],
        },
    )  # fmt: skip
