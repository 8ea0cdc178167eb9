"""The header's overall state: the worst of the SLO verdict, the sources and the alerts."""

from __future__ import annotations

from tui.analysis.overall import overall
from tui.model import (
    Alert,
    Backend,
    Health,
    OverallState,
    Pool,
    Severity,
    SourceState,
    SourceStatus,
)

UP = (Backend(name="blue-0", pool="blue", url="http://h:1", health=Health.UP),)
FLEET = Pool(name="fleet", backends=1, healthy=1)
OK_SOURCES = (SourceStatus("scrape", SourceState.OK, last_ok=99.0),)


def alert(severity: Severity, **extra: object) -> Alert:
    labels = {"alertname": "X", "backend": "blue-0"}
    return Alert("X", severity, "it broke", labels, 90.0, f"fp-{severity}", **extra)  # type: ignore[arg-type]


def verdict(**kwargs: object) -> tuple[OverallState, tuple[str, ...]]:
    args: dict[str, object] = {"backends": UP, "fleet": FLEET, "sources": OK_SOURCES, "now": 100.0}
    args.update(kwargs)
    return overall(**args)  # type: ignore[arg-type]


def test_healthy_is_ok_without_reasons() -> None:
    assert verdict() == (OverallState.OK, ())


def test_critical_alert_degrades_and_is_named() -> None:
    state, reasons = verdict(alerts=(alert(Severity.CRITICAL),))
    assert state is OverallState.DEGRADED
    assert reasons == ("X backend=blue-0: it broke",)


def test_warning_alert_warns() -> None:
    assert verdict(alerts=(alert(Severity.WARNING),))[0] is OverallState.WARNING


def test_info_pending_and_suppressed_alerts_do_not_raise() -> None:
    quiet = (
        alert(Severity.INFO),
        alert(Severity.CRITICAL, state="pending"),
        alert(Severity.CRITICAL, state="suppressed"),
    )
    assert verdict(alerts=quiet) == (OverallState.OK, ())


def test_acknowledged_alert_is_named_without_raising() -> None:
    acked = alert(Severity.CRITICAL, acknowledged_by="bob", acknowledged_until=200.0)
    state, reasons = verdict(alerts=(acked,))
    assert state is OverallState.OK
    assert reasons == ("X backend=blue-0: it broke (acknowledged by bob)",)
    expired = alert(Severity.CRITICAL, acknowledged_by="bob", acknowledged_until=50.0)
    assert verdict(alerts=(expired,))[0] is OverallState.DEGRADED


def test_last_known_alert_still_counts_and_says_so() -> None:
    old = alert(Severity.CRITICAL, last_known_at=40.0)
    state, reasons = verdict(alerts=(old,))
    assert state is OverallState.DEGRADED and reasons[0].endswith("(last known 60s ago)")


def test_failing_source_warns_and_names_itself() -> None:
    sources = (*OK_SOURCES, SourceStatus("alertmanager", SourceState.ERROR, "connection refused"))
    state, reasons = verdict(sources=sources)
    assert state is OverallState.WARNING
    assert reasons == ("alertmanager ERROR: connection refused",)
    stale = (*OK_SOURCES, SourceStatus("prometheus", SourceState.STALE, "", last_ok=88.0))
    assert verdict(sources=stale) == (OverallState.WARNING, ("prometheus STALE 12s",))


def test_unavailable_source_does_not_raise() -> None:
    sources = (*OK_SOURCES, SourceStatus("nvml", SourceState.UNAVAILABLE, "no driver"))
    assert verdict(sources=sources) == (OverallState.OK, ())


def test_no_source_answering_is_no_data_whatever_the_old_figures_say() -> None:
    sources = (
        SourceStatus("scrape", SourceState.STALE, last_ok=10.0),
        SourceStatus("alertmanager", SourceState.ERROR, "timeout after 5s"),
    )
    state, reasons = verdict(sources=sources)
    assert state is OverallState.NO_DATA
    assert reasons == (
        "no source answers",
        "scrape STALE 90s",
        "alertmanager ERROR: timeout after 5s",
    )


def test_pending_sources_are_not_no_data() -> None:
    pending = (SourceStatus("scrape", SourceState.PENDING),)
    assert verdict(backends=None, fleet=None, sources=pending)[0] is OverallState.UNKNOWN


def test_worst_wins_and_reasons_go_worst_first() -> None:
    down = (Backend(name="blue-0", pool="blue", url="u", health=Health.DOWN, reason="refused"),)
    sources = (*OK_SOURCES, SourceStatus("prometheus", SourceState.ERROR, "boom"))
    state, reasons = verdict(
        backends=down, sources=sources, alerts=(alert(Severity.WARNING), alert(Severity.CRITICAL))
    )
    assert state is OverallState.DOWN
    assert reasons[0] == "blue-0 down: refused"
    assert reasons[1].startswith("X") and "prometheus ERROR: boom" in reasons[2:]
