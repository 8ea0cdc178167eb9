"""How close the load-test engine (Locust, `tui.loadtest`) keeps to the rate it is asked.

Against the simulator on loopback (its own load off), a ``rate`` scenario holds each
asked rate for ``SECONDS``; the table gives the requests that ended per second against
the asked rate, the Locust users it took, and the client's TTFT p95 (so a rate missed
because the server was slow is told apart from one missed by the engine). Short
requests (16 prompt, 8 output tokens) keep the server out of the way.

    python benchmarks/loadtest_rate.py [SECONDS] [RATE ...]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tui.analysis.slo import STANDARD  # noqa: E402
from tui.loadtest.drill import drill  # noqa: E402
from tui.loadtest.run import RunSettings  # noqa: E402
from tui.loadtest.scenario import parse_scenario  # noqa: E402
from tui.loadtest.shape import users_for  # noqa: E402
from tui.sim import SimConfig, SimRuntime  # noqa: E402


def main() -> None:
    """Print asked against achieved, one row per rate."""
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 15.0
    rates = [float(r) for r in sys.argv[2:]] or [5.0, 20.0, 50.0, 100.0]
    per_user = 2.0
    runtime = SimRuntime(SimConfig(port_base=0, load=False, gpus=0, pools={"blue": 4}))
    runtime.start()
    try:
        target = runtime.description["backends"][0]["url"]
        print(f"{'asked/s':>8} {'achieved/s':>11} {'ratio':>6} {'users':>6} {'ttft p95':>9}"
              f" {'errors':>7}")  # fmt: skip
        for rate in rates:
            scenario = parse_scenario(
                f"name: r\nload: rate\nstages: [{{duration: {seconds:g}s, target: {rate:g}}}]\n"
                "request: {prompt_tokens: 16, output_tokens: 8}\n"
            )
            folder = Path(tempfile.mkdtemp(prefix="inferdeck-rate-"))
            settings = RunSettings(scenario, target, "", folder / "r.jsonl", per_user_rps=per_user)
            report = drill(settings, STANDARD, {"b": target})
            achieved = report.requests / seconds
            ttft = report.ttft.get("p95")
            print(f"{rate:8.1f} {achieved:11.2f} {achieved / rate:6.2f} "
                  f"{users_for('rate', rate, per_user):6d} "
                  f"{'-' if ttft is None else f'{ttft * 1000:.0f}ms':>9} "
                  f"{report.requests - report.ok:7d}")  # fmt: skip
    finally:
        runtime.stop()


if __name__ == "__main__":
    main()
