"""The detail of one backend, GPU, alert or container (`enter` on its row; `esc` goes back).

Every figure, its history, what it is tied to (GPUs, container, backend), its alerts, its
container's last log lines, and the keys of the actions that apply to it. It follows the
live snapshots like every other screen; a subject that left the snapshot says so.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from tui.analysis import relations
from tui.model import Alert, Backend, Container, FleetSnapshot, Gpu, LogLine, Quantiles
from tui.ops.runbooks.links import runbook_for
from tui.screens.help import key_lines
from tui.screens.live import LiveScreen
from tui.screens.logs import LogView
from tui.screens.runbook_offer import offer_runbook
from widgets.footer import KeysFooter
from widgets.format import DASH, age, known, number, percent, seconds, spark
from widgets.header import FleetHeader
from widgets.text import outside

KINDS = {"backend": "Backend", "gpu": "GPU", "alert": "Alert", "container": "Container"}
"""What a detail screen can show, and its title."""
HISTORY_WIDTH = (12, 100)
"""The fewest and most samples a history line shows (the rest of the width decides)."""
LOG_LINES = 20
"""How many of the container's last log lines are shown."""


def _figures(rows: Iterable[tuple[str, object]], columns: int) -> Table:
    """Label/value pairs, ``columns`` pairs to a line; a long value is cut with ``…``."""
    grid = Table.grid(padding=(0, 2))
    items = list(rows)
    for _ in range(columns):
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(no_wrap=True, overflow="ellipsis", ratio=1)
    per_column = (len(items) + columns - 1) // columns
    for i in range(per_column):
        cells: list[RenderableType] = []
        for c in range(columns):
            at = i + c * per_column
            label, value = items[at] if at < len(items) else ("", "")
            cell = value if isinstance(value, Text) else outside(value)
            cell.no_wrap, cell.overflow = True, "ellipsis"
            cells += [Text(label), cell]
        grid.add_row(*cells)
    return grid


def _quantiles(q: Quantiles) -> str:
    return " / ".join(seconds(v) for v in (q.p50, q.p95, q.p99))


def _history(
    label: str,
    values: Sequence[float],
    low: float,
    high: float | None,
    unit: str,
    width: int,
    shown: Callable[[float], str] | None = None,
) -> Text:
    """One history line: the label, the line (on ``low``..``high``, or up to its own
    highest value when ``high`` is None), its last and highest value (written by
    ``shown``, e.g. `seconds`, else as a number and ``unit``)."""
    finite = [v for v in values if known(v)]
    top = high if high is not None else max([*finite, low + 1e-9]) * 1.25
    line = Text(f"{label:<14}", no_wrap=True, overflow="ellipsis")
    line.append(spark(values, width, low, top).ljust(width))
    if finite:
        write = shown or (lambda v: f"{number(v, 1)}{unit}")
        line.append(f"  now {write(finite[-1])} · max {write(max(finite))}")
    else:
        line.append("  no history yet")
    return line


class DetailScreen(LiveScreen):
    """One subject in full, kept current; `esc` goes back to the table it came from."""

    HELP_NAME = "Detail"
    BINDINGS = [
        Binding("escape", "back", "Back", id="detail-back", tooltip="Back to the table"),
        Binding("a", "ack", "Acknowledge", id="ack", tooltip="Silence this alert (asks)"),
        Binding("A", "unack", "Un-acknowledge", id="unack", tooltip="Expire its silence (asks)"),
        Binding("b", "runbook", "Runbook", id="alert-runbook",
                tooltip="Run the alert's runbook, its inputs from the alert's labels (asks)"),
        Binding("e", "container('restart')", "Restart", id="container-restart",
                tooltip="Restart the container (type its name to confirm)"),
        Binding("s", "container('stop')", "Stop", id="container-stop",
                tooltip="Stop the container (type its name to confirm)"),
        Binding("S", "container('start')", "Start", id="container-start",
                tooltip="Start the container (asks first)"),
        Binding("l", "logs", "Logs", id="detail-logs", tooltip="Read the container's log again"),
        Binding("y", "copy", "Copy", id="row-copy",
                tooltip="Copy what this screen says to the clipboard (OSC 52: works over SSH)"),
    ]  # fmt: skip
    DEFAULT_CSS = """
    DetailScreen > VerticalScroll { height: 1fr; padding: 0 1; }
    DetailScreen .detail-heading { text-style: bold; color: $accent; margin-top: 1; }
    DetailScreen #detail-title { text-style: bold; }
    DetailScreen LogView { height: auto; max-height: 22; }
    """

    def __init__(self, kind: str, key: str, clock: object) -> None:
        """``kind``: backend, gpu, alert or container; ``key``: its name, ``host/index``
        or fingerprint."""
        super().__init__(clock=clock)
        self.kind = kind
        self.key = key
        self.container_name: str | None = None
        self.alert: Alert | None = None
        self._acting: tuple[object, ...] | None = None

    def compose(self) -> ComposeResult:
        """Header; title, figures, history, ties, alerts, actions, log; footer."""
        yield FleetHeader(clock=self.clock)  # type: ignore[arg-type]
        with VerticalScroll():
            yield Static(id="detail-title")
            yield Static(id="detail-figures")
            yield Static(Text("History"), classes="detail-heading", id="detail-history-heading")
            yield Static(id="detail-history")
            yield Static(Text("Runs on, serves, is about"), classes="detail-heading")
            yield Static(id="detail-ties")
            yield Static(Text("Alerts"), classes="detail-heading")
            yield Static(id="detail-alerts")
            yield Static(Text("Actions"), classes="detail-heading")
            yield Static(id="detail-actions")
            yield Static(Text("Last log lines"), classes="detail-heading")
            yield LogView(wrap=True, highlight=False, markup=False, id="detail-log")
        yield KeysFooter()

    def on_mount(self) -> None:
        """Badge the header; fetch the container's log."""
        super().on_mount()
        latest = getattr(self.app, "latest", None)
        if isinstance(latest, FleetSnapshot):
            self.show(latest)
        self.action_logs()

    # --- what is shown --------------------------------------------------------------

    def show(self, snapshot: FleetSnapshot) -> None:
        """Show the subject as this snapshot has it."""
        self.query_one(FleetHeader).snapshot = snapshot
        title, figures, history, ties, alerts = self._describe(snapshot)
        self.query_one("#detail-title", Static).update(title)
        self.query_one("#detail-figures", Static).update(figures)
        self.query_one("#detail-history", Static).update(Group(*history))
        for part in ("#detail-history", "#detail-history-heading"):  # alerts, containers: none
            self.query_one(part).display = bool(history)
        self.query_one("#detail-ties", Static).update(Group(*ties) if ties else Text(DASH))
        self.query_one("#detail-alerts", Static).update(self._alerts(alerts, snapshot.taken_at))
        acting = (self.container_name, self.alert is not None,
                  self.alert.acknowledged_by if self.alert is not None else None)  # fmt: skip
        if acting != self._acting:  # the keys that apply changed: footer and actions line
            self._acting = acting
            self.refresh_bindings()
            self.call_after_refresh(self._show_actions)

    def _show_actions(self) -> None:
        self.query_one("#detail-actions", Static).update(self._actions())

    @property
    def columns(self) -> int:
        """Figures side by side: two pairs to a line on a wide terminal, one on a narrow."""
        return 2 if self.size.width >= 100 else 1

    @property
    def history_width(self) -> int:
        """How many samples fit beside a history line's label and figures."""
        low, high = HISTORY_WIDTH
        return max(low, min(high, self.size.width - 50))

    def _describe(self, snapshot: FleetSnapshot) -> tuple[
        Text, RenderableType, list[Text], list[Text], list[Alert]
    ]:  # fmt: skip
        subject = self.subject(snapshot)
        self.container_name = None
        self.alert = None
        title = Text(f"{KINDS[self.kind]} ")
        title.append_text(outside(self.key))
        if subject is None:
            title.append("  is not in the latest snapshot (gone, or its source is quiet)")
            return title, Text(""), [], [], []
        if isinstance(subject, Backend):
            return title, *self._backend(subject, snapshot)
        if isinstance(subject, Gpu):
            return title, *self._gpu(subject, snapshot)
        if isinstance(subject, Alert):
            self.alert = subject
            return title, *self._alert(subject, snapshot)
        return title, *self._container(subject, snapshot)

    def subject(self, snapshot: FleetSnapshot) -> Backend | Gpu | Alert | Container | None:
        """The backend, GPU, alert or container this screen is about, in ``snapshot``."""
        found: Iterable[Any] = {
            "backend": (b for b in snapshot.backends if b.name == self.key),
            "gpu": (g for g in snapshot.gpus if g.key == self.key),
            "alert": (a for a in snapshot.alerts if a.fingerprint == self.key),
            "container": (c for c in snapshot.containers if c.name == self.key),
        }[self.kind]
        return next(iter(found), None)

    def _backend(self, b: Backend, snapshot: FleetSnapshot) -> tuple[
        RenderableType, list[Text], list[Text], list[Alert]
    ]:  # fmt: skip
        self.container_name = b.container
        figures = _figures(columns=self.columns, rows=[
            ("Pool", b.pool), ("Health", f"{b.health.value} {b.reason}".strip()),
            ("Model", b.model or DASH), ("URL", b.url),
            ("Running", number(b.running)), ("Waiting", number(b.waiting)),
            ("KV cache", percent(b.kv_cache_usage)),
            ("Preemptions/min", number(b.preemptions_per_min, 1)),
            ("TTFT p50/95/99", _quantiles(b.ttft)), ("E2E p50/95/99", _quantiles(b.e2e)),
            ("Queue p50/95/99", _quantiles(b.queue_time)),
            ("ITL p50/95/99", _quantiles(b.inter_token)),
            ("Prompt tok/s", number(b.traffic.prompt_tokens_per_s)),
            ("Gen tok/s", number(b.traffic.generation_tokens_per_s)),
            ("Requests/min", number(b.traffic.requests_per_min)),
            ("Errors", percent(b.traffic.error_rate, 1)),
            ("Container", b.container or DASH),
            ("Scraped", age(snapshot.taken_at - b.last_scrape) if b.last_scrape else DASH),
        ])  # fmt: skip
        h, w = snapshot.history, self.history_width
        history = [
            _history("TTFT p95", h.get(f"backend.{b.name}.ttft_p95", ()), 0, None, "", w,
                     seconds),
            _history("Running", h.get(f"backend.{b.name}.running", ()), 0, None, "", w),
            _history("Waiting", h.get(f"backend.{b.name}.waiting", ()), 0, None, "", w),
            _history("KV cache", [v * 100 for v in h.get(f"backend.{b.name}.kv", ())],
                     0, 100, "%", w),
        ]  # fmt: skip
        ties = [self._gpu_line(g) for g in relations.gpus_of(b, snapshot)]
        ties.append(Text.assemble("container ", outside(b.container or DASH)))
        return figures, history, ties, relations.alerts_of_backend(b, snapshot)

    def _gpu_line(self, g: Gpu) -> Text:
        line = Text.assemble("GPU ", outside(g.key), "  ")
        line.append(f"{number(g.util_pct)}% util · {number(g.temp_c)}°C")
        return line

    def _gpu(self, g: Gpu, snapshot: FleetSnapshot) -> tuple[
        RenderableType, list[Text], list[Text], list[Alert]
    ]:  # fmt: skip
        memory = DASH
        if g.mem_used_mib is not None and g.mem_total_mib:
            memory = f"{g.mem_used_mib / 1024:.1f} / {g.mem_total_mib / 1024:.0f} GiB"
        figures = _figures(columns=self.columns, rows=[
            ("Model", g.name or DASH), ("UUID", g.uuid or DASH),
            ("Utilisation", f"{number(g.util_pct)}%"), ("Memory", memory),
            ("Temperature", f"{number(g.temp_c)}°C"),
            ("Power", f"{number(g.power_w)} / {number(g.power_limit_w)} W"),
            ("SM clock", f"{number(g.sm_clock_mhz)} MHz"),
            ("Workloads", ", ".join(g.workloads) or DASH),
        ])  # fmt: skip
        h, w = snapshot.history, self.history_width
        history = [
            _history("Utilisation", h.get(f"gpu.{g.key}.util", ()), 0, 100, "%", w),
            _history("Temperature", h.get(f"gpu.{g.key}.temp", ()), 20, 95, "°C", w),
        ]
        ties = [Text.assemble("backend ", outside(b.name), f"  {b.health.value}")
                for b in relations.backends_on(g, snapshot)]  # fmt: skip
        for p in g.processes:
            ties.append(Text.assemble(f"process {p.pid} ", outside(p.name), " ",
                                      outside(p.container or "")))  # fmt: skip
            self.container_name = self.container_name or p.container
        return figures, history, ties, relations.alerts_of_gpu(g, snapshot)

    def _alert(self, a: Alert, snapshot: FleetSnapshot) -> tuple[
        RenderableType, list[Text], list[Text], list[Alert]
    ]:  # fmt: skip
        rows: list[tuple[str, object]] = [
            ("Name", a.name), ("Severity", a.severity.value), ("State", a.state),
            ("Since", age(snapshot.taken_at - a.starts_at)), ("Source", a.source),
            ("Acknowledged", a.acknowledged_by or "no"),
            ("Runbook", runbook_for(a) or DASH), ("Summary", a.summary),
        ]  # fmt: skip
        rows += [(f"label {k}", v) for k, v in sorted(a.labels.items())]
        backend = relations.backend_of_alert(a, snapshot)
        ties = []
        if backend is not None:
            self.container_name = backend.container
            ties.append(Text.assemble("backend ", outside(backend.name),
                                      f"  {backend.health.value}"))  # fmt: skip
            ties += [self._gpu_line(g) for g in relations.gpus_of(backend, snapshot)]
        return _figures(rows, self.columns), [], ties, []

    def _container(self, c: Container, snapshot: FleetSnapshot) -> tuple[
        RenderableType, list[Text], list[Text], list[Alert]
    ]:  # fmt: skip
        self.container_name = c.name
        figures = _figures(columns=self.columns, rows=[
            ("Image", c.image or DASH), ("State", c.state), ("Health", c.health or DASH),
            ("Restarts", str(c.restart_count)),
            ("Up for", age(snapshot.taken_at - c.started_at) if c.started_at else DASH),
            ("Exit code", DASH if c.exit_code is None else str(c.exit_code)),
            ("Service", c.service or DASH), ("Project", c.project or DASH), ("ID", c.id[:12]),
        ])  # fmt: skip
        backend = relations.backend_of_container(c, snapshot)
        ties: list[Text] = []
        alerts: list[Alert] = []
        if backend is not None:
            ties.append(Text.assemble("backend ", outside(backend.name)))
            ties += [self._gpu_line(g) for g in relations.gpus_of(backend, snapshot)]
            alerts = relations.alerts_of_backend(backend, snapshot)
        return figures, [], ties, alerts

    def _alerts(self, alerts: Sequence[Alert], now: float) -> RenderableType:
        if not alerts:
            return Text("none firing")
        lines = []
        for a in alerts:
            line = Text(f"{a.severity.value:<9}")
            line.append_text(outside(a.name))
            line.append(f"  {age(now - a.starts_at)}  ")
            line.append_text(outside(a.summary))
            lines.append(line)
        return Group(*lines)

    def _actions(self) -> RenderableType:
        """The keys that act on this subject now, from the live bindings (remaps show)."""
        local, _ = key_lines(self)
        acting = [k for k in local if k.does not in ("Back", "Logs", "Copy")]
        if not acting:
            why = getattr(self.app, "actions_off", None)
            return Text(f"none here{f': {why}' if why else ''}")
        return Text("  ·  ".join(f"{k.keys} {k.does}" for k in acting) + "  (each asks first)")

    # --- keys -----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Alert keys on an alert, container keys where there is a container."""
        if action in ("ack", "unack", "runbook") and self.alert is None:
            return False
        if action in ("container", "logs") and not self.container_name:
            return False
        if action == "ack" and self.alert is not None and self.alert.acknowledged_by:
            return False
        if action == "unack" and self.alert is not None and not self.alert.acknowledged_by:
            return False
        return bool(self.app.check_action(action, parameters))

    def action_copy(self) -> None:
        """Copy the title, figures, ties and alerts as plain text."""
        console = Console(width=120, file=io.StringIO(), record=True, color_system=None)
        for part in ("title", "figures", "ties", "alerts"):
            console.print(self.query_one(f"#detail-{part}", Static).content)
        copy = getattr(self.app, "copy_text", None)
        if copy is not None:
            copy("\n".join(line.rstrip() for line in console.export_text().splitlines()))

    def action_back(self) -> None:
        """Back to the table."""
        self.dismiss(None)

    def action_ack(self) -> None:
        """Acknowledge this alert (asks first)."""
        ops, alert = getattr(self.app, "ops", None), self.alert
        if ops is not None and ops.ack is not None and alert is not None:
            ack = ops.ack
            self.app.offer(lambda: ack(alert, "", None))  # type: ignore[attr-defined]

    def action_unack(self) -> None:
        """Expire this alert's silence (asks first)."""
        ops, alert = getattr(self.app, "ops", None), self.alert
        if ops is not None and ops.unack is not None and alert is not None:
            unack = ops.unack
            self.app.offer(lambda: unack(alert))  # type: ignore[attr-defined]

    def action_runbook(self) -> None:
        """Offer this alert's runbook."""
        if self.alert is not None:
            offer_runbook(self.app, runbook_for(self.alert), self.alert.name, self.alert.labels)

    def action_container(self, verb: str) -> None:
        """Restart, stop or start the container, through the executor (asks first)."""
        ops, name = getattr(self.app, "ops", None), self.container_name
        if ops is None or ops.container is None:
            self.notify("No container engine configured (sources.docker)", severity="warning")
            return
        if name:
            make = ops.container
            self.app.offer(lambda: make(verb, name))  # type: ignore[attr-defined]

    def action_logs(self) -> None:
        """Read the container's last log lines in a worker."""
        reader = getattr(self.app, "log_reader", None)
        log = self.query_one(LogView)
        if not self.container_name or reader is None:
            log.clear()
            log.write(Text("no container engine configured" if reader is None and
                           self.container_name else "no container known for this"))  # fmt: skip
            return
        # made when the worker starts: one replaced before it ran leaves no coroutine behind
        read = partial(self._read_logs, reader, self.container_name)
        # mypy cannot pick WorkType's member for an async callable (it infers Never)
        self.run_worker(read, group="detail-logs", exclusive=True, exit_on_error=False)  # type: ignore[arg-type]

    async def _read_logs(self, reader: Any, name: str) -> None:
        try:
            lines: list[LogLine] = await reader(name)
        except Exception as exc:
            lines = [LogLine(f"could not read the log of {name}: {exc}", is_error=True)]
        self.query_one(LogView).show(lines[-LOG_LINES:])
