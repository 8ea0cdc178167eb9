"""Runbooks: schema errors name FILE:LINE, placeholders stay inert, shipped ones dry-run."""

# ruff: noqa: E501  (the table of schema mistakes reads best one per line)

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from tui.commands.runbook import add_runbook_arguments, run_runbook
from tui.config import load_config
from tui.model import Container
from tui.ops.audit import AuditLog
from tui.ops.executor import ActionResult, Executor, Plan, Progress
from tui.ops.runbooks.catalog import SHIPPED_DIR, from_runbooks, load_catalog
from tui.ops.runbooks.context import RunContext
from tui.ops.runbooks.model import RunSpec, StepType
from tui.ops.runbooks.placeholders import (
    PlaceholderError,
    placeholders,
    shell_placeholders,
    substitute,
)
from tui.ops.runbooks.runner import Runbooks, resolve_inputs
from tui.ops.runbooks.schema import RunbookError, parse_runbook

GOOD = """\
name: demo
title: A demo
severity: warning
alerts: [LLMHighLatency]
inputs:
  url: http://127.0.0.1:8000
  container:
    default: vllm
    description: the server
steps:
  - name: list
    run: [ls, -l, "{container}"]
"""


def parse(text: str) -> Any:
    return parse_runbook(textwrap.dedent(text), "rb.yaml")


def with_steps(steps: str, inputs: str = "  x: one\n") -> str:
    return f"name: t\ninputs:\n{inputs}steps:\n" + textwrap.indent(textwrap.dedent(steps), "  ")


# --- the schema -------------------------------------------------------------------------


def test_good_runbook_is_typed() -> None:
    runbook = parse(GOOD)
    assert runbook.name == "demo" and runbook.alerts == ("LLMHighLatency",)
    assert [(i.name, i.default) for i in runbook.inputs] == [
        ("url", "http://127.0.0.1:8000"),
        ("container", "vllm"),
    ]
    (step,) = runbook.steps
    assert step.type is StepType.RUN and step.timeout_s == 120 and not step.continue_on_error
    assert isinstance(step.spec, RunSpec) and step.spec.argv == ("ls", "-l", "{container}")


ERRORS = [
    # (what, yaml, line, fragment)
    ("unknown top key", "name: t\nowner: me\nsteps: []\n", 2, "unknown key 'owner'"),
    ("no steps key", "name: t\ntitle: x\n", 1, "needs 'steps'"),
    ("empty steps", "name: t\nsteps: []\n", 2, "at least one step"),
    ("bad name", "name: My Book\nsteps:\n  - {name: a, check: ok}\n", 1, "runbook name"),
    ("bad severity", "name: t\nseverity: urgent\nsteps:\n  - {name: a, check: x}\n", 2, "severity"),
    ("not yaml", "name: t\nsteps: [\n", 3, "not valid YAML"),
    ("empty file", "", 1, "empty"),
    ("steps not a list", "name: t\nsteps: {a: 1}\n", 2, "'steps' must be a list"),
    ("unknown step type", with_steps("- name: a\n  exec: [ls]\n"), 6, "unknown step type or key 'exec'"),
    ("no step type", with_steps("- name: a\n  timeout: 3\n"), 5, "needs exactly one of run"),
    ("two step types", with_steps("- name: a\n  run: [ls]\n  check: ok\n"), 5, "found run, check"),
    ("step without name", with_steps("- run: [ls]\n"), 5, "a step needs 'name'"),
    ("duplicate step", with_steps("- {name: a, run: [ls]}\n- {name: a, run: [ls]}\n"), 6, "used twice"),
    ("timeout wrong type", with_steps("- name: a\n  run: [ls]\n  timeout: soon\n"), 7, "'timeout' must be a float"),
    ("timeout zero", with_steps("- name: a\n  run: [ls]\n  timeout: 0\n"), 7, "greater than 0"),
    ("coe wrong type", with_steps("- name: a\n  run: [ls]\n  continue_on_error: maybe\n"), 7, "must be a bool"),
    ("run wrong type", with_steps("- name: a\n  run: {x: 1}\n"), 6, "'run' must be a list"),
    ("run empty", with_steps("- name: a\n  run: []\n"), 6, "at least a program"),
    ("string without shell", with_steps("- name: a\n  run: ls -l\n"), 6, "say 'shell: true'"),
    ("shell with argv", with_steps("- name: a\n  run: [ls]\n  shell: true\n"), 7, "one string"),
    ("args without shell", with_steps("- name: a\n  run: [ls]\n  args: [x]\n"), 7, "only for 'shell: true'"),
    ("shell key on check", with_steps("- name: a\n  check: ok\n  env: {A: b}\n"), 7, "only for run steps"),
    ("bad env name", with_steps("- name: a\n  run: [ls]\n  env: {'1A': b}\n"), 7, "not valid"),
    ("unknown placeholder", with_steps("- name: a\n  run: [echo, '{nope}']\n"), 6, "unknown placeholder {nope}"),
    ("unknown dotted placeholder", with_steps("- name: a\n  run: [echo, '{x.y}']\n"), 6, "unknown placeholder {x.y}"),
    ("bad placeholder", with_steps("- name: a\n  run: [echo, '{x!r}']\n"), 6, "bad placeholder"),
    ("lone brace", with_steps("- name: a\n  run: [echo, 'a{b']\n"), 6, "bad placeholder"),
    ("placeholder in shell string", with_steps("- name: a\n  shell: true\n  run: 'echo {x}'\n"), 7, "{x} inside a shell string"),
    ("placeholder in sh -c", with_steps("- name: a\n  run: [bash, -ec, 'echo {x}']\n"), 6, "shell's -c script"),
    ("wait without url", with_steps("- name: a\n  wait: {interval: 1}\n"), 6, "needs 'url'"),
    ("wait bad url", with_steps("- name: a\n  wait: {url: 'ftp://h/'}\n"), 6, "http(s) URL"),
    ("wait bad status", with_steps("- name: a\n  wait: {url: 'http://h/', expect_status: 99}\n"), 6, "HTTP status"),
    ("wait unknown key", with_steps("- name: a\n  wait: {url: 'http://h/', retries: 3}\n"), 6, "unknown key 'retries' in wait"),
    ("timeout twice", with_steps("- name: a\n  wait: {url: 'http://h/', timeout: 3}\n  timeout: 4\n"), 7, "given twice"),
    ("container verb", with_steps("- name: a\n  container: {action: kill, name: v}\n"), 6, "restart, stop or start"),
    ("container no name", with_steps("- name: a\n  container: {action: stop}\n"), 6, "needs 'name'"),
    ("traffic sum", with_steps("- name: a\n  traffic: {set: {blue: 50, green: 10}}\n"), 6, "add up to 100"),
    ("traffic weight", with_steps("- name: a\n  traffic: {set: {blue: 150}}\n"), 6, "percentage"),
    ("traffic both", with_steps("- name: a\n  traffic: {set: {blue: 100}, rollback: true}\n"), 6, "exactly one"),
    ("input bad name", "name: t\ninputs:\n  my-url: x\nsteps:\n  - {name: a, check: x}\n", 3, "identifier"),
    ("input unknown key", "name: t\ninputs:\n  u: {value: 1}\nsteps:\n  - {name: a, check: x}\n", 3, "unknown key 'value'"),
]  # fmt: skip


@pytest.mark.parametrize(("what", "text", "line", "fragment"), ERRORS, ids=[e[0] for e in ERRORS])
def test_schema_errors_name_file_and_line(what: str, text: str, line: int, fragment: str) -> None:
    with pytest.raises(RunbookError) as caught:
        parse_runbook(text, "rb.yaml")
    message = str(caught.value)
    assert message.startswith(f"rb.yaml:{line}: "), message
    assert fragment in message, message


def test_defaults_and_shell_forms() -> None:
    runbook = parse(
        with_steps(
            """\
            - name: script
              shell: true
              run: 'test -n "${HOME}" && { echo "$1"; } && docker ps --format "{{.Names}}"'
              args: ["{x}"]
              env: {TARGET: "{x}"}
            - name: w
              wait: {url: "http://{x}:8000/health", timeout: 7}
            - name: c
              check: is {x} fine?
            """
        )
    )
    script, wait, check = runbook.steps
    assert isinstance(script.spec, RunSpec) and script.spec.args == ("{x}",)
    assert wait.timeout_s == 7 and check.timeout_s == 1800


# --- placeholders -----------------------------------------------------------------------


def test_placeholders_substitute_whole_values_only() -> None:
    hostile = '$(touch /tmp/x); rm -rf / `id` "quoted" {x}'
    assert placeholders("a-{x}-{{literal}}") == ("x",)
    assert substitute("--name={x}", {"x": hostile}) == f"--name={hostile}"
    assert substitute("{{not}} {x}", {"x": "v"}) == "{not} v"
    with pytest.raises(PlaceholderError):
        placeholders("{x:>10}")
    with pytest.raises(PlaceholderError):
        substitute("{y}", {"x": "1"})


def test_shell_placeholders_leave_shell_syntax_alone() -> None:
    assert shell_placeholders('echo "${HOME}" {x} $1 { true; } {{.Name}}') == ("{x}",)


# --- inputs and dry run -----------------------------------------------------------------


def test_inputs_unknown_and_missing() -> None:
    runbook = parse(
        "name: t\ninputs:\n  need: {description: no default}\nsteps:\n  - {name: a, check: x}\n"
    )
    with pytest.raises(RunbookError, match="needs input 'need'"):
        resolve_inputs(runbook, {})
    with pytest.raises(RunbookError, match="has no input 'other'"):
        resolve_inputs(runbook, {"need": "1", "other": "2"})
    assert resolve_inputs(runbook, {"need": "1"}) == {"need": "1"}


def executor(tmp_path: Path) -> Executor:
    return Executor(AuditLog(tmp_path / "audit.jsonl"), actor="tester@host")


def test_every_shipped_runbook_loads_and_dry_runs(tmp_path: Path) -> None:
    catalog = load_catalog()
    assert not catalog.errors
    assert {"service-start", "diagnosis", "gpu-memory", "high-latency", "llm-down",
            "blue-green-deploy", "rollback"} <= set(catalog.names())  # fmt: skip
    config = load_config(
        write(
            tmp_path,
            "c.yaml",
            """\
            backends: [{name: b, pool: blue, url: "http://10.0.0.1:8000", model: m}]
            sources: {prometheus: {url: "http://10.0.0.2:9090"}}
            traffic: {router: sim, sim_control: "http://127.0.0.1:1"}
            """,
        )
    )
    context = RunContext(config, lambda: [Container(name="llm-b", id="x")])
    runbooks = Runbooks(executor(tmp_path), catalog, context=context)
    for name in catalog.names():
        previews = runbooks.dry_run(name)
        assert len(previews) == len(runbooks.get(name).steps)
        assert all(p.lines for p in previews)
    assert not (tmp_path / "audit.jsonl").exists()  # a dry run audits nothing: it runs nothing
    assert catalog.for_alert("LLMServiceDown")[0].name == "llm-down"
    runbook = catalog.get("service-start")
    assert runbook is not None
    step = runbook.steps[0]
    assert isinstance(step.spec, RunSpec)
    assert step.spec.argv == ("nvidia-smi", "--query-gpu=name,memory.total", "--format=csv")


def test_shipped_runbooks_named_by_the_alert_rules_exist() -> None:
    rules = (SHIPPED_DIR.parent / "rules" / "llm-operations.yml").read_text()
    names = set(load_catalog().names())
    for wanted in ("llm-down", "high-latency", "gpu-memory"):
        assert f"runbook: {wanted}" in rules and wanted in names


class FakeAction:
    """A container or traffic action standing in for tui.ops.containers.actions / traffic."""

    def __init__(self, kind: str, target: str, dangerous: bool) -> None:
        self.kind, self.target, self.dangerous = kind, target, dangerous

    def params(self) -> dict[str, Any]:
        return {}

    def plan(self) -> Plan:
        return Plan(f"{self.kind} {self.target}", ("exactly this",), self.dangerous, self.target)

    def run(self, progress: Progress) -> ActionResult:
        return ActionResult(True, "done")


class FakeOps:
    def __init__(self) -> None:
        self.container = lambda verb, name: FakeAction(f"container.{verb}", name, verb != "start")
        self.set_weights = lambda w: FakeAction("traffic.set", " ".join(f"{k}={v:g}" for k, v in w.items()), False)  # fmt: skip
        self.rollback = lambda: FakeAction("traffic.rollback", "blue", True)


def test_dry_run_shows_the_inner_actions_plans(tmp_path: Path) -> None:
    runbook = parse(
        with_steps(
            """\
            - {name: restart, container: {action: restart, name: "{x}"}}
            - {name: split, traffic: {set: {"{x}": 100}}}
            - {name: back, traffic: {rollback: true}}
            """
        )
    )
    runbooks = Runbooks(executor(tmp_path), from_runbooks([runbook]), ops=FakeOps())
    restart, split, back = runbooks.dry_run(runbook, {"x": "green"})
    assert "container.restart green" in restart.lines and restart.dangerous
    assert "traffic.set green=100" in split.lines and not split.dangerous
    assert back.dangerous
    no_ops = Runbooks(executor(tmp_path), from_runbooks([runbook])).dry_run(runbook)
    assert any("no container engine configured" in line for line in no_ops[0].lines)


def test_bad_substituted_values_fail_before_anything(tmp_path: Path) -> None:
    runbook = parse(with_steps("- {name: w, wait: {url: '{x}'}}\n"))
    runbooks = Runbooks(executor(tmp_path), from_runbooks([runbook]))
    with pytest.raises(RunbookError, match="http"):
        runbooks.dry_run(runbook, {"x": "not a url"})


# --- the catalogue and the CLI ------------------------------------------------------------


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def cli(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()

    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("-c", "--config", default=argparse.SUPPRESS)
        sub.add_argument("--json", action="store_true", default=argparse.SUPPRESS)

    add_runbook_arguments(parser, common=common)
    return parser.parse_args(argv)


def config_with(tmp_path: Path, folder: Path) -> Path:
    return write(
        tmp_path,
        "inferdeck.yaml",
        f"runbooks_dir: {folder.name}\naudit_log: {tmp_path / 'a.jsonl'}\n",
    )


def test_operator_runbook_overrides_shipped_and_list_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = tmp_path / "books"
    write(mine, "latency.yaml", "name: high-latency\nsteps:\n  - {name: a, check: mine}\n")
    write(mine, "extra.yaml", "name: extra\nsteps:\n  - {name: a, check: x}\n")
    catalog = load_catalog(mine)
    assert catalog.entries["high-latency"].origin == "operator"
    assert catalog.entries["high-latency"].overrides is not None
    assert catalog.entries["llm-down"].origin == "shipped"
    assert run_runbook(cli(["list", "-c", str(config_with(tmp_path, mine))])) == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.startswith("high-latency"))
    assert "overrides shipped" in line and "latency.yaml" in line
    assert "extra" in out and "[shipped]" in out


def test_cli_schema_error_is_file_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = tmp_path / "books"
    bad = write(
        mine, "bad.yaml", "name: bad\nsteps:\n  - name: a\n    shell: true\n    run: 'rm {x}'\n"
    )
    config = str(config_with(tmp_path, mine))
    assert run_runbook(cli(["run", "llm-down", "--dry-run", "-c", config])) == 2
    assert f"inferdeck: error: {bad}:5: {{x}} inside a shell string" in capsys.readouterr().err
    assert run_runbook(cli(["list", "-c", config])) == 2  # lists the good ones, then says why


def test_cli_show_dry_run_and_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INFERDECK_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    assert run_runbook(cli(["show", "llm-down"])) == 0
    assert "restart container {backend.container}" in capsys.readouterr().out
    given = ["--input", "backend.url=http://h:1", "--input", "backend.container=c"]
    assert (
        run_runbook(cli(["run", "gpu-memory", "--dry-run", *given, "--input", "service=v$(id)"]))
        == 0
    )
    out = capsys.readouterr().out
    assert "nothing will run" in out and "v$(id)" in out
    assert run_runbook(cli(["run", "nope", "--dry-run"])) == 2
    assert "no runbook 'nope'" in capsys.readouterr().err
    assert run_runbook(cli(["run", "llm-down", "--dry-run", "--input", "novalue"])) == 2
    assert run_runbook(cli(["run", "llm-down", "--dry-run", "--input", "zzz=1"])) == 2
    assert "has no input 'zzz'" in capsys.readouterr().err


def test_resolve_keeps_each_value_one_argument() -> None:
    from tui.ops.runbooks.steps import resolve

    runbook = parse(
        with_steps(
            "- {name: a, run: [echo, '{x}', 'pre-{y}']}\n",
            "  x: one\n  y: {default: b, pattern: '[a-z]+'}\n",
        )
    )
    values: Mapping[str, str] = {"x": "a b; rm -rf /", "y": "b"}
    assert resolve("t", runbook.steps[0], values).argv == ("echo", "a b; rm -rf /", "pre-b")


def test_from_config_finds_the_operators_folder_beside_the_config(tmp_path: Path) -> None:
    from tui.config import load_config

    write(tmp_path / "books", "x.yaml", "name: x\nsteps:\n  - {name: a, check: ok}\n")
    config = load_config(write(tmp_path, "c.yaml", "runbooks_dir: books\n"))
    runbooks = Runbooks.from_config(config, executor(tmp_path))
    assert "x" in [e.name for e in runbooks.entries()] and runbooks.get("llm-down")
    assert runbooks.ops is not None and runbooks.ops.container is None  # no docker configured
