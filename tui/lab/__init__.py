"""The lab: a real local stack around the simulator (``inferdeck lab up|down|status``).

Simulated backends (processes, or containers in a private podman), nginx in front of them
with an inferdeck-owned upstream file, Prometheus with the shipped alert rules,
Alertmanager, and a load generator through nginx: all on loopback, on free ports, from
the machine's own binaries, stopped by PID. Never imports Textual. Its command line is
`tui.commands.lab`; `Lab`/`LabOptions`/`LabError` live in ``tui.lab.stack``.
"""
