"""The lab's pure parts: nginx upstream rendering and atomic writes, Prometheus and
Alertmanager configs, the fast-alerts rewrite, the written inferdeck config, binaries."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.integration.real_servers import require_binary
from tui.config import parse_config
from tui.lab import binaries, nginx, promconf
from tui.lab.render import config_data, render_config, status_data, status_text

POOLS = {"blue": ["127.0.0.1:9001", "127.0.0.1:9002"], "green": ["127.0.0.1:9003"]}


def _server_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip().startswith("server ")]


# -- nginx upstream -----------------------------------------------------------------------


def test_blue_100_green_0_writes_green_down() -> None:
    text = nginx.render_upstream("lab", POOLS, {"blue": 100, "green": 0})
    assert text.splitlines()[0] == "# inferdeck-weights: blue=100 green=0"
    assert "upstream lab {" in text
    assert _server_lines(text) == [
        "server 127.0.0.1:9001 weight=1 max_fails=1 fail_timeout=2s;  # pool=blue",
        "server 127.0.0.1:9002 weight=1 max_fails=1 fail_timeout=2s;  # pool=blue",
        "server 127.0.0.1:9003 down;  # pool=green",
    ]
    assert "weight=0" not in text


def test_weights_are_shared_by_a_pools_servers_and_reduced() -> None:
    weights = nginx.server_weights(POOLS, {"blue": 90, "green": 10})
    assert weights == {"127.0.0.1:9001": 9, "127.0.0.1:9002": 9, "127.0.0.1:9003": 2}
    # each pool's share of the total is its percentage
    blue = weights["127.0.0.1:9001"] + weights["127.0.0.1:9002"]
    assert blue / sum(weights.values()) == pytest.approx(0.9)


def test_fractional_percentages_keep_their_ratio() -> None:
    weights = nginx.server_weights(POOLS, {"blue": 66.67, "green": 33.33})
    blue = weights["127.0.0.1:9001"] + weights["127.0.0.1:9002"]
    assert blue / sum(weights.values()) == pytest.approx(0.6667, abs=1e-4)


def test_a_pool_not_named_gets_zero_and_is_down() -> None:
    text = nginx.render_upstream("lab", POOLS, {"green": 100})
    assert "server 127.0.0.1:9001 down;" in text
    assert "server 127.0.0.1:9003 weight=1" in text


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({"blue": 0, "green": 0}, "above 0"),
        ({"red": 100}, "unknown pool"),
        ({"blue": -5}, ">= 0"),
        ({"blue": float("nan")}, ">= 0"),
    ],
)
def test_bad_weights_are_refused(weights: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        nginx.render_upstream("lab", POOLS, weights)


def test_bad_upstream_name_is_refused() -> None:
    with pytest.raises(ValueError, match="upstream name"):
        nginx.render_upstream("x; include /etc/passwd", POOLS, {"blue": 100})


def test_upstream_file_reads_back() -> None:
    text = nginx.render_upstream("lab", POOLS, {"blue": 25, "green": 75})
    parsed = nginx.parse_upstream(text)
    assert parsed.servers_by_pool == POOLS
    assert parsed.weights == {"blue": 25.0, "green": 75.0}
    with pytest.raises(ValueError):
        nginx.parse_upstream("upstream x { server a:1; }")


def test_write_atomic_replaces_and_keeps_a_backup(tmp_path: Path) -> None:
    target = tmp_path / "upstream.conf"
    nginx.write_atomic(target, "old\n")
    nginx.write_atomic(target, "new\n", backup=True)
    assert target.read_text() == "new\n"
    assert (tmp_path / "upstream.conf.bak").read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["upstream.conf", "upstream.conf.bak"]


def test_write_atomic_leaves_the_old_file_when_the_rename_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "upstream.conf"
    target.write_text("old\n")
    calls: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        calls.append("fsync")
        real_fsync(fd)

    def crash(src: Any, dst: Any) -> None:
        assert calls, "the new content is fsync'd before the rename"
        raise OSError("disk gone")

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk gone"):
        nginx.write_atomic(target, "new\n")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["upstream.conf"]  # no temp file left


def _layout(tmp_path: Path) -> tuple[nginx.NginxLayout, Path]:
    layout = nginx.NginxLayout(tmp_path / "nginx")
    logs = tmp_path / "logs"
    for folder in (layout.root, layout.temp, logs):
        folder.mkdir(parents=True, exist_ok=True)
    return layout, logs


def test_nginx_conf_keeps_everything_in_the_lab_folder(tmp_path: Path) -> None:
    layout, logs = _layout(tmp_path)
    text = nginx.render_nginx_conf(layout, 8080, logs, {"blue-0": "127.0.0.1:9001"})
    assert "listen 127.0.0.1:8080;" in text
    assert "daemon off;" in text
    assert f"pid {layout.pid_file};" in text
    assert f"include {layout.upstream};" in text
    assert "location /v1/" in text and "location = /health" in text
    assert "location = /lab/health/blue-0" in text
    assert "proxy_pass http://127.0.0.1:9001/health;" in text
    for line in text.splitlines():
        if "_path " in line or line.strip().startswith(("pid ", "error_log", "access_log")):
            assert str(tmp_path) in line, line


def test_nginx_accepts_the_generated_config(tmp_path: Path) -> None:
    """``nginx -t`` on the rendered files (needs nginx: fails in CI without it)."""
    binary = require_binary("nginx", "nginx-light")
    layout, logs = _layout(tmp_path)
    nginx.write_atomic(layout.upstream, nginx.render_upstream("lab", POOLS, {"blue": 100}))
    layout.conf.write_text(
        nginx.render_nginx_conf(layout, 8080, logs, {"blue-0": "127.0.0.1:9001"}, upstream="lab")
    )
    assert nginx.nginx_check(binary, layout, logs) is None
    layout.upstream.write_text("upstream lab { server 127.0.0.1:9001 weight=0; }\n")
    problem = nginx.nginx_check(binary, layout, logs)
    assert problem is not None and "weight" in problem


# -- Prometheus / Alertmanager ------------------------------------------------------------


def _prom() -> dict[str, Any]:
    targets = [
        promconf.Target("blue-0", "blue", "http://127.0.0.1:9001"),
        promconf.Target("green-0", "green", "http://127.0.0.1:9003"),
    ]
    return promconf.prometheus_config(
        targets,
        ["http://127.0.0.1:9100/metrics"],
        "http://127.0.0.1:8080",
        "http://127.0.0.1:9093",
        [Path("/lab/rules/llm-operations.yml")],
    )


def test_prometheus_scrapes_backends_with_pool_and_backend_labels() -> None:
    config = _prom()
    assert config["global"]["scrape_interval"] == "1s"
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == {"vllm", "vllm-health", "gateway", "dcgm"}
    assert jobs["vllm"]["static_configs"] == [
        {"targets": ["127.0.0.1:9001"], "labels": {"pool": "blue", "backend": "blue-0"}},
        {"targets": ["127.0.0.1:9003"], "labels": {"pool": "green", "backend": "green-0"}},
    ]
    health = jobs["vllm-health"]["static_configs"]
    assert health[0]["targets"] == ["127.0.0.1:8080"]
    assert health[0]["labels"]["__metrics_path__"] == "/lab/health/blue-0"
    assert jobs["dcgm"]["static_configs"][0]["targets"] == ["127.0.0.1:9100"]
    assert config["rule_files"] == ["/lab/rules/llm-operations.yml"]
    alerting = config["alerting"]["alertmanagers"][0]["static_configs"][0]
    assert alerting == {"targets": ["127.0.0.1:9093"]}


def test_prometheus_accepts_the_generated_config(tmp_path: Path) -> None:
    """``promtool check config`` (needs promtool: fails in CI without it)."""
    promtool = require_binary("promtool", "prometheus")
    rules = promconf.write_rule_copies(promconf.shipped_rules(), tmp_path / "rules", fast=True)
    config = _prom()
    config["rule_files"] = [str(r) for r in rules]
    path = tmp_path / "prometheus.yml"
    path.write_text(promconf.dump(config))
    done = subprocess.run([promtool, "check", "config", str(path)], capture_output=True,
                          text=True, check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_alertmanager_config_has_a_null_receiver_and_short_grouping(tmp_path: Path) -> None:
    config = promconf.alertmanager_config()
    assert config["receivers"] == [{"name": "null"}]
    assert config["route"]["receiver"] == "null"
    assert promconf.duration_s(config["route"]["group_wait"]) <= 1
    assert promconf.duration_s(config["route"]["group_interval"]) <= 1
    amtool = require_binary("amtool", "prometheus-alertmanager")
    path = tmp_path / "alertmanager.yml"
    path.write_text(promconf.dump(config))
    done = subprocess.run([amtool, "check-config", str(path)], capture_output=True, text=True,
                          check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


# -- fast alerts --------------------------------------------------------------------------


def test_fast_rules_cap_for_and_set_the_interval() -> None:
    text = yaml.safe_dump({"groups": [{"name": "g", "rules": [
        {"alert": "Slow", "expr": "up == 0", "for": "1h"},
        {"alert": "Quick", "expr": "up == 0", "for": "2s"},
        {"alert": "Now", "expr": "up == 0"},
        {"record": "x:up", "expr": "up"},
    ]}]})  # fmt: skip
    out = promconf.fast_rules(text, fast_for="5s", interval="1s")
    rules = out["groups"][0]["rules"]
    assert out["groups"][0]["interval"] == "1s"
    assert [r.get("for") for r in rules] == ["5s", "2s", None, None]


def test_fast_copies_leave_the_shipped_files_alone(tmp_path: Path) -> None:
    shipped = promconf.shipped_rules()
    before = [p.read_text() for p in shipped]
    fast = promconf.write_rule_copies(shipped, tmp_path / "fast", fast=True)
    slow = promconf.write_rule_copies(shipped, tmp_path / "slow", fast=False)
    assert [p.read_text() for p in shipped] == before
    assert [p.read_text() for p in slow] == before
    assert all("for: 5s" in p.read_text() for p in fast)
    assert "for: 1h" not in fast[0].read_text()


@pytest.mark.parametrize(
    ("text", "seconds"), [("5s", 5), ("1m", 60), ("1h30m", 5400), ("500ms", 0.5)]
)
def test_duration(text: str, seconds: float) -> None:
    assert promconf.duration_s(text) == seconds


def test_bad_duration_and_bad_rule_file_are_refused() -> None:
    with pytest.raises(ValueError):
        promconf.duration_s("5 minutes")
    with pytest.raises(ValueError, match="groups"):
        promconf.fast_rules("rules: []")


# -- the written config and status --------------------------------------------------------


def _state(**extra: Any) -> dict[str, Any]:
    return {
        "dir": "/tmp/lab",
        "backends": [
            {"name": "blue-0", "pool": "blue", "url": "http://127.0.0.1:9001", "model": "m"},
            {"name": "green-0", "pool": "green", "url": "http://127.0.0.1:9003"},
        ],
        "gpu_exporter": "http://127.0.0.1:9100/metrics",
        "prometheus": "http://127.0.0.1:9090",
        "alertmanager": "http://127.0.0.1:9093",
        "nginx": "http://127.0.0.1:8080",
        "nginx_upstream_file": "/tmp/lab/nginx/upstream.conf",
        "config": "/tmp/lab/inferdeck.yaml",
        "pids": {"sim": 10, "nginx": 11},
        **extra,
    }


def test_written_config_is_valid_and_complete() -> None:
    config = parse_config(render_config(_state()), "lab.yaml")
    assert config.environment == "lab"
    assert [(b.name, b.pool, b.url) for b in config.backends] == [
        ("blue-0", "blue", "http://127.0.0.1:9001"),
        ("green-0", "green", "http://127.0.0.1:9003"),
    ]
    assert config.sources.scrape.gpu_exporters == ("http://127.0.0.1:9100/metrics",)
    prometheus = config.sources.prometheus
    assert prometheus is not None
    assert (prometheus.url, prometheus.pool_label, prometheus.name_label) == (
        "http://127.0.0.1:9090", "pool", "backend",
    )  # fmt: skip
    assert prometheus.interval_s == 2
    assert config.sources.alertmanager is not None
    assert config.sources.alertmanager.url == "http://127.0.0.1:9093"
    assert config.sources.docker is None


def test_written_config_names_the_podman_socket_with_containers() -> None:
    podman = {"url": "unix:///tmp/lab/podman/podman.sock", "project": "inferdeck-lab"}
    config = parse_config(render_config(_state(podman=podman)), "lab.yaml")
    assert config.sources.docker is not None
    assert config.sources.docker.url == "unix:///tmp/lab/podman/podman.sock"
    assert config.sources.docker.compose_project == "inferdeck-lab"
    assert config_data(_state(podman=podman))["sources"]["docker"]["compose_project"]


def test_status_lists_urls_pids_and_liveness() -> None:
    data = status_data(_state(), {"sim": True, "nginx": False})
    for key in ("prometheus", "alertmanager", "nginx", "nginx_upstream_file", "backends",
                "gpu_exporter", "config", "pids"):  # fmt: skip
        assert key in data
    assert data["backends"][0] == {"name": "blue-0", "pool": "blue", "url": "http://127.0.0.1:9001"}
    assert data["alive"] == {"sim": True, "nginx": False}
    assert data["running"] is False
    text = status_text(data)
    assert "DEGRADED" in text and "nginx 11 GONE" in text and "sim 10 up" in text


def test_status_shows_the_split_it_is_given_or_why_there_is_none() -> None:
    alive = {"sim": True}
    data = status_data(_state(), alive, weights={"blue": 90.0, "green": 10.0})
    assert data["weights"] == {"blue": 90.0, "green": 10.0} and "weights_error" not in data
    assert "traffic       blue 90%, green 10%" in status_text(data)
    data = status_data(_state(), alive, weights_error="cannot read upstream.conf")
    assert data["weights"] is None
    assert "traffic       unknown: cannot read upstream.conf" in status_text(data)


# -- binaries -----------------------------------------------------------------------------


def test_search_path_adds_sbin_beside_bin_only() -> None:
    assert binaries.search_path("/usr/bin:/opt/tools").split(":") == [
        "/usr/bin", "/opt/tools", "/usr/sbin",
    ]  # fmt: skip
    assert binaries.search_path("/tmp/empty") == "/tmp/empty"


def test_missing_binaries_are_named_with_their_package_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(binaries.MissingBinary) as caught:
        binaries.require(["nginx", "prometheus-alertmanager"], path=str(tmp_path))
    message = str(caught.value)
    assert "\n" not in message
    assert "nginx-light" in message and "prometheus-alertmanager" in message
    assert caught.value.packages == ["nginx-light", "prometheus-alertmanager"]
