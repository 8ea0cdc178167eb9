"""nginx for the lab: the inferdeck-owned upstream include file and the server config.

`render_upstream` is the one place an ``upstream`` block is written, for the lab and for
traffic shifting: each pool's percentage is spread over its servers as integer weights
(reduced by their common divisor), and a pool at 0 % is written with ``down`` because
nginx refuses ``weight=0``. The first line records the pool weights
(``# inferdeck-weights: blue=100 green=0``) and each server line names its pool, so
`parse_upstream` reads the file back. `write_atomic` replaces a file so that a crash
leaves the old or the new content, never a torn one.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

UPSTREAM_NAME = "inferdeck_backends"
"""The name of the lab's ``upstream`` block."""

_WEIGHTS_LINE = "# inferdeck-weights:"
_SERVER = re.compile(
    r"^\s*server\s+(?P<addr>\S+?)(?P<params>(\s+[^;#]+)?);\s*#\s*pool=(?P<pool>\S+)"
)
_NAME = re.compile(r"^[A-Za-z0-9_]+$")


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
    per_server = server_weights(servers_by_pool, weights)
    shares = " ".join(f"{p}={_fmt(float(weights.get(p, 0.0)))}" for p in servers_by_pool)
    lines = [
        f"{_WEIGHTS_LINE} {shares}",
        "# Written by inferdeck; edits are replaced at the next traffic change.",
        f"upstream {name} {{",
    ]
    for pool, servers in servers_by_pool.items():
        for server in servers:
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
    for line in text.splitlines():
        if line.startswith(_WEIGHTS_LINE):
            for item in line[len(_WEIGHTS_LINE) :].split():
                pool, _, value = item.partition("=")
                weights[pool] = float(value)
        elif match := _SERVER.match(line):
            servers.setdefault(match["pool"], []).append(match["addr"])
    if not weights or not servers:
        raise ValueError("not an upstream file written by inferdeck")
    return Upstream(servers, weights)


def write_atomic(path: str | os.PathLike[str], text: str, backup: bool = False) -> None:
    """Replace ``path`` with ``text``: write beside it, fsync, rename, fsync the folder.

    With ``backup`` the previous content is kept as ``PATH.bak`` first.
    """
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    if backup and target.exists():
        shutil.copy2(target, target.with_name(target.name + ".bak"))
    try:
        with tmp.open("w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class NginxLayout:
    """Where the lab's nginx keeps its files (all under ``root``)."""

    root: Path

    @property
    def conf(self) -> Path:
        """The main config (``nginx -c``)."""
        return self.root / "nginx.conf"

    @property
    def upstream(self) -> Path:
        """The inferdeck-owned include file with the ``upstream`` block."""
        return self.root / "upstream.conf"

    @property
    def pid_file(self) -> Path:
        """nginx's own pid file."""
        return self.root / "nginx.pid"

    @property
    def temp(self) -> Path:
        """Temporary files (request bodies, proxy buffers)."""
        return self.root / "tmp"


def render_nginx_conf(
    layout: NginxLayout,
    port: int,
    logs: Path,
    health_targets: Mapping[str, str],
    upstream: str = UPSTREAM_NAME,
    run_as_root: bool | None = None,
) -> str:
    """The lab's ``nginx.conf``: ``/v1/`` and ``/health`` through the upstream on ``port``.

    ``health_targets`` maps a backend name to its ``host:port``: each gets
    ``/lab/health/NAME``, proxied to that backend's ``/health`` (how Prometheus sees a
    backend's health through nginx). Run by root, the workers stay root so they can reach
    files under a private home directory (a loopback lab, not a production server).
    """
    if run_as_root is None:
        run_as_root = os.geteuid() == 0
    temp = layout.temp
    lines = [
        "# Written by inferdeck lab up.",
        *(["user root;"] if run_as_root else []),
        "worker_processes 1;",
        "daemon off;",
        f"pid {layout.pid_file};",
        f"error_log {logs / 'nginx-error.log'} warn;",
        "events { worker_connections 1024; }",
        "http {",
        f"    access_log {logs / 'nginx-access.log'};",
        f"    client_body_temp_path {temp / 'client_body'};",
        f"    proxy_temp_path {temp / 'proxy'};",
        f"    fastcgi_temp_path {temp / 'fastcgi'};",
        f"    uwsgi_temp_path {temp / 'uwsgi'};",
        f"    scgi_temp_path {temp / 'scgi'};",
        f"    include {layout.upstream};",
        "    server {",
        f"        listen 127.0.0.1:{port};",
        "        proxy_http_version 1.1;",
        '        proxy_set_header Connection "";',
        "        proxy_read_timeout 120s;",
        "        location /v1/ {",
        f"            proxy_pass http://{upstream};",
        "            proxy_buffering off;",
        "        }",
        "        location = /health {",
        f"            proxy_pass http://{upstream};",
        "        }",
    ]
    for name, target in health_targets.items():
        if not _NAME.match(name.replace("-", "_")):
            raise ValueError(f"bad backend name {name!r}")
        lines += [
            f"        location = /lab/health/{name} {{",
            f"            proxy_pass http://{target}/health;",
            "            proxy_connect_timeout 1s;",
            "            proxy_read_timeout 2s;",
            "        }",
        ]
    lines += ["    }", "}"]
    return "\n".join(lines) + "\n"


def nginx_argv(binary: str, layout: NginxLayout, logs: Path, *extra: str) -> list[str]:
    """``nginx -p ROOT -c CONF -e ERRORLOG [extra]``: nothing outside the lab's folder."""
    return [
        binary,
        "-p",
        f"{layout.root}/",
        "-c",
        str(layout.conf),
        "-e",
        str(logs / "nginx-error.log"),
        *extra,
    ]


def nginx_check(binary: str, layout: NginxLayout, logs: Path) -> str | None:
    """``nginx -t``: None when the config is valid, else nginx's message (one line)."""
    return _run_nginx(binary, layout, logs, ("-t", "-q"), first_line=True)


def nginx_reload(binary: str, layout: NginxLayout, logs: Path) -> str | None:
    """``nginx -s reload`` (new workers read the files; old ones finish their requests):
    None when nginx took the signal, else its message (one line)."""
    return _run_nginx(binary, layout, logs, ("-s", "reload"), first_line=False)


def _run_nginx(
    binary: str, layout: NginxLayout, logs: Path, args: tuple[str, ...], *, first_line: bool
) -> str | None:
    done = subprocess.run(
        nginx_argv(binary, layout, logs, *args),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if done.returncode == 0:
        return None
    lines = [ln for ln in (done.stderr + done.stdout).splitlines() if ln.strip()]
    if not lines:
        return f"nginx {' '.join(args)} exited {done.returncode}"
    return lines[0] if first_line else lines[-1]
