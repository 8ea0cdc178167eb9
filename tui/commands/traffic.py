"""``inferdeck traffic show|set POOL=W ...|rollback|rollout [POOL]``: the traffic commands.

``tui.commands.main`` adds these with `add_traffic_arguments` and calls `run_traffic`;
``python -m tui.commands.traffic`` runs them directly. Every change goes through the
executor: refused in read-only mode (``--read-only`` or ``read_only: true``), confirmed on
the terminal (the plan, then y/N, or the target's name for a dangerous one) unless
``--yes``, and audited; the config, executor and confirmation are `tui.commands.common`'s,
shared with the other action commands. Exit codes: 0 done, 1 refused, cancelled or
failed, 2 usage or configuration error. Errors are one line on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import signal
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

from tui.commands.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    confirm_for,
    error,
    executor_for,
    report,
    say,
    terminal_safe,
)
from tui.config import Config, ConfigError, context_of, find_config, load_config
from tui.model import Pool
from tui.ops.executor import Action, Execution, Executor, Plan
from tui.ops.traffic.factory import router_from_config
from tui.ops.traffic.rollout import Rollout, SloGate, check_steps
from tui.ops.traffic.weights import (
    Rollback,
    Router,
    RouterError,
    SetWeights,
    WeightsError,
    format_split,
    parse_weights,
)
from tui.sources.scrape import ScrapeSource, ScrapeTarget

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")


class UsageError(Exception):
    """Bad arguments or configuration for a traffic command (exit 2)."""


def parse_duration(text: str) -> float:
    """``60s``, ``2m``, ``1h``, ``500ms`` or plain seconds → seconds."""
    found = _DURATION.match(text)
    if not found:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 60s, 2m, 500ms)")
    scale = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}[found.group(2) or "s"]
    return float(found.group(1)) * scale


def parse_steps(text: str) -> tuple[float, ...]:
    """``10,50,100`` → rising percentages."""
    try:
        return check_steps([float(x) for x in text.split(",") if x.strip()])
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _flags(parser: argparse.ArgumentParser) -> None:
    """The common flags again, so they work after the sub-subcommand (never overriding)."""
    s = argparse.SUPPRESS
    parser.add_argument("-c", "--config", metavar="FILE", default=s, help="config file")
    parser.add_argument("--read-only", action="store_true", default=s, help="no action can run")
    parser.add_argument("--yes", action="store_true", default=s, help="do not ask")
    parser.add_argument("--json", action="store_true", default=s, help="print JSON")
    parser.add_argument("--debug", action="store_true", default=s, help=s)
    parser.add_argument("--context", metavar="NAME", default=s, help="the config's context")


def add_traffic_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``show``, ``set``, ``rollback`` and ``rollout`` (``dest="traffic_command"``)."""
    commands = parser.add_subparsers(dest="traffic_command", metavar="show|set|rollback|rollout")
    commands.required = True
    show = commands.add_parser("show", help="the split between pools now")
    set_ = commands.add_parser("set", help="set the split: POOL=PERCENT ... (adding up to 100)")
    set_.add_argument("weights", nargs="+", metavar="POOL=PERCENT")
    rollback = commands.add_parser("rollback", help="the stable pool to 100%% at once")
    rollback.add_argument(
        "--to",
        metavar="POOL",
        default=None,
        help="the pool to go back to (default: traffic.stable_pool)",
    )
    rollout = commands.add_parser("rollout", help="shift to POOL in steps, gated by the SLO")
    rollout.add_argument(
        "pool", nargs="?", default=None, help="the new pool (default: traffic.canary_pool)"
    )
    rollout.add_argument(
        "--steps",
        type=parse_steps,
        default=None,
        metavar="10,50,100",
        help="percentages (default: traffic.rollout_steps)",
    )
    rollout.add_argument(
        "--hold",
        type=parse_duration,
        default=None,
        metavar="60s",
        help="how long each step's gate watches (default: rollout_hold_s)",
    )
    rollout.add_argument("--tier", default=None, help="SLO tier (default: the config's)")
    rollout.add_argument(
        "--poll",
        type=parse_duration,
        default=None,
        metavar="2s",
        help="how often the gate reads the figures",
    )
    for sub in (show, set_, rollback, rollout):
        _flags(sub)


# -- figures for the gate ----------------------------------------------------------------


class ScrapeFigures:
    """The gate's figures for one pool, scraped straight from its backends' ``/metrics``.

    The scrape source runs in its own event loop on a background thread, so the
    (synchronous) rollout can call this from the executor's thread.
    """

    def __init__(
        self,
        targets: Sequence[ScrapeTarget],
        pool: str,
        *,
        window_s: float = 30.0,
        timeout_s: float = 2.0,
    ) -> None:
        """Scrape ``targets`` (only those of ``pool`` matter) over a ``window_s`` window."""
        self.pool = pool
        mine = [t for t in targets if t.pool == pool]
        if not mine:
            raise UsageError(f"no backends of pool {pool!r} in the config: the gate has no figures")
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, daemon=True, name="inferdeck-gate-scrape"
        )
        self._thread.start()
        self.source = ScrapeSource(mine, window_s=window_s, timeout_s=timeout_s)
        self.timeout_s = timeout_s

    @classmethod
    def from_config(cls, config: Config, pool: str, window_s: float) -> ScrapeFigures:
        """For ``pool``'s backends in ``config``."""
        targets = [ScrapeTarget(b.name, b.pool, b.url, b.model) for b in config.backends]
        return cls(targets, pool, window_s=window_s, timeout_s=config.scrape.timeout_s)

    def __call__(self) -> Pool | None:
        """Scrape once; the pool's figures (None when nothing answered yet)."""
        future = asyncio.run_coroutine_threadsafe(self.source.collect(), self._loop)
        collected = future.result(self.timeout_s * 3 + 5)
        return next((p for p in collected.pools or () if p.name == self.pool), None)

    def close(self) -> None:
        """Close the HTTP connections and stop the thread."""
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self.source.aclose(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()


# -- the commands ------------------------------------------------------------------------


def _load(args: argparse.Namespace) -> Config:
    path = find_config(getattr(args, "config", None))
    if path is None:
        raise UsageError(
            "no config: pass -c FILE (with a traffic: section) or set $INFERDECK_CONFIG"
        )
    return context_of(load_config(path), getattr(args, "context", None))


def _say(line: str, *, err: bool = False) -> None:
    """One line of output (control characters made visible); a closed pipe is ignored."""
    with contextlib.suppress(OSError):
        print(terminal_safe(line), file=sys.stderr if err else sys.stdout, flush=True)


def _served(router: Router) -> tuple[dict[str, float], float] | None:
    """What the router last verified as served, when it keeps such a record (nginx)."""
    served = getattr(router, "served", None)
    return served() if callable(served) else None


def _show(router: Router, config: Config, as_json: bool) -> int:
    """The split the router is configured with (for nginx: the file), and — when known —
    the split last verified as served after a reload, saying when the two differ."""
    weights = router.current()
    traffic = config.traffic
    assert traffic is not None
    served = _served(router)
    differs = None if served is None else served[0] != weights
    if as_json:
        print(
            json.dumps(
                {
                    "router": router.kind,
                    "where": router.where,
                    "weights": weights,
                    "written": weights,
                    "served": None if served is None else
                              {"weights": served[0], "verified_at": served[1]},
                    "differs": differs,
                    "stable_pool": traffic.stable_pool,
                    "canary_pool": traffic.canary_pool,
                }
            )
        )  # fmt: skip
        return 0
    say(f"router {router.kind}  {router.where}")
    width = max((len(terminal_safe(p)) for p in weights), default=0)
    for pool, value in weights.items():
        role = {traffic.stable_pool: "stable", traffic.canary_pool: "new"}.get(pool, "")
        down = "  (down)" if value == 0 and router.kind == "nginx" else ""
        say(f"  {terminal_safe(pool):<{width}}  {value:>5g}%  {role}{down}".rstrip())
    if served is not None:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(served[1]))
        if differs:
            say(
                f"DIFFERS: the file says {format_split(weights)}, but the split last verified "
                f"as served (reloaded and read back, {when}) is {format_split(served[0])}: a "
                "change was written and not reloaded (killed mid-way?); set the split again "
                "or roll back to make nginx serve what the file says"
            )
        else:
            say(f"served: the same, verified after a reload at {when}")
    elif router.kind == "nginx":
        say("served: not known (no change made by inferdeck yet)")
    return 0


def _action(args: argparse.Namespace, config: Config, router: Router) -> tuple[Action, Any]:
    """The action the command asks for, and something to close after it (or None)."""
    traffic = config.traffic
    assert traffic is not None
    command = args.traffic_command
    if command == "set":
        return SetWeights(router, parse_weights(args.weights)), None
    if command == "rollback":
        return Rollback(router, args.to or traffic.stable_pool), None
    pool = args.pool or traffic.canary_pool
    hold = traffic.rollout_hold_s if args.hold is None else args.hold
    poll = args.poll or max(0.5, min(5.0, hold / 10))
    figures = ScrapeFigures.from_config(config, pool, window_s=max(5.0, min(hold, 60.0)))
    try:
        gate = SloGate(figures, args.tier or config.slo_tier, poll_s=poll)
        stable = traffic.stable_pool if traffic.stable_pool != pool else None
        rollout = Rollout(
            router, pool, gate, args.steps or traffic.rollout_steps, hold, stable_pool=stable
        )
    except BaseException:
        figures.close()
        raise
    return rollout, figures


async def _execute(executor: Executor, action: Action, args: argparse.Namespace) -> Execution:
    """Run through the executor, streaming progress (to stderr with ``--json``).

    Once confirmed, ctrl+c cancels a rollout, which then rolls back by itself; a hangup
    (an SSH session dropping) or a terminate makes it put back the split it started from
    and record its result before the command exits. A set or a rollback, which take a
    fraction of a second, finish first.
    """
    loop = asyncio.get_running_loop()
    cancel = getattr(action, "cancel", None)
    asked = confirm_for(args)
    to_stderr = bool(getattr(args, "json", False))

    def interrupted() -> None:
        _say("inferdeck: cancelling: rolling back...", err=True)
        assert isinstance(cancel, threading.Event)
        cancel.set()

    def ended(name: str) -> None:
        if executor.interrupt(f"{name} received"):
            _say(f"inferdeck: {name}: stopping, putting back the starting split...", err=True)

    async def confirm(action: Action, plan: Plan) -> bool:
        ok = await asked(action, plan)
        if ok:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                if isinstance(cancel, threading.Event):
                    loop.add_signal_handler(signal.SIGINT, interrupted)
                for sig in (signal.SIGHUP, signal.SIGTERM):
                    loop.add_signal_handler(sig, ended, sig.name)
        return ok

    return await executor.execute(action, confirm, lambda line: _say(f"  {line}", err=to_stderr))


def run_traffic(args: argparse.Namespace) -> int:
    """Run the parsed traffic command; the exit code."""
    try:
        config = _load(args)
        if config.traffic is None:
            raise UsageError(f"{config.path}: no traffic: section (router, pools, nginx)")
        router = router_from_config(config.traffic)
        as_json = bool(getattr(args, "json", False))
        if args.traffic_command == "show":
            return _show(router, config, as_json)
        action, closer = _action(args, config, router)
    except (ConfigError, UsageError, WeightsError) as exc:
        error(str(exc))
        return EXIT_USAGE
    except RouterError as exc:
        error(str(exc))
        return EXIT_FAILED
    try:
        execution = asyncio.run(_execute(executor_for(config, args), action, args))
    finally:
        if closer is not None:
            closer.close()
    with contextlib.suppress(OSError):  # after a hangup the terminal may be gone
        report(execution, args)
    return EXIT_OK if execution.ok else EXIT_FAILED
