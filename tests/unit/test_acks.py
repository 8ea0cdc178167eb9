"""Acks: durations, hostile values made inert, ALERT resolution, silence matching, plans."""

from __future__ import annotations

import argparse
import io
from pathlib import Path
from types import MappingProxyType

import pytest

from tui.analysis.text import shown
from tui.commands.alerts import add_ack_arguments
from tui.commands.common import terminal_confirm, terminal_safe
from tui.config import AlertmanagerConfig, Config, SourcesConfig
from tui.model import Alert, Severity
from tui.ops.alerts.factories import ack_factories
from tui.ops.alerts.local_acks import LocalAck, LocalUnack
from tui.ops.alerts.silences import (
    AckAlert,
    AlertLookupError,
    AlertmanagerEndpoint,
    UnackAlert,
    format_duration,
    is_ack_of,
    matcher_lines,
    parse_duration,
    resolve_alert,
    silence_matches,
)
from tui.ops.executor import Plan

HOSTILE = {
    "alertname": "LLMHighLatency",
    "severity": "warning",
    "instance": "127.0.0.1:8001",
    "cmd": "$(touch /tmp/x)",
    "markup": "[bold red]x[/]",
    "esc": "\x1b[31m",
}


def alert(labels: dict[str, str], fp: str, acked: str | None = None) -> Alert:
    return Alert(
        name=labels["alertname"],
        severity=Severity.WARNING,
        summary="",
        labels=MappingProxyType(labels),
        starts_at=0.0,
        fingerprint=fp,
        acknowledged_by=acked,
    )


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("30m", 1800), ("1h", 3600), ("2h30m", 9000), ("1d", 86400), ("45", 45),
     ("1.5h", 5400), (" 1H ", 3600)],
)  # fmt: skip
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "h", "1x", "1h 30m", "-5m", "0s", "0", "m30", "1h30"])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="bad duration"):
        parse_duration(text)


def test_format_duration() -> None:
    assert [format_duration(s) for s in (3600, 9000, 90, 0, 86400 + 61)] == [
        "1h", "2h30m", "1m30s", "0s", "1d1m1s"
    ]  # fmt: skip


def test_shown_makes_hostile_values_inert() -> None:
    assert shown("$(touch /tmp/x)") == '"$(touch /tmp/x)"'
    assert shown("\x1b[31m") == '"\\x1b[31m"'
    assert shown('a"b\\c\x9b\u2028') == '"a\\"b\\\\c\\x9b\\u2028"'
    assert shown("[bold red]x[/]") == '"[bold red]x[/]"'
    lines = matcher_lines(HOSTILE)
    assert lines[0] == 'alertname="LLMHighLatency"' and 'esc="\\x1b[31m"' in lines
    assert all(ch.isprintable() for line in lines for ch in line)
    assert terminal_safe("a\x1bb\x07") == "a\u241bb\u2407"


def test_resolve_by_fingerprint_prefix_or_single_name() -> None:
    one = alert(HOSTILE, "aaaa1111bbbb2222")
    two = alert({**HOSTILE, "instance": "127.0.0.1:8002"}, "aaaa1111cccc3333", acked="bob")
    gpu = alert({"alertname": "GPUHighTemperature"}, "dddd4444eeee5555")
    alerts = [one, two, gpu]
    assert resolve_alert(alerts, "aaaa1111cccc3333") is two
    assert resolve_alert(alerts, "aaaa1111c") is two
    assert resolve_alert(alerts, "GPUHighTemperature") is gpu
    with pytest.raises(AlertLookupError) as ambiguous:
        resolve_alert(alerts, "LLMHighLatency")
    assert ambiguous.value.candidates == (one, two) and "names 2 alerts" in str(ambiguous.value)
    with pytest.raises(AlertLookupError) as prefix:
        resolve_alert(alerts, "aaaa1111")
    assert prefix.value.candidates == (one, two)
    assert resolve_alert(alerts, "LLMHighLatency", lambda a: not a.acknowledged_by) is one
    assert resolve_alert(alerts, "LLMHighLatency", lambda a: bool(a.acknowledged_by)) is two
    with pytest.raises(AlertLookupError, match="no alert") as missing:
        resolve_alert(alerts, "\x1b[2J")
    assert "\x1b" not in str(missing.value) and missing.value.candidates == ()


def test_silence_matching_follows_alertmanager() -> None:
    def m(name: str, value: str, regex: bool = False, equal: bool = True) -> dict[str, object]:
        return {"name": name, "value": value, "isRegex": regex, "isEqual": equal}

    labels = {"alertname": "X", "instance": "a:1"}
    assert silence_matches([m("alertname", "X")], labels)
    assert silence_matches([m("instance", "a:.*", regex=True)], labels)
    assert not silence_matches([m("instance", "a", regex=True)], labels)  # anchored
    assert silence_matches([m("instance", "b:1", equal=False)], labels)
    assert silence_matches([m("missing", "")], labels)  # absent reads as ""
    assert not silence_matches([], labels) and not silence_matches([m("x", "(", True)], labels)
    exact = {"matchers": [m("alertname", "X"), m("instance", "a:1")]}
    assert is_ack_of(exact, labels)
    assert not is_ack_of({"matchers": [m("alertname", "X")]}, labels)
    assert not is_ack_of({"matchers": [m("alertname", "X"), m("instance", "a:1", True)]}, labels)


def test_ack_silence_body_and_plan() -> None:
    endpoint = AlertmanagerEndpoint("http://127.0.0.1:9093")
    target = alert(HOSTILE, "689ab529552c576d")
    action = AckAlert(endpoint, target, "alice@host", None, 5400, clock=lambda: 1_800_000_000.0)
    body = action.silence(1_800_000_000.0)
    assert body["matchers"] == [
        {"name": k, "value": v, "isRegex": False, "isEqual": True}
        for k, v in sorted(HOSTILE.items())
    ]
    assert body["startsAt"] == "2027-01-15T08:00:00.000000Z"
    assert body["endsAt"] == "2027-01-15T09:30:00.000000Z"
    assert body["createdBy"] == "alice@host" and body["comment"] == "ack: alice@host"
    plan = action.plan()
    assert plan.title == 'Acknowledge "LLMHighLatency" for 1h30m' and not plan.dangerous
    for line in matcher_lines(HOSTILE):
        assert f"  {line}" in plan.lines
    assert "duration: 1h30m (until about 2027-01-15 09:30:00 UTC)" in plan.lines
    assert 'comment: "ack: alice@host"' in plan.lines
    assert all(ch.isprintable() for line in (plan.title, *plan.lines) for ch in line)
    assert action.kind == "alert.ack" and action.target == "LLMHighLatency 689ab529552c576d"
    assert action.params()["labels"] == HOSTILE
    unack = UnackAlert(endpoint, target)
    assert unack.kind == "alert.unack" and '  cmd="$(touch /tmp/x)"' in unack.plan().lines
    with pytest.raises(ValueError):
        AckAlert(endpoint, target, "a", None, 0)


async def test_terminal_confirm_asks_and_dangerous_needs_the_name() -> None:
    out = io.StringIO()
    safe = Plan("Start container x", ("image: base",))
    assert await terminal_confirm(io.StringIO("y\n"), out)(None, safe)  # type: ignore[arg-type]
    assert "Start container x\n  image: base\nGo ahead? [y/N] " in out.getvalue()
    assert not await terminal_confirm(io.StringIO("\n"), out)(None, safe)  # type: ignore[arg-type]
    assert not await terminal_confirm(io.StringIO(""), out)(None, safe)  # type: ignore[arg-type]
    risky = Plan("Stop container lab-1", (), dangerous=True, confirm_text="lab-1")
    confirm = terminal_confirm(io.StringIO("y\n"), out)
    assert not await confirm(None, risky)  # type: ignore[arg-type]
    assert await terminal_confirm(io.StringIO("lab-1\n"), out)(None, risky)  # type: ignore[arg-type]


def test_ack_arguments() -> None:
    parser = argparse.ArgumentParser()
    add_ack_arguments(parser)
    args = parser.parse_args(["LLMHighLatency", "--for", "2h30m", "--comment", "on it"])
    assert (args.alert, args.ack_for, args.comment) == ("LLMHighLatency", "2h30m", "on it")


def test_ack_factories_pick_alertmanager_or_local(tmp_path: Path) -> None:
    target = alert(HOSTILE, "689ab529552c576d")
    am = AlertmanagerConfig(url="http://127.0.0.1:9093", ack_duration_s=600)
    ack, unack = ack_factories(Config(sources=SourcesConfig(alertmanager=am)), "alice@h")
    made = ack(target, "", None)
    assert isinstance(made, AckAlert) and made.duration_s == 600
    assert made.comment == "ack: alice@h" and isinstance(unack(target), UnackAlert)
    local_ack, local_unack = ack_factories(Config(state_dir=str(tmp_path)), "bob@h")
    made_local = local_ack(target, "why", 60)
    assert isinstance(made_local, LocalAck) and made_local.store.path == tmp_path / "acks.json"
    assert made_local.comment == "why" and isinstance(local_unack(target), LocalUnack)
