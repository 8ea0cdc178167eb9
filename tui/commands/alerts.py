"""``inferdeck ack ALERT [--for 1h] [--comment TEXT]`` and ``inferdeck unack ALERT``.

ALERT is a fingerprint (or a unique prefix of 6+ hex digits) or an alertname that names
exactly one alert; otherwise the candidates are listed and the exit code is 2. With
``sources.alertmanager`` configured, acks are Alertmanager silences (`tui.ops.alerts.silences`);
without it (the demo, a stack without Alertmanager) they are local (`tui.ops.alerts.local_acks`)
and ALERT is looked up among the alerts the running dashboard last published.

Exit codes: 0 done, 1 failed/refused/cancelled, 2 usage, config or ambiguous ALERT.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
import time
from collections.abc import Callable, Sequence

from tui.commands.common import (
    EXIT_FAILED,
    EXIT_USAGE,
    error,
    execute,
    executor_for,
    guarded,
    load,
    load_dashboard_config,
    say,
    terminal_safe,
)
from tui.commands.snapshot import to_jsonable
from tui.config import Config, ConfigError, SourcesConfig
from tui.model import Alert
from tui.ops.alerts.local_acks import (
    ACKS_FILE,
    AckStore,
    LocalAck,
    LocalUnack,
    read_published,
    state_dir_of,
)
from tui.ops.alerts.silences import (
    AckAlert,
    AlertLookupError,
    AlertmanagerEndpoint,
    UnackAlert,
    matcher_lines,
    parse_duration,
    resolve_alert,
)
from tui.ops.executor import Action, Executor
from tui.sources.alertmanager import AlertmanagerError
from tui.wiring import alertmanager_source, poll_once, sources_for

__all__ = ["add_ack_arguments", "add_unack_arguments", "run_ack", "run_alerts", "run_unack"]

STALE_PUBLISH_S = 120.0
"""Published local alerts older than this get a warning: is the dashboard running?"""


def add_ack_arguments(parser: argparse.ArgumentParser) -> None:
    """``ALERT``, ``--for DURATION``, ``--comment TEXT`` (common flags are added by the CLI)."""
    parser.add_argument("alert", metavar="ALERT", help="fingerprint, or an alertname naming one")
    parser.add_argument(
        "--for",
        dest="ack_for",
        metavar="DURATION",
        default=None,
        help="how long: 90s, 30m, 1h, 2h30m (default: the config's ack_duration_s, else 1h)",
    )
    parser.add_argument("--comment", default=None, help="why (default: 'ack: USER@HOST')")


def add_unack_arguments(parser: argparse.ArgumentParser) -> None:
    """``ALERT`` (common flags are added by the CLI)."""
    parser.add_argument("alert", metavar="ALERT", help="fingerprint, or an alertname naming one")


class _LookupFailed(Exception):
    """The alerts could not be read; exit 1."""


def _alertmanager_alerts(config: Config) -> list[Alert]:
    source = alertmanager_source(config)
    assert source is not None

    async def once() -> list[Alert]:
        try:
            return list((await source.collect()).alerts or ())
        finally:
            await source.aclose()

    try:
        return asyncio.run(once())
    except AlertmanagerError as exc:
        raise _LookupFailed(str(exc)) from None


def _local_alerts(config: Config | None) -> list[Alert]:
    folder = state_dir_of(config)
    published = read_published(folder)
    if published is None:
        raise ConfigError(
            f"no Alertmanager configured and no local alerts published in {folder}: "
            "is `inferdeck demo` or the dashboard running?"
        )
    taken_at, alerts = published
    age = time.time() - taken_at
    if age > STALE_PUBLISH_S:
        print(
            f"inferdeck: note: local alerts were published {age:.0f}s ago "
            "(is the dashboard still running?)",
            file=sys.stderr,
        )
    return list(alerts)


def _pick(alerts: Sequence[Alert], query: str, prefer: Callable[[Alert], bool]) -> Alert | int:
    """The alert, or the exit code after listing the candidates."""
    try:
        return resolve_alert(alerts, query, prefer)
    except AlertLookupError as exc:
        error(str(exc))
        for a in exc.candidates:
            labels = " ".join(matcher_lines(a.labels))
            ack = f"  (ack {a.acknowledged_by})" if a.acknowledged_by else ""
            print(
                terminal_safe(f"  {a.name}  {a.fingerprint}  {a.state}  {labels}{ack}"),
                file=sys.stderr,
            )
        return EXIT_USAGE


Remote = Callable[[AlertmanagerEndpoint, Alert, Executor, float | None], Action]
"""Builds the Alertmanager action: endpoint, alert, executor, the config's ack duration."""
Local = Callable[[AckStore, Alert, Executor], Action]


def _run(
    args: argparse.Namespace, prefer: Callable[[Alert], bool], remote: Remote, local: Local
) -> int:
    config = load(args, required=False)
    am = config.sources.alertmanager if config is not None else None
    try:
        alerts = _alertmanager_alerts(config) if am and config else _local_alerts(config)
    except _LookupFailed as exc:
        error(str(exc))
        return EXIT_FAILED
    found = _pick(alerts, args.alert, prefer)
    if isinstance(found, int):
        return found
    executor = executor_for(config, args)
    if am is not None:
        endpoint = AlertmanagerEndpoint.from_config(am)
        action = remote(endpoint, found, executor, am.ack_duration_s)
    else:
        action = local(AckStore(state_dir_of(config) / ACKS_FILE), found, executor)
    return execute(executor, action, args)


@guarded
def run_ack(args: argparse.Namespace) -> int:
    """``inferdeck ack ALERT``: acknowledge (an Alertmanager silence, or locally)."""
    text = getattr(args, "ack_for", None)
    duration = parse_duration(text) if text else None
    comment = getattr(args, "comment", None)

    def remote(
        endpoint: AlertmanagerEndpoint, alert: Alert, ex: Executor, default: float | None
    ) -> Action:
        return AckAlert(endpoint, alert, ex.actor, comment, duration or default or 3600.0)

    def local(store: AckStore, alert: Alert, ex: Executor) -> Action:
        return LocalAck(store, alert, ex.actor, comment, duration or 3600.0)

    return _run(args, lambda a: not a.acknowledged_by, remote, local)


@guarded
def run_unack(args: argparse.Namespace) -> int:
    """``inferdeck unack ALERT``: expire the acknowledgement."""
    return _run(
        args,
        lambda a: bool(a.acknowledged_by),
        lambda endpoint, alert, ex, default: UnackAlert(endpoint, alert),
        lambda store, alert, ex: LocalUnack(store, alert),
    )


SOURCE_NAMES = {"alertmanager": "Alertmanager", "prometheus": "Prometheus"}
"""The alert sources `inferdeck alerts` asks, in this order, as people write them."""


def _poll_alerts(config: Config, name: str) -> tuple[list[Alert], str | None]:
    """One poll of one alert source: its alerts, or (empty, why it did not answer)."""
    only = SourcesConfig(**{name: getattr(config.sources, name)})
    snapshot = poll_once(
        sources_for(dataclasses.replace(config, backends=(), sources=only)), config
    )
    status = next((s for s in snapshot.sources if s.name == name), None)
    if status is None or status.state.value in ("error", "unavailable"):
        why = " ".join((status.message if status is not None else "").split())
        return [], why or "no answer"
    return list(snapshot.alerts), None


def run_alerts(args: argparse.Namespace) -> int:
    """`inferdeck alerts [--json]`: the firing alerts, most severe first, from one poll.

    Alertmanager speaks when it answers (it alone knows the silences); when it does not,
    the list comes from Prometheus's ``ALERTS`` if one is configured, and stderr (or the
    JSON's ``sources``) says so. Exit 1 when no source answered, else 0.
    """
    config = load_dashboard_config(args)
    configured = [n for n in SOURCE_NAMES if getattr(config.sources, n) is not None]
    if not configured:
        raise ConfigError(f"{config.path}:1: no alert source: configure sources.alertmanager")
    states: dict[str, str] = {}
    found: list[Alert] | None = None
    for name in configured:
        polled, problem = _poll_alerts(config, name)
        states[name] = "ok" if problem is None else f"error: {problem}"
        if problem is None:
            found = polled
            if name != configured[0]:
                note = f"showing {SOURCE_NAMES[name]}'s ALERTS instead (no acknowledgements)"
                print(f"inferdeck: note: {note}", file=sys.stderr)
            break
        alone = name == "alertmanager" and len(configured) == 1
        error(f"{SOURCE_NAMES[name]} did not answer ({problem})"
              + ("; no Prometheus configured to fall back on" if alone else ""))  # fmt: skip
    alerts = sorted(
        found or (), key=lambda a: (SEVERITY_RANK.get(a.severity.value, 3), -a.starts_at)
    )
    if getattr(args, "json", False):
        answer = {"alerts": [to_jsonable(a) for a in alerts], "sources": states}
        print(json.dumps(answer, indent=2, sort_keys=True))
    else:
        for a in alerts:
            ack = f" (ack {a.acknowledged_by})" if a.acknowledged_by else ""
            labels = " ".join(f"{k}={v!r}" for k, v in sorted(a.labels.items()) if k != "alertname")
            say(f"{a.severity.value:<8} {terminal_safe(a.name)} {labels}{terminal_safe(ack)}")
        if found is not None and not alerts:
            print("no alerts firing")
    return EXIT_FAILED if found is None else 0


SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}
"""Sort order of severities: the worst first."""
