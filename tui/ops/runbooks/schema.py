"""Runbook YAML → validated, typed `Runbook`; every mistake as ``FILE:LINE: what is wrong``.

A runbook names the alerts it answers, declares its inputs (with defaults) and lists
steps. A step is exactly one of ``run`` (an argv list; a string only with ``shell: true``),
``wait`` (an HTTP probe), ``container`` (restart/stop/start), ``traffic`` (set weights or
roll back) or ``check`` (a manual step the operator confirms).

What a command receives (argv elements, a script's ``args``, ``env`` values, ``cwd``)
holds a placeholder only as the *whole* value — ``[ls, "{dir}"]`` — unless every
placeholder inside a longer value belongs to an input that declares a ``pattern`` (a
regular expression its whole value must match, checked before anything runs):
``[curl, "http://{host}:8000/health"]`` with ``host: {pattern: "[a-z0-9.-]+"}``. The
context placeholders (``{backend.url}``…, `tui.ops.runbooks.context`) have patterns of
their own, so ``"{backend.url}/health"`` is fine. A shell
string never holds a placeholder: it gets inputs as ``"$1"``… (``args:``) or environment
variables (``env:``); and no placeholder, whole or not, may be the code an interpreter runs
(``bash -c``, ``python3 -c``, ``su -c``, ``env -S``, ``perl -e``…).
The YAML helpers are `tui.config`'s, so runbooks and the config report errors alike.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from typing import Any

import yaml

from tui.config import ConfigError, _positive, _scalar, _sequence, _url, _where
from tui.ops.runbooks.context import CONTEXT
from tui.ops.runbooks.model import (
    CONTAINER_ACTIONS,
    DEFAULT_TIMEOUT_S,
    SEVERITIES,
    CheckSpec,
    ContainerSpec,
    InputSpec,
    Runbook,
    RunbookError,
    RunSpec,
    Spec,
    Step,
    StepType,
    TrafficSpec,
    WaitSpec,
)
from tui.ops.runbooks.placeholders import (
    PlaceholderError,
    check,
    has_placeholder,
    placeholders,
    shell_placeholders,
)

__all__ = ["Runbook", "RunbookError", "Step", "StepType", "parse_runbook"]

SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh", "ash", "mksh", "fish"})
"""Programs whose ``-c`` argument is shell code: no placeholder may go there."""
CODE_FLAGS: dict[str, tuple[str, ...]] = {
    "su": ("-c", "--command"),
    "runuser": ("-c", "--command"),
    "env": ("-S", "--split-string"),
    "python": ("-c",),
    "perl": ("-e", "-E"),
    "ruby": ("-e",),
    "node": ("-e", "--eval", "-p", "--print"),
    "php": ("-r",),
}
"""Other programs and the options whose argument is code they run (or split into a
command line): a placeholder may not be that argument, not even a whole one."""
_VERSIONED = re.compile(r"^([a-z]+?)[0-9.]*$")  # python3.12 → python, perl5 → perl
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_STEP_KEYS = ("name", "timeout", "continue_on_error", "shell", "args", "env", "cwd")

Known = Mapping[str, bool]
"""The placeholders a runbook may use → whether one may stand inside a longer argument
(its value is checked against a pattern) rather than only as a whole one."""


# --- parsing ----------------------------------------------------------------------------


def _fail(path: str, node: yaml.Node, message: str) -> RunbookError:
    return RunbookError(f"{_where(path, node)}: {message}")


def _pairs(path: str, node: yaml.Node, what: str) -> list[tuple[yaml.Node, yaml.Node]]:
    """A mapping's (key, value) nodes; a key given twice is an error."""
    if not isinstance(node, yaml.MappingNode):
        raise _fail(path, node, f"{what} must be a mapping of key: value")
    seen: set[str] = set()
    for key, _ in node.value:
        if str(key.value) in seen:
            raise _fail(path, key, f"'{key.value}' is given twice in {what}")
        seen.add(str(key.value))
    return list(node.value)


def _text(path: str, node: yaml.Node, key: str, known: Known | None = None) -> str:
    """A string; with ``known``, its placeholders must name declared inputs."""
    _scalar(path, node, str, key)  # a scalar, and not null
    value = str(node.value)  # as written: `true` stays "true", `0x10` stays "0x10"
    if known is not None:
        try:
            check(value, known)
        except PlaceholderError as exc:
            raise _fail(path, node, f"'{key}': {exc}") from None
    return value


def _texts(path: str, node: yaml.Node, key: str, known: Known | None) -> tuple[str, ...]:
    return tuple(_sequence(path, node, key, lambda n: _text(path, n, key, known)))


def _argument(path: str, node: yaml.Node, key: str, known: Known) -> str:
    """A value a command receives: each placeholder is the whole value, or patterned."""
    value = _text(path, node, key, known)
    names = placeholders(value)
    if not names or value == f"{{{names[0]}}}":
        return value
    for name in names:
        if not known.get(name, False):
            raise _fail(
                path,
                node,
                f"{{{name}}} inside {value!r}: a placeholder must be a whole argument, or its"
                f" input must declare a pattern its value is checked against"
                f' (inputs: {name}: {{pattern: "[A-Za-z0-9._-]+"}})',
            )
    return value


def _arguments(path: str, node: yaml.Node, key: str, known: Known) -> tuple[str, ...]:
    return tuple(_sequence(path, node, key, lambda n: _argument(path, n, key, known)))


def _inputs(path: str, node: yaml.Node) -> tuple[InputSpec, ...]:
    found: list[InputSpec] = []
    for key, value in _pairs(path, node, "inputs"):
        name = str(key.value)
        if not _IDENT.match(name):
            raise _fail(
                path, key, f"input name {name!r} must be an identifier (letters, _, digits)"
            )
        if isinstance(value, yaml.ScalarNode):  # shorthand: `url: http://...` is the default
            found.append(InputSpec(name, _text(path, value, name)))
            continue
        fields: dict[str, Any] = {}
        for k, v in _pairs(path, value, f"input '{name}'"):
            if k.value not in ("default", "description", "pattern"):
                raise _fail(
                    path,
                    k,
                    f"unknown key '{k.value}' in input '{name}' (default, description, pattern)",
                )
            fields[str(k.value)] = _text(path, v, str(k.value))
            if k.value == "pattern":
                try:
                    re.compile(fields["pattern"])
                except re.error as exc:
                    raise _fail(
                        path, v, f"input '{name}': pattern is not a regular expression: {exc}"
                    ) from None
        found.append(
            InputSpec(
                name,
                fields.get("default"),
                fields.get("description", ""),
                fields.get("pattern"),
            )
        )
    return tuple(found)


def _program(element: str) -> str:
    """``/usr/bin/python3.12`` → ``python``: the program's name without path or version."""
    base = os.path.basename(element)
    match = _VERSIONED.match(base)
    return match.group(1) if match and match.group(1) in CODE_FLAGS else base


def _code_argument(argv: tuple[str, ...]) -> tuple[str, str] | None:
    """The program and the argument it runs as code, when that argument holds a
    placeholder: ``[bash, -c, "... {x} ..."]``, ``[python3, -c, "{x}"]``, ``[env, -S, ...]``."""
    for i, element in enumerate(argv):
        program = _program(element)
        if program not in SHELLS and program not in CODE_FLAGS:
            continue
        rest = argv[i + 1 :]
        for j, flag in enumerate(rest):
            if program in SHELLS:
                is_code = flag.startswith("-") and not flag.startswith("--") and "c" in flag[1:]
            else:
                is_code = flag in CODE_FLAGS[program]
                attached = next(
                    (f for f in CODE_FLAGS[program] if flag.startswith(f) and flag != f), None
                )
                if attached is not None and has_placeholder(flag):
                    return program, flag  # -S'{x}', --command={x}
            if is_code and j + 1 < len(rest) and has_placeholder(rest[j + 1]):
                return program, rest[j + 1]
    return None


def _run(path: str, step: dict[str, yaml.Node], known: Known) -> RunSpec:
    node = step["run"]
    shell = bool(_scalar(path, step["shell"], bool, "shell")) if "shell" in step else False
    env_node, args_node, cwd_node = step.get("env"), step.get("args"), step.get("cwd")
    env: list[tuple[str, str]] = []
    if env_node is not None:
        for k, v in _pairs(path, env_node, "env"):
            if not _IDENT.match(str(k.value)):
                raise _fail(path, k, f"environment variable name {k.value!r} is not valid")
            env.append((str(k.value), _argument(path, v, str(k.value), known)))
    cwd = _argument(path, cwd_node, "cwd", known) if cwd_node is not None else None
    if isinstance(node, yaml.ScalarNode):
        if not shell:
            raise _fail(path, node, "'run' is a string: give an argv list, or say 'shell: true'")
        script = _text(path, node, "run")
        if found := shell_placeholders(script):
            raise _fail(
                path,
                node,
                f"{found[0]} inside a shell string: inputs are never pasted into shell code;"
                f' pass it as args: ["{found[0]}"] and write "$1" in the script, or use env:',
            )
        args = _arguments(path, args_node, "args", known) if args_node is not None else ()
        return RunSpec(script=script, args=args, env=tuple(env), cwd=cwd)
    if shell:
        raise _fail(path, step["shell"], "'shell: true' needs 'run' to be one string")
    if args_node is not None:
        raise _fail(path, args_node, "'args' is only for 'shell: true' (put them in the argv)")
    argv = _texts(path, node, "run", known)
    if not argv or not argv[0]:
        raise _fail(path, node, "'run' needs at least a program name")
    if (in_code := _code_argument(argv)) is not None:
        program, code = in_code
        what = "a shell's -c script" if program in SHELLS else f"the code {program} runs"
        raise _fail(
            path,
            node,
            f"a placeholder in {what} ({code!r}) makes an input into code:"
            ' use shell: true with args: ["{name}"] and "$1", or pass it as data',
        )
    _arguments(path, node, "run", known)  # each placeholder whole, or patterned
    return RunSpec(argv=argv, env=tuple(env), cwd=cwd)


def _wait(path: str, node: yaml.Node, known: Known) -> tuple[WaitSpec, float | None]:
    fields: dict[str, Any] = {}
    timeout: float | None = None
    for k, v in _pairs(path, node, "wait"):
        key = str(k.value)
        if key == "url":
            fields["url"] = _text(path, v, key, known)
            if not has_placeholder(fields["url"]):
                _url(path, v, key)
        elif key == "expect_status":
            status = int(_scalar(path, v, int, key))
            if not 100 <= status <= 599:
                raise _fail(path, v, "'expect_status' must be an HTTP status (100..599)")
            fields[key] = status
        elif key == "expect_body_contains":
            fields[key] = _text(path, v, key, known)
        elif key in ("interval", "timeout"):
            value = _positive(path, v, key)
            if key == "timeout":
                timeout = value
            else:
                fields["interval_s"] = value
        else:
            raise _fail(
                path,
                k,
                f"unknown key '{key}' in wait (url, expect_status,"
                " expect_body_contains, interval, timeout)",
            )
    if "url" not in fields:
        raise _fail(path, node, "a wait step needs 'url'")
    return WaitSpec(**fields), timeout


def _container(path: str, node: yaml.Node, known: Known) -> ContainerSpec:
    fields: dict[str, str] = {}
    for k, v in _pairs(path, node, "container"):
        if k.value not in ("action", "name"):
            raise _fail(path, k, f"unknown key '{k.value}' in container (action, name)")
        fields[str(k.value)] = _text(path, v, str(k.value), known)
    for key in ("action", "name"):
        if key not in fields:
            raise _fail(path, node, f"a container step needs '{key}'")
    if fields["action"] not in CONTAINER_ACTIONS:
        raise _fail(
            path, node, f"container action must be restart, stop or start, not {fields['action']!r}"
        )
    return ContainerSpec(fields["action"], fields["name"])


def _weight(path: str, node: yaml.Node, known: Known) -> str:
    value = _text(path, node, "weight", known)
    if has_placeholder(value):
        return value
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0 <= number <= 100:
        raise _fail(path, node, f"a weight is a percentage 0..100, not {value!r}")
    return value


def _traffic(path: str, node: yaml.Node, known: Known) -> TrafficSpec:
    pairs = _pairs(path, node, "traffic")
    keys = [str(k.value) for k, _ in pairs]
    if len(keys) != 1 or keys[0] not in ("set", "rollback"):
        raise _fail(
            path,
            node,
            "traffic needs exactly one of 'set: {POOL: PERCENT, ...}' or 'rollback: true'",
        )
    value = pairs[0][1]
    if keys[0] == "rollback":
        if _scalar(path, value, bool, "rollback") is not True:
            raise _fail(path, value, "'rollback' can only be true")
        return TrafficSpec(rollback=True)
    weights = tuple(
        (_text(path, p, "pool", known), _weight(path, w, known))
        for p, w in _pairs(path, value, "traffic.set")
    )
    if not weights:
        raise _fail(path, value, "traffic.set needs at least one POOL: PERCENT")
    if not any(has_placeholder(p + w) for p, w in weights):
        total = sum(float(w) for _, w in weights)
        if abs(total - 100) > 1e-6:
            raise _fail(path, value, f"traffic.set weights must add up to 100, not {total:g}")
    return TrafficSpec(weights=weights)


_TYPES: dict[StepType, Callable[[str, yaml.Node, Known], Any]] = {
    StepType.WAIT: _wait,
    StepType.CONTAINER: _container,
    StepType.TRAFFIC: _traffic,
    StepType.CHECK: lambda p, n, k: CheckSpec(_text(p, n, "check", k)),
}


def _step(path: str, node: yaml.Node, known: Known) -> Step:
    pairs = _pairs(path, node, "a step")
    fields = {str(k.value): v for k, v in pairs}
    allowed = {*(t.value for t in StepType), *_STEP_KEYS}
    label = f"step '{fields['name'].value}'" if "name" in fields else "a step"
    for k, _ in pairs:
        if k.value not in allowed:
            raise _fail(
                path,
                k,
                f"unknown step type or key '{k.value}' in {label} (types: run,"
                f" wait, container, traffic, check; keys: {', '.join(_STEP_KEYS)})",
            )
    if "name" not in fields:
        raise _fail(path, node, "a step needs 'name'")
    name = _text(path, fields["name"], "name")
    types = [t for t in StepType if t.value in fields]
    if len(types) != 1:
        raise _fail(
            path,
            node,
            f"step '{name}' needs exactly one of run, wait, container,"
            f" traffic, check (found {', '.join(types) or 'none'})",
        )
    kind = types[0]
    for key in ("shell", "args", "env", "cwd"):
        if key in fields and kind is not StepType.RUN:
            raise _fail(path, fields[key], f"'{key}' is only for run steps")
    timeout: float | None = None
    if kind is StepType.RUN:
        spec: Spec = _run(path, fields, known)
    elif kind is StepType.WAIT:
        spec, timeout = _wait(path, fields["wait"], known)
    else:
        spec = _TYPES[kind](path, fields[kind.value], known)
    if "timeout" in fields:
        if timeout is not None:
            raise _fail(path, fields["timeout"], "timeout is given twice (step and wait)")
        timeout = _positive(path, fields["timeout"], "timeout")
    go_on = fields.get("continue_on_error")
    return Step(
        name=name,
        type=kind,
        spec=spec,
        timeout_s=timeout or DEFAULT_TIMEOUT_S[kind],
        continue_on_error=bool(_scalar(path, go_on, bool, "continue_on_error")) if go_on else False,
        line=node.start_mark.line + 1,
    )


def _compose(text: str, path: str) -> yaml.Node:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise RunbookError(
            f"{path}:{mark.line + 1 if mark else 1}: not valid YAML: {exc.problem or exc}"
        ) from None
    except yaml.YAMLError as exc:
        raise RunbookError(f"{path}:1: not valid YAML: {exc}") from None
    if root is None:
        raise RunbookError(f"{path}:1: the runbook is empty")
    return root


def parse_runbook(text: str, path: str = "<runbook>") -> Runbook:
    """Validate YAML text into a `Runbook`, or raise `RunbookError` naming FILE:LINE."""
    root = _compose(text, path)
    top = {"name", "title", "description", "severity", "alerts", "inputs", "steps"}
    pairs = _pairs(path, root, "a runbook")
    fields = {str(k.value): v for k, v in pairs}
    for k, _ in pairs:
        if k.value not in top:
            raise _fail(
                path, k, f"unknown key '{k.value}' in the runbook ({', '.join(sorted(top))})"
            )
    for key in ("name", "steps"):
        if key not in fields:
            raise _fail(path, root, f"a runbook needs '{key}'")
    try:
        return _runbook(path, fields)
    except RunbookError:
        raise
    except ConfigError as exc:  # raised by tui.config's helpers
        raise RunbookError(str(exc)) from None


def _runbook(path: str, fields: dict[str, yaml.Node]) -> Runbook:
    name = _text(path, fields["name"], "name")
    if not _NAME.match(name):
        raise _fail(path, fields["name"], f"runbook name {name!r}: use a-z, 0-9, '.', '_', '-'")
    severity = _text(path, fields["severity"], "severity") if "severity" in fields else "info"
    if severity not in SEVERITIES:
        raise _fail(
            path,
            fields["severity"],
            f"severity must be critical, warning or info, not {severity!r}",
        )
    inputs = _inputs(path, fields["inputs"]) if "inputs" in fields else ()
    known: Known = {
        **dict.fromkeys(CONTEXT, True),  # each checked against its own pattern
        **{i.name: i.pattern is not None for i in inputs},
    }
    steps_node = fields["steps"]
    steps: tuple[Step, ...] = _sequence(path, steps_node, "steps", lambda n: _step(path, n, known))
    if not steps:
        raise _fail(path, steps_node, "a runbook needs at least one step")
    seen: set[str] = set()
    for step, node in zip(steps, steps_node.value, strict=True):
        if step.name in seen:
            raise _fail(path, node, f"step name '{step.name}' is used twice")
        seen.add(step.name)
    return Runbook(
        name=name,
        title=_text(path, fields["title"], "title") if "title" in fields else name,
        description=_text(path, fields["description"], "description")
        if "description" in fields
        else "",
        severity=severity,
        alerts=_texts(path, fields["alerts"], "alerts", None) if "alerts" in fields else (),
        inputs=inputs,
        steps=steps,
        path=path,
    )
