"""The config's optional ``autopilot:`` section (`tui.config` keeps it raw)::

    autopilot: on                 # shorthand for {mode: on}; off | propose (the default) | on
    autopilot:
      mode: propose
      max_actions_per_hour: 6     # "on" stops acting after this many actions in an hour
      rules:                      # the shipped rules, overridden by name, or new ones
        - {name: scale-on-queue, when: {metric: queue_depth, over: 20, for: 5m},
           action: scale-out, max_replicas: 4, cooldown: 15m, max_per_hour: 4}
      disable: [alert-on-degradation]
      notify:                     # where `notify` rules post
        - {url: "https://hooks.slack.com/services/...", format: slack}
        - {url: "http://127.0.0.1:9000/hook", format: generic}
      scaler:                     # how scale-out copies a pool's container
        kind: containers          # the only one built; see the README for Kubernetes
        port_arg: --port          # the flag of the template's command holding its port
        port_offset: 0            # the server listens on that value + offset
        ready_timeout: 60s

In read-only mode the autopilot only proposes (and the executor refuses to apply).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import yaml

from tui.config import Config, ConfigError, _mapping, _positive, _scalar, _sequence, _url, _where
from tui.ops.alerts.silences import parse_duration
from tui.ops.autopilot.rules import Rule, parse_rules, shipped_rules

Mode = Literal["off", "propose", "on"]


@dataclass(frozen=True, slots=True)
class Webhook:
    """Where a notify rule posts: Slack-compatible (``{"text": ...}``) or generic JSON."""

    url: str
    format: Literal["slack", "generic"] = "generic"


@dataclass(frozen=True, slots=True)
class ScalerSettings:
    """How the containers scaler gives a replica its port."""

    kind: str = "containers"
    port_arg: str = "--port"
    port_offset: int = 0
    ready_timeout_s: float = 60.0


@dataclass(frozen=True, slots=True)
class AutopilotConfig:
    """Validated ``autopilot:`` settings."""

    mode: Mode = "propose"
    rules: tuple[Rule, ...] = ()
    max_actions_per_hour: int = 6
    notify: tuple[Webhook, ...] = ()
    scaler: ScalerSettings = field(default_factory=ScalerSettings)


def _mode(path: str, node: yaml.Node) -> Mode:
    value = yaml.safe_load(yaml.serialize(node)) if isinstance(node, yaml.ScalarNode) else None
    mapped = {True: "on", False: "off"}.get(value, value) if isinstance(value, bool) else value
    if mapped not in ("off", "propose", "on"):
        raise ConfigError(f"{_where(path, node)}: autopilot mode must be off, propose or on, "
                          f"not {value!r}")  # fmt: skip
    return mapped  # type: ignore[return-value]


def autopilot_config(config: Config | None) -> AutopilotConfig:
    """The ``autopilot:`` section validated, with the shipped rules merged in by name."""
    rules = {r.name: r for r in shipped_rules()}
    node = config.autopilot if config is not None else None
    if node is None:
        return AutopilotConfig(rules=tuple(rules.values()))
    path = (config.path if config else None) or "<config>"
    if isinstance(node, yaml.ScalarNode):
        return AutopilotConfig(mode=_mode(path, node), rules=tuple(rules.values()))

    def webhook(n: yaml.Node) -> Webhook:
        def fmt(m: yaml.Node) -> str:
            value = str(_scalar(path, m, str, "format"))
            if value not in ("slack", "generic"):
                raise ConfigError(f"{_where(path, m)}: 'format' must be slack or generic")
            return value

        fields = _mapping(path, n, "a webhook", {"url": lambda m: _url(path, m, "url"),
                                                 "format": fmt})  # fmt: skip
        if "url" not in fields:
            raise ConfigError(f"{_where(path, n)}: a webhook needs 'url'")
        return Webhook(**fields)

    def scaler(n: yaml.Node) -> ScalerSettings:
        def kind(m: yaml.Node) -> str:
            value = str(_scalar(path, m, str, "kind"))
            if value != "containers":
                raise ConfigError(f"{_where(path, m)}: scaler kind {value!r} is not built; "
                                  "only containers is (Kubernetes: see the README)")  # fmt: skip
            return value

        def offset(m: yaml.Node) -> int:
            value = _scalar(path, m, int, "port_offset")
            if not 0 <= value < 1000:
                raise ConfigError(f"{_where(path, m)}: 'port_offset' must be 0..999")
            return int(value)

        def ready(m: yaml.Node) -> float:
            try:
                return parse_duration(str(_scalar(path, m, str, "ready_timeout")))
            except ValueError as exc:
                raise ConfigError(f"{_where(path, m)}: 'ready_timeout': {exc}") from None

        fields = _mapping(path, n, "autopilot.scaler", {
            "kind": kind, "port_arg": lambda m: _scalar(path, m, str, "port_arg"),
            "port_offset": offset, "ready_timeout": ready,
        })  # fmt: skip
        if "ready_timeout" in fields:
            fields["ready_timeout_s"] = fields.pop("ready_timeout")
        return ScalerSettings(**fields)

    fields = _mapping(
        path, node, "autopilot",
        {
            "mode": lambda n: _mode(path, n),
            "max_actions_per_hour": lambda n: int(_positive(path, n, "max_actions_per_hour")),
            "rules": lambda n: parse_rules(path, n),
            "disable": lambda n: _sequence(path, n, "disable",
                                           lambda i: str(_scalar(path, i, str, "disable"))),
            "notify": lambda n: _sequence(path, n, "notify", webhook),
            "scaler": scaler,
        },
    )  # fmt: skip
    for rule in fields.pop("rules", ()):
        rules[rule.name] = rule
    for name in fields.pop("disable", ()):
        if name not in rules:
            raise ConfigError(f"{_where(path, node)}: autopilot.disable names no rule {name!r}")
        del rules[name]
    return AutopilotConfig(rules=tuple(rules.values()), **fields)
