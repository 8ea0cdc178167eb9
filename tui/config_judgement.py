"""Config sections for judging the fleet: ``slo``, ``capacity``, ``cost`` and ``models``.

Parsed like the rest of the config (`tui.config`): every error names FILE:LINE. A model
inventory kept in its own file (``models.inventory``, the handbook's
``model-inventory.yml``) is read here too, and its errors name that file and line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tui.analysis.capacity import HANDBOOK_HOST_THRESHOLDS, HostThresholds
from tui.analysis.cost import CloudPrice, CostItem
from tui.analysis.models import STATUSES, Inventory, InventoryModel, ModelVersion


@dataclass(frozen=True, slots=True)
class SloConfig:
    """The SLO window of the error budget, and where timeouts are counted."""

    window_days: float = 30.0
    # PromQL giving the gateway's share of timed-out requests (504s), when it exports one
    timeout_query: str | None = None


@dataclass(frozen=True, slots=True)
class CapacityConfig:
    """Capacity planning: growth, the threshold, host limits, node exporter in Prometheus."""

    growth_monthly: float | None = None  # 0.10 = 10 % a month; None: fit it to Prometheus
    threshold_pct: float = 80.0
    host: HostThresholds = HANDBOOK_HOST_THRESHOLDS
    node_job: str = "node"  # Prometheus job of node exporter


@dataclass(frozen=True, slots=True)
class CostConfig:
    """The monthly cost table, the month's volumes (else live), the cloud price."""

    monthly: tuple[CostItem, ...] = ()
    monthly_requests: float | None = None
    monthly_tokens: float | None = None
    cloud: CloudPrice | None = None


@dataclass(frozen=True, slots=True)
class ModelsConfig:
    """The model inventory and which version each pool serves."""

    inventory: Inventory = field(default_factory=lambda: Inventory(()))
    pools: Mapping[str, str] = field(default_factory=dict)  # pool -> NAME:VERSION or VERSION


@dataclass(frozen=True, slots=True)
class YamlTools:
    """`tui.config`'s validators, handed in so this module does not import it back."""

    error: type[Exception]
    where: Callable[[str, yaml.Node], str]
    scalar: Callable[[str, yaml.Node, type, str], Any]
    positive: Callable[[str, yaml.Node, str], float]
    mapping: Callable[..., dict[str, Any]]
    sequence: Callable[..., tuple]
    beside_config: Callable[[str, str], str]


def sections(path: str, tools: YamlTools) -> dict[str, Callable[[yaml.Node], Any]]:
    """The top-level keys this module parses, for `tui.config.parse_config`."""
    ConfigError = tools.error
    _where, _scalar, _positive = tools.where, tools.scalar, tools.positive
    _mapping, _sequence, _beside_config = tools.mapping, tools.sequence, tools.beside_config

    def _ratio(path: str, node: yaml.Node, key: str) -> float:
        value = float(_scalar(path, node, float, key))
        if not 0 <= value <= 10:
            raise ConfigError(
                f"{_where(path, node)}: '{key}' is a share (0.10 = 10 %), not {value}"
            )
        return value

    def _pct(path: str, node: yaml.Node, key: str) -> float:
        value = _positive(path, node, key)
        if value > 100:
            raise ConfigError(
                f"{_where(path, node)}: '{key}' is a percentage (0..100), not {value}"
            )
        return value

    def _slo(path: str, node: yaml.Node) -> SloConfig:
        fields = _mapping(path, node, "slo", {
            "window_days": lambda n: _positive(path, n, "window_days"),
            "timeout_query": lambda n: _scalar(path, n, str, "timeout_query"),
        })  # fmt: skip
        return SloConfig(**fields)

    def _capacity(path: str, node: yaml.Node) -> CapacityConfig:
        def host(n: yaml.Node) -> HostThresholds:
            keys = ("cpu_pct", "mem_pct", "disk_io_pct", "disk_used_pct")

            def pct(key: str) -> Callable[[yaml.Node], float]:
                return lambda m: _pct(path, m, key)

            spec = {k: pct(k) for k in keys}
            return HostThresholds(**_mapping(path, n, "capacity.host", spec))

        fields = _mapping(path, node, "capacity", {
            "growth_monthly": lambda n: _ratio(path, n, "growth_monthly"),
            "threshold_pct": lambda n: _pct(path, n, "threshold_pct"),
            "host": host,
            "node_job": lambda n: _scalar(path, n, str, "node_job"),
        })  # fmt: skip
        return CapacityConfig(**fields)

    def _money(path: str, node: yaml.Node, key: str) -> float:
        value = float(_scalar(path, node, float, key))
        if value < 0:
            raise ConfigError(f"{_where(path, node)}: '{key}' cannot be negative")
        return value

    def _cost(path: str, node: yaml.Node) -> CostConfig:
        def item(n: yaml.Node) -> CostItem:
            fields = _mapping(path, n, "a cost line", {
                "name": lambda m: _scalar(path, m, str, "name"),
                "usd": lambda m: _money(path, m, "usd"),
                "allocation": lambda m: _scalar(path, m, str, "allocation"),
            })  # fmt: skip
            for required in ("name", "usd"):
                if required not in fields:
                    raise ConfigError(f"{_where(path, n)}: a cost line needs '{required}'")
            return CostItem(fields["name"], fields["usd"], fields.get("allocation", ""))

        def cloud(n: yaml.Node) -> CloudPrice:
            fields = _mapping(path, n, "cost.cloud", {
                "name": lambda m: _scalar(path, m, str, "name"),
                "per_request_usd": lambda m: _money(path, m, "per_request_usd"),
                "per_1k_tokens_usd": lambda m: _money(path, m, "per_1k_tokens_usd"),
            })  # fmt: skip
            return CloudPrice(**{"name": "cloud", **fields})

        fields = _mapping(path, node, "cost", {
            "monthly": lambda n: _sequence(path, n, "monthly", item),
            "monthly_requests": lambda n: _positive(path, n, "monthly_requests"),
            "monthly_tokens": lambda n: _positive(path, n, "monthly_tokens"),
            "cloud": cloud,
        })  # fmt: skip
        return CostConfig(**fields)

    def _date(path: str, node: yaml.Node, key: str) -> dt.date | None:
        value = yaml.safe_load(yaml.serialize(node)) if isinstance(node, yaml.ScalarNode) else node
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        raise ConfigError(f"{_where(path, node)}: '{key}' must be a date (2024-06-01) or null")

    def _inventory_models(path: str, node: yaml.Node) -> tuple[InventoryModel, ...]:
        """The handbook's ``models:`` list: each model's name and versions."""

        def status(n: yaml.Node) -> str:
            value = str(_scalar(path, n, str, "status")).lower()
            if value not in STATUSES:
                raise ConfigError(
                    f"{_where(path, n)}: status must be one of {', '.join(STATUSES)}, not {value!r}"
                )
            return value

        def version(n: yaml.Node) -> ModelVersion:
            fields = _mapping(path, n, "a model version", {
                "version": lambda m: _scalar(path, m, str, "version"),
                "status": status,
                "deployed": lambda m: _date(path, m, "deployed"),
                "archived": lambda m: _date(path, m, "archived"),
                "path": lambda m: _scalar(path, m, str, "path"),
                "served_as": lambda m: _scalar(path, m, str, "served_as"),
            })  # fmt: skip
            for required in ("version", "status"):
                if required not in fields:
                    raise ConfigError(f"{_where(path, n)}: a model version needs '{required}'")
            return ModelVersion(**fields)

        def model(n: yaml.Node) -> InventoryModel:
            fields = _mapping(path, n, "a model", {
                "name": lambda m: _scalar(path, m, str, "name"),
                "versions": lambda m: _sequence(path, m, "versions", version),
            })  # fmt: skip
            if "name" not in fields:
                raise ConfigError(f"{_where(path, n)}: a model needs 'name'")
            return InventoryModel(fields["name"], fields.get("versions", ()))

        return _sequence(path, node, "models", model)

    def load_inventory(path: str) -> Inventory:
        """Read a ``model-inventory.yml`` (``models:`` at the top); errors name FILE:LINE."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{path}:0: cannot read the model inventory: {exc}") from None
        try:
            root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as exc:
            line = exc.problem_mark.line + 1 if exc.problem_mark else 1
            raise ConfigError(f"{path}:{line}: not valid YAML: {exc.problem or exc}") from None
        if root is None:
            return Inventory((), path)
        fields = _mapping(path, root, "the model inventory",
                          {"models": lambda n: _inventory_models(path, n)})  # fmt: skip
        return Inventory(fields.get("models", ()), path)

    def _models(path: str, node: yaml.Node) -> ModelsConfig:
        def pools(n: yaml.Node) -> dict[str, str]:
            if not isinstance(n, yaml.MappingNode):
                raise ConfigError(f"{_where(path, n)}: 'pools' maps each pool to NAME:VERSION")
            return {str(k.value): str(_scalar(path, v, str, str(k.value))) for k, v in n.value}

        fields = _mapping(path, node, "models", {
            "inventory": lambda n: load_inventory(_beside_config(path, _scalar(path, n, str,
                                                                               "inventory"))),
            "models": lambda n: Inventory(_inventory_models(path, n), "inline"),
            "pools": pools,
        })  # fmt: skip
        if "inventory" in fields and "models" in fields:
            raise ConfigError(f"{_where(path, node)}: models: give 'inventory' (a file) or 'models'"
                              " (inline), not both")  # fmt: skip
        inventory = fields.get("inventory") or fields.get("models") or Inventory(())
        return ModelsConfig(inventory, fields.get("pools", {}))

    return {
        "slo": lambda n: _slo(path, n),
        "capacity": lambda n: _capacity(path, n),
        "cost": lambda n: _cost(path, n),
        "models": lambda n: _models(path, n),
    }
