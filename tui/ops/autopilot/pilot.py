"""The autopilot at work: the engine's proposals, applied by the operator (one key) or,
with ``autopilot: on``, by itself — always through the executor, so every action is
confirmed (by the operator, or by the autopilot's own yes), locked, audited with the
rule that fired, and on the incident timeline like any other action.

Acting alone stops by itself once ``max_actions_per_hour`` actions ran in the last hour
(it goes back to proposing and says why); it never acts in read-only mode.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from tui.config import Config
from tui.model import FleetSnapshot
from tui.ops.autopilot.actions import ActionFor, Notify, RuleAction, ScaleIn, ScaleOut
from tui.ops.autopilot.config import AutopilotConfig
from tui.ops.autopilot.engine import Autopilot, Decision, OomCounts, Proposal
from tui.ops.containers.oom import OomWatch
from tui.ops.containers.scaler import ContainerScaler, Scaler
from tui.ops.executor import Action, Confirm, Execution, Executor, always


@dataclass
class Pilot:
    """Proposals for the screens, and the autopilot's own actions."""

    settings: AutopilotConfig
    executor: Executor
    action_for: ActionFor
    servers_in: Callable[[str], int] | None = None
    ooms: OomCounts | None = None  # OOM kills per container (an `OomWatch`, stopped by close)
    clock: Callable[[], float] = time.time
    decision: Decision = field(default_factory=Decision)
    stopped: str = ""  # why acting alone stopped ("" while it may act)
    engine: Autopilot = field(init=False)

    def __post_init__(self) -> None:
        self.engine = Autopilot(self.settings.rules, self.servers_in, self.ooms)

    def close(self) -> None:
        """Stop following the engine's events (when this pilot started that)."""
        stop = getattr(self.ooms, "stop", None)
        if stop is not None:
            stop()

    @property
    def acting(self) -> bool:
        """True when the autopilot may act by itself now."""
        return self.settings.mode == "on" and self.executor.read_only is None and not self.stopped

    @property
    def proposals(self) -> tuple[Proposal, ...]:
        """What is proposed now (for the header and the Alerts/Incidents screens)."""
        return self.decision.proposals if self.settings.mode != "off" else ()

    def observe(self, snapshot: FleetSnapshot) -> Decision:
        """Match the rules against ``snapshot``; keeps and returns the decision."""
        if self.settings.mode == "off":
            self.decision = Decision()
        else:
            self.decision = self.engine.observe(snapshot, self.clock())
        return self.decision

    async def apply(self, proposal: Proposal, confirm: Confirm, by: str = "operator") -> Execution:
        """Run ``proposal`` through the executor; a done action starts its cooldown."""
        action = RuleAction(self.action_for(proposal, by), proposal, by)
        done = await self.executor.execute(action, confirm)
        if done.ok:
            self.engine.applied(proposal, self.clock())
            self.decision = Decision(
                tuple(p for p in self.decision.proposals if p.key != proposal.key),
                self.decision.held,
            )
        return done

    async def act(self) -> list[Execution]:
        """With ``autopilot: on``: apply every current proposal, within the hourly cap."""
        ran: list[Execution] = []
        for proposal in list(self.decision.proposals):
            if not self.acting:
                break
            if self.engine.actions_in_hour(self.clock()) >= self.settings.max_actions_per_hour:
                cap = self.settings.max_actions_per_hour
                self.stopped = (
                    f"stopped acting: {cap} actions in the last hour "
                    "(autopilot.max_actions_per_hour); proposing"
                )
                break
            ran.append(await self.apply(proposal, always, by="autopilot"))
        return ran

    def status(self) -> str:
        """One line: the mode and, when it stopped acting, why."""
        if self.settings.mode == "on" and self.executor.read_only is not None:
            return f"autopilot proposes only: read-only ({self.executor.read_only})"
        return self.stopped or f"autopilot {self.settings.mode}"


def actions_from_config(
    config: Config, settings: AutopilotConfig, scaler: Scaler | None = None
) -> ActionFor:
    """The action for each kind of proposal, from the config: container restarts through
    ``sources.docker``, scaling through ``scaler`` (default: containers behind
    ``traffic.nginx``), notifications to ``autopilot.notify``."""
    holder: dict[str, object] = {}

    def docker() -> object:
        if "docker" not in holder:
            from tui.sources.docker import DockerSource

            cfg = config.sources.docker
            if cfg is None:
                raise ValueError("restart needs sources.docker in the config")
            holder["docker"] = DockerSource(cfg.url, compose_project=cfg.compose_project,
                                            name_patterns=cfg.name_patterns)  # fmt: skip
        return holder["docker"]

    def make(proposal: Proposal, by: str) -> Action:
        kind = proposal.rule.action
        if kind == "restart":
            from tui.ops.containers.actions import RestartContainer

            return RestartContainer(docker(), proposal.target)  # type: ignore[arg-type]
        if kind in ("scale-out", "scale-in"):
            chosen = scaler or scaler_from_config(config, settings)
            if kind == "scale-out":
                return ScaleOut(chosen, proposal.target, proposal.rule.max_replicas)
            return ScaleIn(chosen, proposal.target)
        return Notify(settings.notify, proposal, config.environment)

    return make


def oom_watch_from_config(config: Config, settings: AutopilotConfig) -> OomWatch | None:
    """The engine's events followed (started) when a rule counts OOM kills and the config
    names a container engine; None otherwise (such a rule then says it cannot evaluate)."""
    windows = [r.within_s for r in settings.rules if r.metric == "oom_restarts"]
    if not windows or config.sources.docker is None or settings.mode == "off":
        return None
    return OomWatch(config.sources.docker.url, keep_s=max(windows)).start()


def scaler_from_config(config: Config, settings: AutopilotConfig) -> ContainerScaler:
    """The containers scaler: the Docker API of ``sources.docker``, nginx's upstream of
    ``traffic.nginx``; ValueError naming what is missing."""
    if config.sources.docker is None:
        raise ValueError("scaling needs sources.docker (the container engine) in the config")
    if config.traffic is None or config.traffic.nginx is None:
        raise ValueError("scaling needs traffic.nginx (the upstream replicas join)")
    from tui.ops.traffic.nginx import NginxRouter

    s = settings.scaler
    return ContainerScaler(config.sources.docker.url, NginxRouter(config.traffic.nginx),
                           port_arg=s.port_arg, port_offset=s.port_offset,
                           ready_timeout_s=s.ready_timeout_s)  # fmt: skip
