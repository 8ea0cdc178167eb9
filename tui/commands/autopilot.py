"""``inferdeck autopilot [rules | watch [--for D]]``: the remediation rules and what they do.

``rules`` (the default) lists the rules in force (the shipped ones with the config's
overrides), the mode and where notifications go. ``watch`` polls the fleet with the
dashboard's own sources and prints each proposal as it comes; with ``autopilot: on``
(never with ``--read-only``) it applies them through the executor, audited with the
rule, inside the cooldowns and caps, until Ctrl-C or ``--for`` has passed.
Exit codes: 0, 1 an action failed, 2 usage or configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time

from tui.commands.common import EXIT_FAILED, EXIT_OK, executor_for, guarded, load, say

__all__ = ["add_autopilot_arguments", "run_autopilot"]


def add_autopilot_arguments(parser: argparse.ArgumentParser) -> None:
    """``[rules | watch] [--for D]``."""
    parser.add_argument("verb", nargs="?", default="rules", choices=("rules", "watch"),
                        help="list the rules (default), or watch and propose/act")  # fmt: skip
    parser.add_argument("--for", dest="for_", metavar="D",
                        help="watch: stop after D (90s, 10m); default until Ctrl-C")  # fmt: skip


def _rules(settings: object, args: argparse.Namespace) -> int:
    from tui.ops.autopilot.config import AutopilotConfig

    assert isinstance(settings, AutopilotConfig)
    if getattr(args, "json", False):
        print(json.dumps({
            "mode": settings.mode, "max_actions_per_hour": settings.max_actions_per_hour,
            "rules": [{"name": r.name, "metric": r.metric, "over": r.over, "for_s": r.for_s,
                       "within_s": r.within_s, "action": r.action, "cooldown_s": r.cooldown_s,
                       "max_per_hour": r.max_per_hour, "max_replicas": r.max_replicas,
                       "source": r.source} for r in settings.rules],
            "notify": [w.url.split("?")[0] for w in settings.notify],
        }, indent=2))  # fmt: skip
        return EXIT_OK
    say(f"autopilot {settings.mode}; at most {settings.max_actions_per_hour} actions an hour")
    for r in settings.rules:
        held = f" for {r.for_s:g}s" if r.for_s else ""
        counted = r.metric in ("oom_restarts", "container_restarts")
        within = f" within {r.within_s:g}s" if counted else ""
        say(f"  {r.name:<22} {r.metric} > {r.over:g}{held}{within} -> {r.action}"
            f"  (cooldown {r.cooldown_s:g}s, {r.max_per_hour}/h)")  # fmt: skip
    hooks = ", ".join(w.url.split("?")[0] for w in settings.notify) or "none"
    say(f"notify: {hooks}")
    return EXIT_OK


@guarded
def run_autopilot(args: argparse.Namespace) -> int:
    """List the rules, or watch the fleet and propose (or act)."""
    from tui.ops.alerts.silences import parse_duration
    from tui.ops.autopilot.config import autopilot_config

    config = load(args, required=args.verb == "watch")
    settings = autopilot_config(config)
    if args.verb == "rules":
        return _rules(settings, args)
    assert config is not None
    until = time.monotonic() + parse_duration(args.for_) if args.for_ else None
    from tui.hub import Hub
    from tui.ops.autopilot.pilot import (
        Pilot,
        actions_from_config,
        oom_watch_from_config,
        scaler_from_config,
    )
    from tui.wiring import sources_for

    executor = executor_for(config, args)
    try:
        scaler = scaler_from_config(config, settings)
    except ValueError:
        scaler = None
    pilot = Pilot(settings, executor, actions_from_config(config, settings, scaler),
                  servers_in=scaler.count if scaler else None,
                  ooms=oom_watch_from_config(config, settings))  # fmt: skip
    hub = Hub(sources_for(config), environment=config.environment, slo_tier=config.slo_tier)
    say(pilot.status())
    failed = False

    async def watch() -> None:
        nonlocal failed
        shown: set[str] = set()
        blind: set[str] = set()
        try:
            while until is None or time.monotonic() < until:
                pilot.observe(await hub.poll_once())
                for proposal in pilot.proposals:
                    if proposal.line() not in shown:
                        say(f"proposed: {proposal.line()}: {proposal.reason}")
                shown = {p.line() for p in pilot.proposals}
                for unknown in pilot.decision.unknown:  # said once, until it changes
                    if unknown.line() not in blind:
                        say(unknown.line())
                blind = {u.line() for u in pilot.decision.unknown}
                for done in await pilot.act():
                    say(("done: " if done.ok else "FAILED: ") + done.message)
                    failed = failed or not done.ok
                if pilot.stopped:
                    say(pilot.stopped)
                await asyncio.sleep(config.refresh_s)
        finally:
            pilot.close()
            for source in hub.sources:
                await source.aclose()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(watch())
    return EXIT_FAILED if failed else EXIT_OK
