"""Cost per request (the handbook's $0.0124) and the model inventory's retention warnings."""

from __future__ import annotations

import datetime as dt

import pytest

from tui.analysis.cost import (
    HANDBOOK_COSTS,
    CloudPrice,
    cost_report,
    monthly_total,
    requests_volume,
    tokens_volume,
)
from tui.analysis.models import Inventory, InventoryModel, ModelVersion, retention_warnings, serving
from tui.model import Backend


def test_the_handbooks_cost_example() -> None:
    assert monthly_total(HANDBOOK_COSTS) == 6200.0
    report = cost_report(
        HANDBOOK_COSTS,
        requests_volume(500_000, None),
        tokens_volume(None, None),
        CloudPrice("GPT-4o", per_request_usd=0.03),
    )
    assert report.per_request_usd == pytest.approx(0.0124)
    assert report.savings_per_request is not None
    assert round(report.savings_per_request * 100) == 59
    assert report.per_1k_tokens_usd is None and report.tokens.source.startswith("no figure")


def test_live_rates_over_a_30_day_month() -> None:
    # 500,000 requests a month is 11.574 requests/min; 3,000 tokens each.
    rpm = 500_000 / (30 * 24 * 60)
    report = cost_report(
        HANDBOOK_COSTS,
        requests_volume(None, rpm),
        tokens_volume(None, rpm * 3000 / 60),
        CloudPrice("cloud", per_1k_tokens_usd=0.01),
    )
    assert report.requests.count == pytest.approx(500_000)
    assert report.requests.source.startswith("live: 11.6 requests/min")
    assert report.per_request_usd == pytest.approx(0.0124)
    assert report.per_1k_tokens_usd == pytest.approx(6200 / 1_500_000)
    assert report.savings_per_1k_tokens == pytest.approx(1 - 0.0041333 / 0.01, abs=1e-4)


TODAY = dt.date(2025, 12, 31)


def inventory(*versions: ModelVersion) -> Inventory:
    return Inventory((InventoryModel("llama", versions),))


def v(version: str, status: str, **kw) -> ModelVersion:
    return ModelVersion(version, status, **kw)  # type: ignore[arg-type]


def backend(pool: str, model: str) -> Backend:
    return Backend(name=f"{pool}-0", pool=pool, url=f"http://{pool}", model=model)


def test_a_tidy_inventory_has_no_warnings() -> None:
    inv = inventory(
        v("v1.0", "archived", path="/mnt/models/archive/llama-v1", archived=dt.date(2025, 11, 1)),
        v("v1.1", "active", path="/mnt/models/llama-v1.1", served_as="llama-3.1-8b-instruct"),
        v("v2.0", "staging", path="/mnt/models/staging/llama-v2"),
    )
    pools = serving(inv, [backend("blue", "llama-3.1-8b-instruct")], {})
    assert [(p.pool, p.version, p.source) for p in pools] == [("blue", "v1.1", "live")]
    assert retention_warnings(inv, pools, TODAY) == ()


def test_every_retention_warning() -> None:
    inv = inventory(
        v("v0.8", "archived", archived=dt.date(2025, 9, 1)),  # 121 days
        v("v0.9", "archived"),
        v("v1.0", "archived"),
        v("v1.1", "standby"),
        v("v1.2", "standby"),
        v("v2.0", "active", path="/mnt/models/llama-v2"),
    )
    pools = serving(inv, [backend("blue", "mystery-model")], {"green": "llama:v9"})
    assert retention_warnings(inv, pools, TODAY) == (
        "llama: 2 standby versions (v1.1, v1.2); keep 1",
        "llama: 3 archived versions (v0.8, v0.9, v1.0); keep 2",
        "llama v0.8: archived 121 days ago (since 2025-09-01); delete after 90",
        "llama v2.0: active but no pool serves it",
        "pool blue: serves mystery-model, which the inventory does not know",
        "pool green: serves llama:v9, which the inventory does not know",
    )


def test_the_config_names_a_pools_version() -> None:
    inv = inventory(v("v1.1", "active"), v("v2.0", "staging", path="/m/llama-v2"))
    pools = serving(inv, [backend("green", "llama-v2")], {"blue": "v1.1"})
    assert [(p.pool, p.model, p.version, p.source) for p in pools] == [
        ("blue", "llama", "v1.1", "config"),
        ("green", "llama", "v2.0", "live"),  # the path's last folder
    ]
