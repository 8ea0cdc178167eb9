"""Time from `inferdeck demo` to the first full frame, in a 120x40 tmux pane.

A full frame: the overall state is known and every backend row shows a health value.
Prints the median of five runs, and each run.
"""

from __future__ import annotations

import re
import statistics

from _tmux import INFERDECK, Pane

RUNS = 5


def full_frame(screen: str) -> bool:
    """The header has a state and three backend rows say up/DOWN."""
    return (
        bool(re.search(r"\b(OK|DEGRADED|DOWN)\b", screen))
        and len(re.findall(r"(blue|green)-\d .*\b(up|DOWN)\b", screen)) >= 3
    )


def main() -> None:
    times = []
    for _ in range(RUNS):
        pane = Pane(f"{INFERDECK} demo")
        try:
            times.append(pane.wait_for(full_frame, timeout=30))
        finally:
            pane.close()
    print("time from `inferdeck demo` to the first full frame (120x40 tmux)")
    print(
        f"  median {statistics.median(times):.2f}s  runs: {', '.join(f'{t:.2f}s' for t in times)}"
    )
    print("  (a full frame needs two scrapes one refresh apart: rates need two samples)")


if __name__ == "__main__":
    main()
