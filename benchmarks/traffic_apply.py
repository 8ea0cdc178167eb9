"""Time a traffic change on a real nginx (the lab's, started with ``--rps 0``).

* apply: render, atomic write, ``nginx -t``, reload, new workers seen, read back, GET the
  verify URL through nginx; the median of 20 applies (spaced 0.3 s apart, as an operator
  would, and back to back: nginx's master sleeps 100 ms after a reload, so a reload
  arriving meanwhile waits);
* rollback: the `Rollback` action through the executor (lock, audit intent and result,
  apply), the median of 10; and ``inferdeck traffic rollback --yes`` as a whole process.

Targets: apply under 0.5 s, rollback under 1 s.
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
from tui.ops.traffic.weights import Rollback  # noqa: E402

RUNS = 20
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
        env = {**os.environ, "XDG_STATE_HOME": str(folder / "state")}
        began = time.perf_counter()
        cli = subprocess.run(
            [
                sys.executable,
                "-m",
                "tui.commands",
                "traffic",
                "rollback",
                "--yes",
                "-c",
                str(folder / "inferdeck.yaml"),
            ],
            capture_output=True,
            text=True,
            cwd=REPO,
            env=env,
            check=False,
        )
        whole = time.perf_counter() - began
        assert cli.returncode == 0, cli.stderr
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


if __name__ == "__main__":
    main()
