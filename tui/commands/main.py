"""The command line's parser and dispatch: parse arguments, then call the command's module.

One module per command family lives beside this one; `tui.commands.registry` lists them,
and a new command is one entry there plus its module. Only the module of the command being
run is imported. No logic of its own, but for holding off Python's cycle collector while the
program starts (`main`).

Common flags (``-c``, ``--read-only``, ``--yes``, ``--json``, ``--theme``, ``--refresh``,
``--debug``) are accepted before or after the subcommand. Exit codes: 0 success, 1 the
action failed, 2 usage or configuration error. Errors are one line unless ``--debug``.
"""

from __future__ import annotations

import argparse
import gc
import sys
import traceback
from collections.abc import Sequence

from tui import tls_on_demand
from tui.commands.registry import COMMANDS, Command, command_in


def _common(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """Add the common flags; on subcommands they default to SUPPRESS so either place works."""

    def default(value: object) -> object:
        return argparse.SUPPRESS if suppress else value

    parser.add_argument(
        "-c",
        "--config",
        metavar="FILE",
        default=default(None),
        help="config file (else $INFERDECK_CONFIG, ./inferdeck.yaml, "
        "$XDG_CONFIG_HOME/inferdeck/config.yaml)",
    )
    parser.add_argument(
        "--read-only", action="store_true", default=default(False), help="no action can run"
    )
    parser.add_argument(
        "--yes", action="store_true", default=default(False), help="do not ask for confirmation"
    )
    parser.add_argument(
        "--json", action="store_true", default=default(False), help="print data as JSON"
    )
    parser.add_argument(
        "--theme",
        metavar="NAME",
        default=default(None),
        help="inferdeck-dark (default), inferdeck-light, inferdeck-high-contrast, "
        "inferdeck-colorblind or inferdeck-mono (the default under NO_COLOR)",
    )
    parser.add_argument(
        "--refresh",
        metavar="SECONDS",
        type=float,
        default=default(None),
        help="seconds between screen refreshes",
    )
    parser.add_argument(
        "--debug", action="store_true", default=default(False), help="show tracebacks"
    )
    parser.add_argument(
        "--context",
        metavar="NAME",
        default=default(None),
        help="which environment of the config (its contexts:, e.g. prod-us, staging)",
    )


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The command line. Every command is listed; only the one ``argv`` names (every one
    when ``argv`` is None) gets its arguments, so starting one command does not import the
    modules of all the others."""
    parser = argparse.ArgumentParser(
        prog="inferdeck",
        description="The on-call console for self-hosted LLM inference.",
    )
    _common(parser, suppress=False)
    parser.add_argument("--wall", action="store_true", help="NOC wall: read-only, cycling views")
    parser.add_argument(  # the dashboard's; `demo` takes it too (tui.commands.dashboard)
        "--no-record", action="store_true", help="do not record what the dashboard shows"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    wanted = None if argv is None else command_in(argv)
    for name, command in COMMANDS.items():
        sub = commands.add_parser(name, help=command.help)
        _common(sub, suppress=True)
        if argv is None or name == wanted:
            _add_arguments(sub, command)
    return parser


def _add_arguments(parser: argparse.ArgumentParser, command: Command) -> None:
    """Import the command's module and let it add its arguments."""
    if command.add is None:
        return
    add = getattr(command.module(), command.add)
    if command.nested:  # its subcommands take the common flags too
        add(parser, common=lambda p: _common(p, suppress=True))
    else:
        add(parser)


APP_FIRST = frozenset({"demo"})
"""Commands (besides the dashboard itself) that open the dashboard at once: the cycle
collector stays off until its first frame (see `main`)."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``inferdeck`` console script.

    Start-up makes ~100,000 objects that live as long as the process (modules, classes, the
    screens) and Python's cycle collector would scan them again and again while they are
    made: it is off until the dashboard's first frame (`tui.app.collect_from_now_on` turns
    it back on), or until any other command starts its work.

    asyncio is imported first, without OpenSSL, which loads when something asks for TLS
    (`tui.tls_on_demand`): ~4 MB a dashboard of ``http://`` targets never uses.
    """
    tls_on_demand.defer()
    gc.disable()
    try:
        return _main(list(sys.argv[1:] if argv is None else argv))
    finally:
        gc.enable()


def _main(argv: list[str]) -> int:
    args = build_parser(argv).parse_args(argv)
    from tui.config import ConfigError  # after parsing: `--help` needs none of the engine
    from tui.wiring import StartError

    try:
        return _dispatch(args)
    except (ConfigError, StartError) as exc:
        _error(str(exc), args)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        _error(f"{type(exc).__name__}: {exc}", args)
        return 1


def _dispatch(args: argparse.Namespace) -> int:
    if not args.command:  # no command: the dashboard on the config
        from tui.commands.dashboard import run_dashboard

        return run_dashboard(args)
    if args.command not in APP_FIRST:
        gc.enable()
    command = COMMANDS[args.command]
    run = command.run
    if args.command == "sim" and getattr(args, "sim_command", None) == "fault":
        run = "run_fault"
    return int(getattr(command.module(), run)(args))


def _error(message: str, args: argparse.Namespace) -> None:
    from tui.commands.common import error

    if getattr(args, "debug", False):
        traceback.print_exc()
    error(message)


if __name__ == "__main__":
    sys.exit(main())
