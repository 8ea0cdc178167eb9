"""The Traffic screen (`5`, `w`): move the split between pools, roll out, roll back.

`←`/`→` (or `-`/`+`) move 10% of the traffic toward the stable or the canary pool (5%
with shift); `enter` shows the plan and applies it after confirmation; `escape` drops
the proposal; `o` starts a stepped rollout of the canary; `R` rolls back.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import RichLog

from tui.judging import models_report
from tui.model import FleetSnapshot
from tui.ops.context import Operations
from tui.ops.executor import Execution
from tui.screens.judged import judging_of
from tui.screens.live import LiveScreen
from widgets.footer import KeysFooter
from widgets.header import FleetHeader
from widgets.models import pool_version
from widgets.text import outside
from widgets.traffic import PoolTable, TrafficSplit


class TrafficScreen(LiveScreen):
    """The split now and as proposed, each pool's version and figures side by side, and a
    rollout log."""

    BINDINGS = [
        # priority: the pool table must not take the arrows and enter for its cursor
        Binding("left,minus", "shift(-10)", "Stable +10%", id="traffic-stable", priority=True),
        Binding("right,plus", "shift(10)", "Canary +10%", id="traffic-canary", priority=True),
        Binding("shift+left", "shift(-5)", "Stable +5%", id="traffic-stable-5", show=False,
                priority=True),
        Binding("shift+right", "shift(5)", "Canary +5%", id="traffic-canary-5", show=False,
                priority=True),
        Binding("enter", "apply_weights", "Apply", id="traffic-apply", priority=True),
        Binding("escape", "reset", "Drop", id="traffic-reset", priority=True),
        Binding("o", "rollout", "Roll out", id="traffic-rollout"),
    ]  # fmt: skip
    DEFAULT_CSS = """
    TrafficScreen TrafficSplit { height: auto; }
    TrafficScreen RichLog { height: 1fr; border: round $primary 40%;
        border-title-color: $text; }
    """

    def compose(self) -> ComposeResult:
        """Header, split, pools, log, footer."""
        yield FleetHeader(clock=self.clock)  # type: ignore[arg-type]
        yield TrafficSplit()
        yield PoolTable()
        log = RichLog(id="traffic-log", markup=False, highlight=False, wrap=True)
        log.border_title = "Changes"
        yield log
        yield KeysFooter()

    def show(self, snapshot: FleetSnapshot) -> None:
        """Hand the snapshot to the header, the split and the pools."""
        self.query_one(FleetHeader).snapshot = snapshot
        self.query_one(TrafficSplit).snapshot = snapshot
        pools = self.query_one(PoolTable)
        report = models_report(judging_of(self).config, snapshot.backends)
        pools.versions = {p.pool: pool_version(p) for p in report["pools"]}
        pools.snapshot = snapshot

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Changing the split follows the app's read-only rule."""
        if action in ("shift", "reset"):
            return self.app.check_action("apply_weights", parameters)
        return self.app.check_action(action, parameters)

    # --- composing a split -----------------------------------------------------------------

    def _ops(self) -> Operations | None:
        ops = getattr(self.app, "ops", None)
        return ops if isinstance(ops, Operations) else None

    def _current(self) -> dict[str, float]:
        latest = getattr(self.app, "latest", None)
        return dict(latest.weights) if latest is not None else {}

    def action_shift(self, step: int) -> None:
        """Move ``step`` percent from the stable pool to the canary (negative: back)."""
        ops = self._ops()
        split = self.query_one(TrafficSplit)
        base = dict(split.proposed or self._current())
        if ops is None or not base:
            self.notify("No router reports a split", severity="warning")
            return
        stable, canary = ops.stable_pool, ops.canary_pool
        moved = max(-base.get(canary, 0.0), min(step, base.get(stable, 0.0)))
        base[canary] = base.get(canary, 0.0) + moved
        base[stable] = base.get(stable, 0.0) - moved
        split.proposed = base

    def action_reset(self) -> None:
        """Drop the proposal."""
        self.query_one(TrafficSplit).proposed = None

    def action_apply_weights(self) -> None:
        """Show the plan for the proposed split and apply it once confirmed."""
        ops = self._ops()
        proposed = self.query_one(TrafficSplit).proposed
        if ops is None or ops.set_weights is None:
            self.notify("No traffic router configured (traffic: in the config)", severity="warning")
            return
        if proposed is None or proposed == self._current():
            self.notify("Nothing to apply: move the split with ← →", severity="information")
            return
        set_weights = ops.set_weights
        self.app.offer(  # type: ignore[attr-defined]
            lambda: set_weights(proposed), then=self._done, progress=self._log
        )

    def action_rollout(self) -> None:
        """Start a stepped rollout of the canary pool, gated by the SLO."""
        ops = self._ops()
        if ops is None or ops.rollout is None:
            self.notify("No traffic router configured (traffic: in the config)", severity="warning")
            return
        self.app.offer(ops.rollout, then=self._done, progress=self._log)  # type: ignore[attr-defined]

    def _log(self, line: str) -> None:
        self.query_one("#traffic-log", RichLog).write(outside(line))

    def _done(self, execution: Execution) -> None:
        self._log(f"{execution.outcome.value}: {execution.message}")
        if execution.ok:
            self.query_one(TrafficSplit).proposed = None
