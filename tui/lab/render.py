"""What the lab writes and prints: the inferdeck config, ``lab status`` (JSON and text)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePath
from typing import Any
from urllib.parse import urlsplit

import yaml

from tui.config import parse_config
from tui.lab.nginx import UPSTREAM_NAME

STATUS_KEYS = (
    "prometheus",
    "alertmanager",
    "nginx",
    "nginx_upstream_file",
    "backends",
    "gpu_exporter",
    "config",
    "pids",
)


def config_data(state: Mapping[str, Any]) -> dict[str, Any]:
    """The inferdeck config (as data) for a lab record."""
    backends = [
        {"name": b["name"], "pool": b["pool"], "url": b["url"], "model": b["model"]}
        if b.get("model")
        else {"name": b["name"], "pool": b["pool"], "url": b["url"]}
        for b in state["backends"]
    ]
    sources: dict[str, Any] = {
        "scrape": {"interval_s": 1.0, "gpu_exporters": [state["gpu_exporter"]]},
        "prometheus": {
            "url": state["prometheus"],
            "pool_label": "pool",
            "name_label": "backend",
            "interval_s": 2,
        },
        "alertmanager": {"url": state["alertmanager"]},
        "nvml": {"enabled": False},
    }
    podman = state.get("podman")
    if podman:
        sources["docker"] = {"url": podman["url"], "compose_project": podman["project"]}
    data: dict[str, Any] = {"environment": "lab", "backends": backends, "sources": sources}
    traffic = traffic_data(state)
    if traffic:
        data["traffic"] = traffic
    return data


def traffic_data(state: Mapping[str, Any]) -> dict[str, Any] | None:
    """The ``traffic:`` section: the lab's nginx as the router (None before nginx runs)."""
    files = state.get("files") or {}
    if not state.get("nginx") or "nginx_upstream" not in files:
        return None
    servers: dict[str, list[str]] = {}
    for b in state["backends"]:
        servers.setdefault(b["pool"], []).append(urlsplit(b["url"]).netloc)
    pools = list(servers)
    conf = files["nginx_conf"]
    section: dict[str, Any] = {
        "router": "nginx",
        "stable_pool": pools[0],
        "nginx": {
            "upstream_file": files["nginx_upstream"],
            "upstream_name": UPSTREAM_NAME,
            "servers": servers,
            "binary": files.get("nginx_binary", "nginx"),
            "conf": conf,
            "prefix": str(PurePath(conf).parent) + "/",
            "verify_url": str(state["nginx"]) + "/health",
        },
    }
    if len(pools) > 1:
        section["canary_pool"] = pools[1]
    return section


def render_config(state: Mapping[str, Any]) -> str:
    """``inferdeck.yaml`` for a lab record, checked with the config's own validator."""
    header = (
        f"# Written by `inferdeck lab up` for the lab in {state.get('dir', '?')}.\n"
        "# Use it with: inferdeck -c THIS_FILE  (rewritten at every lab up)\n"
    )
    text = header + yaml.safe_dump(config_data(state), sort_keys=False)
    parse_config(text, "<lab config>")  # raises ConfigError on a bug here, never later
    return text


def status_data(
    state: Mapping[str, Any],
    alive: Mapping[str, bool],
    weights: Mapping[str, float] | None = None,
    weights_error: str | None = None,
) -> dict[str, Any]:
    """``lab status --json``: URLs, files, backends, PIDs and whether each PID runs, and
    ``weights``, the split as read now (see `tui.lab.status`), or why it could not be."""
    data: dict[str, Any] = {key: state.get(key) for key in STATUS_KEYS}
    data["backends"] = [
        {"name": b["name"], "pool": b["pool"], "url": b["url"]} for b in state.get("backends", [])
    ]
    data["alive"] = dict(alive)
    data["running"] = bool(alive) and all(alive.values())
    data["dir"] = state.get("dir")
    data["control"] = state.get("control")
    data["weights"] = dict(weights) if weights is not None else None
    if weights_error:
        data["weights_error"] = weights_error
    data["containers"] = state.get("containers", False)
    if state.get("podman"):
        data["docker"] = state["podman"].get("url")
    return data


def status_text(data: Mapping[str, Any]) -> str:
    """``lab status`` for people."""
    if data["running"]:
        head = "lab: running"
    elif any(data["alive"].values()):
        head = "lab: DEGRADED (some parts stopped)"
    else:
        head = "lab: stopped (stale record)"
    lines = [f"{head}  ({data.get('dir')})"]
    for key, label in (("nginx", "nginx"), ("prometheus", "Prometheus"),
                       ("alertmanager", "Alertmanager"), ("gpu_exporter", "GPU exporter"),
                       ("control", "sim control"), ("docker", "Docker API")):  # fmt: skip
        if data.get(key):
            lines.append(f"  {label:<14}{data[key]}")
    for b in data["backends"]:
        lines.append(f"  backend       {b['name']:<10} {b['pool']:<8} {b['url']}")
    if data.get("weights"):
        split = ", ".join(f"{p} {w:g}%" for p, w in data["weights"].items())
        lines.append(f"  traffic       {split}  ({data.get('nginx_upstream_file')})")
    elif data.get("weights_error"):
        lines.append(f"  traffic       unknown: {data['weights_error']}")
    lines.append("  processes     " + ", ".join(
        f"{name} {pid} {'up' if data['alive'].get(name) else 'GONE'}"
        for name, pid in (data.get("pids") or {}).items()
    ))  # fmt: skip
    if data.get("config"):
        lines.append(f"  config        inferdeck -c {data['config']}")
    return "\n".join(lines)
