"""Alert → runbook: the name of the runbook that answers an alert. Pure: no I/O, no UI.

An alert names its runbook in its ``runbook`` annotation; inferdeck's shipped rules
(``tui/data/rules/*.yml``) put one on every rule. inferdeck's own alerts
(`tui.analysis.alert_rules`) carry no annotations, and `tui.model.Alert` keeps none of
the ones Alertmanager or Prometheus send, so an alert without a usable annotation is
looked up by its alertname in `BY_ALERTNAME`: the shipped rules' annotations, whose
alertnames the local rules share.

The result is a runbook's name, not a runbook: whether the catalog holds it (shipped, or
an operator's runbook of that name) is the caller's `Catalog.get`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from tui.model import Alert

__all__ = ["BY_ALERTNAME", "runbook_for"]

BY_ALERTNAME: Mapping[str, str] = MappingProxyType(
    {
        "LLMServiceDown": "llm-down",
        "LLMHealthCheckFailing": "llm-down",
        "LLMHighLatency": "high-latency",
        "LLMHighErrorRate": "high-error-rate",
        "GPUMemoryPressure": "gpu-memory",
        "GPUHighTemperature": "gpu-temperature",
        "QueueBacklog": "queue-backlog",
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
