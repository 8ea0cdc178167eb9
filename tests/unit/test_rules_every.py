"""Every shipped rule, with ``promtool test rules``: it fires for a backend or GPU in
trouble, not for its healthy neighbour, and not before its ``for:`` has passed."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.integration.real_servers import require_binary
from tests.unit.test_rules import RULES, _series


def _target(job: str, n: int) -> dict[str, str]:
    return {"job": job, "instance": f"h:{n}", "backend": f"b{n}", "pool": "blue"}


HOT, COOL = _target("vllm", 1), _target("vllm", 2)
AGG = ("instance", "backend", "pool")  # the labels of the rules that sum by backend
ENGINE = {"model_name": "m", "engine": "0"}


def _hist(name: str, labels: dict[str, str], counts: dict[str, str]) -> list[dict[str, str]]:
    return [_series(f"{name}_bucket", {**labels, "le": le}, v) for le, v in counts.items()]


def _agg(labels: dict[str, str]) -> dict[str, str]:
    return {k: labels[k] for k in AGG}


SLOW_E2E = {"10": "0+0x20", "15": "0+60x20", "+Inf": "0+60x20"}  # all in (10 s, 15 s]
FAST_E2E = {"1": "0+60x20", "15": "0+60x20", "+Inf": "0+60x20"}
SLOW_TTFT = {"5": "0+0x20", "7.5": "0+60x20", "+Inf": "0+60x20"}
FAST_TTFT = {"0.1": "0+60x20", "7.5": "0+60x20", "+Inf": "0+60x20"}
SLOW_ITL = {"0.75": "0+0x20", "1": "0+600x20", "+Inf": "0+600x20"}
FAST_ITL = {"0.05": "0+600x20", "1": "0+600x20", "+Inf": "0+600x20"}
GPU_HOT = {"job": "dcgm", "instance": "h:9", "gpu": "0", "Hostname": "g1"}
GPU_COOL = {**GPU_HOT, "gpu": "1"}
HEALTH_HOT, HEALTH_COOL = _target("vllm-health", 1), _target("vllm-health", 2)

SERIES: list[dict[str, str]] = [
    _series("up", HOT, "0x20"),
    _series("up", COOL, "1x20"),
    _series("up", HEALTH_HOT, "0x20"),
    _series("up", HEALTH_COOL, "1x20"),
    *(
        _series(
            "http_requests_total",
            {**labels, "status": status, "handler": "/v1/completions", "method": "POST"},
            values,
        )
        for labels, status, values in (
            (HOT, "2xx", "0+90x20"),
            (HOT, "5xx", "0+10x20"),
            (COOL, "2xx", "0+100x20"),
        )
    ),
    *_hist("vllm:e2e_request_latency_seconds", HOT, SLOW_E2E),
    *_hist("vllm_e2e_request_latency_seconds", COOL, FAST_E2E),
    *_hist("vllm_time_to_first_token_seconds", HOT, SLOW_TTFT),
    *_hist("vllm:time_to_first_token_seconds", COOL, FAST_TTFT),
    # the hot backend is an old vLLM exposing only the deprecated ITL name; the cool one
    # a 0.10 that serves both names with the same values (read once, not an error)
    *_hist("vllm:time_per_output_token_seconds", HOT, SLOW_ITL),
    *_hist("vllm:inter_token_latency_seconds", COOL, FAST_ITL),
    *_hist("vllm:time_per_output_token_seconds", COOL, FAST_ITL),
    _series("vllm:num_requests_waiting", {**HOT, **ENGINE}, "25x20"),
    _series("vllm_num_requests_waiting", {**COOL, **ENGINE}, "3x20"),
    _series("vllm:kv_cache_usage_perc", {**HOT, **ENGINE}, "0.97x20"),
    _series("vllm:gpu_cache_usage_perc", {**HOT, **ENGINE}, "0.97x20"),
    _series("vllm_kv_cache_usage_perc", {**COOL, **ENGINE}, "0.5x20"),
    _series("vllm_num_preemptions_total", {**HOT, **ENGINE}, "0+3x20"),  # 3 a minute
    _series("vllm:num_preemptions_total", {**COOL, **ENGINE}, "0+0x20"),
    _series("DCGM_FI_DEV_FB_USED", GPU_HOT, "76000x20"),
    _series("DCGM_FI_DEV_FB_FREE", GPU_HOT, "5000x20"),
    _series("DCGM_FI_DEV_FB_USED", GPU_COOL, "1000x20"),
    _series("DCGM_FI_DEV_FB_FREE", GPU_COOL, "80000x20"),
    _series("DCGM_FI_DEV_GPU_TEMP", GPU_HOT, "85x20"),
    _series("DCGM_FI_DEV_GPU_TEMP", GPU_COOL, "60x20"),
    _series("DCGM_FI_DEV_GPU_UTIL", GPU_HOT, "95x150"),
    _series("DCGM_FI_DEV_GPU_UTIL", GPU_COOL, "50x150"),
]

# alert -> (severity, labels of the one alert expected, a time before `for:` has passed,
# a time after it)
EXPECTED: dict[str, tuple[str, dict[str, str], str, str]] = {
    "LLMServiceDown": ("critical", HOT, "0m", "3m"),
    "LLMHealthCheckFailing": ("critical", HEALTH_HOT, "0m", "3m"),
    "LLMHighLatency": ("warning", _agg(HOT), "4m", "10m"),
    "LLMHighErrorRate": ("warning", _agg(HOT), "4m", "10m"),
    "LLMHighTimeToFirstToken": ("warning", _agg(HOT), "4m", "10m"),
    "LLMHighInterTokenLatency": ("warning", _agg(HOT), "4m", "10m"),
    "QueueBacklog": ("warning", {**HOT, **ENGINE}, "1m", "5m"),
    "LLMKVCacheFull": ("warning", {**HOT, **ENGINE}, "4m", "10m"),
    "LLMPreemptions": ("warning", _agg(HOT), "4m", "10m"),
    "GPUMemoryPressure": ("warning", GPU_HOT, "4m", "10m"),
    "GPUHighTemperature": ("warning", GPU_HOT, "4m", "10m"),
    "CapacityNearLimit": ("info", GPU_HOT, "30m", "130m"),
}


def test_every_shipped_rule_fires_only_for_the_bad_one_and_only_after_its_for(
    tmp_path: Path,
) -> None:
    promtool = require_binary("promtool", "prometheus")
    data = yaml.safe_load(RULES.read_text())
    shipped = {r["alert"] for g in data["groups"] for r in g["rules"]}
    assert shipped == set(EXPECTED)  # a new rule needs its case here
    for group in data["groups"]:  # promtool compares annotations too: test the expressions
        for rule in group["rules"]:
            rule.pop("annotations", None)
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(data))
    cases: list[dict[str, Any]] = []
    for alert, (severity, labels, before, after) in EXPECTED.items():
        cases.append({"eval_time": before, "alertname": alert, "exp_alerts": []})
        cases.append(
            {
                "eval_time": after,
                "alertname": alert,
                "exp_alerts": [{"exp_labels": {**labels, "severity": severity}}],
            }
        )
    spec = {
        "rule_files": [str(tmp_path / "rules.yml")],
        "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": SERIES, "alert_rule_test": cases}],
    }
    (tmp_path / "test.yml").write_text(json.dumps(spec))
    done = subprocess.run(
        [promtool, "test", "rules", str(tmp_path / "test.yml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
