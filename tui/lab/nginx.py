"""nginx for the lab: the server config, and the upstream include file inferdeck owns.

The upstream file's rendering, reading back and atomic replacement live in
`tui.ops.traffic.upstream` (traffic shifting uses them too) and are re-exported here:
`render_upstream`, `parse_upstream`, `write_atomic`, `server_weights`, `Upstream`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tui.ops.files import write_atomic
from tui.ops.traffic.upstream import (
    Upstream,
    parse_upstream,
    render_upstream,
    run_nginx,
    server_weights,
)

__all__ = [
    "UPSTREAM_NAME",
    "NginxLayout",
    "Upstream",
    "nginx_argv",
    "nginx_check",
    "nginx_reload",
    "parse_upstream",
    "render_nginx_conf",
    "render_upstream",
    "server_weights",
    "write_atomic",
]

UPSTREAM_NAME = "inferdeck_backends"
"""The name of the lab's ``upstream`` block."""

_NAME = re.compile(r"^[A-Za-z0-9_]+$")


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
    return run_nginx(nginx_argv(binary, layout, logs, "-t", "-q"))


def nginx_reload(binary: str, layout: NginxLayout, logs: Path) -> str | None:
    """``nginx -s reload`` (new workers read the files; old ones finish their requests):
    None when nginx took the signal, else its message (one line)."""
    return run_nginx(nginx_argv(binary, layout, logs, "-s", "reload"))
