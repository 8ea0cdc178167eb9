"""The config's optional ``loadtest:`` section: where the operator's scenarios are, which
targets are known, and the caps no run may pass::

    loadtest:
      scenarios_dir: loadtests/     # the operator's own scenarios (beside the config)
      targets: [http://llm.internal:8080]   # besides the backends and nginx's verify_url
      max_users: 200                # no scenario may ask for more concurrent streams
      max_rate: 200                 # ... or more requests per second
      max_duration: 8h              # ... or run longer
      per_user_rps: 1               # rate scenarios: the most one Locust user sends
      request_timeout: 60s
      grace: 10s                    # requests in flight may finish this long at the end

`tui.config` keeps the section as its raw YAML node; this module validates it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import yaml

from tui.config import (
    Config,
    ConfigError,
    _beside_config,
    _mapping,
    _positive,
    _scalar,
    _sequence,
    _url,
    _where,
)
from tui.ops.alerts.silences import parse_duration


@dataclass(frozen=True, slots=True)
class LoadtestConfig:
    """Validated ``loadtest:`` settings (defaults without a section)."""

    scenarios_dir: str | None = None
    targets: tuple[str, ...] = ()
    max_users: float = 200.0
    max_rate: float = 200.0
    max_duration_s: float = 8 * 3600.0
    per_user_rps: float = 1.0
    request_timeout_s: float = 60.0
    grace_s: float = 10.0


def loadtest_config(config: Config | None) -> LoadtestConfig:
    """The ``loadtest:`` section of ``config``, validated (defaults when absent)."""
    if config is None or config.loadtest is None:
        return LoadtestConfig()
    path = config.path or "<config>"
    node = config.loadtest

    def seconds(key: str) -> Callable[[yaml.Node], float]:
        def parse(n: yaml.Node) -> float:
            try:
                return parse_duration(str(_scalar(path, n, str, key)))
            except ValueError as exc:
                raise ConfigError(f"{_where(path, n)}: '{key}': {exc}") from None

        return parse

    def folder(n: yaml.Node) -> str:
        value = Path(_beside_config(path, str(_scalar(path, n, str, "scenarios_dir"))))
        if not value.is_dir():
            raise ConfigError(f"{_where(path, n)}: scenarios_dir {value} is not a folder")
        return str(value)

    fields = _mapping(
        path, node, "loadtest",
        {
            "scenarios_dir": folder,
            "targets": lambda n: _sequence(path, n, "targets", lambda i: _url(path, i, "targets")),
            "max_users": lambda n: _positive(path, n, "max_users"),
            "max_rate": lambda n: _positive(path, n, "max_rate"),
            "max_duration": seconds("max_duration"),
            "per_user_rps": lambda n: _positive(path, n, "per_user_rps"),
            "request_timeout": seconds("request_timeout"),
            "grace": seconds("grace"),
        },
    )  # fmt: skip
    renamed = {"max_duration": "max_duration_s", "request_timeout": "request_timeout_s",
               "grace": "grace_s"}  # fmt: skip
    return LoadtestConfig(**{renamed.get(k, k): v for k, v in fields.items()})


def is_loopback(url: str) -> bool:
    """True when ``url``'s host is this machine (127.0.0.0/8, ::1, localhost)."""
    host = (urlparse(url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def known_targets(config: Config | None, settings: LoadtestConfig) -> set[str]:
    """The URLs a load test may hit without asking: the backends, nginx, the listed ones."""
    found = {t.rstrip("/") for t in settings.targets}
    if config is not None:
        found |= {b.url.rstrip("/") for b in config.backends}
        nginx = config.traffic.nginx if config.traffic else None
        if nginx is not None and nginx.verify_url:
            parts = urlparse(nginx.verify_url)
            found.add(f"{parts.scheme}://{parts.netloc}")
    return found


def default_target(config: Config | None, settings: LoadtestConfig) -> str | None:
    """Where a load test goes without ``--target``: nginx, else the first listed target,
    else the first backend."""
    if config is not None and config.traffic and config.traffic.nginx:
        verify = config.traffic.nginx.verify_url
        if verify:
            parts = urlparse(verify)
            return f"{parts.scheme}://{parts.netloc}"
    if settings.targets:
        return settings.targets[0]
    if config is not None and config.backends:
        return config.backends[0].url
    return None


def check_caps(peak: float, load: str, duration_s: float, settings: LoadtestConfig) -> None:
    """`ConfigError` when a run would pass the configured caps (the message names them)."""
    cap = settings.max_users if load == "users" else settings.max_rate
    unit = "users" if load == "users" else "requests/s"
    if peak > cap:
        raise ConfigError(
            f"the run asks for {peak:g} {unit}, over the cap of {cap:g} "
            f"(loadtest.max_{'users' if load == 'users' else 'rate'} in the config)"
        )
    if duration_s > settings.max_duration_s:
        raise ConfigError(
            f"the run lasts {duration_s:g}s, over the cap of {settings.max_duration_s:g}s "
            "(loadtest.max_duration in the config)"
        )
