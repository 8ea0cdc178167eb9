"""OOM kills on a real podman, through its Docker API's events, as the autopilot reads them.

Findings on this machine (podman 4.3.1, conmon 2.1.6, runc, cgroup v1 with the memory
controller, root): a memory limit is enforced — a container limited to 64 MiB that
allocates 200 MB is killed by the kernel (exit 137; its cgroup's ``memory.oom_control``
counts ``oom_kill 1``) — but podman does not say so: ``State.OOMKilled`` stays false, no
``oom`` event is sent, and the ``die`` event carries only ``exitCode: 137``, exactly as
for a container stopped past its timeout. So here the OOM rule must count nothing (it
never guesses from 137), while on an engine that reports OOM kills (Docker's ``oom``
event, or ``OOMKilled`` on ``die``) the same real ``die`` completes an OOM death.
Why podman does not know: conmon (2.1.6) does see the kill, and marks it with an empty
file named ``oom`` in its *working directory* (inherited from ``podman system service``),
not in the container's directory where podman reads it. `PodmanEngine` starts the
service in its state directory so the marker never lands where the caller ran from.
Podman also matches an ``event`` filter against its own names (``died``), so the watch
filters by type only.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import leaks
from tests.integration.podman_fixture import podman_engine  # noqa: F401
from tests.integration.real_servers import wait_for
from tui.lab.podman import BASE_IMAGE, PodmanEngine
from tui.ops.containers.oom import OomLedger, OomWatch
from tui.sim import SimConfig, SimRuntime

ALLOCATE = "b = bytearray(200_000_000)\nfor i in range(0, len(b), 4096):\n    b[i] = 1\n"


@pytest.fixture
def raw_events(podman_engine: PodmanEngine) -> Iterator[list[dict[str, Any]]]:  # noqa: F811
    """Every container event the engine sends while the test runs, as sent."""
    import docker

    seen: list[dict[str, Any]] = []
    client = docker.DockerClient(base_url=podman_engine.url, timeout=10)
    stream = client.events(decode=True, filters={"type": ["container"]})

    def read() -> None:
        try:
            for event in stream:
                seen.append(event)
        except Exception:  # closed at the end
            return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    yield seen
    stream.close()
    client.close()
    reader.join(5)


def _python_volumes() -> dict[str, dict[str, str]]:
    paths = ["/usr", "/lib", "/lib64", "/etc", sys.base_prefix, sys.prefix]
    return {p: {"bind": p, "mode": "ro"} for p in dict.fromkeys(paths)}


def _died(events: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    return next((e for e in events if e.get("Action") == "die"
                 and e["Actor"]["Attributes"].get("name") == name), None)  # fmt: skip


def test_a_real_oom_kill_and_a_kill_on_stop_both_exit_137_and_neither_is_guessed(
    podman_engine: PodmanEngine,  # noqa: F811
    raw_events: list[dict[str, Any]],
) -> None:
    client = podman_engine.client()
    oomer = client.containers.run(BASE_IMAGE, [sys.executable, "-c", ALLOCATE], detach=True,
                                  name="oomer", mem_limit="64m", memswap_limit="64m",
                                  volumes=_python_volumes(), network_mode="host")  # fmt: skip
    podman_engine.containers.append(oomer.id)
    stubborn = client.containers.run(BASE_IMAGE, ["sh", "-c", "trap '' TERM; sleep 60"],
                                     detach=True, name="stubborn", network_mode="host")  # fmt: skip
    podman_engine.containers.append(stubborn.id)
    time.sleep(0.5)
    stubborn.stop(timeout=1)  # SIGTERM ignored: SIGKILL after 1 s
    assert wait_for(lambda: _died(raw_events, "oomer") and _died(raw_events, "stubborn"), 30)
    # conmon marks an OOM kill with a file named "oom" in its working directory: the
    # engine's own state directory, never the directory the tests (or `lab up`) ran from
    assert not (Path.cwd() / "oom").exists()
    oomer.reload()
    assert (oomer.attrs["HostConfig"]["Memory"], oomer.attrs["State"]["ExitCode"]) == (
        64 * 1024 * 1024, 137)  # fmt: skip
    # the watch starts after the deaths: it reads them back from its window
    watch = OomWatch(podman_engine.url, retry_s=0.2).start()
    try:
        assert wait_for(lambda: watch.ledger.died.get("oomer") and
                        watch.ledger.died.get("stubborn"), 30), watch.problem  # fmt: skip
        assert watch.problem is None
        said_oom = any(e.get("Action") == "oom" for e in raw_events) or any(
            str(e["Actor"]["Attributes"].get(k, "")).lower() == "true"
            for e in raw_events for k in ("OOMKilled", "oomKilled"))  # fmt: skip
        now = time.time()
        assert watch.count("oomer", 600, now) == (1 if said_oom else 0)
        assert watch.count("stubborn", 600, now) == 0  # a stop's SIGKILL is never an OOM
    finally:
        watch.stop()
    # podman's real die, with the oom event an engine that reports it sends: one OOM death
    real_die = _died(raw_events, "oomer")
    assert real_die is not None and real_die["Actor"]["Attributes"]["exitCode"] == "137"
    ledger = OomLedger()
    ledger.feed(real_die)
    ledger.feed({**real_die, "status": "oom", "Action": "oom",
                 "timeNano": real_die["timeNano"] + 200_000_000})  # fmt: skip
    assert ledger.count("oomer", 600, real_die["timeNano"] / 1e9 + 1) == 1


def test_the_watch_says_why_while_the_engine_is_down_and_follows_it_again(
    podman_engine: PodmanEngine,  # noqa: F811
) -> None:
    watch = OomWatch(podman_engine.url, retry_s=0.2, slice_s=5).start()
    try:
        assert wait_for(lambda: watch.connects >= 1 and watch.problem is None, 20)
        podman_engine._stop_service()
        assert wait_for(lambda: watch.problem is not None, 20)
        problem = watch.problem
        assert problem is not None  # the engine stays down: the watch keeps saying why
        assert problem.startswith(f"docker events at {podman_engine.url}: "), problem
        podman_engine.start()
        assert podman_engine.proc is not None
        leaks.adopt(podman_engine.proc.pid)  # the module's engine again: its fixture stops it
        assert wait_for(lambda: watch.problem is None, 30), watch.problem
        before = watch.ledger.died.get("after-restart", 0)
        client = podman_engine.client()
        quick = client.containers.run(BASE_IMAGE, ["sh", "-c", "exit 3"], detach=True,
                                      name="after-restart", network_mode="host")  # fmt: skip
        podman_engine.containers.append(quick.id)
        assert wait_for(lambda: watch.ledger.died.get("after-restart", 0) > before, 30)
    finally:
        watch.stop()


def test_autopilot_watch_says_which_backend_it_cannot_evaluate_and_why(
    podman_engine: PodmanEngine,  # noqa: F811
    tmp_path: Path,
) -> None:
    runtime = SimRuntime(SimConfig(port_base=0, load=False, gpus=0, pools={"blue": 1}))
    runtime.start()
    try:
        (backend,) = runtime.description["backends"]
        config = tmp_path / "c.yaml"
        config.write_text(
            f"backends:\n  - {{name: blue-0, pool: blue, url: '{backend['url']}'}}\n"
            f"sources:\n  docker: {{url: '{podman_engine.url}', compose_project: nothing}}\n"
            f"audit_log: {tmp_path / 'a.jsonl'}\nlock_file: {tmp_path / 'lock'}\n"
        )
        done = subprocess.run([sys.executable, "-m", "tui.commands", "-c", str(config),
                               "autopilot", "watch", "--for", "4s"], capture_output=True,
                              text=True, timeout=60, check=False)  # fmt: skip
    finally:
        runtime.stop()
    assert done.returncode == 0, done.stderr
    # a backend the engine runs no container for: the rule says so and proposes nothing
    assert ("rule restart-on-oom cannot evaluate blue-0: no container found for it in the "
            "engine") in done.stdout, done.stdout  # fmt: skip
    assert "proposed:" not in done.stdout
