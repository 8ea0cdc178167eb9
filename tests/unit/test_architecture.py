"""The architecture as the tree shows it: no import cycles, one command-line package.

import-linter (``make lint``) holds the layers; these tests hold what it cannot say.
"""

from __future__ import annotations

import ast
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("tui", "widgets", "themes")


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append(
                        (child, iter(sorted(graph.find_modules_directly_imported_by(child))))
                    )
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
    return found


def test_no_module_imports_itself_back() -> None:
    """No import cycle between modules, counting imports inside functions too (only
    ``if TYPE_CHECKING:`` imports, which never run, are left out)."""
    graph = grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True)
    assert _cycles(graph) == []


def test_cycle_finder_finds_a_cycle() -> None:
    """The check above can fail: a made-up cycle is found."""
    graph = grimp.ImportGraph()
    for module in ("a", "a.x", "a.y", "a.z"):
        graph.add_module(module)
    graph.add_import(importer="a.x", imported="a.y")
    graph.add_import(importer="a.y", imported="a.x")
    graph.add_import(importer="a.z", imported="a.x")
    assert _cycles(graph) == [["a.x", "a.y"]]


def test_only_the_command_line_parses_arguments() -> None:
    """``argparse`` appears in tui/commands/ and nowhere else (import-linter says so for
    imports it sees; this also catches a module that does not import cleanly)."""
    offenders = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if path.is_relative_to(ROOT / "tui" / "commands"):
                continue
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                if "argparse" in names:
                    offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_ops_keeps_one_subpackage_per_kind_of_action() -> None:
    """tui/ops holds what every action shares, plus one subpackage per kind of action."""
    ops = ROOT / "tui" / "ops"
    subpackages = {p.name for p in ops.iterdir() if (p / "__init__.py").exists()}
    assert subpackages == {"traffic", "runbooks", "alerts", "containers", "incidents", "autopilot"}
    loose = {p.stem for p in ops.glob("*.py")} - {"__init__"}
    assert loose == {
        "action",
        "executor",
        "audit",
        "actor",
        "files",
        "context",
        "build",
        "lock",
        "places",
    }
