"""Alertmanager's identity of an alert: a fingerprint of its label set."""

from __future__ import annotations

from collections.abc import Mapping

_FNV_OFFSET = 14695981039346656037
_FNV_PRIME = 1099511628211
_MASK = (1 << 64) - 1


def fingerprint(labels: Mapping[str, str]) -> str:
    """Alertmanager's fingerprint of a label set (FNV-1a 64 over sorted names and values).

    The same alert seen through Prometheus's ``ALERTS`` and through Alertmanager thus
    gets the same identity (16 lowercase hex digits).
    """
    h = _FNV_OFFSET
    for name in sorted(labels):
        for part in (name, labels[name]):
            for byte in part.encode("utf-8"):
                h = ((h ^ byte) * _FNV_PRIME) & _MASK
            h = ((h ^ 0xFF) * _FNV_PRIME) & _MASK
    return f"{h:016x}"
