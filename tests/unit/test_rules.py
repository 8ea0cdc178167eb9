"""The shipped alert rules: the seed's names, thresholds, ``for:`` and severities on real
metric names, checked by ``promtool check rules`` and exercised by ``promtool test rules``.

promtool comes with Debian's ``prometheus`` package; a missing promtool fails these tests in
CI (``$CI`` set) naming the package, and skips them elsewhere.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.integration.real_servers import require_binary
from tui.lab.promconf import fast_rules, shipped_rules, write_rule_copies

RULES = Path(__file__).resolve().parents[2] / "tui" / "data" / "rules" / "llm-operations.yml"

# The seed's table: alert -> (group, for, severity, threshold as it must appear in the expr)
SEED = {
    "LLMServiceDown": ("llm-availability", "1m", "critical", "== 0"),
    "LLMHighLatency": ("llm-availability", "5m", "warning", "> 10"),
    "LLMHighErrorRate": ("llm-availability", "5m", "warning", "> 0.01"),
    "GPUMemoryPressure": ("llm-infrastructure", "5m", "warning", "> 0.9"),
    "GPUHighTemperature": ("llm-infrastructure", "5m", "warning", "> 80"),
    "QueueBacklog": ("llm-capacity", "2m", "warning", "> 10"),
    "CapacityNearLimit": ("llm-capacity", "1h", "info", "> 80"),
}
SHORTHAND = (
    "llm_request_duration",
    "llm_errors_total",
    "llm_requests_total",
    "dcgm_fb_used",
    "dcgm_fb_total",
    "dcgm_gpu_temp",
    "llm_queue_depth",
    "gpu_utilization",
)


def _rules() -> dict[str, tuple[str, dict[str, Any]]]:
    data = yaml.safe_load(RULES.read_text())
    return {r["alert"]: (g["name"], r) for g in data["groups"] for r in g["rules"]}


def _promtool() -> str:
    return require_binary("promtool", "prometheus")


def test_the_shipped_rules_are_found_by_the_lab() -> None:
    assert RULES in shipped_rules()


@pytest.mark.parametrize("alert", sorted(SEED))
def test_seed_rule_keeps_its_name_group_for_severity_and_threshold(alert: str) -> None:
    group, for_, severity, threshold = SEED[alert]
    found_group, rule = _rules()[alert]
    assert found_group == group
    assert rule["for"] == for_
    assert rule["labels"]["severity"] == severity
    assert re.sub(r"\s+", " ", rule["expr"]).strip().endswith(threshold)
    assert rule["annotations"]["summary"]
    assert re.fullmatch(r"[a-z-]+", rule["annotations"]["runbook"])


def test_rules_use_real_metric_names_not_the_seed_shorthand() -> None:
    text = RULES.read_text()
    for shorthand in SHORTHAND:
        assert shorthand not in text
    for real in (
        "DCGM_FI_DEV_FB_USED",
        "DCGM_FI_DEV_FB_FREE",
        "DCGM_FI_DEV_GPU_TEMP",
        "DCGM_FI_DEV_GPU_UTIL",
        "http_requests_total",
        'up{job="vllm"}',
    ):
        assert real in text
    # vLLM metrics must match both spellings (vllm: and vllm_): a regex on __name__, or
    # each spelling named (in a rate, where a regex would fail across a spelling switch).
    exprs = [r["expr"] for _, r in _rules().values()]
    for expr in exprs:
        for name in re.findall(r"vllm:([a-z_]+)", expr):
            assert f"vllm_{name}" in expr, (name, expr)
        assert not re.search(r"rate\(\{__name__", expr), expr  # fails when spellings overlap
    assert sum(e.count('__name__=~"vllm[:_]') for e in exprs) == 2


def test_there_is_a_health_check_rule() -> None:
    _, rule = _rules()["LLMHealthCheckFailing"]
    assert "vllm-health" in rule["expr"]
    assert rule["labels"]["severity"] == "critical"
    assert rule["annotations"]["runbook"] == "llm-down"


def test_promtool_check_rules_passes_on_the_shipped_file_and_the_fast_copy(
    tmp_path: Path,
) -> None:
    promtool = _promtool()
    copies = write_rule_copies([RULES], tmp_path, fast=True)
    for path in (RULES, *copies):
        done = subprocess.run(
            [promtool, "check", "rules", str(path)], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "SUCCESS: 12 rules found" in done.stdout


def test_fast_copy_caps_for_and_evaluates_every_second() -> None:
    data = fast_rules(RULES.read_text())
    for group in data["groups"]:
        assert group["interval"] == "1s"
        for rule in group["rules"]:
            assert rule["for"] == "5s"
    # the shipped file itself keeps the seed's values
    assert _rules()["CapacityNearLimit"][1]["for"] == "1h"


def _series(name: str, labels: dict[str, str], values: str) -> dict[str, str]:
    inner = ",".join(f'{k}="{v}"' for k, v in labels.items())
    if ":" in name or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        inner = f'__name__="{name}"' + ("," + inner if inner else "")
        return {"series": "{" + inner + "}", "values": values}
    return {"series": f"{name}{{{inner}}}", "values": values}


def _firing(alert: str, at: str, labels: list[dict[str, str]]) -> dict[str, Any]:
    return {"eval_time": at, "alertname": alert, "exp_alerts": [{"exp_labels": x} for x in labels]}


def test_rules_fire_on_real_metrics_with_promtool_test_rules(tmp_path: Path) -> None:
    """Synthetic series in the exporters' real shapes make each rule fire (or not)."""
    promtool = _promtool()
    b0 = {"job": "vllm", "instance": "h:1", "backend": "blue-0", "pool": "blue"}
    b1 = {"job": "vllm", "instance": "h:2", "backend": "blue-1", "pool": "blue"}
    gpu = {"job": "dcgm", "instance": "h:9", "gpu": "0"}
    buckets = [("1", "0+10x20"), ("10", "0+10x20"), ("15", "0+100x20"), ("+Inf", "0+100x20")]
    series = [
        _series("up", b0, "0x10"),
        _series("up", b1, "1x10"),
        _series("up", {**b0, "job": "vllm-health"}, "0x10"),
        # blue-0: 10 of 100 requests/min answer 5xx; blue-1 none
        _series(
            "http_requests_total",
            {**b0, "status": "2xx", "handler": "/v1/chat/completions", "method": "POST"},
            "0+90x20",
        ),
        _series(
            "http_requests_total",
            {**b0, "status": "5xx", "handler": "/v1/chat/completions", "method": "POST"},
            "0+10x20",
        ),
        _series(
            "http_requests_total",
            {**b1, "status": "2xx", "handler": "/v1/chat/completions", "method": "POST"},
            "0+100x20",
        ),
        # blue-0 spells vLLM's metrics with a colon, blue-1 with an underscore
        *(
            _series("vllm:e2e_request_latency_seconds_bucket", {**b0, "le": le}, v)
            for le, v in buckets
        ),
        *(
            _series("vllm_e2e_request_latency_seconds_bucket", {**b1, "le": le}, v)
            for le, v in buckets
        ),
        _series("vllm:num_requests_waiting", {**b0, "model_name": "m", "engine": "0"}, "25x10"),
        _series("vllm_num_requests_waiting", {**b1, "model_name": "m", "engine": "0"}, "30x10"),
        _series("DCGM_FI_DEV_FB_USED", gpu, "76000x10"),
        _series("DCGM_FI_DEV_FB_FREE", gpu, "5000x10"),
        _series("DCGM_FI_DEV_GPU_TEMP", gpu, "85x10"),
        _series("DCGM_FI_DEV_GPU_UTIL", gpu, "95x150"),
    ]
    # promtool compares annotations too: test the expressions on a copy without them
    data = yaml.safe_load(RULES.read_text())
    for group in data["groups"]:
        for rule in group["rules"]:
            rule.pop("annotations", None)
    rules = tmp_path / "rules.yml"
    rules.write_text(yaml.safe_dump(data))
    tests = {
        "rule_files": [str(rules)],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": series,
                "alert_rule_test": [
                    _firing("LLMServiceDown", "2m", [{**b0, "severity": "critical"}]),
                    _firing(
                        "LLMHealthCheckFailing",
                        "2m",
                        [{**b0, "job": "vllm-health", "severity": "critical"}],
                    ),
                    _firing(
                        "LLMHighErrorRate",
                        "10m",
                        [
                            {
                                "instance": "h:1",
                                "backend": "blue-0",
                                "pool": "blue",
                                "severity": "warning",
                            }
                        ],
                    ),
                    _firing(
                        "LLMHighLatency",
                        "10m",
                        [
                            {"instance": i, "backend": b, "pool": "blue", "severity": "warning"}
                            for i, b in (("h:1", "blue-0"), ("h:2", "blue-1"))
                        ],
                    ),
                    _firing(
                        "QueueBacklog",
                        "5m",
                        [
                            {**b0, "model_name": "m", "engine": "0", "severity": "warning"},
                            {**b1, "model_name": "m", "engine": "0", "severity": "warning"},
                        ],
                    ),
                    _firing("QueueBacklog", "1m", []),  # not yet: for 2m
                    _firing("GPUMemoryPressure", "6m", [{**gpu, "severity": "warning"}]),
                    _firing("GPUHighTemperature", "6m", [{**gpu, "severity": "warning"}]),
                    _firing("CapacityNearLimit", "130m", [{**gpu, "severity": "info"}]),
                ],
            }
        ],
    }
    path = tmp_path / "rules_test.yml"
    path.write_text(json.dumps(tests))
    done = subprocess.run(
        [promtool, "test", "rules", str(path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
