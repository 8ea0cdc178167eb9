"""``python -m tui.sim [flags]`` runs the simulator; ``python -m tui.sim fault BACKEND KIND``
injects a fault into a running one."""

from __future__ import annotations

import argparse
import sys

from tui.sim.cli import add_fault_arguments, add_sim_arguments, run_fault, run_sim


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the simulator or the fault command."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["fault"]:
        parser = argparse.ArgumentParser(prog="python -m tui.sim fault")
        add_fault_arguments(parser)
        return run_fault(parser.parse_args(argv[1:]))
    parser = argparse.ArgumentParser(prog="python -m tui.sim")
    add_sim_arguments(parser)
    return run_sim(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
