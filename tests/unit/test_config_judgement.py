"""The slo, capacity, cost and models config sections, and the model inventory file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tui.config import ConfigError, parse_config

GOOD = """\
backends:
  - {name: b0, pool: blue, url: "http://10.0.0.1:8000", max_num_seqs: 64}
slo: {window_days: 7, timeout_query: "sum(rate(x[5m]))"}
capacity: {growth_monthly: 0.1, threshold_pct: 75, host: {cpu_pct: 95}, node_job: nodes}
cost:
  monthly:
    - {name: Power, usd: 400, allocation: metered}
  monthly_requests: 500000
  cloud: {name: GPT-4o, per_request_usd: 0.03}
models:
  pools: {blue: "llama:v1.1"}
  models:
    - name: llama
      versions:
        - {version: v1.1, deployed: 2024-09-01, status: active, path: /m/llama}
        - {version: v2.0, deployed: null, status: staging}
"""


def test_every_section_is_typed() -> None:
    config = parse_config(GOOD, "c.yaml")
    assert config.backends[0].max_num_seqs == 64
    assert config.slo is not None and config.slo.window_days == 7.0
    assert config.capacity is not None and config.capacity.host.cpu_pct == 95.0
    assert config.capacity.host.mem_pct == 85.0  # the handbook's, where not given
    assert config.cost is not None and config.cost.monthly[0].monthly_usd == 400.0
    assert config.cost.cloud is not None and config.cost.cloud.per_request_usd == 0.03
    assert config.models is not None and config.models.pools == {"blue": "llama:v1.1"}
    versions = config.models.inventory.models[0].versions
    assert versions[0].deployed == dt.date(2024, 9, 1) and versions[1].deployed is None


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("slo: {window_days: -1}", "c.yaml:1: 'window_days' must be greater than 0"),
        ("capacity: {growth_monthly: 20}", "c.yaml:1: 'growth_monthly' is a share"),
        ("capacity:\n  host:\n    ram_pct: 1", "c.yaml:3: unknown key 'ram_pct' in capacity.host"),
        ("cost:\n  monthly:\n    - {usd: 4}", "c.yaml:3: a cost line needs 'name'"),
        (
            "models:\n  models:\n    - name: m\n      versions:\n"
            "        - {version: v1, status: live}",
            "c.yaml:5: status must be one of active, standby, staging, deprecated, archived",
        ),
        (
            "models:\n  models:\n    - name: m\n      versions:\n"
            "        - {version: v1, status: active, deployed: soon}",
            "c.yaml:5: 'deployed' must be a date",
        ),
        (
            "backends:\n  - {name: b, pool: p, url: 'http://h:1', max_num_seqs: 0}",
            "c.yaml:2: 'max_num_seqs' must be greater than 0",
        ),
    ],
)
def test_errors_name_file_and_line(text: str, error: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "c.yaml")
    assert str(caught.value).startswith(error)


def test_inventory_file_beside_the_config(tmp_path: Path) -> None:
    (tmp_path / "model-inventory.yml").write_text(
        "models:\n  - name: llama\n    versions:\n"
        "      - {version: v1.0, deployed: 2024-06-01, status: deprecated, path: /a}\n"
    )
    config = parse_config("models: {inventory: model-inventory.yml}", str(tmp_path / "c.yaml"))
    assert config.models is not None
    assert config.models.inventory.path == str(tmp_path / "model-inventory.yml")
    assert config.models.inventory.models[0].versions[0].status == "deprecated"


def test_inventory_errors_name_the_inventory_file(tmp_path: Path) -> None:
    inventory = tmp_path / "inv.yml"
    inventory.write_text("models:\n  - name: x\n    versions:\n      - {version: v1}\n")
    with pytest.raises(ConfigError) as caught:
        parse_config("models: {inventory: inv.yml}", str(tmp_path / "c.yaml"))
    assert str(caught.value) == f"{inventory}:4: a model version needs 'status'"
