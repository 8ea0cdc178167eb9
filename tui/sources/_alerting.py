"""Shared pieces of the alert sources: severity mapping, timestamps, fingerprints.

Label values are kept exactly as received (they may hold shell metacharacters, Rich
markup or terminal escapes): nothing here interprets, strips or escapes them. Rendering
them safely is the widgets' job.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime

from tui.analysis.fingerprint import fingerprint
from tui.model import Severity

__all__ = ["fingerprint", "finite_or_none", "parse_rfc3339", "severity_of"]

_SEVERITIES: Mapping[str, Severity] = {
    "critical": Severity.CRITICAL,
    "crit": Severity.CRITICAL,
    "page": Severity.CRITICAL,
    "fatal": Severity.CRITICAL,
    "emergency": Severity.CRITICAL,
    "warning": Severity.WARNING,
    "warn": Severity.WARNING,
    "info": Severity.INFO,
    "informational": Severity.INFO,
    "notice": Severity.INFO,
    "none": Severity.INFO,
}

#: Go's RFC 3339 with up to nanosecond fractions: 2026-11-26T21:43:15.123456789Z.
_RFC3339 = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})"
)


def severity_of(label: str | None) -> Severity:
    """The `Severity` a ``severity`` label means; unknown or missing → warning."""
    if not label:
        return Severity.WARNING
    return _SEVERITIES.get(label.strip().lower(), Severity.WARNING)


def parse_rfc3339(text: str | None) -> float | None:
    """Epoch seconds of an RFC 3339 timestamp as Go writes it; None if unreadable.

    Go's zero time (``0001-01-01T00:00:00Z``, Alertmanager's "unset") gives None too.
    """
    if not isinstance(text, str):
        return None
    match = _RFC3339.fullmatch(text.strip())
    if match is None:
        return None
    day, clock, fraction, zone = match.groups()
    zone = "+00:00" if zone in ("Z", "z") else zone
    try:
        moment = datetime.fromisoformat(f"{day}T{clock}{zone}")
    except ValueError:
        return None
    if moment.year <= 1:
        return None
    seconds = moment.astimezone(UTC).timestamp()
    if fraction:
        seconds += int(fraction[:9].ljust(9, "0")) / 1e9
    return seconds


def finite_or_none(value: float | None) -> float | None:
    """``value`` unless it is None, NaN or infinite."""
    if value is None or math.isnan(value) or math.isinf(value):
        return None
    return value
