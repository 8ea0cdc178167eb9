"""YAML configuration → validated, typed config.

Every error names the file and line: ``inferdeck: error: FILE:LINE: what is wrong``.
Secrets never live in the YAML: a backend's token comes from an environment variable
(``token_env``) or a file (``token_file``); a literal ``token:`` key is refused.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import yaml

from tui.analysis.slo import TIERS
from tui.sources._http_auth import Credentials, CredentialsError

if TYPE_CHECKING:
    from tui.config_judgement import CapacityConfig, CostConfig, ModelsConfig, SloConfig

DEFAULT_LOCATIONS = (
    Path("inferdeck.yaml"),
    Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config")) / "inferdeck" / "config.yaml",
)


THEME_NAMES = (
    "inferdeck-dark",
    "inferdeck-light",
    "inferdeck-high-contrast",
    "inferdeck-colorblind",
    "inferdeck-mono",
)
"""The shipped themes, by name (`themes.THEMES` needs Textual; a test keeps the two equal)."""


class ConfigError(Exception):
    """A configuration problem, already phrased as ``FILE:LINE: what is wrong``."""


def check_theme(name: str, where: str = "--theme") -> str:
    """``name`` when it is a shipped theme; else a `ConfigError` at ``where`` listing them."""
    if name not in THEME_NAMES:
        raise ConfigError(
            f"{where}: unknown theme {name!r}; choose one of {', '.join(THEME_NAMES)}"
        )
    return name


@dataclass(frozen=True, slots=True)
class BackendConfig:
    """One inference server to watch."""

    name: str
    pool: str
    url: str
    model: str = ""
    token_env: str | None = None
    token_file: str | None = None
    max_num_seqs: int | None = None  # the engine's --max-num-seqs (capacity's in-flight check)
    engine: str = ""  # vllm, sglang, tgi or llamacpp; "" = detected from its /metrics

    @property
    def credentials(self) -> Credentials | None:
        """Where the bearer token comes from (read at each scrape), or None without one."""
        if self.token_env or self.token_file:
            return Credentials(token_env=self.token_env, token_file=self.token_file)
        return None


@dataclass(frozen=True, slots=True)
class ScrapeConfig:
    """Settings of the direct-scrape source."""

    interval_s: float = 1.0
    window_s: float = 60.0
    timeout_s: float = 2.0
    gpu_exporters: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PrometheusConfig:
    """The prometheus source: PromQL over the whole fleet."""

    url: str
    interval_s: float = 5.0
    pool_label: str = "pool"
    name_label: str = "backend"  # target label holding the backend's name; else `instance`
    window: str = "1m"
    timeout_s: float = 5.0
    token_env: str | None = None
    token_file: str | None = None
    basic_auth_env: str | None = None  # "user:password" in this environment variable
    verify_tls: bool = True
    ca_file: str | None = None


@dataclass(frozen=True, slots=True)
class AlertmanagerConfig:
    """The alertmanager source: alerts and silences (API v2)."""

    url: str
    interval_s: float = 5.0
    timeout_s: float = 5.0
    token_env: str | None = None
    token_file: str | None = None
    basic_auth_env: str | None = None
    verify_tls: bool = True
    ca_file: str | None = None
    ack_duration_s: float = 3600.0  # how long an acknowledgement (silence) lasts by default


@dataclass(frozen=True, slots=True)
class NvmlConfig:
    """The nvml source: GPUs of the machine inferdeck runs on."""

    enabled: bool = True
    interval_s: float = 2.0


@dataclass(frozen=True, slots=True)
class DockerConfig:
    """The docker source: the stack's containers, through Docker's or podman's socket."""

    url: str = "unix:///var/run/docker.sock"
    interval_s: float = 5.0
    compose_project: str | None = None  # containers with this com.docker.compose.project label
    name_patterns: tuple[str, ...] = ()  # or whose names match one of these globs
    log_lines: int = 200


@dataclass(frozen=True, slots=True)
class SourcesConfig:
    """Which sources run, and how."""

    scrape: ScrapeConfig = field(default_factory=ScrapeConfig)
    prometheus: PrometheusConfig | None = None
    alertmanager: AlertmanagerConfig | None = None
    nvml: NvmlConfig | None = None
    docker: DockerConfig | None = None


@dataclass(frozen=True, slots=True)
class NginxRouterConfig:
    """The nginx router: inferdeck owns one include file holding the `upstream` block."""

    upstream_file: str
    servers: Mapping[str, tuple[str, ...]]  # pool -> host:port of its backends
    upstream_name: str = "vllm"
    binary: str = "nginx"
    conf: str | None = None  # nginx -c (the main config that includes upstream_file)
    prefix: str | None = None  # nginx -p
    reload_command: tuple[str, ...] = ()  # argv; default: nginx [-c conf] [-p prefix] -s reload
    verify_url: str | None = None  # after a reload, GET this through nginx to check it serves


@dataclass(frozen=True, slots=True)
class TrafficConfig:
    """How traffic is split between pools, and the rollout defaults."""

    router: str = "nginx"  # nginx | sim
    stable_pool: str = "blue"
    canary_pool: str = "green"
    nginx: NginxRouterConfig | None = None
    sim_control: str | None = None  # the simulator's control URL (router: sim)
    rollout_steps: tuple[float, ...] = (10.0, 50.0, 100.0)
    rollout_hold_s: float = 60.0


WALL_VIEWS = ("fleet", "backends", "gpus", "alerts")
"""What the NOC wall (``--wall``) can cycle through: headline figures, backends, GPUs, alerts."""


@dataclass(frozen=True, slots=True)
class WallConfig:
    """The NOC wall: which views it cycles through, and how long each stays."""

    views: tuple[str, ...] = WALL_VIEWS
    cycle_s: float = 20.0


def _wall(path: str, node: yaml.Node) -> WallConfig:
    fields = _section(path, node, "wall", {"views": "globs", "cycle_s": "positive"})
    views = tuple(fields.get("views", WALL_VIEWS))
    unknown = [v for v in views if v not in WALL_VIEWS]
    if unknown or not views:
        where = next((_where(path, v) for k, v in node.value if k.value == "views"),
                     _where(path, node))  # fmt: skip
        raise ConfigError(
            f"{where}: wall views must be some of {', '.join(WALL_VIEWS)}"
            + (f" (not {', '.join(map(repr, unknown))})" if unknown else "")
        )
    return WallConfig(views=views, cycle_s=float(fields.get("cycle_s", 20.0)))


@dataclass(frozen=True, slots=True)
class Config:
    """The whole, validated configuration."""

    path: str | None = None
    environment: str = "default"
    slo_tier: str = "standard"
    refresh_s: float = 1.0
    theme: str = "inferdeck-dark"
    history_points: int = 300
    read_only: bool = False
    backends: tuple[BackendConfig, ...] = ()
    sources: SourcesConfig = field(default_factory=SourcesConfig)
    keys: Mapping[str, str] = field(default_factory=dict)  # binding id -> key(s), "a,b"
    key_lines: Mapping[str, str] = field(default_factory=dict)  # binding id -> "FILE:LINE"
    state_dir: str | None = None  # default $XDG_STATE_HOME/inferdeck
    audit_log: str | None = None  # default: the shared folder's, else STATE_DIR/audit.jsonl
    lock_file: str | None = None  # default: the shared folder's, else STATE_DIR/mutation.lock
    runbooks_dir: str | None = None  # the operator's own runbooks, beside the shipped ones
    traffic: TrafficConfig | None = None
    wall: WallConfig = field(default_factory=WallConfig)
    # judging the fleet (tui.config_judgement): SLO window, capacity, cost, model inventory
    slo: SloConfig | None = None
    capacity: CapacityConfig | None = None
    cost: CostConfig | None = None
    models: ModelsConfig | None = None
    # the raw `incidents:` section; tui.incidents.config validates it (FILE:LINE errors)
    incidents: yaml.Node | None = field(default=None, compare=False, repr=False)
    # the raw `recording:` section; tui.recording.config validates it (FILE:LINE errors)
    recording: yaml.Node | None = field(default=None, compare=False, repr=False)
    # drills: the raw `loadtest:` and `autopilot:` sections, validated by tui.loadtest.config
    # and tui.ops.autopilot.config (FILE:LINE errors)
    loadtest: yaml.Node | None = field(default=None, compare=False, repr=False)
    autopilot: yaml.Node | None = field(default=None, compare=False, repr=False)
    # contexts (`contexts:`, see the block at the end): several environments in one file
    production: bool = False  # every action asks for a typed confirmation
    contexts: Mapping[str, Config] = field(default_factory=dict, compare=False, repr=False)
    context: str | None = None  # the name of the context this config is, when it is one

    @property
    def scrape(self) -> ScrapeConfig:
        """The scrape source's settings (always present; idle without backends)."""
        return self.sources.scrape


# --- validation -------------------------------------------------------------------------


def _where(path: str, node: yaml.Node) -> str:
    return f"{path}:{node.start_mark.line + 1}"


def _scalar(path: str, node: yaml.Node, kind: type, key: str) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        raise ConfigError(f"{_where(path, node)}: '{key}' must be a {kind.__name__}")
    value = yaml.safe_load(yaml.serialize(node))
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if kind is str and value is not None and not isinstance(value, str):
        value = str(value)
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        shown = "nothing" if value is None else f"{type(value).__name__} {value!r}"
        raise ConfigError(f"{_where(path, node)}: '{key}' must be a {kind.__name__}, not {shown}")
    return value


def _positive(path: str, node: yaml.Node, key: str) -> float:
    value = float(_scalar(path, node, float, key))
    if value <= 0:
        raise ConfigError(f"{_where(path, node)}: '{key}' must be greater than 0")
    return value


def _url(path: str, node: yaml.Node, key: str) -> str:
    value = str(_scalar(path, node, str, key))
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ConfigError(
            f"{_where(path, node)}: '{key}' must be an http(s) URL with a host, not {value!r}"
        )
    try:
        parsed.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise ConfigError(f"{_where(path, node)}: '{key}' has a bad port: {value!r}") from None
    return value.rstrip("/")


def _mapping(
    path: str, node: yaml.Node, what: str, allowed: Mapping[str, Callable[[yaml.Node], Any]]
) -> dict[str, Any]:
    if not isinstance(node, yaml.MappingNode):
        raise ConfigError(f"{_where(path, node)}: {what} must be a mapping of key: value")
    out: dict[str, Any] = {}
    for key_node, value_node in node.value:
        key = str(key_node.value)
        if key == "token":
            raise ConfigError(
                f"{_where(path, key_node)}: tokens are not kept in the config file;"
                " use token_env (an environment variable) or token_file"
            )
        if key not in allowed:
            known = ", ".join(sorted(allowed))
            raise ConfigError(f"{_where(path, key_node)}: unknown key '{key}' in {what} ({known})")
        if key in out:
            raise ConfigError(f"{_where(path, key_node)}: '{key}' is given twice")
        out[key] = allowed[key](value_node)
    return out


def _engine(path: str, node: yaml.Node) -> str:
    """A backend's ``engine:``: one of the known engines, else an error at its line."""
    from tui.sources.engines import ENGINE_NAMES

    value = str(_scalar(path, node, str, "engine")).strip().lower()
    if value not in ENGINE_NAMES:
        raise ConfigError(
            f"{_where(path, node)}: unknown engine {value!r}; choose one of"
            f" {', '.join(ENGINE_NAMES)}"
        )
    return value


def _backend(path: str, node: yaml.Node) -> BackendConfig:
    def text(k: str) -> Callable[[yaml.Node], Any]:
        return lambda n: _scalar(path, n, str, k)

    fields = _mapping(
        path,
        node,
        "a backend",
        {
            "name": text("name"),
            "pool": text("pool"),
            "url": lambda n: _url(path, n, "url"),
            "model": text("model"),
            "token_env": text("token_env"),
            "token_file": text("token_file"),
            "max_num_seqs": lambda n: int(_positive(path, n, "max_num_seqs")),
            "engine": lambda n: _engine(path, n),
        },
    )
    for required in ("name", "pool", "url"):
        if required not in fields:
            raise ConfigError(f"{_where(path, node)}: a backend needs '{required}'")
    return BackendConfig(**_credentials(path, node, fields, f"backend '{fields['name']}'"))


_CREDENTIAL_KEYS = ("token_env", "token_file", "basic_auth_env")


def _credentials(path: str, node: yaml.Node, fields: dict[str, Any], what: str) -> dict[str, Any]:
    """Check a section's credentials now, so a missing secret stops inferdeck at start.

    ``token_file`` is made absolute (``~`` expanded, a relative one beside the config
    file); every configured secret must be readable. Secrets are still read again at
    each request, so a rotated token file is picked up.
    """
    if fields.get("token_env") and fields.get("token_file"):
        raise ConfigError(
            f"{_where(path, _key_node(node, 'token_file'))}: {what}: give token_env or"
            " token_file, not both"
        )
    if fields.get("token_file"):
        fields["token_file"] = _beside_config(path, fields["token_file"])
    for key in _CREDENTIAL_KEYS:
        if not fields.get(key):
            continue
        credentials = Credentials(**{key: fields[key]})
        try:
            credentials.bearer_token()
            credentials.basic_auth()
        except CredentialsError as exc:
            raise ConfigError(
                f"{_where(path, _key_node(node, key))}: {what}: {key}: {exc}"
            ) from None
    return fields


def _key_node(node: yaml.Node, key: str) -> yaml.Node:
    """The node of ``key`` in a mapping node (for its line); the mapping itself if absent."""
    if isinstance(node, yaml.MappingNode):
        return next((k for k, _ in node.value if str(k.value) == key), node)
    return node


def _beside_config(path: str, value: str) -> str:
    """``value`` as a path: ``~`` expanded, a relative one taken beside the config file."""
    found = Path(value).expanduser()
    if not found.is_absolute() and not path.startswith("<"):
        found = Path(path).parent / found
    return str(found)


def _sequence(path: str, node: yaml.Node, key: str, item: Callable[[yaml.Node], Any]) -> tuple:
    if not isinstance(node, yaml.SequenceNode):
        raise ConfigError(f"{_where(path, node)}: '{key}' must be a list")
    return tuple(item(n) for n in node.value)


def _scrape(path: str, node: yaml.Node) -> ScrapeConfig:
    fields = _mapping(
        path,
        node,
        "sources.scrape",
        {
            "interval_s": lambda n: _positive(path, n, "interval_s"),
            "window_s": lambda n: _positive(path, n, "window_s"),
            "timeout_s": lambda n: _positive(path, n, "timeout_s"),
            "gpu_exporters": lambda n: _sequence(
                path, n, "gpu_exporters", lambda i: _url(path, i, "gpu_exporters")
            ),
        },
    )
    return ScrapeConfig(**fields)


def _fields(path: str, spec: dict[str, str]) -> dict[str, Callable[[yaml.Node], Any]]:
    """Validators by kind name: url, text, bool, positive, int, globs."""
    kinds: dict[str, Callable[[str], Callable[[yaml.Node], Any]]] = {
        "url": lambda k: lambda n: _url(path, n, k),
        "socket": lambda k: lambda n: _socket(path, n, k),
        "text": lambda k: lambda n: _scalar(path, n, str, k),
        "bool": lambda k: lambda n: _scalar(path, n, bool, k),
        "positive": lambda k: lambda n: _positive(path, n, k),
        "int": lambda k: lambda n: int(_positive(path, n, k)),
        "globs": lambda k: lambda n: _sequence(path, n, k, lambda i: _scalar(path, i, str, k)),
    }
    return {key: kinds[kind](key) for key, kind in spec.items()}


def _socket(path: str, node: yaml.Node, key: str) -> str:
    value = str(_scalar(path, node, str, key))
    if value.startswith("unix://") and len(value) > len("unix://"):
        return value
    return _url(path, node, key)


def _section(
    path: str, node: yaml.Node, what: str, spec: dict[str, str], required: tuple[str, ...] = ()
) -> dict[str, Any]:
    fields = _mapping(path, node, what, _fields(path, spec))
    for key in required:
        if key not in fields:
            raise ConfigError(f"{_where(path, node)}: {what} needs '{key}'")
    return fields


_AUTH = {"token_env": "text", "token_file": "text", "basic_auth_env": "text",
         "verify_tls": "bool", "ca_file": "text"}  # fmt: skip


def _sources(path: str, node: yaml.Node) -> SourcesConfig:
    found = _mapping(
        path,
        node,
        "sources",
        {
            "scrape": lambda n: _scrape(path, n),
            "prometheus": lambda n: PrometheusConfig(**_credentials(path, n, _section(
                path, n, "sources.prometheus",
                {"url": "url", "interval_s": "positive", "pool_label": "text",
                 "name_label": "text", "window": "text", "timeout_s": "positive", **_AUTH},
                required=("url",),
            ), "sources.prometheus")),
            "alertmanager": lambda n: AlertmanagerConfig(**_credentials(path, n, _section(
                path, n, "sources.alertmanager",
                {"url": "url", "interval_s": "positive", "timeout_s": "positive",
                 "ack_duration_s": "positive", **_AUTH},
                required=("url",),
            ), "sources.alertmanager")),
            "nvml": lambda n: NvmlConfig(**_section(
                path, n, "sources.nvml", {"enabled": "bool", "interval_s": "positive"}
            )),
            "docker": lambda n: DockerConfig(**_section(
                path, n, "sources.docker",
                {"url": "socket", "interval_s": "positive", "compose_project": "text",
                 "name_patterns": "globs", "log_lines": "int"},
            )),
        },
    )  # fmt: skip
    return SourcesConfig(**found)


def _traffic(path: str, node: yaml.Node) -> TrafficConfig:
    def nginx(n: yaml.Node) -> NginxRouterConfig:
        def servers(m: yaml.Node) -> dict[str, tuple[str, ...]]:
            if not isinstance(m, yaml.MappingNode):
                raise ConfigError(f"{_where(path, m)}: 'servers' maps each pool to host:port list")
            return {
                str(k.value): _sequence(path, v, str(k.value),
                                        lambda i: str(_scalar(path, i, str, "server")))
                for k, v in m.value
            }  # fmt: skip

        spec = _fields(path, {"upstream_file": "text", "upstream_name": "text", "binary": "text",
                              "conf": "text", "prefix": "text", "reload_command": "globs",
                              "verify_url": "url"})  # fmt: skip
        fields = _mapping(path, n, "traffic.nginx", {**spec, "servers": servers})
        for key in ("upstream_file", "servers"):
            if key not in fields:
                raise ConfigError(f"{_where(path, n)}: traffic.nginx needs '{key}'")
        return NginxRouterConfig(**fields)

    def router(n: yaml.Node) -> str:
        value = str(_scalar(path, n, str, "router"))
        if value not in ("nginx", "sim"):
            raise ConfigError(f"{_where(path, n)}: router must be nginx or sim, not {value!r}")
        return value

    def steps(n: yaml.Node) -> tuple[float, ...]:
        values = _sequence(path, n, "rollout_steps", lambda i: _positive(path, i, "rollout_steps"))
        if not values or any(v > 100 for v in values) or list(values) != sorted(values):
            raise ConfigError(f"{_where(path, n)}: rollout_steps rise to at most 100 (percent)")
        return tuple(values)

    spec = _fields(path, {"stable_pool": "text", "canary_pool": "text", "sim_control": "url",
                          "rollout_hold_s": "positive"})  # fmt: skip
    fields = _mapping(
        path, node, "traffic",
        {**spec, "router": router, "nginx": nginx, "rollout_steps": steps},
    )  # fmt: skip
    config = TrafficConfig(**fields)
    if config.router == "nginx" and config.nginx is None:
        raise ConfigError(
            f"{_where(path, node)}: traffic.router nginx needs a traffic.nginx section"
        )
    if config.router == "sim" and config.sim_control is None:
        raise ConfigError(f"{_where(path, node)}: traffic.router sim needs traffic.sim_control")
    return config


def _tier(path: str, node: yaml.Node) -> str:
    value = str(_scalar(path, node, str, "slo_tier")).lower()
    if value not in TIERS:
        raise ConfigError(
            f"{_where(path, node)}: slo_tier must be one of {', '.join(TIERS)}, not {value!r}"
        )
    return value


def _same_server(url: str) -> tuple[str, str, int | None, str]:
    """What makes two backend URLs one server: scheme, host (any case), port, path."""
    parts = urlparse(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port, parts.path.rstrip("/")


def _runbooks_dir(path: str, node: yaml.Node) -> str:
    """``runbooks_dir``, which must be a folder (a relative one is beside the config file)."""
    value = str(_scalar(path, node, str, "runbooks_dir"))
    folder = Path(_beside_config(path, value))
    if not folder.is_dir():
        raise ConfigError(
            f"{_where(path, node)}: runbooks_dir {folder} does not exist or is not a folder"
        )
    return value


def _state_dir(path: str, node: yaml.Node) -> str:
    """``state_dir``: a folder, or one that can be created (nothing is created here)."""
    value = str(_scalar(path, node, str, "state_dir"))
    folder = Path(value).expanduser()
    if folder.exists():
        if not folder.is_dir():
            raise ConfigError(f"{_where(path, node)}: state_dir {folder} is a file, not a folder")
        return value
    parent = next(p for p in folder.absolute().parents if p.exists())
    if not parent.is_dir():
        problem = f"{parent} is a file"
    elif not os.access(parent, os.W_OK | os.X_OK):
        problem = f"{parent} is not writable"
    else:
        return value
    raise ConfigError(f"{_where(path, node)}: state_dir {folder} cannot be created: {problem}")


def parse_config(text: str, path: str = "<config>") -> Config:
    """Validate YAML text into a `Config`, or raise `ConfigError` naming FILE:LINE."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise ConfigError(f"{path}:{line}: not valid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}:1: not valid YAML: {exc}") from None
    if root is None:
        return Config(path=path)
    root, contexts_node = _split_contexts(root)
    config = _parse_root(root, path)
    if contexts_node is None:
        return config
    return dataclasses.replace(config, contexts=_contexts(path, root, contexts_node))


def _parse_root(root: yaml.Node, path: str) -> Config:
    """A `Config` from the top mapping of a config (or of one context, merged)."""

    def backends(node: yaml.Node) -> tuple[BackendConfig, ...]:
        found = _sequence(path, node, "backends", lambda n: _backend(path, n))
        seen: set[str] = set()
        by_url: dict[tuple[str, str, int | None, str], str] = {}
        for backend_node, backend in zip(node.value, found, strict=True):
            if backend.name in seen:
                raise ConfigError(
                    f"{_where(path, backend_node)}: backend name '{backend.name}' is used twice"
                )
            seen.add(backend.name)
            # Two names for one server would count its traffic twice in the pool and fleet.
            first = by_url.setdefault(_same_server(backend.url), backend.name)
            if first != backend.name:
                raise ConfigError(
                    f"{_where(path, backend_node)}: backends '{backend.name}' and '{first}' have"
                    f" the same url {backend.url}; each backend is one server with its own url"
                )
        return found

    key_lines: dict[str, str] = {}

    def keys(node: yaml.Node) -> dict[str, str]:
        if not isinstance(node, yaml.MappingNode):
            raise ConfigError(f"{_where(path, node)}: 'keys' must map binding ids to keys")
        found: dict[str, str] = {}
        for k, v in node.value:
            binding_id = str(k.value)
            if binding_id in found:
                raise ConfigError(f"{_where(path, k)}: key '{binding_id}' is given twice")
            found[binding_id] = str(_scalar(path, v, str, binding_id))
            key_lines[binding_id] = _where(path, k)  # the app checks ids and key names
        return found

    def history(node: yaml.Node) -> int:
        value = int(_scalar(path, node, int, "history_points"))
        if not 10 <= value <= 100_000:
            raise ConfigError(f"{_where(path, node)}: 'history_points' must be 10..100000")
        return value

    fields = _mapping(
        path,
        root,
        "the config",
        {
            "environment": lambda n: _scalar(path, n, str, "environment"),
            "slo_tier": lambda n: _tier(path, n),
            "refresh_s": lambda n: _positive(path, n, "refresh_s"),
            "theme": lambda n: check_theme(_scalar(path, n, str, "theme"), _where(path, n)),
            "history_points": history,
            "read_only": lambda n: _scalar(path, n, bool, "read_only"),
            "backends": backends,
            "sources": lambda n: _sources(path, n),
            "keys": keys,
            "state_dir": lambda n: _state_dir(path, n),
            "audit_log": lambda n: _scalar(path, n, str, "audit_log"),
            "lock_file": lambda n: _scalar(path, n, str, "lock_file"),
            "runbooks_dir": lambda n: _runbooks_dir(path, n),
            "traffic": lambda n: _traffic(path, n),
            "wall": lambda n: _wall(path, n),
            **_judgement_sections(path),
            "incidents": lambda n: n,  # parsed by tui.incidents.config
            "recording": lambda n: n,  # parsed by tui.recording.config
            "loadtest": lambda n: n,  # parsed by tui.loadtest.config
            "autopilot": lambda n: n,  # parsed by tui.ops.autopilot.config
            "production": lambda n: _scalar(path, n, bool, "production"),
        },
    )
    return Config(path=path, key_lines=key_lines, **fields)


JUDGEMENT_SECTIONS = ("slo", "capacity", "cost", "models")
"""The top-level sections `tui.config_judgement` parses."""


def _judgement_sections(path: str) -> dict[str, Callable[[yaml.Node], Any]]:
    """Parsers of `JUDGEMENT_SECTIONS` that import `tui.config_judgement` (and the
    capacity, cost and models analyses it builds on, ~15 ms) only for a config that has
    one: the dashboard's first frame judges the SLOs alone."""

    def parser(key: str) -> Callable[[yaml.Node], Any]:
        def parse(node: yaml.Node) -> Any:
            from tui.config_judgement import YamlTools, sections

            tools = YamlTools(
                ConfigError, _where, _scalar, _positive, _mapping, _sequence, _beside_config
            )
            return sections(path, tools)[key](node)

        return parse

    return {key: parser(key) for key in JUDGEMENT_SECTIONS}


def load_config(path: str | os.PathLike[str]) -> Config:
    """Read and validate a config file; a missing or unreadable file is a `ConfigError`."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{name}:0: no such config file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{name}:0: cannot read the config file: {exc}") from None
    return parse_config(text, name)


def read_only_reason(config: Config | None, flag: bool = False) -> str | None:
    """Why actions are off from the start: ``--read-only`` (``flag``), else the config's
    ``read_only: true``; None when they are on."""
    if flag:
        return "--read-only"
    if config is not None and config.read_only:
        return f"read_only: true in {config.path}"
    return None


def find_config(explicit: str | None) -> Path | None:
    """The config to use: ``-c``, then ``$INFERDECK_CONFIG``, then the default locations."""
    if explicit:
        return Path(explicit)
    if env := os.environ.get("INFERDECK_CONFIG"):
        return Path(env)
    return next((p for p in DEFAULT_LOCATIONS if p.is_file()), None)


# --- contexts (`contexts:`): several environments in one file --------------------------

CONTEXT_KEYS = frozenset(
    {"environment", "backends", "sources", "traffic", "read_only", "production", "slo_tier",
     "refresh_s", "runbooks_dir", "state_dir", "audit_log", "lock_file"}
)  # fmt: skip
"""What a context may set for itself; the rest (keys, theme, judging) is shared."""


def _split_contexts(root: yaml.Node) -> tuple[yaml.Node, yaml.Node | None]:
    """The top mapping without its ``contexts:`` entry, and that entry's value."""
    if not isinstance(root, yaml.MappingNode):
        return root, None
    found = [(k, v) for k, v in root.value if str(k.value) == "contexts"]
    if not found:
        return root, None
    rest = [(k, v) for k, v in root.value if str(k.value) != "contexts"]
    trimmed = yaml.MappingNode(root.tag, rest, root.start_mark, root.end_mark)
    return trimmed, found[0][1]


def _contexts(path: str, root: yaml.Node, node: yaml.Node) -> dict[str, Config]:
    """Each context: the top level with the context's own settings over it; its
    ``environment`` is its name unless it says otherwise."""
    if not isinstance(node, yaml.MappingNode) or not node.value:
        raise ConfigError(f"{_where(path, node)}: 'contexts' must map names to settings")
    found: dict[str, Config] = {}
    assert isinstance(root, yaml.MappingNode)
    for name_node, body in node.value:
        name = str(name_node.value)
        if name in found:
            raise ConfigError(f"{_where(path, name_node)}: context '{name}' is given twice")
        if not isinstance(body, yaml.MappingNode):
            raise ConfigError(f"{_where(path, body)}: context '{name}' must be a mapping")
        own = {str(k.value) for k, _ in body.value}
        for k, _ in body.value:
            if str(k.value) not in CONTEXT_KEYS:
                known = ", ".join(sorted(CONTEXT_KEYS))
                raise ConfigError(f"{_where(path, k)}: '{k.value}' cannot differ per context"
                                  f" (a context may set: {known})")  # fmt: skip
        merged = [(k, v) for k, v in root.value if str(k.value) not in own] + list(body.value)
        if "environment" not in own:
            tag = "tag:yaml.org,2002:str"
            merged.append((yaml.ScalarNode(tag, "environment", name_node.start_mark),
                           yaml.ScalarNode(tag, name, name_node.start_mark)))  # fmt: skip
        mapping = yaml.MappingNode(root.tag, merged, body.start_mark, body.end_mark)
        found[name] = dataclasses.replace(_parse_root(mapping, path), context=name)
    return found


def context_of(config: Config, name: str | None) -> Config:
    """The config of context ``name`` (with every context kept beside it, for switching);
    with no name, the first context when the file has contexts, else the config itself."""
    if not config.contexts:
        if name is not None:
            raise ConfigError(f"{config.path}:1: --context {name}: the config has no contexts")
        return config
    chosen = name if name is not None else next(iter(config.contexts))
    if chosen not in config.contexts:
        known = ", ".join(config.contexts)
        raise ConfigError(f"{config.path}:1: no context '{chosen}' (the config has: {known})")
    return dataclasses.replace(config.contexts[chosen], contexts=config.contexts)
