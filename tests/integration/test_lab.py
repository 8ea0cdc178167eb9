"""``inferdeck lab``: a real stack (sim backends, nginx, Prometheus, Alertmanager, load, and
with ``--containers`` a private podman), started by the lab itself, as a user would.

One lab is shared by the module (``lab up`` once); the last test of that group takes it
down and checks that nothing is left. A missing binary fails these tests in CI naming the
Debian package (see `require_binary`), and skips them elsewhere.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.integration.real_servers import require_binary, wait_for
from tui.config import load_config
from tui.lab import nginx
from tui.lab.procs import Proc, alive

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
BINARIES = (("nginx", "nginx-light"), ("prometheus", "prometheus"),
            ("prometheus-alertmanager", "prometheus-alertmanager"))  # fmt: skip


def lab_cmd(*args: Any, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m tui.commands lab ARGS`` as a separate process (so ``up`` really returns)."""
    return subprocess.run(
        [sys.executable, "-m", "tui.commands", "lab", *map(str, args)],
        capture_output=True, text=True, timeout=180, cwd=REPO, env=env, check=False,
    )  # fmt: skip


def _record(folder: Path) -> dict[str, Any]:
    return dict(json.loads((folder / "lab.json").read_text()))


def _ports(record: dict[str, Any]) -> list[int]:
    ports: list[int] = []
    for value in record["ports"].values():
        ports.extend(value if isinstance(value, list) else [value])
    return ports


def _refused(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except ConnectionRefusedError:
        return True


def _assert_all_gone(record: dict[str, Any]) -> None:
    procs = {name: Proc.from_dict(p) for name, p in record["procs"].items()}
    assert procs
    running = [name for name, proc in procs.items() if alive(proc)]
    assert running == [], f"still running after lab down: {running}"
    open_ports = [p for p in _ports(record) if not _refused(p)]
    assert open_ports == [], f"still listening after lab down: {open_ports}"


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if text in cmdline and state != "Z":
            found.append(f"{entry.name}: {cmdline.strip()}")
    return found


def _requests_served(url: str) -> float:
    """How many ``/v1/`` requests a backend has answered (its ``http_requests_total``)."""
    total = 0.0
    for line in httpx.get(url + "/metrics", timeout=5).text.splitlines():
        if line.startswith("http_requests_total{") and 'handler="/v1/' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


async def _alert_on_screen(config_path: str, expected: str, timeout: float = 20) -> bool:
    """Open the dashboard on the lab's config and wait for ``expected`` in the Alerts panel."""
    from rich.console import Console

    from tui.app import InferdeckApp
    from tui.config import load_config
    from tui.hub import Hub
    from tui.wiring import sources_for
    from widgets.alerts import AlertsPanel

    config = load_config(config_path)
    app = InferdeckApp(Hub(sources_for(config), refresh_s=1.0))
    async with app.run_test(size=(160, 40)):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            panels = app.screen.query(AlertsPanel)  # empty while the screen still composes
            if panels:
                console = Console(width=150, record=True, color_system=None)
                console.print(panels.first().render())
                if expected in console.export_text():
                    return True
            await asyncio.sleep(0.25)
    return False


async def _stop_and_start_on_screens(config_path: str, container: Any) -> None:
    """Stop a backend's container under the dashboard: the Backends screen says DOWN and
    the Containers screen says exited; starting it brings both back."""
    from tui.app import InferdeckApp
    from tui.config import load_config
    from tui.hub import Hub
    from tui.wiring import sources_for
    from widgets.backends import BackendsDetailTable
    from widgets.containers import ContainersTable

    config = load_config(config_path)
    app = InferdeckApp(Hub(sources_for(config), refresh_s=1.0))

    def row(table_type: Any, key: str) -> list[str]:
        for screen in app.screen_stack:
            for table in screen.query(table_type):
                if key in {k.value for k in table.rows}:
                    return [c.plain for c in table.get_row(key)]
        return []

    async def until(check: Any, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return
            await asyncio.sleep(0.2)
        raise AssertionError(f"{what} not shown within {timeout}s")

    async with app.run_test(size=(200, 40)) as pilot:
        await pilot.press("3")
        await until(lambda: row(BackendsDetailTable, "blue-0")[2:3] == ["up"], 20, "blue-0 up")
        assert row(BackendsDetailTable, "blue-0")[-1] == "inferdeck-lab-vllm-blue-0"
        container.stop(timeout=2)
        await until(lambda: "DOWN" in "".join(row(BackendsDetailTable, "blue-0")[2:3]), 10,
                    "blue-0 DOWN on the Backends screen")  # fmt: skip
        await pilot.press("c")
        await until(
            lambda: row(ContainersTable, "inferdeck-lab-vllm-blue-0")[2:3] == [" exited (0) "]
            or "exited" in "".join(row(ContainersTable, "inferdeck-lab-vllm-blue-0")[2:3]),
            15, "the container exited on the Containers screen",
        )  # fmt: skip
        container.start()
        await until(lambda: row(ContainersTable, "inferdeck-lab-vllm-blue-0")[2:3] == ["running"],
                    15, "the container running again")  # fmt: skip
        await pilot.press("3")
        await until(lambda: row(BackendsDetailTable, "blue-0")[2:3] == ["up"], 15,
                    "blue-0 back up")  # fmt: skip


def _query(prometheus: str, expr: str) -> list[dict[str, Any]]:
    answer = httpx.get(prometheus + "/api/v1/query", params={"query": expr}, timeout=5)
    return list(answer.json()["data"]["result"])


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One running lab for the module: ``status`` (lab status --json), ``record``, ``dir``."""
    for binary, package in BINARIES:
        require_binary(binary, package)
    folder = tmp_path_factory.mktemp("lab")
    began = time.monotonic()
    up = lab_cmd("up", "--dir", folder, "--rps", "30")
    took = time.monotonic() - began
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        status = lab_cmd("status", "--dir", folder, "--json")
        assert status.returncode == 0, status.stdout + status.stderr
        print(f"lab up took {took:.1f}s")
        yield {"dir": folder, "status": json.loads(status.stdout), "record": _record(folder)}
    finally:
        lab_cmd("down", "--dir", folder)


def test_status_json_urls_answer_and_pids_alive(lab: dict[str, Any]) -> None:
    status = lab["status"]
    for key in ("prometheus", "alertmanager", "nginx", "nginx_upstream_file", "backends",
                "gpu_exporter", "config", "pids"):  # fmt: skip
        assert status[key], key
    assert status["running"] is True
    assert set(status["alive"]) == set(status["pids"]) >= {
        "sim", "nginx", "prometheus", "alertmanager", "load",
    }  # fmt: skip
    assert all(status["alive"].values())
    assert httpx.get(status["prometheus"] + "/-/ready", timeout=5).status_code == 200
    assert httpx.get(status["alertmanager"] + "/-/ready", timeout=5).status_code == 200
    assert httpx.get(status["nginx"] + "/health", timeout=5).status_code == 200
    for backend in status["backends"]:
        assert httpx.get(backend["url"] + "/health", timeout=5).status_code == 200
    assert "DCGM_FI_DEV_GPU_TEMP" in httpx.get(status["gpu_exporter"], timeout=5).text
    assert [(b["name"], b["pool"]) for b in status["backends"]] == [
        ("blue-0", "blue"), ("blue-1", "blue"), ("green-0", "green"),
    ]  # fmt: skip
    config = load_config(status["config"])
    assert config.environment == "lab"
    assert [b.url for b in config.backends] == [b["url"] for b in status["backends"]]
    assert config.sources.prometheus is not None
    assert config.sources.prometheus.url == status["prometheus"]
    assert "down;  # pool=green" in Path(status["nginx_upstream_file"]).read_text()


def test_second_up_says_so_and_exits_1(lab: dict[str, Any]) -> None:
    again = lab_cmd("up", "--dir", lab["dir"])
    assert again.returncode == 1
    assert "already running" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1
    assert _record(lab["dir"])["pids"] == lab["status"]["pids"]  # untouched


def test_prometheus_scrapes_every_part_with_pool_and_backend_labels(lab: dict[str, Any]) -> None:
    prometheus = lab["status"]["prometheus"]

    def targets() -> list[dict[str, Any]]:
        found = _query(prometheus, "up == 1")
        return found if len(found) >= 8 else []

    up = wait_for(targets, 20)
    assert up, _query(prometheus, "up")
    by_job: dict[str, set[str]] = {}
    for series in up:
        labels = series["metric"]
        by_job.setdefault(labels["job"], set()).add(labels.get("backend", ""))
    assert by_job["vllm"] == {"blue-0", "blue-1", "green-0"}
    assert by_job["vllm-health"] == {"blue-0", "blue-1", "green-0"}
    assert "dcgm" in by_job and "gateway" in by_job
    pools = {
        s["metric"]["backend"]: s["metric"]["pool"] for s in up if s["metric"]["job"] == "vllm"
    }
    assert pools == {"blue-0": "blue", "blue-1": "blue", "green-0": "green"}


def test_requests_flow_through_nginx_to_blue_only(lab: dict[str, Any]) -> None:
    backends = {b["name"]: b["url"] for b in lab["status"]["backends"]}
    before = {name: _requests_served(url) for name, url in backends.items()}
    time.sleep(3)
    after = {name: _requests_served(url) for name, url in backends.items()}
    assert after["blue-0"] > before["blue-0"]
    assert after["blue-1"] > before["blue-1"]
    assert after["green-0"] == before["green-0"] == 0  # green is at 0 %: written `down`
    access = (lab["dir"] / "logs" / "nginx-access.log").read_text()
    assert "POST /v1/chat/completions" in access


def test_error_fault_fires_the_alert_in_prometheus_and_alertmanager(
    lab: dict[str, Any],
) -> None:
    status = lab["status"]
    fault = httpx.post(
        status["control"] + "/faults",
        json={"backend": "blue-0", "kind": "errors", "value": 0.5},
        timeout=5,
    )
    assert fault.status_code == 200, fault.text
    began = time.monotonic()
    try:

        def firing_in_prometheus() -> bool:
            alerts = httpx.get(status["prometheus"] + "/api/v1/alerts", timeout=5).json()
            return any(
                a["labels"]["alertname"] == "LLMHighErrorRate"
                and a["labels"].get("backend") == "blue-0"
                and a["state"] == "firing"
                for a in alerts["data"]["alerts"]
            )

        def in_alertmanager() -> list[dict[str, Any]]:
            alerts = httpx.get(
                status["alertmanager"] + "/api/v2/alerts",
                params={"filter": 'alertname="LLMHighErrorRate"'},
                timeout=5,
            ).json()
            return [a for a in alerts if a["labels"].get("backend") == "blue-0"]

        assert wait_for(firing_in_prometheus, 60, 0.5), "LLMHighErrorRate never fired"
        fired = time.monotonic() - began
        received = wait_for(in_alertmanager, max(5.0, 60 - fired), 0.5)
        assert received, "LLMHighErrorRate never reached Alertmanager"
        arrived = time.monotonic() - began
        print(f"alert firing after {fired:.1f}s, in Alertmanager after {arrived:.1f}s")
        alert = received[0]
        assert alert["labels"]["severity"] == "warning"
        assert alert["labels"]["pool"] == "blue"
        assert alert["annotations"]["runbook"] == "high-error-rate"

        # The operator sees it: `inferdeck alerts --json` and the overview's Alerts panel.
        listed = subprocess.run(
            [sys.executable, "-m", "tui.commands", "alerts", "--json", "-c", status["config"]],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert listed.returncode == 0, listed.stderr
        shown = [(a["name"], a["labels"].get("backend"), a["source"])
                 for a in json.loads(listed.stdout)["alerts"]]  # fmt: skip
        assert ("LLMHighErrorRate", "blue-0", "alertmanager") in shown
        assert asyncio.run(_alert_on_screen(status["config"], "LLMHighErrorRate backend=blue-0"))
    finally:
        httpx.post(
            status["control"] + "/faults", json={"backend": "blue-0", "kind": "clear"}, timeout=5
        )


def test_rewriting_the_upstream_file_and_reloading_moves_traffic(lab: dict[str, Any]) -> None:
    """The path later traffic changes take: render, atomic write, ``nginx -t``, reload."""
    record = lab["record"]
    layout = nginx.NginxLayout(Path(record["files"]["nginx_conf"]).parent)
    logs = Path(record["files"]["logs"])
    binary = record["files"]["nginx_binary"]
    current = nginx.parse_upstream(layout.upstream.read_text())
    assert current.weights == {"blue": 100.0, "green": 0.0}
    green = next(b["url"] for b in lab["status"]["backends"] if b["name"] == "green-0")
    before = _requests_served(green)
    text = nginx.render_upstream(nginx.UPSTREAM_NAME, current.servers_by_pool, {"green": 100})
    nginx.write_atomic(layout.upstream, text, backup=True)
    try:
        assert nginx.nginx_check(binary, layout, logs) is None
        assert nginx.nginx_reload(binary, layout, logs) is None
        assert wait_for(lambda: _requests_served(green) > before + 5, 15), "green got nothing"
    finally:
        back = nginx.render_upstream(nginx.UPSTREAM_NAME, current.servers_by_pool, current.weights)
        nginx.write_atomic(layout.upstream, back)
        nginx.nginx_reload(binary, layout, logs)


def test_status_shows_the_live_split_after_traffic_set(lab: dict[str, Any], tmp_path: Path) -> None:
    """``lab status`` reads the split nginx has now, not the one ``lab up`` wrote."""
    config = lab["status"]["config"]
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")}  # the audit log

    def traffic(*weights: str) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "tui.commands", "traffic", "set", *weights, "--yes",
             "-c", config],
            capture_output=True, text=True, timeout=60, cwd=REPO, env=env, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr

    traffic("blue=90", "green=10")
    try:
        status = lab_cmd("status", "--dir", lab["dir"], "--json")
        assert status.returncode == 0, status.stdout + status.stderr
        assert json.loads(status.stdout)["weights"] == {"blue": 90.0, "green": 10.0}
        text = lab_cmd("status", "--dir", lab["dir"])
        assert "traffic       blue 90%, green 10%" in text.stdout, text.stdout
    finally:
        traffic("blue=100", "green=0")


def test_down_stops_exactly_what_up_started_and_is_idempotent(lab: dict[str, Any]) -> None:
    record = _record(lab["dir"])
    began = time.monotonic()
    down = lab_cmd("down", "--dir", lab["dir"])
    print(f"lab down took {time.monotonic() - began:.1f}s")
    assert down.returncode == 0, down.stdout + down.stderr
    assert not (lab["dir"] / "lab.json").exists()
    _assert_all_gone(record)
    assert _processes_mentioning(str(lab["dir"])) == []
    again = lab_cmd("down", "--dir", lab["dir"])
    assert again.returncode == 0 and "nothing running" in again.stdout
    status = lab_cmd("status", "--dir", lab["dir"], "--json")
    assert status.returncode == 1 and json.loads(status.stdout)["running"] is False


def test_a_missing_binary_names_its_package_and_starts_nothing(tmp_path: Path) -> None:
    fake_bin = tmp_path / "bin-without-nginx"
    fake_bin.mkdir()
    for binary, package in BINARIES[1:]:
        os.symlink(require_binary(binary, package), fake_bin / binary)
    folder = tmp_path / "lab"
    env = {**os.environ, "PATH": str(fake_bin)}
    up = lab_cmd("up", "--dir", folder, env=env)
    assert up.returncode == 2
    lines = up.stderr.strip().splitlines()
    assert len(lines) == 1, up.stderr
    assert "nginx" in lines[0] and "nginx-light" in lines[0]
    assert not (folder / "lab.json").exists()
    assert _processes_mentioning(str(folder)) == []


def test_a_part_failing_to_start_stops_what_was_started(tmp_path: Path) -> None:
    fake_bin = tmp_path / "bin-with-broken-prometheus"
    fake_bin.mkdir()
    for binary, package in (BINARIES[0], BINARIES[2]):
        os.symlink(require_binary(binary, package), fake_bin / binary)
    broken = fake_bin / "prometheus"
    broken.write_text("#!/bin/sh\necho 'err=\"no storage for you\"' >&2\nexit 1\n")
    broken.chmod(0o755)
    folder = tmp_path / "lab"
    up = lab_cmd("up", "--dir", folder, "--rps", "5", env={**os.environ, "PATH": str(fake_bin)})
    assert up.returncode == 1
    errors = up.stderr.strip().splitlines()
    assert len(errors) == 1 and "prometheus did not start" in errors[0], up.stderr
    assert "no storage for you" in errors[0]
    assert not (folder / "lab.json").exists()
    assert _processes_mentioning(str(folder)) == []


def test_containers_stop_and_start_show_in_prometheus_up(tmp_path: Path) -> None:
    """``lab up --containers``: one container per backend, compose-labelled, on podman."""
    for binary, package in (*BINARIES, ("podman", "podman"), ("runc", "runc"),
                            ("busybox", "busybox-static")):  # fmt: skip
        require_binary(binary, package)
    import docker

    folder = tmp_path / "lab"
    up = lab_cmd("up", "--dir", folder, "--containers", "--pools", "blue=1,green=1",
                 "--gpus", "1", "--rps", "5")  # fmt: skip
    record: dict[str, Any] = {}
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        record = _record(folder)
        client = docker.DockerClient(base_url=record["podman"]["url"])
        containers = client.containers.list(
            filters={"label": "com.docker.compose.project=inferdeck-lab"}
        )
        services = sorted(c.labels["com.docker.compose.service"] for c in containers)
        assert services == ["vllm-blue", "vllm-green"]
        config = load_config(record["config"])
        assert config.sources.docker is not None
        assert config.sources.docker.url == record["podman"]["url"]
        assert config.sources.docker.compose_project == "inferdeck-lab"

        def up_value(backend: str) -> str | None:
            found = _query(record["prometheus"], f'up{{job="vllm",backend="{backend}"}}')
            return found[0]["value"][1] if found else None

        assert wait_for(lambda: up_value("blue-0") == "1", 20), "blue-0 never scraped"
        blue = client.containers.get("inferdeck-lab-vllm-blue-0")
        asyncio.run(_stop_and_start_on_screens(record["config"], blue))
        assert wait_for(lambda: up_value("blue-0") == "1", 30), "restarted container not up"
        blue.stop(timeout=2)
        assert wait_for(lambda: up_value("blue-0") == "0", 20), "stopped container still up"
        blue.start()
        assert wait_for(lambda: up_value("blue-0") == "1", 30), "restarted container not up"
        client.close()
    finally:
        down = lab_cmd("down", "--dir", folder)
    assert down.returncode == 0, down.stdout + down.stderr
    if record:
        _assert_all_gone(record)
        assert _processes_mentioning(str(folder)) == []


def _instances(prometheus: str, expr: str) -> set[str]:
    """The ``instance`` labels of every series ``expr`` returns."""
    return {s["metric"].get("instance", "") for s in _query(prometheus, expr)} - {""}


def test_up_after_down_starts_prometheus_and_alertmanager_clean(tmp_path: Path) -> None:
    """A second ``lab up`` in the same folder gets a fresh TSDB: no series (or ``ALERTS``)
    of the first lab's targets, whose ports are gone; the operator's own files stay."""
    for binary, package in BINARIES:
        require_binary(binary, package)
    folder = tmp_path / "lab"
    folder.mkdir()
    mine = folder / "notes.txt"
    mine.write_text("the operator's own file\n")
    small = ("--pools", "blue=1,green=1", "--gpus", "1", "--rps", "0")
    try:
        first = lab_cmd("up", "--dir", folder, *small)
        assert first.returncode == 0, first.stdout + first.stderr
        prometheus = _record(folder)["prometheus"]
        scraped = wait_for(lambda: len(_instances(prometheus, 'up{job="vllm"} == 1')) == 2, 20)
        assert scraped, _query(prometheus, "up")
        old = _instances(prometheus, "up")
        down = lab_cmd("down", "--dir", folder)
        assert down.returncode == 0, down.stdout + down.stderr

        second = lab_cmd("up", "--dir", folder, *small)
        assert second.returncode == 0, second.stdout + second.stderr
        record = _record(folder)
        urls = [b["url"] for b in record["backends"]] + [record["gpu_exporter"], record["nginx"]]
        new = {urlsplit(url).netloc for url in urls}
        ghosts = old - new
        assert ghosts, "the second lab reused every port: nothing to tell apart"
        assert wait_for(lambda: _instances(record["prometheus"], 'up{job="vllm"}'), 20)
        for expr in ("last_over_time(up[1h])", "last_over_time(ALERTS[1h])"):
            seen = _instances(record["prometheus"], expr)
            assert seen & ghosts == set(), f"{expr}: the first lab's targets {seen & ghosts}"
        assert mine.read_text() == "the operator's own file\n"
    finally:
        lab_cmd("down", "--dir", folder)
    assert _processes_mentioning(str(folder)) == []
