"""Time a traffic change on a real nginx (the lab's, started with ``--rps 0``).

* apply: render, atomic write, ``nginx -t``, reload, new workers seen, read back, GET the
  verify URL through nginx; the median of 20 applies (spaced 0.3 s apart, as an operator
  would, and back to back: nginx's master sleeps 100 ms after a reload, so a reload
  arriving meanwhile waits);
* rollback: the `Rollback` action through the executor (lock, audit intent and result,
  apply), the median of 10; and ``inferdeck traffic rollback --yes`` as a whole process;
* rollback during a running rollout: ``inferdeck traffic rollout green --hold 60s`` runs
  in its own process, holding the lock at 10 %; ``inferdeck traffic rollback --yes`` from
  a second process preempts it (the median of 3, whole processes, imports included).

Targets: apply under 0.5 s, rollback under 1 s, rollback during a rollout under 2 s.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tui.config import load_config  # noqa: E402
from tui.ops.audit import AuditLog  # noqa: E402
from tui.ops.executor import Executor, always  # noqa: E402
from tui.ops.traffic.factory import router_from_config  # noqa: E402
from tui.ops.traffic.weights import Rollback, Router  # noqa: E402

RUNS = 20
PREEMPT_RUNS = 3
SPLITS = ({"blue": 90.0, "green": 10.0}, {"blue": 50.0, "green": 50.0})


def lab(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m tui.commands lab ARGS``."""
    return subprocess.run(
        [sys.executable, "-m", "tui.commands", "lab", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=False,
    )


def ms(values: list[float]) -> str:
    """``median 12.3 ms (min 10.1, max 20.4)``."""
    return (
        f"median {statistics.median(values) * 1000:6.1f} ms  (min {min(values) * 1000:.1f}, "
        f"max {max(values) * 1000:.1f}, n={len(values)})"
    )


def cli(folder: Path, *args: str) -> list[str]:
    """The argv of ``inferdeck traffic ARGS -c FOLDER/inferdeck.yaml``."""
    config = str(folder / "inferdeck.yaml")
    return [sys.executable, "-m", "tui.commands", "traffic", *args, "-c", config]


def rollback_during_rollout(folder: Path, router: Router, env: dict[str, str]) -> float:
    """Start a rollout (its own process), wait for its first step, time a rollback."""
    rollout = subprocess.Popen(
        cli(folder, "rollout", "green", "--steps", "10,50,100", "--hold", "60s", "--yes"),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO, env=env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while router.current().get("green") != 10.0:
            if time.monotonic() > deadline or rollout.poll() is not None:
                sys.exit("the rollout never reached its first step")
            time.sleep(0.05)
        time.sleep(0.5)
        began = time.perf_counter()
        back = subprocess.run(cli(folder, "rollback", "--yes"), capture_output=True, text=True,
                              cwd=REPO, env=env, check=False)  # fmt: skip
        took = time.perf_counter() - began
        assert back.returncode == 0, back.stderr
        assert rollout.wait(10) == 1  # preempted
    finally:
        rollout.kill()
        rollout.wait()
    return took


def main() -> None:
    """Start a lab, measure, stop it."""
    folder = Path(tempfile.mkdtemp(prefix="inferdeck-bench-"))
    up = lab("up", "--dir", str(folder), "--rps", "0")
    if up.returncode != 0:
        sys.exit(f"lab up failed: {up.stderr.strip()}")
    try:
        config = load_config(folder / "inferdeck.yaml")
        assert config.traffic is not None
        router = router_from_config(config.traffic)
        router.apply({"blue": 100.0})  # warm: nginx's version, the HTTP client
        spaced, back_to_back = [], []
        for i in range(RUNS):
            time.sleep(0.3)
            began = time.perf_counter()
            applied = router.apply(SPLITS[i % 2])
            spaced.append(time.perf_counter() - began)
            assert applied.verify_error is None, applied.verify_error
        for i in range(RUNS):
            began = time.perf_counter()
            router.apply(SPLITS[i % 2])
            back_to_back.append(time.perf_counter() - began)
        executor = Executor(AuditLog(folder / "audit.jsonl"))
        rollbacks = []
        for _ in range(10):
            router.apply(SPLITS[1])
            time.sleep(0.3)
            began = time.perf_counter()
            done = asyncio.run(executor.execute(Rollback(router, "blue"), always))
            rollbacks.append(time.perf_counter() - began)
            assert done.ok, done.message
        router.apply(SPLITS[1])
        time.sleep(0.3)
        (folder / "shared").mkdir()
        env = {**os.environ, "XDG_STATE_HOME": str(folder / "state"),
               "INFERDECK_SHARED_DIR": str(folder / "shared")}  # fmt: skip
        began = time.perf_counter()
        once = subprocess.run(cli(folder, "rollback", "--yes"), capture_output=True, text=True,
                              cwd=REPO, env=env, check=False)  # fmt: skip
        whole = time.perf_counter() - began
        assert once.returncode == 0, once.stderr
        router.apply({"blue": 100.0})
        preempting = [rollback_during_rollout(folder, router, env) for _ in range(PREEMPT_RUNS)]
    finally:
        lab("down", "--dir", str(folder))
        shutil.rmtree(folder, ignore_errors=True)
    print("traffic change on the lab's nginx (apply → verified reload → read back → GET)")
    print(f"  apply, spaced 0.3 s        {ms(spaced)}   target < 500 ms")
    print(f"  apply, back to back        {ms(back_to_back)}")
    print(f"  rollback via the executor  {ms(rollbacks)}   target < 1000 ms")
    print(
        f"  `traffic rollback --yes`   {whole * 1000:6.1f} ms  (a whole process, imports included)"
    )
    print(
        f"  rollback during a rollout  {ms(preempting)}   target < 2000 ms "
        "(a whole process preempting another's rollout)"
    )


if __name__ == "__main__":
    main()
