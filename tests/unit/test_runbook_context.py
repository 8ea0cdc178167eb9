"""Shipped runbooks take their targets from the config: ``{backend.url}``,
``{backend.container}``, ``{prometheus.url}``… never a hard-coded 127.0.0.1:8000 or vllm;
an unknown value refuses the run in one line, before anything runs (issue 8)."""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Sequence
from pathlib import Path
from types import MappingProxyType

import pytest

from tui.commands.runbook import add_runbook_arguments, run_runbook
from tui.config import load_config
from tui.hub import BACKEND_LABEL
from tui.model import Backend, Container
from tui.ops.audit import AuditLog
from tui.ops.executor import Executor
from tui.ops.runbooks import context
from tui.ops.runbooks.catalog import SHIPPED_DIR, from_runbooks
from tui.ops.runbooks.context import RunContext, context_used
from tui.ops.runbooks.runner import Runbooks
from tui.ops.runbooks.schema import RunbookError, parse_runbook

CONFIG = """\
audit_log: {audit}
backends:
  - {{name: blue-0, pool: blue, url: "http://10.1.2.3:8100/", model: llama-3-8b}}
  - {{name: green-0, pool: green, url: "http://10.1.2.4:8200"}}
sources:
  prometheus: {{url: "http://prom.internal:9090"}}
  docker: {{url: "unix:///nonexistent/docker.sock"}}
traffic:
  router: sim
  sim_control: http://127.0.0.1:1
"""


def cli(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()

    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("-c", "--config", default=argparse.SUPPRESS)
        sub.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
        sub.add_argument("--yes", action="store_true", default=argparse.SUPPRESS)

    add_runbook_arguments(parser, common=common)
    return parser.parse_args(argv)


def stack() -> Sequence[Container]:
    labels = MappingProxyType({BACKEND_LABEL: "blue-0"})
    return (
        Container(name="llm-stack-blue-0-1", id="a" * 64, labels=labels),
        Container(name="llm-green-0", id="b" * 64),
    )


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(context, "docker_containers", lambda config: stack)
    path = tmp_path / "inferdeck.yaml"
    path.write_text(CONFIG.format(audit=tmp_path / "audit.jsonl"))
    return path


def test_diagnosis_dry_run_shows_the_configured_backend(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_runbook(cli(["run", "diagnosis", "--dry-run", "-c", str(config),
                            "--backend", "blue-0"])) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "http://10.1.2.3:8100/health" in out and "llm-stack-blue-0-1" in out
    assert "127.0.0.1" not in out and "vllm" not in out
    assert run_runbook(cli(["run", "diagnosis", "--dry-run", "-c", str(config),
                            "--input", "backend=green-0"])) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "http://10.1.2.4:8200/health" in out and "llm-green-0" in out


def test_an_unknown_value_is_one_line_before_anything_runs(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["run", "diagnosis", "-c", str(config), "--yes"]
    assert run_runbook(cli(args)) == 2  # two backends, none chosen
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("inferdeck: error:")]
    assert len(errors) == 1 and "choose one of blue-0, green-0 (--backend NAME)" in errors[0]
    assert all(line.startswith("inferdeck: ") for line in err.splitlines())  # no traceback
    assert run_runbook(cli([*args, "--backend", "nope"])) == 2
    assert "there is no backend 'nope'" in capsys.readouterr().err
    assert run_runbook(cli(["run", "service-start", "--dry-run", "-c", str(config),
                            "--backend", "green-0"])) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert "needs {backend.model}: backend 'green-0' has no model" in err
    assert not (config.parent / "audit.jsonl").exists()  # nothing ran, nothing was asked


def test_given_values_win_and_are_checked(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["run", "llm-down", "--dry-run", "-c", str(config), "--backend", "blue-0"]
    assert run_runbook(cli([*base, "--input", "backend.container=llm-7"])) == 0
    assert "llm-7" in capsys.readouterr().out
    assert run_runbook(cli([*base, "--input", "backend.url=http://h/$(id)"])) == 2
    assert "{backend.url} = 'http://h/$(id)' does not match" in capsys.readouterr().err


def test_no_container_engine_is_a_clear_refusal(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, "backends:\n  - {name: b, pool: p, url: 'http://h:1'}\n"))
    runbooks = Runbooks.from_config(config, Executor(AuditLog(tmp_path / "a.jsonl")))
    with pytest.raises(RunbookError) as caught:
        runbooks.dry_run("llm-down")
    assert str(caught.value) == (
        "runbook 'llm-down' needs {backend.container}: no container known for backend 'b'"
        " (no sources.docker in the config; or --input backend.container=NAME)"
    )
    previews = runbooks.dry_run("high-latency")  # the only backend is the one
    assert any("http://h:1/metrics" in line or "$1=http://h:1" in line
               for p in previews for line in p.lines)  # fmt: skip


def test_the_fleet_as_seen_names_the_container(tmp_path: Path) -> None:
    book = parse_runbook(
        textwrap.dedent(
            """\
            name: t
            steps:
              - {name: a, run: [docker, logs, "{backend.container}"]}
              - {name: b, wait: {url: "{backend.url}/health"}}
            """
        ),
        "t.yaml",
    )
    assert context_used(book) == ("backend.container", "backend.url")
    fleet = (Backend(name="x", pool="p", url="http://10.0.0.9:8000", container="c-x"),)
    runbooks = Runbooks(
        Executor(AuditLog(tmp_path / "a.jsonl")), from_runbooks([book]), context=RunContext()
    )
    first, second = runbooks.dry_run(book, fleet=fleet)
    assert "$ docker logs c-x" in first.lines
    assert "wait until GET http://10.0.0.9:8000/health answers status 200" in second.lines
    assert runbooks.targets_a_backend(book)


def test_shipped_runbooks_hard_code_no_host_or_container() -> None:
    for path in SHIPPED_DIR.glob("*.yaml"):
        steps = path.read_text().split("\nsteps:", 1)[1]
        assert "127.0.0.1" not in path.read_text(), path.name
        assert "vllm" not in steps.replace("vllm:num_requests", "").replace("vllm[:_]", ""), (
            path.name
        )


def _write(folder: Path, text: str) -> Path:
    path = folder / "c.yaml"
    path.write_text(text)
    return path
