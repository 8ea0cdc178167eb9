"""The restart-on-OOM rule counts OOM kills, told by the container engine's events, not
restarts: a container's ``OOMKilled`` is reset when it starts again, and an exit code of
137 alone is also what a stop past its timeout gives. Where OOM kills cannot be counted
(the engine unreachable, a backend without a container) the rule says so and proposes
nothing.

The events are in the shapes the engines send: Docker's ``oom`` then ``die``
(``exitCode`` 137), and podman 4.3's ``die`` as recorded from the real engine in
`tests/integration/test_oom_events.py` (``containerExitCode``/``exitCode``, no OOM flag).
"""

from __future__ import annotations

from typing import Any

from tui.model import Backend, Container, FleetSnapshot
from tui.ops.autopilot.engine import Autopilot
from tui.ops.autopilot.rules import shipped_rules
from tui.ops.containers.oom import OomLedger, OomWatch

CID = "94a4ecb9bf8d0112aea9bdd6715dbb03a4ccf776751f07d133b68ba873197766"


def _event(action: str, at: float, name: str = "lab-vllm-green-0", **attrs: str) -> dict[str, Any]:
    return {"status": action, "id": CID, "from": "localhost/inferdeck-base:latest",
            "Type": "container", "Action": action,
            "Actor": {"ID": CID, "Attributes": {"image": "localhost/inferdeck-base:latest",
                                                "name": name, **attrs}},
            "scope": "local", "time": int(at), "timeNano": int(at * 1e9)}  # fmt: skip


def _docker_oom_death(at: float) -> list[dict[str, Any]]:
    """Docker: ``oom`` first, then ``die`` with exit code 137."""
    return [_event("oom", at), _event("die", at + 0.05, exitCode="137")]


def _podman_die(at: float, code: str = "137") -> dict[str, Any]:
    return _event("die", at, containerExitCode=code, exitCode=code, podId="")


class _Counts:
    def __init__(self, ledger: OomLedger, problem: str | None = None) -> None:
        self.ledger, self.problem = ledger, problem

    def count(self, container: str, within_s: float, now: float) -> int:
        return self.ledger.count(container, within_s, now)


def _snap(t: float, container: str | None = "lab-vllm-green-0", restarts: int = 0) -> FleetSnapshot:
    listed = (Container("lab-vllm-green-0", CID, restart_count=restarts),)
    return FleetSnapshot(taken_at=t, environment="test", slo_tier="standard",
                         backends=(Backend("green-0", "green", "http://x", container=container),),
                         containers=listed)  # fmt: skip


def test_an_oom_death_is_an_oom_and_a_die_in_either_order_or_a_die_that_says_so() -> None:
    ledger = OomLedger()
    for event in _docker_oom_death(100):
        ledger.feed(event)
    ledger.feed(_podman_die(200))  # podman reads the exit first, its oom comes after
    ledger.feed(_event("oom", 200.3))
    ledger.feed(_event("die", 300, exitCode="137", OOMKilled="true"))
    assert ledger.times("lab-vllm-green-0") == (100.05, 200.0, 300.0)


def test_exit_137_alone_or_an_oom_without_a_death_is_no_oom_restart() -> None:
    ledger = OomLedger()
    ledger.feed(_podman_die(100))  # a stop past its timeout: SIGKILL, 137
    ledger.feed(_event("oom", 200))  # a child process killed; the container lives on
    ledger.feed(_event("die", 300, exitCode="0"))
    ledger.feed(_event("oom", 400))
    ledger.feed(_event("die", 430, exitCode="137"))  # too far apart to be one death
    assert ledger.times("lab-vllm-green-0") == ()


def test_the_same_event_read_twice_after_a_reconnect_counts_once() -> None:
    ledger = OomLedger()
    for event in [*_docker_oom_death(100), *_docker_oom_death(100)]:
        ledger.feed(event)
    assert ledger.count("lab-vllm-green-0", 600, 101) == 1


def test_the_window_is_bounded_and_slides() -> None:
    ledger = OomLedger(keep_s=600)
    for minute in range(200):
        for event in _docker_oom_death(minute * 60.0):
            ledger.feed(event)
    kept = ledger.times("lab-vllm-green-0")
    assert len(kept) <= 11 and kept[-1] == 199 * 60 + 0.05
    assert ledger.count("lab-vllm-green-0", 600, 199 * 60 + 1) == 10
    assert ledger.count("lab-vllm-green-0", 600, 199 * 60 + 1200) == 0


def test_more_than_three_oom_kills_in_ten_minutes_propose_a_restart() -> None:
    ledger = OomLedger()
    pilot = Autopilot(shipped_rules(), ooms=_Counts(ledger))
    for at in (10, 100, 200):
        for event in _docker_oom_death(at):
            ledger.feed(event)
    assert pilot.observe(_snap(300, restarts=40)).proposals == ()  # many restarts, 3 OOMs
    for event in _docker_oom_death(400):
        ledger.feed(event)
    (proposal,) = pilot.observe(_snap(401)).proposals
    assert (proposal.line(), proposal.target, proposal.reason) == (
        "restart green-0 (rule restart-on-oom)", "lab-vllm-green-0",
        "4 OOM kills in 600s > 3")  # fmt: skip
    assert pilot.observe(_snap(700)).proposals == ()  # the first two left the window


def test_restarts_of_other_causes_never_make_the_oom_rule_fire() -> None:
    ledger = OomLedger()
    pilot = Autopilot(shipped_rules(), ooms=_Counts(ledger))
    for at in range(10, 300, 20):
        ledger.feed(_podman_die(at))  # exit 137 each time, no OOM said
    decision = pilot.observe(_snap(300, restarts=15))
    assert decision.proposals == () and decision.unknown == ()


def test_it_says_why_it_cannot_evaluate_and_never_guesses() -> None:
    ledger = OomLedger()
    for at in (10, 20, 30, 40, 50):
        for event in _docker_oom_death(at):
            ledger.feed(event)
    down = Autopilot(shipped_rules(), ooms=_Counts(ledger, "docker events at unix:///x: "
                                                   "connection refused"))  # fmt: skip
    decision = down.observe(_snap(60))
    assert decision.proposals == ()
    assert [u.line() for u in decision.unknown] == [
        "rule restart-on-oom cannot evaluate green-0: docker events at unix:///x: "
        "connection refused"]  # fmt: skip
    alone = Autopilot(shipped_rules(), ooms=_Counts(ledger)).observe(_snap(60, container=None))
    assert alone.proposals == ()
    assert [u.why for u in alone.unknown] == ["no container found for it in the engine"]
    unwatched = Autopilot(shipped_rules()).observe(_snap(60))
    assert [u.why for u in unwatched.unknown] == [
        "OOM kills are not watched (no container engine events: sources.docker)"]  # fmt: skip


def test_the_watch_says_why_while_the_engine_cannot_be_reached(tmp_path: Any) -> None:
    watch = OomWatch(f"unix://{tmp_path}/no.sock", retry_s=0.05).start()
    try:
        import time

        deadline = time.monotonic() + 10
        while (
            watch.problem in (None, "connecting to the engine's events")
            and time.monotonic() < deadline
        ):
            time.sleep(0.05)
        assert watch.problem is not None and watch.problem.startswith(
            f"docker events at unix://{tmp_path}/no.sock: "
        ), watch.problem
    finally:
        watch.stop()


class _Recorded:
    """A client whose events stream plays back what an engine sent, then ends (as a
    stream asked ``until`` a time does); what each call asked for is kept."""

    def __init__(self, batches: list[list[dict[str, Any]]], asked: list[dict[str, Any]]) -> None:
        self.batches, self.asked = batches, asked

    def ping(self) -> bool:
        return True

    def events(self, **asked: Any) -> Any:
        self.asked.append(asked)
        since, until = float(asked["since"]), float(asked["until"])
        batch = self.batches.pop(0) if self.batches else []
        return iter([e for e in batch if since <= e["timeNano"] / 1e9 <= until])

    def close(self) -> None:
        pass


def test_the_watch_counts_from_the_stream_and_asks_again_from_where_it_ended() -> None:
    import time

    now = time.time()
    asked: list[dict[str, Any]] = []
    batches = [[*_docker_oom_death(now - 300), *_docker_oom_death(now - 5)],
               [*_docker_oom_death(now - 5), *_docker_oom_death(now - 2)]]  # fmt: skip
    recorded = _Recorded(batches, asked)
    watch = OomWatch("unix:///engine.sock", slice_s=5, client_factory=lambda url: recorded)
    watch.start()
    try:
        deadline = time.monotonic() + 10
        while len(asked) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        watch.stop()
    assert watch.count("lab-vllm-green-0", 600, now) == 3  # the replayed one counted once
    assert watch.problem is None
    first, second = asked[0], asked[1]
    assert first["filters"] == {"type": ["container"]} and first["decode"] is True
    assert float(first["since"]) < now - 599 and float(first["until"]) >= now
    assert now - 16 < float(second["since"]) < now - 9  # where it ended, less 10 s


def test_the_dashboards_autopilot_follows_the_engine_and_says_when_it_cannot(
    tmp_path: Any,
) -> None:
    import time

    from tui.config import parse_config
    from tui.ops.build import operations_for

    text = (f"sources:\n  docker: {{url: 'unix://{tmp_path}/gone.sock'}}\n"
            f"audit_log: {tmp_path / 'a.jsonl'}\nlock_file: {tmp_path / 'lock'}\n")  # fmt: skip
    pilot = operations_for(parse_config(text, "c.yaml")).autopilot
    assert pilot is not None and isinstance(pilot.ooms, OomWatch)
    try:
        deadline = time.monotonic() + 10
        while (
            pilot.ooms.problem == "connecting to the engine's events"
            and time.monotonic() < deadline
        ):
            time.sleep(0.05)
        decision = pilot.observe(_snap(time.time()))
        assert decision.proposals == ()
        (unknown,) = decision.unknown
        assert unknown.line().startswith(
            f"rule restart-on-oom cannot evaluate green-0: docker events at unix://{tmp_path}"
        ), unknown.line()
    finally:
        pilot.close()


def test_weeks_of_other_containers_coming_and_going_keep_the_ledger_small() -> None:
    ledger = OomLedger(keep_s=600)
    at = 0.0
    for job in range(20_000):  # CI jobs on the same engine: each starts, dies, goes
        at += 30.0
        actor = {"ID": f"job{job}", "Attributes": {"name": f"ci-{job}"}}
        ledger.feed({**_podman_die(at), "id": f"job{job}", "Actor": actor})
        if job % 7 == 0:
            for event in _docker_oom_death(at + 1):
                ledger.feed(event)
    assert ledger.size() < 1200
    assert ledger.count("lab-vllm-green-0", 600, at + 2) == 3  # deaths of the last 10 min
