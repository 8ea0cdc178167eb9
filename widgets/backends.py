"""The backends tables: the overview's compact one and the Backends screen's full one."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from tui.analysis.slo import TIERS, SloTier
from tui.analysis.thresholds import KV_CACHE_LIMIT
from tui.model import Backend, FleetSnapshot, Health, Quantiles
from widgets.format import DASH, NOT_EXPOSED, known, not_exposed, number, percent, seconds
from widgets.levels import level, marked
from widgets.table import DetailField, SnapshotTable
from widgets.text import outside

REASON_WIDTH = 22
"""How much of a down backend's reason fits in the table; the header has it whole."""
NAME_WIDTH, POOL_WIDTH, MODEL_WIDTH, CONTAINER_WIDTH = 40, 16, 40, 32
"""Where the name, pool, model and container columns cut a long value with ``…``."""

ESTIMATE_MARK = "~"
ESTIMATE_NOTE = "~ TTFT p95 > E2E p95: estimates within different histogram buckets"
"""Why a TTFT p95 can read above the E2E p95 of the same requests, said where it shows.

Each quantile is interpolated inside the histogram bucket it falls in (as Prometheus's
``histogram_quantile`` does), assuming requests spread evenly across it. vLLM's TTFT
buckets are coarser than its E2E ones in the slow range (10-20 s against 10-15 s), so a
TTFT of 12 s for every request reads as 19.5 s while its E2E of 13 s reads as 14.75 s.
"""


def inverted(ttft: Quantiles, e2e: Quantiles) -> bool:
    """True when the TTFT p95 estimate exceeds the E2E p95 estimate (impossible for real)."""
    return known(ttft.p95) and known(e2e.p95) and ttft.p95 > e2e.p95  # type: ignore[operator]


class BackendsTable(SnapshotTable):
    """The overview's table: a row per backend, updated in place so the cursor stays put."""

    TITLE = "Backends"
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
        # shown when there is room (a wide terminal): the room goes to more figures
        ("ttft50", "TTFT p50"),
        ("e2e50", "E2E p50"),
        ("queue", "Queue p95"),
        ("itl", "ITL p95"),
        ("tps_in", "in tok/s"),
        ("rpm", "req/min"),
        ("model", "Model"),
    )
    DEFAULT_CSS = """
    BackendsTable { height: auto; max-height: 40%; }
    """
    DROPPED_FIRST: tuple[str, ...] = (
        *("model", "itl", "queue", "e2e50", "ttft50", "tps_in", "rpm"),
        *("tps", "e2e", "waiting", "running", "kv", "pool"),
    )
    """Columns given up, in this order, when the table is too narrow for all of them:
    the backend, its health, Err% and TTFT p95 always stay."""

    def rows_of(self, snapshot: FleetSnapshot) -> Sequence[tuple[str, list[Text]]]:
        """One row per backend, in the sources' order (the columns that fit are shown)."""
        tier = TIERS[snapshot.slo_tier]
        return [(b.name, self.cells(b, tier)) for b in snapshot.backends]

    def subtitle(self, snapshot: FleetSnapshot) -> str:
        """How many backends are up."""
        up = sum(b.health is Health.UP for b in snapshot.backends)
        note = any(b.health is Health.UP and inverted(b.ttft, b.e2e) for b in snapshot.backends)
        return f"{up}/{len(snapshot.backends)} up" + (f" · {ESTIMATE_NOTE}" if note else "")

    def head(self, backend: Backend) -> list[Text]:
        """Name, pool and health: the cells every backends table starts with."""
        if backend.health is Health.UP:
            health = self.styled_text("up", self.style("ok"))
        elif backend.health is Health.DOWN:
            health = Text.assemble(
                " DOWN ", outside(backend.reason, width=REASON_WIDTH), " ", style=self.style("down")
            )
        else:
            health = Text.assemble(
                "? ", outside(backend.reason, width=REASON_WIDTH), style=self.style("warn")
            )
        return [
            outside(backend.name, width=NAME_WIDTH),
            outside(backend.pool, self.pool_style(backend.pool), width=POOL_WIDTH),
            health,
        ]

    def detail_fields(self, key: str) -> list[DetailField]:
        """Name, pool, model, container and why it is not up."""
        backends = self.snapshot.backends if self.snapshot is not None else ()
        backend = next((b for b in backends if b.name == key), None)
        if backend is None:
            return []
        return [
            ("backend", backend.name, NAME_WIDTH),
            ("pool", backend.pool, POOL_WIDTH),
            ("model", backend.model or DASH, MODEL_WIDTH),
            ("container", backend.container or DASH, CONTAINER_WIDTH),
            ("reason", backend.reason or DASH, REASON_WIDTH),
        ]

    def figure(self, text: str, lvl: str) -> Text:
        """A figure in its level's colour, or a dim dash when unknown."""
        if text == DASH or text.startswith(NOT_EXPOSED):
            return self.styled_text(text, self.style("dim"))
        return self.styled_text(marked(text, lvl), self.style(lvl))

    def na(self, text: str, backend: Backend, figure: str) -> str:
        """``text``, or ``n/a (ENGINE)`` where the backend's engine lacks the figure."""
        return not_exposed(text, figure, backend.unexposed, backend.engine)

    def cells(self, backend: Backend, tier: SloTier) -> list[Text]:
        """The row of one backend, each figure coloured against the tier."""
        head = self.head(backend)
        if backend.health is not Health.UP:
            # Window figures of a backend that is not answering describe the past: hide them.
            return [*head, *(self.styled_text(DASH, self.style("dim")) for _ in self.COLUMNS[3:])]
        traffic = backend.traffic
        return [
            *head,
            self.figure(number(backend.running), "ok"),
            self.figure(number(backend.waiting), level(backend.waiting, tier.queue_depth_max)),
            self.figure(
                self.na(percent(backend.kv_cache_usage), backend, "kv_cache"),
                level(backend.kv_cache_usage, KV_CACHE_LIMIT),
            ),
            self.figure(
                self.na(seconds(backend.ttft.p95), backend, "ttft")
                + (ESTIMATE_MARK if inverted(backend.ttft, backend.e2e) else ""),
                level(backend.ttft.p95, tier.ttft_p95_s),
            ),
            self.figure(
                self.na(seconds(backend.e2e.p95), backend, "e2e"),
                level(backend.e2e.p95, tier.e2e_p95_s),
            ),
            self.figure(number(traffic.generation_tokens_per_s), "ok"),
            self.figure(
                self.na(percent(traffic.error_rate, 1), backend, "errors"),
                level(traffic.error_rate, tier.error_rate_max),
            ),
            self.figure(seconds(backend.ttft.p50), level(backend.ttft.p50, tier.ttft_p50_s)),
            self.figure(seconds(backend.e2e.p50), level(backend.e2e.p50, tier.e2e_p50_s)),
            self.figure(seconds(backend.queue_time.p95), "ok"),
            self.figure(seconds(backend.inter_token.p95), "ok"),
            self.figure(number(traffic.prompt_tokens_per_s), "ok"),
            self.figure(number(traffic.requests_per_min), "ok"),
            outside(backend.model or DASH, self.style("dim"), width=MODEL_WIDTH),
        ]


class BackendsDetailTable(BackendsTable):
    """The Backends screen: everything known about each backend, one row each."""

    COLUMNS = (
        ("backend", "Backend"),
        ("pool", "Pool"),
        ("health", "Health"),
        ("model", "Model"),
        ("running", "Run"),
        ("waiting", "Wait"),
        ("kv", "KV%"),
        ("ttft", "TTFT p50/p95/p99"),
        ("e2e", "E2E p50/p95/p99"),
        ("queue", "Queue p95"),
        ("itl", "ITL p95"),
        ("tps_in", "in tok/s"),
        ("tps_out", "out tok/s"),
        ("rpm", "req/min"),
        ("errors", "Err%"),
        ("container", "Container"),
    )
    DEFAULT_CSS = """
    BackendsDetailTable { height: 1fr; max-height: 100%; }
    """
    DROPPED_FIRST = (
        *("container", "model", "itl", "queue", "tps_in", "tps_out", "rpm"),
        *("e2e", "running", "waiting", "kv", "pool"),
    )

    def quantiles(self, q: Quantiles, p50_max: float, p95_max: float) -> Text:
        """``p50 / p95 / p99`` with p50 and p95 coloured against their limits."""
        text = Text()
        p50, p95 = level(q.p50, p50_max), level(q.p95, p95_max)
        text.append(marked(seconds(q.p50), p50), self.style(p50))
        text.append(" / ", self.style("dim"))
        text.append(marked(seconds(q.p95), p95), self.style(p95))
        text.append(" / ", self.style("dim"))
        text.append(seconds(q.p99), self.style("dim" if not known(q.p99) else "ok"))
        return text

    def cells(self, backend: Backend, tier: SloTier) -> list[Text]:
        """Every figure of one backend."""
        head = self.head(backend)
        model = outside(backend.model or DASH, self.style("dim"), width=MODEL_WIDTH)
        container = outside(backend.container or DASH, self.style("dim"), width=CONTAINER_WIDTH)
        if backend.health is not Health.UP:
            blanks = [Text(DASH, self.style("dim")) for _ in self.COLUMNS[4:-1]]
            return [*head, model, *blanks, container]
        traffic = backend.traffic
        return [
            *head,
            model,
            self.figure(number(backend.running), "ok"),
            self.figure(number(backend.waiting), level(backend.waiting, tier.queue_depth_max)),
            self.figure(
                self.na(percent(backend.kv_cache_usage), backend, "kv_cache"),
                level(backend.kv_cache_usage, KV_CACHE_LIMIT),
            ),
            self.figure(self.na(DASH, backend, "ttft"), "ok")
            if "ttft" in backend.unexposed
            else self.quantiles(backend.ttft, tier.ttft_p50_s, tier.ttft_p95_s)
            + (ESTIMATE_MARK if inverted(backend.ttft, backend.e2e) else ""),
            self.figure(self.na(DASH, backend, "e2e"), "ok")
            if "e2e" in backend.unexposed
            else self.quantiles(backend.e2e, tier.e2e_p50_s, tier.e2e_p95_s),
            self.figure(self.na(seconds(backend.queue_time.p95), backend, "queue_time"), "ok"),
            self.figure(self.na(_p95_or_mean(backend.inter_token), backend, "inter_token"), "ok"),
            self.figure(number(traffic.prompt_tokens_per_s), "ok"),
            self.figure(number(traffic.generation_tokens_per_s), "ok"),
            self.figure(self.na(number(traffic.requests_per_min), backend, "requests"), "ok"),
            self.figure(
                self.na(percent(traffic.error_rate, 1), backend, "errors"),
                level(traffic.error_rate, tier.error_rate_max),
            ),
            container,
        ]


def _p95_or_mean(q: Quantiles) -> str:
    """The p95, or ``mean 14ms`` for an engine that only totals (llama.cpp has no buckets)."""
    if not known(q.p95) and known(q.mean):
        return f"mean {seconds(q.mean)}"
    return seconds(q.p95)
