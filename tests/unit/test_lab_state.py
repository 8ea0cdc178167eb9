"""The lab's folder: what ``lab up`` may delete in it, and what it must leave alone."""

from __future__ import annotations

from pathlib import Path

from tui.lab.state import LabPaths


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
