"""`inferdeck audit [--tail N] [--json]`: the last actions, who did them and how they ended.

Each line starts with the first 8 characters of the execution's ``id``, which an intent
shares with its result, and ends with the outcome and its message (a failure's reason,
a refusal's, a preemption's).
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from tui.config import find_config, load_config
from tui.ops.audit import audit_log_for


def add_audit_arguments(parser: argparse.ArgumentParser) -> None:
    """`--tail N`."""
    parser.add_argument("--tail", type=int, default=20, metavar="N", help="last N records")


def run_audit(args: argparse.Namespace) -> int:
    """Print the last records, one line each (or JSON lines with --json)."""
    path = find_config(getattr(args, "config", None))
    config = load_config(path) if path is not None else None
    records = audit_log_for(config).tail(max(args.tail, 0))
    for record in records:
        if getattr(args, "json", False):
            print(json.dumps(record, sort_keys=True))
            continue
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(record.get("time", 0))))
        line = f"{when} {_describe(record)}"
        print(json.dumps(line)[1:-1])  # escapes in logged values stay escaped
    return 0


def _describe(record: dict[str, Any]) -> str:
    """``1a2b3c4d result    bob@h traffic.rollout green preempted 12.30s: MESSAGE``."""
    short = str(record.get("id") or "-")[:8]
    who = f"{record.get('event', '?'):<9} {record.get('actor', '?')}"
    what = f"{record.get('action', '?')} {record.get('target', '')}".rstrip()
    outcome = str(record.get("outcome") or "")
    duration = f" {record['duration_s']:.2f}s" if "duration_s" in record else ""
    message = record.get("message") or record.get("reason") or ""
    said = f": {' '.join(str(message).split())}" if message else ""
    return f"{short:<8} {who} {what} {outcome}{duration}{said}".replace("  :", ":")
