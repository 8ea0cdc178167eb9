"""A proposal as an executor action: restart a backend's container, scale a pool out or
in, or notify. Each carries the rule that asked for it into its plan and its audit
parameters (``rule``, ``reason``, ``by``: ``autopilot`` or ``operator``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from tui.ops.autopilot.config import Webhook
from tui.ops.autopilot.engine import Proposal
from tui.ops.autopilot.notify import post
from tui.ops.containers.scaler import ScaleError, Scaler
from tui.ops.executor import Action, ActionResult, Plan, Progress


class RuleAction:
    """Another action, run because a rule asked: its plan and audit say which and why."""

    def __init__(self, inner: Action, proposal: Proposal, by: str) -> None:
        """``by``: ``autopilot`` when it acts alone, ``operator`` when a person applied it."""
        self.inner, self.proposal, self.by = inner, proposal, by
        self.kind = inner.kind
        self.target = inner.target

    def params(self) -> dict[str, Any]:
        """The inner action's parameters, with the rule, its reason and who applied it."""
        return {**self.inner.params(), "rule": self.proposal.rule.name,
                "reason": self.proposal.reason, "by": self.by}  # fmt: skip

    def plan(self) -> Plan:
        """The inner plan, with the rule first."""
        plan = self.inner.plan()
        why = f"rule {self.proposal.rule.name}: {self.proposal.reason}"
        return Plan(plan.title, (why, *plan.lines), plan.dangerous and self.by == "operator",
                    plan.confirm_text)  # fmt: skip

    def run(self, progress: Progress) -> ActionResult:
        """Run the inner action."""
        return self.inner.run(progress)


class ScaleOut:
    """Start one more replica of a pool and route to it."""

    kind = "pool.scale-out"

    def __init__(self, scaler: Scaler, pool: str, max_servers: int) -> None:
        """``max_servers``: the rule's ``max_replicas`` (checked again when it runs)."""
        self.scaler, self.target, self.max_servers = scaler, pool, max_servers

    def params(self) -> dict[str, Any]:
        """For the audit log."""
        return {"pool": self.target, "scaler": self.scaler.kind, "max_servers": self.max_servers}

    def plan(self) -> Plan:
        """What will start, and the limit."""
        now = self.scaler.count(self.target)
        return Plan(f"Scale out pool {self.target}: {now} -> {now + 1} servers", (
            f"start a copy of a {self.target} container ({self.scaler.kind}) on a free port",
            "wait until it answers /health, then add it to the pool in nginx (nginx -t, reload)",
            f"never more than {self.max_servers} servers in the pool",
        ))  # fmt: skip

    def run(self, progress: Progress) -> ActionResult:
        """Scale out unless the pool is at its maximum."""
        if self.scaler.count(self.target) >= self.max_servers:
            return ActionResult(False, f"pool {self.target} already has {self.max_servers} "
                                "servers (the rule's max_replicas)")  # fmt: skip
        try:
            replica = self.scaler.scale_out(self.target, progress)
        except ScaleError as exc:
            return ActionResult(False, str(exc))
        message = f"started {replica.name} ({replica.server}) in pool {self.target}"
        return ActionResult(True, message, {"replica": replica.name, "server": replica.server})


class ScaleIn:
    """Stop the newest replica a scale-out added to a pool."""

    kind = "pool.scale-in"

    def __init__(self, scaler: Scaler, pool: str) -> None:
        """Scale ``pool`` in by one added replica."""
        self.scaler, self.target = scaler, pool

    def params(self) -> dict[str, Any]:
        """For the audit log."""
        return {"pool": self.target, "scaler": self.scaler.kind}

    def plan(self) -> Plan:
        """Which replica goes."""
        found = self.scaler.replicas(self.target)
        if not found:
            return Plan(f"Scale in pool {self.target}: it has no added replica")
        last = found[-1]
        return Plan(f"Scale in pool {self.target}: remove {last.name}", (
            f"take {last.server} out of the pool in nginx (nginx -t, reload)",
            f"then stop and remove the container {last.name}",
        ))  # fmt: skip

    def run(self, progress: Progress) -> ActionResult:
        """Remove the newest replica."""
        try:
            gone = self.scaler.scale_in(self.target, progress)
        except ScaleError as exc:
            return ActionResult(False, str(exc))
        if gone is None:
            return ActionResult(False, f"pool {self.target} has no added replica to remove")
        return ActionResult(True, f"removed {gone.name} from pool {self.target}",
                            {"replica": gone.name})  # fmt: skip


class Notify:
    """Post the rule's message to every configured webhook."""

    kind = "notify.webhook"

    def __init__(self, webhooks: Sequence[Webhook], proposal: Proposal, environment: str) -> None:
        """Post ``proposal`` to ``webhooks``."""
        self.webhooks, self.proposal, self.environment = tuple(webhooks), proposal, environment
        self.target = proposal.target

    def fields(self) -> dict[str, Any]:
        """What is posted."""
        rule = self.proposal.rule
        return {"rule": rule.name, "target": self.proposal.target,
                "reason": self.proposal.reason, "message": rule.message or rule.description,
                "environment": self.environment}  # fmt: skip

    def params(self) -> dict[str, Any]:
        """For the audit log (URLs without their query, which may hold a secret)."""
        return {"webhooks": [w.url.split("?")[0] for w in self.webhooks], **self.fields()}

    def plan(self) -> Plan:
        """Where it posts."""
        lines = tuple(f"POST {w.format} JSON to {w.url.split('?')[0]}" for w in self.webhooks)
        return Plan(f"Notify: {self.fields()['message']}", lines)

    def run(self, progress: Progress) -> ActionResult:
        """Post to each; fails when any did not take it."""
        if not self.webhooks:
            return ActionResult(False, "no webhook configured (autopilot.notify)")
        problems = [p for w in self.webhooks if (p := post(w, self.fields())) is not None]
        for w in self.webhooks:
            progress(f"posted to {w.url.split('?')[0]}")
        if problems:
            return ActionResult(False, "; ".join(problems))
        return ActionResult(True, f"notified {len(self.webhooks)} webhook(s)")


ActionFor = Callable[[Proposal, str], Action]
"""Makes the action for a proposal; the second argument is ``autopilot`` or ``operator``."""
