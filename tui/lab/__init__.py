"""The lab: a real local stack around the simulator (``inferdeck lab up|down|status``).

Simulated backends (processes, or containers in a private podman), nginx in front of them
with an inferdeck-owned upstream file, Prometheus with the shipped alert rules,
Alertmanager, and a load generator through nginx: all on loopback, on free ports, from
the machine's own binaries, stopped by PID. Never imports Textual.

Public API: `add_lab_arguments` and `run_lab` (the CLI), `Lab`/`LabOptions`/`LabError`
(``tui.lab.stack``), `render_upstream`/`parse_upstream`/`write_atomic` (``tui.lab.nginx``).
"""

from tui.lab.cli import add_lab_arguments, run_lab

__all__ = ["add_lab_arguments", "run_lab"]
