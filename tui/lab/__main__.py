"""``python -m tui.lab up|down|status``: the lab without the ``inferdeck`` console script."""

from __future__ import annotations

import argparse
import sys

from tui.lab.cli import add_lab_arguments, run_lab


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the lab subcommand."""
    parser = argparse.ArgumentParser(prog="python -m tui.lab")
    add_lab_arguments(parser)
    return run_lab(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
