"""Alert → runbook: every shipped rule names a shipped runbook that loads and lists the
alert, every shipped runbook dry-runs with targets from a config, and `runbook_for` finds
the runbook of an Alertmanager alert and of inferdeck's own (issue 10)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
import yaml

from tui.analysis.alert_rules import RULES as LOCAL_RULES
from tui.analysis.alert_rules import immediate, local_alerts
from tui.config import load_config
from tui.hub import BACKEND_LABEL
from tui.model import (
    Alert,
    Backend,
    Container,
    Gpu,
    Health,
    Pool,
    Quantiles,
    Severity,
    Traffic,
)
from tui.ops.audit import AuditLog
from tui.ops.executor import Executor
from tui.ops.runbooks.catalog import SHIPPED_DIR, load_catalog
from tui.ops.runbooks.context import CONTEXT, RunContext, context_used
from tui.ops.runbooks.links import BY_ALERTNAME, runbook_for
from tui.ops.runbooks.runner import Runbooks
from tui.sources.alertmanager import alerts_from_api

RULE_FILES = sorted((SHIPPED_DIR.parent / "rules").glob("*.yml"))


def _rules() -> list[dict[str, Any]]:
    found = []
    for path in RULE_FILES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            found += group["rules"]
    return found


ALERTS = sorted({r["alert"] for r in _rules()})


def test_the_rule_files_are_found() -> None:
    assert RULE_FILES and len(ALERTS) == 12


@pytest.mark.parametrize("alert", ALERTS)
def test_every_rule_names_a_shipped_runbook_that_loads_and_answers_it(alert: str) -> None:
    catalog = load_catalog()
    assert not catalog.errors
    (rule,) = [r for r in _rules() if r["alert"] == alert]
    name = rule["annotations"]["runbook"]
    entry = catalog.entries.get(name)
    assert entry is not None, f"{alert}: runbook {name!r} is not shipped"
    assert entry.origin == "shipped"
    assert alert in entry.runbook.alerts  # so Catalog.for_alert offers it too
    assert entry.runbook in catalog.for_alert(alert)


def test_by_alertname_is_what_the_shipped_rules_say() -> None:
    assert dict(BY_ALERTNAME) == {r["alert"]: r["annotations"]["runbook"] for r in _rules()}


CONFIG = """\
backends:
  - {name: blue-0, pool: blue, url: "http://10.1.2.3:8100/", model: llama-3-8b}
  - {name: green-0, pool: green, url: "http://10.1.2.4:8200"}
sources:
  prometheus: {url: "http://prom.internal:9090/"}
traffic: {router: sim, sim_control: "http://127.0.0.1:1", stable_pool: blue, canary_pool: green}
"""


@pytest.mark.parametrize("name", load_catalog().names())
def test_every_shipped_runbook_dry_runs_with_targets_from_the_config(
    name: str, tmp_path: Path
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(textwrap.dedent(CONFIG))
    labelled = Container("llm-stack-blue-0-1", "a" * 64, labels={BACKEND_LABEL: "blue-0"})
    context = RunContext(load_config(path), lambda: [labelled])
    runbooks = Runbooks(
        Executor(AuditLog(tmp_path / "audit.jsonl"), actor="tester@host"),
        load_catalog(),
        context=context,
    )
    book = runbooks.get(name)
    assert book is not None
    previews = runbooks.dry_run(name, {"backend": "blue-0"})
    assert len(previews) == len(book.steps)
    text = "\n".join(line for p in previews for line in p.lines)
    for placeholder in CONTEXT:
        assert f"{{{placeholder}}}" not in text
    used = context_used(book)
    if "backend.url" in used:
        assert "http://10.1.2.3:8100" in text and "10.1.2.4" not in text
    if "backend.container" in used:
        assert "llm-stack-blue-0-1" in text
    if "prometheus.url" in used:
        assert "http://prom.internal:9090" in text
    assert not (tmp_path / "audit.jsonl").exists()  # a dry run runs (and audits) nothing


# --- runbook_for --------------------------------------------------------------------------


def alert(name: str, **labels: str) -> Alert:
    return Alert(
        name=name,
        severity=Severity.WARNING,
        summary="",
        labels=MappingProxyType({"alertname": name, **labels}),
        starts_at=0.0,
        fingerprint="f",
    )


def test_runbook_for_an_alertmanager_alert_reads_its_annotation() -> None:
    sent = {
        "labels": {"alertname": "QueueBacklog", "severity": "warning"},
        "annotations": {"summary": "Request queue building up", "runbook": "my-queue"},
    }
    assert runbook_for(sent) == "my-queue"  # the annotation wins over the alertname
    assert runbook_for({**sent, "annotations": {"summary": "x"}}) == "queue-backlog"
    seed_url = {"runbook": "https://runbooks/llm-down"}  # a URL is not a runbook name
    assert runbook_for({"labels": {"alertname": "LLMServiceDown"}, "annotations": seed_url}) == (
        "llm-down"
    )
    assert runbook_for({"labels": {"alertname": "SomethingElse"}}) is None
    assert runbook_for({}) is None


def test_runbook_for_an_alert_from_alertmanager_as_the_source_reads_it() -> None:
    (parsed,) = alerts_from_api(
        [
            {
                "labels": {"alertname": "GPUHighTemperature", "severity": "warning"},
                "annotations": {"summary": "GPU temperature high", "runbook": "gpu-temperature"},
                "fingerprint": "abc",
                "startsAt": "2026-01-01T00:00:00Z",
                "status": {"state": "active", "silencedBy": []},
            }
        ],
        [],
    )
    assert runbook_for(parsed) == "gpu-temperature"


def test_runbook_for_an_alert_with_annotations_prefers_them() -> None:
    class Annotated:  # an Alert that kept its annotations
        name = "LLMHighErrorRate"
        labels = MappingProxyType({"alertname": "LLMHighErrorRate"})
        annotations = MappingProxyType({"runbook": "errors-v2"})

    assert runbook_for(Annotated()) == "errors-v2"  # type: ignore[arg-type]
    assert runbook_for(alert("LLMHighErrorRate")) == "high-error-rate"
    assert runbook_for(alert("NotOurs")) is None


def test_every_local_alert_has_a_shipped_runbook_that_answers_it() -> None:
    catalog = load_catalog()
    for rule in LOCAL_RULES:
        name = runbook_for(alert(rule.name))
        assert name is not None, rule.name
        book = catalog.get(name)
        assert book is not None and rule.name in book.alerts, rule.name


def test_runbook_for_the_alerts_inferdeck_raises_itself() -> None:
    raised = local_alerts(
        backends=[
            Backend("blue-0", "blue", "http://10.0.0.1:8000", health=Health.DOWN, reason="x"),
            Backend("blue-1", "blue", "http://10.0.0.2:8000", health=Health.UP, waiting=25),
        ],
        fleet=Pool("fleet", 2, 1, e2e=Quantiles(p95=30.0), traffic=Traffic(error_rate=0.2)),
        gpus=[Gpu("node-1", 0, mem_used_mib=79_000, mem_total_mib=80_000, temp_c=90)],
        now=1_800_000_000.0,
        rules=immediate(),
    )
    assert {a.name: runbook_for(a) for a in raised} == {
        "LLMServiceDown": "llm-down",
        "QueueBacklog": "queue-backlog",
        "LLMHighLatency": "high-latency",
        "LLMHighErrorRate": "high-error-rate",
        "GPUMemoryPressure": "gpu-memory",
        "GPUHighTemperature": "gpu-temperature",
    }
