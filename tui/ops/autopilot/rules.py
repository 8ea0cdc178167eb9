"""Remediation rule YAML → validated `Rule`s; every mistake as ``FILE:LINE: what``.

A rule watches one metric and names one action::

    - name: scale-on-queue
      when: {metric: queue_depth, over: 20, for: 5m}   # a pool's waiting requests
      action: scale-out          # restart | scale-out | scale-in | notify
      max_replicas: 4            # scale-out: never more servers in the pool than this
      cooldown: 15m              # no second action of this rule on the same target before
      max_per_hour: 4            # nor more than this many in any hour

Metrics: ``oom_restarts`` (a backend container's OOM kills counted ``within`` a window,
told by the container engine's events; target: the backend's container),
``container_restarts`` (its restarts of any cause, from the listing's restart count),
``queue_depth`` (a pool's waiting requests, held ``for``
a while; target: the pool), ``error_rate`` (0..1, the fleet's, or a pool's with
``scope: pool``; held ``for`` a while, default at once).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml

from tui.config import ConfigError, _mapping, _positive, _scalar, _sequence, _where
from tui.ops.alerts.silences import parse_duration

Metric = Literal["oom_restarts", "container_restarts", "queue_depth", "error_rate"]
ActionKind = Literal["restart", "scale-out", "scale-in", "notify"]
METRICS: tuple[str, ...] = ("oom_restarts", "container_restarts", "queue_depth", "error_rate")
ACTIONS: tuple[str, ...] = ("restart", "scale-out", "scale-in", "notify")
_FITS = {"oom_restarts": {"restart", "notify"}, "container_restarts": {"restart", "notify"},
         "queue_depth": {"scale-out", "notify"}, "error_rate": {"notify", "scale-out"}}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Rule:
    """One remediation rule."""

    name: str
    metric: Metric
    over: float
    action: ActionKind
    for_s: float = 0.0  # the condition must hold this long
    within_s: float = 600.0  # oom_restarts, container_restarts: the counting window
    scope: Literal["fleet", "pool"] = "fleet"  # error_rate: the fleet's or each pool's
    cooldown_s: float = 900.0
    max_per_hour: int = 4
    max_replicas: int = 4
    message: str = ""
    description: str = ""
    source: str = ""


def _seconds(path: str, node: yaml.Node, key: str) -> float:
    try:
        return parse_duration(str(_scalar(path, node, str, key)))
    except ValueError as exc:
        raise ConfigError(f"{_where(path, node)}: '{key}': {exc}") from None


def parse_rule(path: str, node: yaml.Node) -> Rule:
    """One rule from its YAML node."""

    def choice(key: str, allowed: tuple[str, ...]) -> object:
        def parse(n: yaml.Node) -> str:
            value = str(_scalar(path, n, str, key))
            if value not in allowed:
                raise ConfigError(f"{_where(path, n)}: '{key}' must be one of "
                                  f"{', '.join(allowed)}, not {value!r}")  # fmt: skip
            return value

        return parse

    def when(n: yaml.Node) -> dict[str, object]:
        return _mapping(
            path, n, "a rule's 'when'",
            {
                "metric": choice("metric", METRICS),  # type: ignore[dict-item]
                "over": lambda m: float(_scalar(path, m, float, "over")),
                "for": lambda m: _seconds(path, m, "for"),
                "within": lambda m: _seconds(path, m, "within"),
                "scope": choice("scope", ("fleet", "pool")),  # type: ignore[dict-item]
            },
        )  # fmt: skip

    fields = _mapping(
        path, node, "a rule",
        {
            "name": lambda n: _scalar(path, n, str, "name"),
            "description": lambda n: _scalar(path, n, str, "description"),
            "when": when,
            "action": choice("action", ACTIONS),  # type: ignore[dict-item]
            "cooldown": lambda n: _seconds(path, n, "cooldown"),
            "max_per_hour": lambda n: int(_positive(path, n, "max_per_hour")),
            "max_replicas": lambda n: int(_positive(path, n, "max_replicas")),
            "message": lambda n: _scalar(path, n, str, "message"),
        },
    )  # fmt: skip
    for key in ("name", "when", "action"):
        if key not in fields:
            raise ConfigError(f"{_where(path, node)}: a rule needs '{key}'")
    condition = fields.pop("when")
    for key in ("metric", "over"):
        if key not in condition:
            raise ConfigError(f"{_where(path, node)}: rule {fields['name']}: 'when' needs '{key}'")
    if fields["action"] not in _FITS[str(condition["metric"])]:
        fits = ", ".join(sorted(_FITS[str(condition["metric"])]))
        raise ConfigError(
            f"{_where(path, node)}: rule {fields['name']}: action {fields['action']} does not "
            f"fit metric {condition['metric']} ({fits})"
        )
    renamed = {"cooldown": "cooldown_s", "for": "for_s", "within": "within_s"}
    return Rule(
        metric=condition["metric"], over=condition["over"],
        for_s=float(condition.get("for", 0.0)),
        within_s=float(condition.get("within", 600.0)),
        scope=condition.get("scope", "fleet"),
        source=_where(path, node),
        **{renamed.get(k, k): v for k, v in fields.items()},
    )  # fmt: skip


def parse_rules(path: str, node: yaml.Node) -> tuple[Rule, ...]:
    """A list of rules; a name given twice is an error."""
    rules = _sequence(path, node, "rules", lambda n: parse_rule(path, n))
    seen: set[str] = set()
    for rule_node, rule in zip(node.value, rules, strict=True):
        if rule.name in seen:
            raise ConfigError(f"{_where(path, rule_node)}: rule '{rule.name}' is given twice")
        seen.add(rule.name)
    return rules


def shipped_rules() -> tuple[Rule, ...]:
    """The handbook's rules (``tui/data/autopilot/rules.yaml``)."""
    path = Path(str(resources.files("tui") / "data" / "autopilot" / "rules.yaml"))
    root = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    if root is None:
        raise ConfigError(f"{path}:1: an empty rules file")
    fields = _mapping(str(path), root, "the rules file", {"rules": lambda n: n})
    return parse_rules(str(path), fields["rules"])
