"""Load-test scenario YAML → validated, typed `Scenario`; errors as ``FILE:LINE: what``.

A scenario is a load shape (``users``: concurrent streams, or ``rate``: requests per
second, over stages in time), the requests it sends (prompt and output token lengths)
and the criteria that judge it. Shipped ones live in ``tui/data/loadtests/``; the
operator's own in the config's ``loadtest.scenarios_dir`` (same name: the operator's wins)::

    name: spike
    description: Test elasticity (handbook: 10 -> 100 -> 10 users, 15 min)
    load: users                 # users | rate
    stages:                     # each holds `target` for `duration`, reached over `ramp`
      - {duration: 5m, target: 10}
      - {duration: 5m, target: 100, ramp: 10s, spike: true}
      - {duration: 5m, target: 10}
    request: {prompt_tokens: 256, output_tokens: 128}
    criteria:
      ttft_p95_within_slo: true   # client TTFT p95 <= the SLO tier's
      e2e_p95_within_slo: true    # client end-to-end p95 <= the SLO tier's
      error_rate_below: 0.01
      recovery_within: 5m         # after the last `spike: true` stage
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml

from tui.config import ConfigError, _mapping, _positive, _scalar, _sequence, _where
from tui.ops.alerts.silences import parse_duration

LoadKind = Literal["users", "rate"]


@dataclass(frozen=True, slots=True)
class Stage:
    """Hold ``target`` (users or requests/s) for ``duration_s``, reached over ``ramp_s``."""

    duration_s: float
    target: float
    ramp_s: float = 0.0
    spike: bool = False


@dataclass(frozen=True, slots=True)
class RequestShape:
    """What each request asks: a prompt of about this many tokens, this many back."""

    prompt_tokens: int = 256
    output_tokens: int = 128
    endpoint: Literal["chat", "completions"] = "chat"


@dataclass(frozen=True, slots=True)
class Criteria:
    """What a run must show to pass; None (or False) leaves a criterion out."""

    ttft_p95_within_slo: bool = False
    e2e_p95_within_slo: bool = False
    error_rate_below: float | None = None  # 0..1
    recovery_within_s: float | None = None  # after the last spike stage ends
    recovery_window_s: float = 30.0  # the sliding window judged during recovery


@dataclass(frozen=True, slots=True)
class Scenario:
    """One load test: shape, requests, criteria, and where it was read from."""

    name: str
    stages: tuple[Stage, ...]
    load: LoadKind = "users"
    description: str = ""
    request: RequestShape = field(default_factory=RequestShape)
    criteria: Criteria = field(default_factory=Criteria)
    source: str = ""

    @property
    def duration_s(self) -> float:
        """The whole run, every stage end to end."""
        return sum(s.duration_s for s in self.stages)

    @property
    def peak(self) -> float:
        """The highest target of any stage."""
        return max(s.target for s in self.stages)

    @property
    def spike_end_s(self) -> float | None:
        """When the last ``spike: true`` stage ends (seconds from the start), else None."""
        end, found = 0.0, None
        for stage in self.stages:
            end += stage.duration_s
            if stage.spike:
                found = end
        return found

    def scaled(self, scale: float = 1.0, duration_s: float | None = None) -> Scenario:
        """This scenario with every target times ``scale`` and its stages stretched (or
        squeezed) in proportion to last ``duration_s``; the recovery limit follows."""
        ratio = 1.0 if duration_s is None else duration_s / self.duration_s
        stages = tuple(
            replace(s, target=s.target * scale, duration_s=s.duration_s * ratio,
                    ramp_s=s.ramp_s * ratio)
            for s in self.stages
        )  # fmt: skip
        criteria = self.criteria
        if criteria.recovery_within_s is not None and ratio != 1.0:
            criteria = replace(
                criteria,
                recovery_within_s=criteria.recovery_within_s * ratio,
                recovery_window_s=max(1.0, criteria.recovery_window_s * ratio),
            )
        return replace(self, stages=stages, criteria=criteria)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (for the Locust process and ``--json``)."""
        return {
            "name": self.name,
            "load": self.load,
            "stages": [
                {"duration_s": s.duration_s, "target": s.target, "ramp_s": s.ramp_s,
                 "spike": s.spike}
                for s in self.stages
            ],
            "request": {"prompt_tokens": self.request.prompt_tokens,
                        "output_tokens": self.request.output_tokens,
                        "endpoint": self.request.endpoint},
        }  # fmt: skip


def _seconds(path: str, node: yaml.Node, key: str) -> float:
    value = _scalar(path, node, str, key)
    try:
        return parse_duration(str(value))
    except ValueError as exc:
        raise ConfigError(f"{_where(path, node)}: '{key}': {exc}") from None


def _stage(path: str, node: yaml.Node) -> Stage:
    fields = _mapping(
        path, node, "a stage",
        {
            "duration": lambda n: _seconds(path, n, "duration"),
            "target": lambda n: _positive(path, n, "target"),
            "ramp": lambda n: 0.0 if str(n.value) in ("0", "0s") else _seconds(path, n, "ramp"),
            "spike": lambda n: _scalar(path, n, bool, "spike"),
        },
    )  # fmt: skip
    for key in ("duration", "target"):
        if key not in fields:
            raise ConfigError(f"{_where(path, node)}: a stage needs '{key}'")
    if fields.get("ramp", 0.0) > fields["duration"]:
        raise ConfigError(f"{_where(path, node)}: a stage's 'ramp' is longer than its 'duration'")
    return Stage(
        duration_s=fields["duration"], target=fields["target"],
        ramp_s=fields.get("ramp", 0.0), spike=fields.get("spike", False),
    )  # fmt: skip


def _request(path: str, node: yaml.Node) -> RequestShape:
    def endpoint(n: yaml.Node) -> str:
        value = str(_scalar(path, n, str, "endpoint"))
        if value not in ("chat", "completions"):
            raise ConfigError(f"{_where(path, n)}: 'endpoint' must be chat or completions")
        return value

    fields = _mapping(
        path, node, "request",
        {
            "prompt_tokens": lambda n: int(_positive(path, n, "prompt_tokens")),
            "output_tokens": lambda n: int(_positive(path, n, "output_tokens")),
            "endpoint": endpoint,
        },
    )  # fmt: skip
    return RequestShape(**fields)


def _criteria(path: str, node: yaml.Node) -> Criteria:
    def fraction(n: yaml.Node) -> float:
        value = float(_scalar(path, n, float, "error_rate_below"))
        if not 0 < value <= 1:
            raise ConfigError(f"{_where(path, n)}: 'error_rate_below' is a fraction in (0, 1]")
        return value

    fields = _mapping(
        path, node, "criteria",
        {
            "ttft_p95_within_slo": lambda n: _scalar(path, n, bool, "ttft_p95_within_slo"),
            "e2e_p95_within_slo": lambda n: _scalar(path, n, bool, "e2e_p95_within_slo"),
            "error_rate_below": fraction,
            "recovery_within": lambda n: _seconds(path, n, "recovery_within"),
            "recovery_window": lambda n: _seconds(path, n, "recovery_window"),
        },
    )  # fmt: skip
    renamed = {"recovery_within": "recovery_within_s", "recovery_window": "recovery_window_s"}
    return Criteria(**{renamed.get(k, k): v for k, v in fields.items()})


def parse_scenario(text: str, path: str = "<scenario>") -> Scenario:
    """Validate YAML text into a `Scenario`, or raise `ConfigError` naming FILE:LINE."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise ConfigError(
            f"{path}:{mark.line + 1 if mark else 1}: not valid YAML: {exc.problem or exc}"
        ) from None
    if root is None:
        raise ConfigError(f"{path}:1: an empty scenario")

    def load(n: yaml.Node) -> str:
        value = str(_scalar(path, n, str, "load"))
        if value not in ("users", "rate"):
            raise ConfigError(f"{_where(path, n)}: 'load' must be users or rate, not {value!r}")
        return value

    def stages(n: yaml.Node) -> tuple[Stage, ...]:
        found = _sequence(path, n, "stages", lambda i: _stage(path, i))
        if not found:
            raise ConfigError(f"{_where(path, n)}: 'stages' needs at least one stage")
        return found

    fields = _mapping(
        path, root, "a scenario",
        {
            "name": lambda n: _scalar(path, n, str, "name"),
            "description": lambda n: _scalar(path, n, str, "description"),
            "load": load,
            "stages": stages,
            "request": lambda n: _request(path, n),
            "criteria": lambda n: _criteria(path, n),
        },
    )  # fmt: skip
    for key in ("name", "stages"):
        if key not in fields:
            raise ConfigError(f"{_where(path, root)}: a scenario needs '{key}'")
    return Scenario(source=path, **fields)


def shipped_folder() -> Path:
    """``tui/data/loadtests``: the handbook's scenarios."""
    return Path(str(resources.files("tui") / "data" / "loadtests"))


def load_scenarios(own_folder: str | Path | None = None) -> dict[str, Scenario]:
    """Every scenario by name: the shipped ones, then the operator's (which win)."""
    found: dict[str, Scenario] = {}
    folders = [shipped_folder()] + ([Path(own_folder)] if own_folder else [])
    for folder in folders:
        for file in sorted(folder.glob("*.y*ml")):
            scenario = parse_scenario(file.read_text(encoding="utf-8"), str(file))
            found[scenario.name] = scenario
    return found


def find_scenario(name: str, own_folder: str | Path | None = None) -> Scenario:
    """The scenario ``name`` (or a YAML file at that path); `ConfigError` listing the known."""
    if name.endswith((".yaml", ".yml")) and Path(name).is_file():
        return parse_scenario(Path(name).read_text(encoding="utf-8"), name)
    scenarios = load_scenarios(own_folder)
    if name not in scenarios:
        raise ConfigError(f"no scenario {name!r}; known: {', '.join(sorted(scenarios))}")
    return scenarios[name]
