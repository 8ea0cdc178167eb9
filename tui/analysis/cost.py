"""Cost: the monthly cost table → cost per request and per 1,000 tokens, against the cloud.

The handbook's Cost Allocation Framework as pure functions: a monthly total from the
config's cost lines (hardware amortisation, power, cooling, …), divided by the month's
requests and tokens — from the config when given, else extrapolated from the live
counters over a 30-day month — and compared with a cloud price. The handbook's example:
$6,200 a month over 500,000 requests is $0.0124 a request, 59 % less than ~$0.03.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tui.analysis.budget import MONTH_S


@dataclass(frozen=True, slots=True)
class CostItem:
    """One line of the monthly cost table."""

    name: str
    monthly_usd: float
    allocation: str = ""  # fixed, metered, estimated, …


HANDBOOK_COSTS: tuple[CostItem, ...] = (
    CostItem("Hardware amortization", 5000.0, "fixed"),
    CostItem("Power", 400.0, "metered"),
    CostItem("Cooling", 100.0, "estimated"),
    CostItem("Network", 200.0, "fixed"),
    CostItem("Maintenance", 500.0, "fixed"),
)
"""The handbook's example table ($6,200 a month)."""


@dataclass(frozen=True, slots=True)
class CloudPrice:
    """What the same work costs in the cloud: per request and/or per 1,000 tokens."""

    name: str
    per_request_usd: float | None = None
    per_1k_tokens_usd: float | None = None


@dataclass(frozen=True, slots=True)
class Volume:
    """A month's count and where it comes from (``config`` or ``live``, with the rate)."""

    count: float | None
    source: str


@dataclass(frozen=True, slots=True)
class CostReport:
    """The monthly cost and what each request and each 1,000 tokens cost."""

    items: tuple[CostItem, ...]
    total_usd: float
    requests: Volume
    tokens: Volume
    per_request_usd: float | None
    per_1k_tokens_usd: float | None
    cloud: CloudPrice | None
    savings_per_request: float | None  # 0.59 = 59 % cheaper than the cloud
    savings_per_1k_tokens: float | None


def monthly_total(items: Iterable[CostItem]) -> float:
    """The sum of the monthly cost lines."""
    return sum(i.monthly_usd for i in items)


def per_unit(total_usd: float, count: float | None) -> float | None:
    """``total / count``; None without a positive count."""
    return total_usd / count if count else None


def savings(local_usd: float | None, cloud_usd: float | None) -> float | None:
    """How much cheaper local is than the cloud, as a share (negative: dearer)."""
    if local_usd is None or not cloud_usd:
        return None
    return 1.0 - local_usd / cloud_usd


def requests_volume(monthly: float | None, requests_per_min: float | None) -> Volume:
    """The month's requests: the configured figure, else the live rate over 30 days."""
    if monthly is not None:
        return Volume(monthly, "config")
    if requests_per_min is None:
        return Volume(None, "no figure: configure cost.monthly_requests or watch live traffic")
    return Volume(requests_per_min * MONTH_S / 60.0, f"live: {requests_per_min:.3g} requests/min")


def tokens_volume(monthly: float | None, tokens_per_s: float | None) -> Volume:
    """The month's tokens (prompt + generated): configured, else live rate over 30 days."""
    if monthly is not None:
        return Volume(monthly, "config")
    if tokens_per_s is None:
        return Volume(None, "no figure: configure cost.monthly_tokens or watch live traffic")
    return Volume(tokens_per_s * MONTH_S, f"live: {tokens_per_s:.3g} tokens/s")


def cost_report(
    items: Sequence[CostItem],
    requests: Volume,
    tokens: Volume,
    cloud: CloudPrice | None = None,
) -> CostReport:
    """Cost per request and per 1,000 tokens, and the savings against ``cloud``."""
    total = monthly_total(items)
    per_request = per_unit(total, requests.count)
    per_1k = per_unit(total, tokens.count / 1000.0 if tokens.count else None)
    return CostReport(
        items=tuple(items),
        total_usd=total,
        requests=requests,
        tokens=tokens,
        per_request_usd=per_request,
        per_1k_tokens_usd=per_1k,
        cloud=cloud,
        savings_per_request=savings(per_request, cloud.per_request_usd if cloud else None),
        savings_per_1k_tokens=savings(per_1k, cloud.per_1k_tokens_usd if cloud else None),
    )
