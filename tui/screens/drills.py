"""Drills in the dashboard: the autopilot's proposals (shown in the header of every
screen, Alerts and Incidents included; ``P`` applies the first through the executor)
and load tests started from the command palette (progress in the header; ``ctrl+x``
stops one at once). Mixed into `tui.app.InferdeckApp`.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import threading
from functools import partial
from pathlib import Path
from typing import Any

from textual.binding import Binding
from textual.css.query import NoMatches

from tui.model import FleetSnapshot
from widgets.header import FleetHeader
from widgets.text import safe

BINDINGS = [
    Binding("P", "apply_proposal", "Apply proposal", id="proposal-apply",
            tooltip="Apply what the autopilot proposes (asks first)"),
    Binding("ctrl+x", "stop_loadtest", "Stop load test", id="loadtest-stop", show=False,
            tooltip="Stop the running load test at once"),
]  # fmt: skip


class DrillsMixin:
    """The app's autopilot and load-test parts (uses the app's ops, worker and notices)."""

    _drill_progress: str = ""
    _drill_stop: threading.Event | None = None

    # -- the autopilot -------------------------------------------------------------------

    def autopilot_seen(self, snapshot: FleetSnapshot) -> None:
        """Match the rules against a new snapshot (in a worker); act when allowed to."""
        pilot = self._pilot()
        if pilot is None:
            return
        app: Any = self
        # the coroutine is made when the worker starts: a tick replaced (exclusive) before
        # it ran would otherwise leave one behind that was never awaited
        app.run_worker(partial(self._autopilot_tick, pilot, snapshot), group="autopilot",
                       exclusive=True, exit_on_error=False)  # fmt: skip

    def _pilot(self) -> Any:
        """The autopilot, once the operations are made (asking does not make them: the
        footer asks for every key as the first frame is drawn)."""
        ops = getattr(self, "made_ops", None)
        return getattr(ops, "autopilot", None)

    async def _autopilot_tick(self, pilot: Any, snapshot: FleetSnapshot) -> None:
        await asyncio.to_thread(pilot.observe, snapshot)
        self.show_drill()
        if pilot.acting and pilot.proposals:
            app: Any = self
            for done in await pilot.act():
                app.notify(safe(done.message), title="autopilot", markup=False,
                           severity="information" if done.ok else "error")  # fmt: skip
            if pilot.stopped:
                app.notify(safe(pilot.stopped), title="autopilot", severity="warning",
                           markup=False)  # fmt: skip
            self.show_drill()

    def drill_line(self) -> str:
        """What the header shows: the first proposal and a load test's progress."""
        parts = []
        pilot = self._pilot()
        if pilot is not None and pilot.proposals:
            first = pilot.proposals[0]
            more = f" +{len(pilot.proposals) - 1}" if len(pilot.proposals) > 1 else ""
            parts.append(f"proposed: {first.line()}{more}")
        if self._drill_progress:
            parts.append(self._drill_progress)
        return " · ".join(parts)

    def show_drill(self) -> None:
        """Put `drill_line` in the current screen's header."""
        app: Any = self
        line = self.drill_line()
        with contextlib.suppress(NoMatches, AttributeError):
            header = app.screen.query_one(FleetHeader)
            if header.drill.startswith("proposed") != line.startswith("proposed"):
                app.refresh_bindings()  # P shows in the footer only with something proposed
            header.drill = line

    def action_apply_proposal(self) -> None:
        """Apply the autopilot's first proposal: confirm, audit (with the rule), timeline."""
        app: Any = self
        pilot = self._pilot()
        if pilot is None or not pilot.proposals:
            app.notify("The autopilot proposes nothing now", severity="information")
            return
        app.run_worker(self._apply(pilot, pilot.proposals[0]), group="mutation",
                       exit_on_error=False)  # fmt: skip

    async def _apply(self, pilot: Any, proposal: Any) -> None:
        app: Any = self
        done = await pilot.apply(proposal, app._confirm)
        app.notify(safe(done.message), title=safe(proposal.line()), markup=False,
                   severity="information" if done.ok or not done.message.startswith(
                       ("refused", "failed")) else "error")  # fmt: skip
        self.show_drill()

    # -- load tests ----------------------------------------------------------------------

    def loadtest_names(self) -> list[str]:
        """The scenarios the palette offers (shipped and the operator's)."""
        from tui.loadtest.config import loadtest_config
        from tui.loadtest.scenario import load_scenarios

        config = self._config()
        try:
            return sorted(load_scenarios(loadtest_config(config).scenarios_dir))
        except Exception:  # a broken scenario file: the command line says where
            return []

    def _config(self) -> Any:
        judging = getattr(self, "judging", None)
        return getattr(judging, "config", None)

    def start_loadtest(self, name: str) -> None:
        """Ask, then run scenario ``name`` against the config's default target."""
        app: Any = self
        if self._drill_stop is not None:
            app.notify("A load test is already running (ctrl+x stops it)", severity="warning")
            return
        app.run_worker(self._loadtest(name), group="loadtest", exit_on_error=False)

    async def _loadtest(self, name: str) -> None:
        from tui.analysis.slo import get_tier
        from tui.loadtest.config import check_caps, default_target, loadtest_config
        from tui.loadtest.drill import DrillError, audited, drill, first_model
        from tui.loadtest.run import RunSettings
        from tui.loadtest.scenario import find_scenario
        from tui.loadtest.server import backends_to_watch
        from tui.ops.executor import Plan

        app: Any = self
        config = self._config()
        ops = getattr(self, "ops", None)
        if ops is None:
            app.notify("No operations configured", severity="warning")
            return
        try:
            settings = loadtest_config(config)
            scenario = find_scenario(name, settings.scenarios_dir)
            check_caps(scenario.peak, scenario.load, scenario.duration_s, settings)
            target = default_target(config, settings)
            if target is None:
                raise ValueError("no target: configure backends or traffic.nginx")
        except Exception as exc:
            app.notify(safe(str(exc)), title="load test", severity="error", markup=False)
            return
        plan = Plan(f"Load test {name} on {target}", (
            f"{scenario.description or scenario.name}: {scenario.load}, peak {scenario.peak:g},"
            f" {scenario.duration_s:g}s",
            "real requests (streaming) through Locust; ctrl+x stops it at once",
        ))  # fmt: skip
        if not await app._confirm(None, plan):
            return
        stop = threading.Event()
        self._drill_stop = stop
        folder = Path(tempfile.mkdtemp(prefix="inferdeck-loadtest-"))

        def progress(p: Any) -> None:
            self._drill_progress = (f"load test {name} {p.elapsed_s:.0f}/{p.duration_s:.0f}s "
                                    f"{p.requests_per_s:.1f} req/s, {p.errors} errors")  # fmt: skip
            app.call_from_thread(self.show_drill)

        def work() -> Any:
            model = first_model(target)
            run = RunSettings(scenario, target, model, folder / "records.jsonl",
                              per_user_rps=settings.per_user_rps,
                              request_timeout_s=settings.request_timeout_s,
                              grace_s=settings.grace_s)  # fmt: skip
            backends = [(b.name, b.url) for b in config.backends] if config else []
            tier = get_tier(config.slo_tier if config else "standard")
            watched = backends_to_watch(backends, target)

            def go() -> Any:
                return drill(run, tier, watched, progress=progress, stop=stop)

            return audited(ops.executor, run, go)

        try:
            report = await asyncio.to_thread(work)
        except (DrillError, Exception) as exc:
            app.notify(safe(str(exc)), title=f"load test {name}", severity="error", markup=False)
            return
        finally:
            self._drill_stop = None
            self._drill_progress = ""
            self.show_drill()
        missed = [v.name for v in report.verdicts if not v.met]
        verdict = "PASSED" if report.passed else (report.stopped or "FAILED: " + ", ".join(missed))
        app.notify(safe(f"{verdict}; {report.requests} requests, {report.error_rate:.1%} errors,"
                        f" TTFT p95 {report.ttft.get('p95') or 0:.3f}s"),
                   title=f"load test {name}", markup=False,
                   severity="information" if report.passed else "warning", timeout=20)  # fmt: skip

    def action_stop_loadtest(self) -> None:
        """Stop the running load test at once."""
        app: Any = self
        if self._drill_stop is None:
            app.notify("No load test is running", severity="information")
            return
        self._drill_stop.set()
