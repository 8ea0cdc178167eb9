"""The Capacity screen (`8`): hosts, GPU bands, in-flight load, the scaling decision with
growth and headroom, and the cost table.

Host metrics (psutil here, node exporter through Prometheus) and a growth rate fitted to
Prometheus's history are read in a worker every ``Judging.poll_s`` seconds; the rest is
computed from each snapshot.
"""

from __future__ import annotations

from textual.app import ComposeResult

from tui.analysis.capacity import HostMetrics
from tui.config import ConfigError
from tui.judging import capacity_figures, cost_for, growth_for, hosts_for
from tui.model import FleetSnapshot
from tui.screens.judged import JudgedScreen
from widgets.capacity import (
    CostPanel,
    HostsPanel,
    HostsReport,
    LoadPanel,
    LoadReport,
    ScalingPanel,
    ScalingReport,
)
from widgets.footer import KeysFooter
from widgets.header import FleetHeader

HostsRead = tuple[list[HostMetrics], str, tuple[float | None, str]]
"""What the worker reads: hosts, why some are missing, the growth rate and its source."""


class CapacityScreen(JudgedScreen):
    """Room to grow and what it costs."""

    WORKER_GROUP = "capacity-hosts"
    DEFAULT_CSS = """
    CapacityScreen {
        HostsPanel, LoadPanel, ScalingPanel, CostPanel { height: auto; }
    }
    """

    def __init__(self, clock: object, **kwargs: object) -> None:
        super().__init__(clock, **kwargs)
        self._read: HostsRead | None = None

    def compose(self) -> ComposeResult:
        """Header, hosts, load, decision, cost, footer."""
        yield FleetHeader(clock=self.clock)  # type: ignore[arg-type]
        yield HostsPanel(id="capacity-hosts")
        yield LoadPanel(id="capacity-load")
        yield ScalingPanel(id="capacity-scaling")
        yield CostPanel(id="capacity-cost")
        yield KeysFooter()

    def needs_worker(self) -> bool:
        """This machine through psutil, node exporter through Prometheus."""
        return self.judging.read_local is not None or self.prometheus() is not None

    def read(self, snapshot: FleetSnapshot) -> object:
        """Hosts and growth (blocking: psutil samples, Prometheus queries)."""
        seen = self.observation(snapshot, with_prometheus=True)
        reader = self.judging.read_local
        if reader is None:
            hosts, note = hosts_for(seen, local=False)
        else:
            hosts, note = hosts_for(seen, local=True, read_local=reader)
        return hosts, note, growth_for(seen)

    def polled(self, result: object, error: str) -> None:
        """Keep the hosts read; a failure becomes the hosts panel's note."""
        if isinstance(result, tuple):
            self._read = result
        elif error:
            self._read = ([], f"host metrics: {error}", self._read[2] if self._read else
                          (None, "no growth figure"))  # fmt: skip

    def show(self, snapshot: FleetSnapshot) -> None:
        """Everything from this snapshot and the worker's last read."""
        self.query_one(FleetHeader).snapshot = snapshot
        seen = self.observation(snapshot, with_prometheus=False)
        if self._read is not None:
            hosts, note, growth = self._read
        else:
            waiting = "reading host metrics…" if self.needs_worker() else "no host metrics"
            hosts, note = [], waiting
            growth = growth_for(seen) if self.prometheus() is None else (None, "reading…")
        report = capacity_figures(self.judging.config, snapshot, hosts, note, growth)
        self.query_one(HostsPanel).report = HostsReport(
            tuple((h["host"], h["checks"]) for h in report["hosts"]), report["host_note"]
        )
        self.query_one(LoadPanel).report = LoadReport(report["gpus"], report["in_flight"])
        self.query_one(ScalingPanel).report = ScalingReport(
            report["decision"],
            report["utilisation"]["pct"],
            report["utilisation"]["source"],
            report["projection"],
            report["headroom"],
        )
        try:
            cost: object = cost_for(seen)
        except ConfigError:
            cost = "no cost table: add cost.monthly to the config (see example.yaml)"
        self.query_one(CostPanel).report = cost
