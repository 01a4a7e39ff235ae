"""No import cycles inside marketplace/: each module can be read (and changed) knowing only the
modules below it.

The graph is built from the source with `ast`, so imports inside functions count too (a cycle
hidden in a late import is still a cycle). `from package import name` points at the submodule
when `name` is one, else at the package.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "marketplace"

# Cycles allowed because every import that closes them is under `if TYPE_CHECKING:`, so none
# runs; each with its reason. The test fails when such a cycle needs a run-time import.
TYPE_CHECKING_ONLY = {
    frozenset({"marketplace.models.organisation", "marketplace.models.user"}):
        "Organisation.members and User.organisation annotate their relationships with the other "
        "class; SQLAlchemy resolves them by name at run time",
}


def _modules(package: Path) -> dict[str, Path]:
    modules = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _under_type_checking(tree: ast.Module) -> set[ast.AST]:
    """The import statements that only a type checker runs."""
    hidden: set[ast.AST] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            hidden.update(inner for statement in node.body for inner in ast.walk(statement))
    return hidden


def _imports(name: str, path: Path, modules: dict[str, Path]) -> Iterator[tuple[str, int, bool]]:
    """(imported module, line, only when type checking) for every import of a module of ours,
    at module level or inside a function."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    hidden = _under_type_checking(tree)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in modules:
                    yield alias.name, node.lineno, node in hidden
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                if submodule in modules:
                    yield submodule, node.lineno, node in hidden
                elif target in modules:
                    yield target, node.lineno, node in hidden


def import_graph(package: Path = PACKAGE) -> dict[str, dict[str, tuple[int, bool]]]:
    """module → {imported module: (first line, True when every such import is type-only)}."""
    modules = _modules(package)
    graph: dict[str, dict[str, tuple[int, bool]]] = {name: {} for name in modules}
    for name, path in modules.items():
        for target, line, type_only in _imports(name, path, modules):
            if target == name:
                continue
            seen = graph[name].get(target)
            graph[name][target] = (min(line, seen[0]) if seen else line,
                                   type_only and (seen[1] if seen else True))
    return graph


def cycles(graph: dict[str, dict[str, tuple[int, bool]]]) -> list[frozenset[str]]:
    """The groups of modules that import each other, directly or round a loop (Tarjan's
    strongly connected components of more than one module)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in graph.get(module, {}):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(frozenset(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def _describe(group: frozenset[str], graph: dict[str, dict[str, tuple[int, bool]]]) -> str:
    edges = [f"  {source} → {target} (line {line}{', type checking only' if hidden else ''})"
             for source in sorted(group) for target, (line, hidden) in sorted(graph[source].items())
             if target in group]
    return "\n".join(edges)


def _run_time_only(graph: dict[str, dict[str, tuple[int, bool]]]
                   ) -> dict[str, dict[str, tuple[int, bool]]]:
    return {source: {target: edge for target, edge in targets.items() if not edge[1]}
            for source, targets in graph.items()}


def test_no_module_of_the_marketplace_imports_itself_round_a_loop():
    graph = import_graph()
    unexplained = [group for group in cycles(graph) if group not in TYPE_CHECKING_ONLY]
    assert not unexplained, "import cycles (move what both sides share into a module below " \
        "them):\n" + "\n\n".join(_describe(group, graph) for group in unexplained)


def test_the_allowed_cycles_close_only_through_type_checking_imports():
    graph = import_graph()
    present = set(cycles(graph))
    run_time = cycles(_run_time_only(graph))
    for group, reason in TYPE_CHECKING_ONLY.items():
        assert reason
        assert group in present, f"no longer a cycle, drop it from TYPE_CHECKING_ONLY: {group}"
        assert not any(group & other for other in run_time), _describe(group, graph)


@pytest.mark.parametrize(("files", "expected"), [
    # A late import inside a function closes a loop as much as one at the top.
    ({"a.py": "from . import b\n", "b.py": "def f():\n    from .a import g\n"},
     [{"pkg.a", "pkg.b"}]),
    ({"a.py": "import pkg.sub.c\n", "sub/__init__.py": "", "sub/c.py": "from ..a import x\n"},
     [{"pkg.a", "pkg.sub.c"}]),
    ({"a.py": "from .sub import c\n", "sub/__init__.py": "", "sub/c.py": "from .. import b\n",
      "b.py": "from .a import x\n"}, [{"pkg.a", "pkg.b", "pkg.sub.c"}]),
    ({"a.py": "from . import b\n", "b.py": "import os\n"}, []),
])
def test_the_graph_sees_every_kind_of_import(tmp_path: Path, files: dict[str, str],
                                             expected: list[set[str]]):
    package = tmp_path / "pkg"
    for name, text in {"__init__.py": "", **files}.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(text)
    assert [set(group) for group in cycles(import_graph(package))] == expected


def test_a_loop_closed_under_type_checking_is_told_apart(tmp_path: Path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from .b import B\n")
    (package / "b.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                  "    from .a import A\n")
    graph = import_graph(package)
    assert cycles(graph) == [frozenset({"pkg.a", "pkg.b"})]
    assert cycles(_run_time_only(graph)) == []
