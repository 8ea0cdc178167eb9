"""`inferdeck audit [--tail N] [--json]`: the last actions, who did them and how they ended."""

from __future__ import annotations

import argparse
import json
import time

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
        outcome = record.get("outcome") or record.get("reason") or ""
        duration = f" {record['duration_s']:.2f}s" if "duration_s" in record else ""
        who = f"{record.get('event', '?'):<9} {record.get('actor', '?')}"
        what = f"{record.get('action', '?')} {record.get('target', '')}"
        line = f"{when} {who} {what} {outcome}{duration}"
        print(json.dumps(line)[1:-1])  # escapes in logged values stay escaped
    return 0
