"""Alert → runbook: the name of the runbook that answers an alert. Pure: no I/O, no UI.

An alert names its runbook in its ``runbook`` annotation; inferdeck's shipped rules
(``tui/data/rules/*.yml``) put one on every rule. inferdeck's own alerts
(`tui.analysis.alert_rules`) carry no annotations, and `tui.model.Alert` keeps none of
the ones Alertmanager or Prometheus send, so an alert without a usable annotation is
looked up by its alertname in `BY_ALERTNAME`: the shipped rules' annotations, whose
alertnames the local rules share.

The result is a runbook's name, not a runbook: whether the catalog holds it (shipped, or
an operator's runbook of that name) is the caller's `Catalog.get`. `inputs_for_alert`
fills a run's inputs from the alert's labels, so the operator starts at step 1.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from tui.model import Alert
from tui.ops.runbooks.context import BACKEND_KEY, context_used
from tui.ops.runbooks.model import Runbook

__all__ = ["ALERT_INPUTS", "BY_ALERTNAME", "inputs_for_alert", "runbook_for"]

BY_ALERTNAME: Mapping[str, str] = MappingProxyType(
    {
        "LLMServiceDown": "llm-down",
        "LLMHealthCheckFailing": "llm-down",
        "LLMHighLatency": "high-latency",
        "LLMHighErrorRate": "high-error-rate",
        "GPUMemoryPressure": "gpu-memory",
        "GPUHighTemperature": "gpu-temperature",
        "QueueBacklog": "queue-backlog",
        "LLMHighTimeToFirstToken": "ttft-high",
        "LLMHighInterTokenLatency": "inter-token-latency",
        "LLMKVCacheFull": "kv-cache-pressure",
        "LLMPreemptions": "kv-cache-pressure",
        "CapacityNearLimit": "capacity",
    }
)
"""alertname → runbook, as the shipped rules' ``runbook`` annotations say (a test holds
the two equal)."""

_RUNBOOK_NAME = re.compile(r"[a-z0-9][a-z0-9._-]*")
"""What a runbook's ``name`` may be (`tui.ops.runbooks.schema`); a URL is not one."""


def runbook_for(alert: Alert | Mapping[str, Any]) -> str | None:
    """The runbook named by ``alert``'s ``runbook`` annotation, else by its alertname
    (`BY_ALERTNAME`); None when neither names one.

    ``alert`` is an `Alert` (its ``annotations``, should it have them, are read) or an
    alert as Alertmanager's or Prometheus' API sends it (``labels``, ``annotations``).
    An annotation that is not a runbook name — the seed's ``https://runbooks/llm-down``
    — is passed over for the alertname.
    """
    if isinstance(alert, Mapping):
        labels = alert.get("labels")
        annotations = alert.get("annotations")
        name = labels.get("alertname") if isinstance(labels, Mapping) else None
    else:
        annotations = getattr(alert, "annotations", None)
        name = alert.name or alert.labels.get("alertname")
    named = annotations.get("runbook") if isinstance(annotations, Mapping) else None
    if isinstance(named, str) and _RUNBOOK_NAME.fullmatch(named.strip()):
        return named.strip()
    return BY_ALERTNAME.get(name) if isinstance(name, str) else None


ALERT_INPUTS = ("backend", "instance", "container", "pool")
"""The labels of an alert that fill a runbook input of the same name."""


def inputs_for_alert(runbook: Runbook, labels: Mapping[str, str]) -> dict[str, str]:
    """A run's inputs from an alert's labels.

    The ``backend`` label selects the backend a runbook using ``{backend.*}`` targets;
    ``container`` gives ``{backend.container}`` outright; an input the runbook declares
    under one of the `ALERT_INPUTS` names takes that label's value. Values are checked
    by the runner, as typed ones are: a bad one refuses the run before anything runs.
    """
    declared = {spec.name for spec in runbook.inputs}
    used = context_used(runbook)
    given = {key: labels[key] for key in ALERT_INPUTS if key in declared and labels.get(key)}
    backend = labels.get("backend")
    if backend and BACKEND_KEY not in declared and any(n.startswith("backend.") for n in used):
        given[BACKEND_KEY] = backend
    container = labels.get("container")
    if container and "backend.container" in used:
        given["backend.container"] = container
    return given
