"""The config's optional ``incidents:`` section: grouping, the SEV table, response times.

`tui.config` keeps the section as its raw YAML node (it cannot import this package: the
layers point the other way); `incidents_config` validates it here with the same
``FILE:LINE: what is wrong`` errors. With no section, the handbook's defaults apply::

    incidents:
      db: ~/incidents.sqlite3          # default STATE_DIR/incidents.sqlite3
      group_by: [alertname, pool|service]   # "a|b": the first of these labels present
      resolve_after_s: 60              # an alert must stay gone this long to count as resolved
      severities:                      # first match wins; a rule with no condition matches all
        - {sev: SEV1, alerts: [LLMServiceDown, LLMHealthCheckFailing]}
        - {sev: SEV2, alerts: [LLMHighErrorRate], error_rate_over: 0.5}
        - {sev: SEV3, alerts: [LLMHighLatency, LLMHighErrorRate]}
        - {sev: SEV3, latency_over_slo: true}
        - {sev: SEV2, severity: [critical]}
        - {sev: SEV4}
      response: {SEV1: 15m, SEV2: 30m, SEV3: 2h, SEV4: 1 business day}
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import yaml

from tui.config import Config, ConfigError, _mapping, _scalar, _where
from tui.incidents.model import Sev, add_business_days


@dataclass(frozen=True, slots=True)
class SevRule:
    """One line of the SEV table: the conditions an alert meets to get ``sev``.

    Every condition given must hold; a rule with none matches every alert.
    """

    sev: Sev
    alerts: tuple[str, ...] = ()  # alertname globs (``LLM*``)
    severity: tuple[str, ...] = ()  # the alert's severity label: critical, warning, info
    labels: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    error_rate_over: float | None = None  # 0..1, where the alert fires
    latency_over_slo: bool = False  # TTFT or E2E p95 over the SLO tier's limit there


@dataclass(frozen=True, slots=True)
class ResponseTime:
    """How long a SEV gives to acknowledge: seconds, or whole business days."""

    seconds: float = 0.0
    business_days: int = 0

    def due(self, opened_at: float) -> float:
        """When the acknowledgement is due for an incident opened at ``opened_at``."""
        if self.business_days:
            return add_business_days(opened_at, self.business_days) + self.seconds
        return opened_at + self.seconds

    def __str__(self) -> str:
        if self.business_days:
            return f"{self.business_days} business day" + ("s" if self.business_days > 1 else "")
        from tui.incidents.model import format_span

        return format_span(self.seconds)


DEFAULT_RULES: tuple[SevRule, ...] = (
    SevRule(Sev.SEV1, alerts=("LLMServiceDown", "LLMHealthCheckFailing")),
    SevRule(Sev.SEV2, alerts=("LLMHighErrorRate",), error_rate_over=0.5),
    SevRule(Sev.SEV3, alerts=("LLMHighLatency", "LLMHighErrorRate")),
    SevRule(Sev.SEV3, latency_over_slo=True),
    SevRule(Sev.SEV2, severity=("critical",)),
    SevRule(Sev.SEV4),
)
"""The handbook's table: service down → SEV1, >50% errors → SEV2, latency over the SLO →
SEV3, warnings without user impact → SEV4 (an unknown *critical* alert → SEV2)."""

DEFAULT_RESPONSE: Mapping[Sev, ResponseTime] = MappingProxyType(
    {
        Sev.SEV1: ResponseTime(seconds=15 * 60),
        Sev.SEV2: ResponseTime(seconds=30 * 60),
        Sev.SEV3: ResponseTime(seconds=2 * 3600),
        Sev.SEV4: ResponseTime(business_days=1),
    }
)

DEFAULT_GROUP_BY: tuple[tuple[str, ...], ...] = (("alertname",), ("pool", "service"))


@dataclass(frozen=True, slots=True)
class IncidentsConfig:
    """The validated ``incidents:`` section."""

    db: str | None = None  # default STATE_DIR/incidents.sqlite3
    group_by: tuple[tuple[str, ...], ...] = DEFAULT_GROUP_BY
    resolve_after_s: float = 60.0
    rules: tuple[SevRule, ...] = DEFAULT_RULES
    response: Mapping[Sev, ResponseTime] = field(default_factory=lambda: DEFAULT_RESPONSE)

    def response_for(self, sev: Sev) -> ResponseTime:
        """The response time of ``sev``."""
        return self.response.get(sev, DEFAULT_RESPONSE[sev])


DB_FILE = "incidents.sqlite3"

_SPAN = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_BUSINESS = re.compile(r"(\d+)\s*(?:business|working)\s+days?|(\d+)\s*bd")


def parse_response(text: str) -> ResponseTime:
    """``15m``, ``2h``, ``1h30m``, ``90`` (seconds) or ``1 business day`` (``1bd``).

    ValueError naming the text otherwise.
    """
    raw = str(text).strip().lower()
    if m := _BUSINESS.fullmatch(raw):
        days = int(m.group(1) or m.group(2))
        if days > 0:
            return ResponseTime(business_days=days)
    elif re.fullmatch(r"\d+(?:\.\d+)?", raw) and float(raw) > 0:
        return ResponseTime(seconds=float(raw))
    else:
        parts = _SPAN.findall(raw)
        if parts and "".join(n + u for n, u in parts) == raw:
            seconds = sum(float(n) * _UNIT[u] for n, u in parts)
            if seconds > 0:
                return ResponseTime(seconds=seconds)
    raise ValueError(f"bad response time {text!r}: use e.g. 15m, 2h, 1h30m or 1 business day")


def incidents_config(config: Config | None) -> IncidentsConfig:
    """The config's ``incidents:`` section, validated; the defaults without one.

    Raises `ConfigError` (``FILE:LINE: ...``) for a bad section.
    """
    node = getattr(config, "incidents", None) if config is not None else None
    if node is None:
        return IncidentsConfig()
    path = (config.path if config is not None else None) or "<config>"
    return parse_section(path, node)


def parse_section(path: str, node: yaml.Node) -> IncidentsConfig:
    """Validate the ``incidents:`` YAML node of the file at ``path``."""
    if isinstance(node, yaml.ScalarNode) and node.value in ("", "~", "null"):
        return IncidentsConfig()
    fields = _mapping(
        path,
        node,
        "incidents",
        {
            "db": lambda n: _scalar(path, n, str, "db"),
            "group_by": lambda n: _group_by(path, n),
            "resolve_after_s": lambda n: _non_negative(path, n, "resolve_after_s"),
            "severities": lambda n: _rules(path, n),
            "response": lambda n: _response(path, n),
        },
    )
    if "severities" in fields:
        fields["rules"] = fields.pop("severities")
    return IncidentsConfig(**fields)


def _non_negative(path: str, node: yaml.Node, key: str) -> float:
    value = float(_scalar(path, node, float, key))
    if value < 0:
        raise ConfigError(f"{_where(path, node)}: '{key}' must be 0 or more")
    return value


def _strings(path: str, node: yaml.Node, key: str) -> tuple[str, ...]:
    if isinstance(node, yaml.ScalarNode):
        return (str(_scalar(path, node, str, key)),)
    if not isinstance(node, yaml.SequenceNode):
        raise ConfigError(f"{_where(path, node)}: '{key}' must be a list of names")
    return tuple(str(_scalar(path, item, str, key)) for item in node.value)


def _group_by(path: str, node: yaml.Node) -> tuple[tuple[str, ...], ...]:
    names = _strings(path, node, "group_by")
    groups = tuple(tuple(a.strip() for a in name.split("|") if a.strip()) for name in names)
    if not groups or any(not g for g in groups):
        raise ConfigError(f"{_where(path, node)}: 'group_by' needs label names, e.g. alertname")
    return groups


def _sev(path: str, node: yaml.Node, key: str) -> Sev:
    try:
        return Sev.parse(_scalar(path, node, str, key))
    except ValueError as exc:
        raise ConfigError(f"{_where(path, node)}: {exc}") from None


def _rules(path: str, node: yaml.Node) -> tuple[SevRule, ...]:
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        raise ConfigError(f"{_where(path, node)}: 'severities' must be a list of rules")
    return tuple(_rule(path, item) for item in node.value)


def _rule(path: str, node: yaml.Node) -> SevRule:
    def labels(n: yaml.Node) -> Mapping[str, str]:
        found = _mapping(path, n, "labels", _AnyKey(lambda v: _scalar(path, v, str, "labels")))
        return MappingProxyType({k: str(v) for k, v in found.items()})

    def ratio(n: yaml.Node) -> float:
        value = float(_scalar(path, n, float, "error_rate_over"))
        if not 0 <= value <= 1:
            raise ConfigError(f"{_where(path, n)}: 'error_rate_over' is a ratio 0..1 (0.5 = 50%)")
        return value

    fields: dict[str, Any] = _mapping(
        path,
        node,
        "a severity rule",
        {
            "sev": lambda n: _sev(path, n, "sev"),
            "alerts": lambda n: _strings(path, n, "alerts"),
            "severity": lambda n: tuple(s.lower() for s in _strings(path, n, "severity")),
            "labels": labels,
            "error_rate_over": ratio,
            "latency_over_slo": lambda n: _scalar(path, n, bool, "latency_over_slo"),
        },
    )
    if "sev" not in fields:
        raise ConfigError(f"{_where(path, node)}: a severity rule needs 'sev' (SEV1..SEV4)")
    return SevRule(**fields)


def _response(path: str, node: yaml.Node) -> Mapping[Sev, ResponseTime]:
    def one(n: yaml.Node) -> ResponseTime:
        try:
            return parse_response(_scalar(path, n, str, "response"))
        except ValueError as exc:
            raise ConfigError(f"{_where(path, n)}: {exc}") from None

    if not isinstance(node, yaml.MappingNode):
        raise ConfigError(f"{_where(path, node)}: 'response' maps SEV1..SEV4 to a time")
    out = dict(DEFAULT_RESPONSE)
    seen: set[Sev] = set()
    for key_node, value_node in node.value:
        sev = _sev(path, key_node, "response")
        if sev in seen:
            raise ConfigError(f"{_where(path, key_node)}: '{sev}' is given twice")
        seen.add(sev)
        out[sev] = one(value_node)
    return MappingProxyType(out)


class _AnyKey(dict[str, Any]):
    """An ``allowed`` mapping for `_mapping` that accepts every key with one parser."""

    def __init__(self, parse: Any) -> None:
        super().__init__()
        self._parse = parse

    def __contains__(self, key: object) -> bool:
        return True

    def __getitem__(self, key: str) -> Any:
        return self._parse
