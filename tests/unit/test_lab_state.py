"""The lab's folder (what ``lab up`` may delete in it, and what it must leave alone), and
the traffic split ``lab status`` reads live."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tui.lab.nginx import UPSTREAM_NAME, render_upstream
from tui.lab.render import render_config
from tui.lab.state import LabPaths
from tui.lab.status import live_split


def test_reset_storage_empties_only_the_lab_storage(tmp_path: Path) -> None:
    paths = LabPaths(tmp_path / "lab")
    paths.create()
    for folder in (paths.prometheus_data, paths.alertmanager_data):
        (folder / "wal").mkdir(parents=True)
        (folder / "wal" / "00000001").write_text("old samples")
    kept = [paths.root / "notes.txt", paths.prometheus / "prometheus.yml", paths.logs / "x.log"]
    for path in kept:
        path.write_text("keep me")

    paths.reset_storage()

    assert list(paths.prometheus_data.iterdir()) == []
    assert list(paths.alertmanager_data.iterdir()) == []
    assert all(path.read_text() == "keep me" for path in kept)


def test_reset_storage_removes_a_link_without_following_it(tmp_path: Path) -> None:
    elsewhere = tmp_path / "operators-tsdb"
    elsewhere.mkdir()
    (elsewhere / "block").write_text("precious")
    paths = LabPaths(tmp_path / "lab")
    paths.create()
    paths.prometheus_data.symlink_to(elsewhere)

    paths.reset_storage()

    assert paths.prometheus_data.is_dir() and not paths.prometheus_data.is_symlink()
    assert (elsewhere / "block").read_text() == "precious"


def _lab_with_config(root: Path, upstream_text: str | None) -> dict[str, Any]:
    """A lab record whose written config names an upstream file holding ``upstream_text``."""
    state = {
        "dir": str(root),
        "backends": [
            {"name": "blue-0", "pool": "blue", "url": "http://127.0.0.1:9001"},
            {"name": "green-0", "pool": "green", "url": "http://127.0.0.1:9003"},
        ],
        "gpu_exporter": "http://127.0.0.1:9100/metrics",
        "prometheus": "http://127.0.0.1:9090",
        "alertmanager": "http://127.0.0.1:9093",
        "nginx": "http://127.0.0.1:8080",
        "files": {
            "nginx_upstream": str(root / "upstream.conf"),
            "nginx_conf": str(root / "nginx" / "nginx.conf"),
        },
        "config": str(root / "inferdeck.yaml"),
    }
    (root / "inferdeck.yaml").write_text(render_config(state))
    if upstream_text is not None:
        (root / "upstream.conf").write_text(upstream_text)
    return state


def test_live_split_reads_the_upstream_file_as_it_is_now(tmp_path: Path) -> None:
    servers = {"blue": ["127.0.0.1:9001"], "green": ["127.0.0.1:9003"]}
    state = _lab_with_config(
        tmp_path, render_upstream(UPSTREAM_NAME, servers, {"blue": 100.0, "green": 0.0})
    )
    assert live_split(state) == ({"blue": 100.0, "green": 0.0}, None)
    (tmp_path / "upstream.conf").write_text(
        render_upstream(UPSTREAM_NAME, servers, {"blue": 90.0, "green": 10.0})
    )
    assert live_split(state) == ({"blue": 90.0, "green": 10.0}, None)


def test_live_split_says_why_it_cannot_read_the_split(tmp_path: Path) -> None:
    weights, problem = live_split(_lab_with_config(tmp_path, None))
    assert weights is None and problem and "upstream.conf" in problem
    weights, problem = live_split({"dir": str(tmp_path)})
    assert weights is None and problem == "the lab wrote no inferdeck config"
