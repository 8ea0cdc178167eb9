"""Host thresholds, GPU bands, the scaling decision matrix, growth and headroom (handbook)."""

from __future__ import annotations

import math

import pytest

from tui.analysis.budget import MONTH_S
from tui.analysis.capacity import (
    SCALING_MATRIX,
    HostMetrics,
    decide,
    fit_monthly_growth,
    gpu_band,
    headroom,
    host_checks,
    in_flight,
    months_until,
    project,
    scaling_decision,
)
from tui.model import Backend, FleetSnapshot, Gpu, Health, Pool, Quantiles


def test_the_handbooks_growth_example_is_3_3_months() -> None:
    # Current 60 %, growth 10 % monthly, threshold 80 %: (80 - 60) / (60 * 0.1) = 3.3.
    assert months_until(60, 0.10, 80) == pytest.approx(3.33, abs=0.005)
    months = project(60, 0.10, "config").months
    assert months is not None and round(months, 1) == 3.3


def test_growth_edges() -> None:
    assert months_until(85, 0.1, 80) == 0.0
    assert months_until(60, 0.0, 80) is None
    assert months_until(0, 0.1, 80) is None
    assert project(None, 0.1, "config").months is None


def test_growth_fitted_to_a_straight_line() -> None:
    # 54 % a month ago rising steadily to 60 % now: 6 points a month on 60 → 10 %.
    points = [(t * 86400.0, 54 + 6 * t * 86400 / MONTH_S) for t in range(31)]
    assert fit_monthly_growth(points) == pytest.approx(0.10)
    assert fit_monthly_growth(points[:1]) is None
    assert fit_monthly_growth([(0.0, 1.0), (60.0, 2.0)]) is None  # under an hour


@pytest.mark.parametrize(
    ("used", "state"), [(85.0, "short"), (75.0, "in band"), (70.0, "in band"), (40.0, "ample")]
)
def test_headroom_against_20_to_30_percent(used: float, state: str) -> None:
    assert headroom(used).state == state
    assert headroom(used).free_pct == pytest.approx(100 - used)


def test_the_matrix_is_the_handbooks_table() -> None:
    assert [
        (r.action, r.utilisation_upto_pct, r.queue_upto, r.latency) for r in SCALING_MATRIX
    ] == [
        ("Monitor", 50, 5, "< SLO"),
        ("Plan expansion", 70, 10, "< SLO"),
        ("Execute expansion", 80, 15, "near SLO"),
        ("Emergency expansion", math.inf, math.inf, "> SLO"),
    ]


# The handbook's rows, each read on its own figures (latency level: ok/warn/breach).
@pytest.mark.parametrize(
    ("util", "queue", "latency", "action"),
    [
        (30, 2, "ok", "Monitor"),  # <50 %, <5, <SLO
        (49.9, 4.9, "ok", "Monitor"),
        (50, 2, "ok", "Plan expansion"),  # 50-70 %
        (65, 9, "ok", "Plan expansion"),  # queue <10
        (30, 5, "ok", "Plan expansion"),  # a queue of 5 is past Monitor's "<5"
        (70, 2, "ok", "Execute expansion"),  # 70-80 %
        (80, 2, "ok", "Execute expansion"),  # 80 % is still "70-80"
        (30, 15, "ok", "Execute expansion"),  # "<15" … 15 is not yet "> 15"
        (30, 2, "warn", "Execute expansion"),  # near SLO
        (80.1, 2, "ok", "Emergency expansion"),  # >80 %
        (30, 16, "ok", "Emergency expansion"),  # >15
        (30, 2, "breach", "Emergency expansion"),  # >SLO
    ],
)
def test_scaling_decision_rows(util: float, queue: float, latency: str, action: str) -> None:
    assert scaling_decision(util, queue, 0.5, latency).action == action


def test_the_decision_names_the_figures_that_decided_it() -> None:
    decision = scaling_decision(75, 12, 0.9, "warn")
    assert decision.action == "Execute expansion"
    assert decision.decided_by == ("utilisation", "queue depth", "latency")
    decision = scaling_decision(40, 20, None, None)
    assert (decision.action, decision.decided_by, decision.level) == (
        "Emergency expansion",
        ("queue depth",),
        3,
    )
    assert scaling_decision(None, None, None, None).action == "Unknown"


def test_decide_reads_a_snapshot() -> None:
    snapshot = FleetSnapshot(
        taken_at=0.0,
        environment="t",
        slo_tier="standard",
        gpus=(Gpu(host="h", index=0, util_pct=60.0), Gpu(host="h", index=1, util_pct=70.0)),
        backends=(Backend(name="a", pool="blue", url="http://a", health=Health.UP, waiting=3),),
        fleet=Pool(
            name="fleet", backends=1, healthy=1, ttft=Quantiles(p95=0.5), e2e=Quantiles(p95=6.0)
        ),
    )
    decision = decide(snapshot)
    assert decision.action == "Plan expansion"  # 65 % mean GPU utilisation
    assert decision.figures[0].note == "mean GPU utilisation of 2 GPUs"
    assert decision.figures[2].note == "total p95"  # 6/15 = 40 % beats 0.5/2 = 25 %


def test_host_thresholds() -> None:
    host = HostMetrics("h", "psutil", cpu_pct=95, mem_pct=80, disk_io_pct=10,
                       disk_used_pct={"/": 92.0, "/data": 40.0})  # fmt: skip
    assert [(c.name, c.state) for c in host_checks(host)] == [
        ("CPU", "breach"),
        ("RAM", "warn"),
        ("disk I/O", "ok"),
        ("disk /", "breach"),
        ("disk /data", "ok"),
    ]
    assert host_checks(HostMetrics("h", "psutil"))[0].state == "unknown"


@pytest.mark.parametrize(
    ("util", "band"),
    [(5, "idle"), (19.9, "idle"), (20, "below target"), (60, "in target"), (80, "in target"),
     (90, "above target"), (96, "saturated"), (None, "unknown")],
)  # fmt: skip
def test_gpu_bands(util: float | None, band: str) -> None:
    assert gpu_band(util) == band


def test_in_flight_above_80_percent_of_max_num_seqs() -> None:
    backends = [
        Backend(name="a", pool="p", url="http://a", running=52),
        Backend(name="b", pool="p", url="http://b", running=51),
        Backend(name="c", pool="p", url="http://c", running=10),
    ]
    found = in_flight(backends, {"a": 64, "b": 64})
    assert [(f.backend, f.over) for f in found] == [("a", True), ("b", False), ("c", False)]
    assert found[2].ratio is None
