"""Prometheus and Alertmanager configuration for the lab, and the fast-alerts rule copy.

Configs are built as data and written as YAML. Prometheus scrapes every backend (job
``vllm``, target labels ``pool`` and ``backend``), each backend's health through nginx
(job ``vllm-health``, ``/lab/health/NAME``), the gateway's own ``/health`` (job
``gateway``) and the GPU exporter (job ``dcgm``), every second.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

FAST_FOR = "5s"
"""``for:`` of every rule in the fast-alerts copy (or the rule's own, when shorter)."""

FAST_INTERVAL = "1s"
"""Evaluation interval of every rule group in the fast-alerts copy."""

_DURATION = re.compile(r"^(?:(\d+)(ms|s|m|h|d|w|y))+$")
_PART = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


def shipped_rules() -> list[Path]:
    """The alert rule files that ship with inferdeck (``tui/data/rules/*.yml``)."""
    folder = Path(str(resources.files("tui") / "data" / "rules"))
    return sorted(folder.glob("*.yml"))


def duration_s(text: str) -> float:
    """Seconds in a Prometheus duration such as ``1m``, ``1h30m`` or ``500ms``."""
    if not _DURATION.match(text):
        raise ValueError(f"not a Prometheus duration: {text!r}")
    return sum(int(n) * _UNITS[unit] for n, unit in _PART.findall(text))


def fast_rules(
    text: str, fast_for: str = FAST_FOR, interval: str = FAST_INTERVAL
) -> dict[str, Any]:
    """A rule file's content with every ``for:`` capped at ``fast_for`` and each group
    evaluated every ``interval``: alerts fire in seconds instead of minutes (the lab)."""
    data = yaml.safe_load(text)
    if not isinstance(data, dict) or not isinstance(data.get("groups"), list):
        raise ValueError("not a Prometheus rule file: no 'groups' list")
    cap = duration_s(fast_for)
    for group in data["groups"]:
        group["interval"] = interval
        for rule in group.get("rules", []):
            if "for" in rule and duration_s(str(rule["for"])) > cap:
                rule["for"] = fast_for
    return data


def write_rule_copies(
    sources: Sequence[Path], dest: Path, fast: bool, fast_for: str = FAST_FOR
) -> list[Path]:
    """Copy the rule files into ``dest`` (rewritten by `fast_rules` when ``fast``)."""
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for source in sources:
        text = source.read_text(encoding="utf-8")
        target = dest / source.name
        if fast:
            note = f"# Fast-alerts copy of {source} (for: <= {fast_for}), written by lab up.\n"
            text = note + yaml.safe_dump(fast_rules(text, fast_for), sort_keys=False)
        target.write_text(text, encoding="utf-8")
        written.append(target)
    return written


@dataclass(frozen=True)
class Target:
    """A backend as Prometheus scrapes it."""

    name: str
    pool: str
    url: str  # base URL, http://host:port


def _hostport(url: str) -> str:
    return urlsplit(url).netloc


def prometheus_config(
    backends: Sequence[Target],
    gpu_exporters: Sequence[str],
    nginx_url: str,
    alertmanager_url: str,
    rule_files: Sequence[Path],
    interval: str = "1s",
) -> dict[str, Any]:
    """The lab's Prometheus configuration (as data)."""
    nginx = _hostport(nginx_url)
    vllm = [
        {"targets": [_hostport(b.url)], "labels": {"pool": b.pool, "backend": b.name}}
        for b in backends
    ]
    health = [
        {
            "targets": [nginx],
            "labels": {
                "pool": b.pool,
                "backend": b.name,
                "__metrics_path__": f"/lab/health/{b.name}",
            },
        }
        for b in backends
    ]
    dcgm = [
        {
            "targets": [_hostport(url)],
            "labels": {"__metrics_path__": urlsplit(url).path or "/metrics"},
        }
        for url in gpu_exporters
    ]
    jobs: list[tuple[str, list[dict[str, Any]], str]] = [
        ("vllm", vllm, "/metrics"),
        ("vllm-health", health, "/health"),
        ("gateway", [{"targets": [nginx]}], "/health"),
        ("dcgm", dcgm, "/metrics"),
    ]
    return {
        "global": {
            "scrape_interval": interval,
            "scrape_timeout": interval,
            "evaluation_interval": interval,
        },
        "rule_files": [str(p) for p in rule_files],
        "alerting": {
            "alertmanagers": [{"static_configs": [{"targets": [_hostport(alertmanager_url)]}]}]
        },
        "scrape_configs": [
            {"job_name": name, "metrics_path": path, "static_configs": groups}
            for name, groups, path in jobs
            if groups
        ],
    }


def alertmanager_config(group_wait: str = "1s", group_interval: str = "1s") -> dict[str, Any]:
    """A minimal Alertmanager configuration: one do-nothing receiver, short grouping."""
    return {
        "route": {
            "receiver": "null",
            "group_by": ["alertname", "backend", "pool"],
            "group_wait": group_wait,
            "group_interval": group_interval,
            "repeat_interval": "1h",
        },
        "receivers": [{"name": "null"}],
    }


def dump(data: Mapping[str, Any]) -> str:
    """YAML text of a config (keys kept in order)."""
    return yaml.safe_dump(dict(data), sort_keys=False, default_flow_style=False)
