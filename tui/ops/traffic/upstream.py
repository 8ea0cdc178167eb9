"""The nginx upstream include file inferdeck owns: render, read back, replace atomically.

`render_upstream` is the one place an ``upstream`` block is written, for the lab and for
traffic shifting: each pool's percentage is spread over its servers as integer weights
(reduced by their common divisor), and a pool at 0 % is written with ``down`` because
nginx refuses ``weight=0``. The first line records the pool weights
(``# inferdeck-weights: blue=100 green=0``) and each server line names its pool, so
`parse_upstream` reads the file back. `write_atomic` replaces a file so that a crash
leaves the old or the new content, never a torn one. `run_nginx` runs one nginx command
and boils its output down to the one line an operator needs.
"""

from __future__ import annotations

import math
import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

_WEIGHTS_LINE = "# inferdeck-weights:"
_SERVER = re.compile(
    r"^\s*server\s+(?P<addr>\S+?)(?P<params>(\s+[^;#]+)?);\s*#\s*pool=(?P<pool>\S+)"
)
_NAME = re.compile(r"^[A-Za-z0-9_]+$")
_SERVER_ADDR = re.compile(r"^[^\s;{}#'\"]+$")  # one nginx token: no injection


def _fmt(value: float) -> str:
    return f"{value:g}"


def server_weights(
    servers_by_pool: Mapping[str, Sequence[str]], weights: Mapping[str, float]
) -> dict[str, int]:
    """Integer nginx weight of every server (0 for a server of a pool at 0 %).

    A pool's percentage is shared equally by its servers; the results are scaled to
    integers with a precision of 1/100 of a percent and divided by their common divisor,
    so blue=100 over two servers gives 1 and 1, and blue=90 (two) / green=10 (one) gives
    9, 9 and 2.
    """
    for pool, share in weights.items():
        if pool not in servers_by_pool:
            raise ValueError(f"weight for unknown pool {pool!r}")
        if not math.isfinite(share) or share < 0:
            raise ValueError(f"weight of pool {pool!r} must be a number >= 0, got {share!r}")
    raw: dict[str, int] = {}
    for pool, servers in servers_by_pool.items():
        if not servers:
            raise ValueError(f"pool {pool!r} has no servers")
        share = float(weights.get(pool, 0.0))
        for server in servers:
            if server in raw:
                raise ValueError(f"server {server} is listed twice")
            raw[server] = round(share * 100 / len(servers)) if share > 0 else 0
    if not any(raw.values()):
        raise ValueError("at least one pool needs a weight above 0")
    divisor = math.gcd(*(w for w in raw.values() if w))
    return {server: w // divisor for server, w in raw.items()}


def render_upstream(
    name: str, servers_by_pool: Mapping[str, Sequence[str]], weights: Mapping[str, float]
) -> str:
    """The text of an include file holding ``upstream NAME { ... }``.

    ``servers_by_pool`` maps a pool to its servers (``host:port``); ``weights`` maps a pool
    to its share (percent, or any relative number); pools not named get 0 and are
    written ``down``. Raises ValueError for an unknown pool, a negative weight, or
    all weights 0.
    """
    if not _NAME.match(name):
        raise ValueError(f"bad upstream name {name!r}: use letters, digits and _")
    for pool in servers_by_pool:
        if not _NAME.match(pool):
            raise ValueError(f"bad pool name {pool!r}: use letters, digits and _")
    per_server = server_weights(servers_by_pool, weights)
    shares = " ".join(f"{p}={_fmt(float(weights.get(p, 0.0)))}" for p in servers_by_pool)
    lines = [
        f"{_WEIGHTS_LINE} {shares}",
        "# Written by inferdeck; edits are replaced at the next traffic change.",
        f"upstream {name} {{",
    ]
    for pool, servers in servers_by_pool.items():
        for server in servers:
            if not _SERVER_ADDR.match(server):
                raise ValueError(f"bad server address {server!r} in pool {pool!r}")
            weight = per_server[server]
            params = f"weight={weight} max_fails=1 fail_timeout=2s" if weight else "down"
            lines.append(f"    server {server} {params};  # pool={pool}")
    lines.append("}")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Upstream:
    """What an upstream file says: its servers by pool and the pool weights."""

    servers_by_pool: dict[str, list[str]]
    weights: dict[str, float]


def parse_upstream(text: str) -> Upstream:
    """Read back a file written by `render_upstream`; ValueError when it is not one."""
    weights: dict[str, float] = {}
    servers: dict[str, list[str]] = {}
    closed = False
    for line in text.splitlines():
        if line.startswith(_WEIGHTS_LINE):
            for item in line[len(_WEIGHTS_LINE) :].split():
                pool, _, value = item.partition("=")
                try:
                    weights[pool] = float(value)
                except ValueError:
                    raise ValueError(f"bad weight {item!r} in the weights line") from None
        elif match := _SERVER.match(line):
            servers.setdefault(match["pool"], []).append(match["addr"])
        elif line.strip() == "}":
            closed = True
    if not weights or not servers or not closed:
        raise ValueError("not a (whole) upstream file written by inferdeck")
    return Upstream(servers, weights)


_NOISE = ("could not open error log file", "signal process started")
_LOG_PREFIX = re.compile(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d (\[\w+\]) \d+#\d+: (?:\*\d+ )?")


def nginx_message(output: str, returncode: int, what: str) -> str:
    """nginx's complaint in one line: its first ``[emerg]`` line, else its first real line.

    A log-formatted line (``2024/01/01 12:00:00 [emerg] 12#12: ...``, as ``-e stderr``
    prints them) is shortened to ``nginx: [emerg] ...``.
    """
    lines = [_LOG_PREFIX.sub(r"nginx: \1 ", " ".join(ln.split()))
             for ln in output.splitlines() if ln.strip()]  # fmt: skip
    useful = [ln for ln in lines if not any(noise in ln for noise in _NOISE)]
    for level in ("[emerg]", "[crit]", "[error]", "[alert]"):
        found = next((ln for ln in useful if level in ln), None)
        if found:
            return found
    if useful:
        return useful[0]
    return f"{what} exited {returncode}"


def run_nginx(argv: Sequence[str], timeout_s: float = 30.0) -> str | None:
    """Run one nginx command: None when it exits 0, else nginx's message (one line)."""
    try:
        done = subprocess.run(
            list(argv), capture_output=True, text=True, timeout=timeout_s, check=False
        )
    except FileNotFoundError:
        return f"{argv[0]}: not found"
    except subprocess.TimeoutExpired:
        return f"{' '.join(argv)}: no answer within {timeout_s:g}s"
    if done.returncode == 0:
        return None
    return nginx_message(done.stderr + done.stdout, done.returncode, " ".join(argv[:1]))
