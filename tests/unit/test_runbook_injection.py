"""Inputs reach a command only as whole arguments, or checked against a declared pattern.

Issue 8: a guard that knew only the shells let ``python3 -c``, ``su -c`` and ``env -S``
run an input pasted inside their code. The rule now: a placeholder is a whole argv
element, or sits inside a longer one only when its input declares a ``pattern`` (a regex
the whole value must match, checked before anything runs). Anything else is refused
when the runbook is loaded, as ``FILE:LINE: ...``.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tui.ops.audit import AuditLog
from tui.ops.executor import Executor
from tui.ops.runbooks.catalog import from_runbooks, load_catalog
from tui.ops.runbooks.runner import Runbooks
from tui.ops.runbooks.schema import RunbookError, parse_runbook


def book(argv: str, inputs: str = "  key: {default: abc}\n") -> str:
    return f"name: t\ninputs:\n{inputs}steps:\n  - name: a\n    run: {argv}\n"


INJECTIONS = [
    ("python -c", """[python3, -c, "print('{key}')"]"""),
    ("su -c", """[su, -c, "echo {key}", root]"""),
    ("env -S", """[env, -S, "sh -c 'echo {key}'"]"""),
    ("inside an option", """[curl, "--url=http://h/{key}"]"""),
]


@pytest.mark.parametrize(("what", "argv"), INJECTIONS, ids=[i[0] for i in INJECTIONS])
def test_a_placeholder_inside_a_longer_argument_is_refused_at_load(what: str, argv: str) -> None:
    with pytest.raises(RunbookError) as caught:
        parse_runbook(book(argv), "rb.yaml")
    message = str(caught.value)
    assert message.startswith("rb.yaml:6: "), message
    if what == "inside an option":
        assert message.startswith("rb.yaml:6: {key} inside '--url=http://h/{key}': "), message
        assert "whole argument" in message and "pattern" in message, message
    else:  # the interpreter's code is named first, the more telling reason
        assert "makes an input into code" in message, message


WHOLE_CODE = [
    ("python -c whole", "[python3, -c, '{key}']"),
    ("su -c whole", "[su, -c, '{key}', root]"),
    ("env -S whole", "[env, -S, '{key}']"),
    ("perl -e whole", "[perl, -e, '{key}']"),
    ("bash -c whole", "[/bin/bash, -c, '{key}']"),
]


@pytest.mark.parametrize(("what", "argv"), WHOLE_CODE, ids=[w[0] for w in WHOLE_CODE])
def test_a_whole_placeholder_as_an_interpreters_code_is_refused(what: str, argv: str) -> None:
    with pytest.raises(RunbookError, match=r"^rb\.yaml:6: .*code"):
        parse_runbook(book(argv), "rb.yaml")


def test_pattern_declared_input_may_stand_inside_an_argument(tmp_path: Path) -> None:
    text = book(
        '[curl, "http://{host}:8000/health"]',
        '  host:\n    default: 127.0.0.1\n    pattern: "[A-Za-z0-9.-]+"\n',
    )
    runbook = parse_runbook(text, "rb.yaml")
    assert runbook.inputs[0].pattern == "[A-Za-z0-9.-]+"
    runbooks = Runbooks(Executor(AuditLog(tmp_path / "a.jsonl")), from_runbooks([runbook]))
    (preview,) = runbooks.dry_run(runbook, {"host": "db.internal"})
    assert "$ curl http://db.internal:8000/health" in preview.lines


async def test_a_value_not_matching_the_pattern_is_refused_before_anything_runs(
    tmp_path: Path,
) -> None:
    marker = tmp_path / "ran"
    text = textwrap.dedent(
        f"""\
        name: t
        inputs:
          host: {{default: h, pattern: "[a-z]+"}}
        steps:
          - name: first
            run: [touch, "{marker}"]
          - name: second
            run: [echo, "x-{{host}}"]
        """
    )
    runbook = parse_runbook(text, "rb.yaml")
    runbooks = Runbooks(Executor(AuditLog(tmp_path / "a.jsonl")), from_runbooks([runbook]))

    async def yes(action: object, plan: object) -> bool:
        return True

    for value in ("h; rm -rf /", "h'", "", "H"):
        with pytest.raises(RunbookError, match="does not match its pattern"):
            await runbooks.run(runbook, {"host": value}, confirm=yes)
        with pytest.raises(RunbookError, match="does not match its pattern"):
            runbooks.dry_run(runbook, {"host": value})
    assert not marker.exists() and not (tmp_path / "a.jsonl").exists()
    report = await runbooks.run(runbook, {"host": "ok"}, confirm=yes)
    assert report.ok and marker.exists()


def test_a_bad_pattern_is_a_load_error() -> None:
    with pytest.raises(RunbookError, match=r"^rb\.yaml:3: .*pattern.*regular expression"):
        parse_runbook(book("[echo, '{key}']", "  key: {default: a, pattern: '[a-'}\n"), "rb.yaml")


def test_whole_arguments_env_and_shell_args_stay_allowed() -> None:
    runbook = parse_runbook(
        "name: t\ninputs:\n  key: x\nsteps:\n"
        "  - {name: a, run: [echo, '{key}'], env: {K: '{key}'}}\n"
        "  - {name: b, shell: true, run: 'echo \"$1\"', args: ['{key}']}\n",
        "rb.yaml",
    )
    assert len(runbook.steps) == 2


@pytest.mark.parametrize(
    "step",
    [
        "{name: a, run: [echo, ok], env: {K: 'pre-{key}'}}",
        "{name: a, shell: true, run: 'echo \"$1\"', args: ['--x={key}']}",
        "{name: a, run: [ls], cwd: '/srv/{key}'}",
    ],
)
def test_the_rule_holds_for_env_shell_args_and_cwd(step: str) -> None:
    with pytest.raises(RunbookError, match="whole"):
        parse_runbook(f"name: t\ninputs:\n  key: x\nsteps:\n  - {step}\n", "rb.yaml")


def test_shipped_runbooks_follow_the_rule() -> None:
    assert load_catalog().errors == []
