"""``lab status``'s figures, read live: whether each recorded process runs, and the
traffic split nginx is configured with now (never the one ``lab up`` started with: a
``traffic set`` or rollout changes it behind the lab's back)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tui.config import ConfigError, load_config
from tui.lab.render import status_data
from tui.lab.state import liveness
from tui.ops.traffic.factory import router_from_config
from tui.ops.traffic.weights import RouterError


def live_split(state: Mapping[str, Any]) -> tuple[dict[str, float] | None, str | None]:
    """The split per pool as ``inferdeck traffic show -c LAB_CONFIG`` reads it (the
    inferdeck-owned upstream file, through the configured router); ``(None, why)`` when
    it cannot be read."""
    config_path = state.get("config")
    if not config_path:
        return None, "the lab wrote no inferdeck config"
    try:
        traffic = load_config(config_path).traffic
        if traffic is None:
            return None, f"{config_path}: no traffic: section"
        return router_from_config(traffic).current(), None
    except (ConfigError, RouterError) as exc:
        return None, str(exc)


def lab_status(state: dict[str, Any]) -> dict[str, Any]:
    """``lab status --json`` for a lab record, with liveness and the split read now."""
    weights, problem = live_split(state)
    return status_data(state, liveness(state), weights=weights, weights_error=problem)
