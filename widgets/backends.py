"""The Backends table: one row per inference server, its health, queue, cache and latency."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.reactive import reactive
from textual.widgets import DataTable

from tui.analysis.slo import TIERS
from tui.analysis.thresholds import KV_CACHE_LIMIT
from tui.model import Backend, FleetSnapshot, Health
from widgets.format import DASH, known, number, percent, safe, seconds
from widgets.levels import level

COLUMNS: tuple[tuple[str, str], ...] = (
    ("backend", "Backend"),
    ("pool", "Pool"),
    ("health", "Health"),
    ("running", "Run"),
    ("waiting", "Wait"),
    ("kv", "KV%"),
    ("ttft", "TTFT p95"),
    ("e2e", "E2E p95"),
    ("tps", "tok/s"),
    ("errors", "Err%"),
)

REASON_WIDTH = 22
"""How much of a down backend's reason fits in the table; the header has it whole."""


class BackendsTable(DataTable[Text]):
    """A row per backend, updated in place so the cursor stays where the operator put it.

    | Component class | Used for |
    |---|---|
    | `backends--ok`, `backends--warn`, `backends--breach` | figures against the SLO |
    | `backends--down` | a backend that is not serving |
    | `backends--blue`, `backends--green`, `backends--other` | pool names |
    | `backends--dim` | unknown figures |
    """

    COMPONENT_CLASSES = DataTable.COMPONENT_CLASSES | {
        "backends--ok",
        "backends--warn",
        "backends--breach",
        "backends--down",
        "backends--blue",
        "backends--green",
        "backends--other",
        "backends--dim",
    }

    DEFAULT_CSS = """
    BackendsTable {
        height: auto;
        max-height: 100%;
        border: round $primary 40%;
        border-title-color: $text;
        border-title-style: bold;
        border-subtitle-color: $text-muted;
        & > .backends--ok { color: $slo-ok; }
        & > .backends--warn { color: $slo-warn; text-style: bold; }
        & > .backends--breach { color: $slo-breach; text-style: bold; }
        & > .backends--down { color: $slo-breach; text-style: bold reverse; }
        & > .backends--blue { color: $pool-blue; }
        & > .backends--green { color: $pool-green; }
        & > .backends--other { color: $pool-other; }
        & > .backends--dim { color: $text-muted; }
    }
    """

    snapshot: reactive[FleetSnapshot | None] = reactive(None, always_update=True)
    """The snapshot whose backends are listed."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)  # type: ignore[arg-type]

    def on_mount(self) -> None:
        """Create the columns once."""
        self.border_title = "Backends"
        for key, label in COLUMNS:
            self.add_column(label, key=key)

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"backends--{name}", partial=True)

    def watch_snapshot(self, snapshot: FleetSnapshot | None) -> None:
        """Add, update and remove rows to match the snapshot."""
        if snapshot is None:
            return
        wanted = {b.name for b in snapshot.backends}
        for row_key in list(self.rows):
            if row_key.value not in wanted:
                self.remove_row(row_key)
        present = {k.value for k in self.rows}
        for backend in snapshot.backends:
            cells = self.cells(backend, snapshot.slo_tier)
            if backend.name not in present:
                self.add_row(*cells, key=backend.name)
                continue
            for (key, _), cell, old in zip(COLUMNS, cells, self.get_row(backend.name), strict=True):
                if (cell.plain, cell.style) != (old.plain, old.style):  # unchanged: no repaint
                    self.update_cell(
                        backend.name, key, cell, update_width=cell.cell_len > old.cell_len
                    )
        up = sum(b.health is Health.UP for b in snapshot.backends)
        self.border_subtitle = f"{up}/{len(snapshot.backends)} up"

    def cells(self, backend: Backend, tier_name: str) -> list[Text]:
        """The row of one backend, each figure coloured against the tier."""
        tier = TIERS[tier_name]
        dim = self._style("dim")
        pool_style = self._style(backend.pool if backend.pool in ("blue", "green") else "other")
        if backend.health is Health.UP:
            health = Text("up", self._style("ok"))
        elif backend.health is Health.DOWN:
            health = Text(f" DOWN {safe(backend.reason)[:REASON_WIDTH]} ", self._style("down"))
        else:
            health = Text(f"? {safe(backend.reason)[:REASON_WIDTH]}", self._style("warn"))
        traffic = backend.traffic
        tps = traffic.generation_tokens_per_s
        if backend.health is not Health.UP:
            # Window figures of a backend that is not answering describe the past: hide them.
            blank = [Text(DASH, dim) for _ in COLUMNS[3:]]
            return [Text(safe(backend.name)), Text(safe(backend.pool), pool_style), health, *blank]

        def styled(text: str, lvl: str) -> Text:
            return Text(text, dim if text == DASH else self._style(lvl))

        return [
            Text(safe(backend.name)),
            Text(safe(backend.pool), pool_style),
            health,
            styled(number(backend.running), "ok"),
            styled(number(backend.waiting), level(backend.waiting, tier.queue_depth_max)),
            styled(percent(backend.kv_cache_usage), level(backend.kv_cache_usage, KV_CACHE_LIMIT)),
            styled(seconds(backend.ttft.p95), level(backend.ttft.p95, tier.ttft_p95_s)),
            styled(seconds(backend.e2e.p95), level(backend.e2e.p95, tier.e2e_p95_s)),
            styled(number(tps), "ok") if known(tps) else Text(DASH, dim),
            styled(percent(traffic.error_rate, 1), level(traffic.error_rate, tier.error_rate_max)),
        ]
