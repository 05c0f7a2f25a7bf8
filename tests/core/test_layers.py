"""The imports of einstein/ go one way: from the areas down to the layers beneath them.

Read from the source (the AST), not by importing: what a reader and a type checker see.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from functools import cache
from pathlib import Path

import pytest

from tests.support.servers import ROOT

PACKAGE = ROOT / "einstein"

#: The layers, lowest first. A module may import modules of its own layer and of lower ones.
#: Views (``*.views``) are the edge of the app: a route may call any area, so they are left out.
LAYERS: list[tuple[str, set[str]]] = [
    (
        "foundation",
        {
            "einstein",
            "einstein.config",
            "einstein.db",
            "einstein.extensions",
            "einstein.schedule",
            "einstein.bounds",
            "einstein.i18n",
            "einstein.urls",
            "einstein.forms",
            "einstein.views",
            "einstein.errors",
            "einstein.mail",
            "einstein.caching",
            "einstein.accesslog",
            "einstein.observability",
            "einstein.security",
            "einstein.wtforms_messages",
        },
    ),
    ("audit and notifications", {"einstein.audit", "einstein.notifications"}),
    ("accounts", {"einstein.auth"}),
    ("permissions", {"einstein.policy", "einstein.navigation", "einstein.templating"}),
    ("catalogue", {"einstein.courses"}),
    ("bookings", {"einstein.bookings"}),
    ("attendance", {"einstein.attendance"}),
    ("privacy", {"einstein.privacy"}),
    (
        "the whole",
        {
            "einstein.core",
            "einstein.staff",
            "einstein.api",
            "einstein.models",
            "einstein.cli",
            "einstein.app",
            "einstein.wsgi",
            "einstein.beat",
        },
    ),
]
#: The areas the notification layer must never know.
AREAS = ("einstein.auth", "einstein.courses", "einstein.bookings", "einstein.attendance", "einstein.privacy")


def _modules() -> dict[str, Path]:
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


MODULES = _modules()


def _owner(name: str) -> str:
    """The module a dotted name lives in (``einstein.db.utcnow`` is ``einstein.db``)."""
    while name not in MODULES:
        name = name.rpartition(".")[0]
    return name


def _imports(tree: ast.Module) -> list[tuple[ast.stmt, list[str]]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.append((node, [alias.name for alias in node.names]))
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node, [f"{node.module}.{alias.name}" for alias in node.names]))
    return found


@cache  # the source does not change during a run: parsed once, not once per module's test
def _graph() -> dict[str, set[str]]:
    """Module -> the einstein modules it imports at the top (not under ``if TYPE_CHECKING``)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for module, path in MODULES.items():
        # the imports at the top of the module (not under ``if TYPE_CHECKING``: the type checker's)
        for node in ast.parse(path.read_text()).body:
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            for _statement, names in _imports(ast.Module(body=[node], type_ignores=[])):
                for name in names:
                    if name.startswith("einstein"):
                        graph[module].add(_owner(name))
    return graph


def _layer(module: str) -> int:
    best = None
    for index, (_name, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and (best is None or len(prefix) > best[1]):
                best = (index, len(prefix))
    assert best is not None, f"{module} is in no layer: add it to LAYERS"
    return best[0]


def test_no_import_of_einstein_inside_a_function() -> None:
    # only where the app is assembled: create_app imports the module that imports every area
    allowed = {("einstein", "create_app")}
    found = []
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for _statement, names in _imports(ast.Module(body=node.body, type_ignores=[])):
                    if any(n.startswith("einstein") for n in names) and (module, node.name) not in allowed:
                        found.append(f"{module}.{node.name}: {names}")
    worker = ast.parse((ROOT / "worker.py").read_text())
    assert all(
        isinstance(node, (ast.Expr, ast.ImportFrom, ast.Import, ast.Assign, ast.AnnAssign)) for node in worker.body
    )
    assert found == []


def test_the_import_graph_has_no_cycle() -> None:
    graph = _graph()
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for target in sorted(graph[module]):
            if target == module:
                continue
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        state[module] = 2
        path.pop()
        return None

    for module in sorted(MODULES):
        if module not in state:
            cycle = visit(module)
            assert cycle is None, " -> ".join(cycle)


def test_the_notification_layer_knows_no_area() -> None:
    graph = _graph()
    for module, targets in graph.items():
        if module.startswith("einstein.notifications"):
            assert not [t for t in targets if t.startswith(AREAS)], module


@pytest.mark.parametrize("module", sorted(m for m in MODULES if not m.endswith(".views")))
def test_imports_go_down_the_layers(module) -> None:
    graph = _graph()
    upward = [target for target in graph[module] if _layer(target) > _layer(module)]
    assert upward == [], f"{module} ({LAYERS[_layer(module)][0]}) imports higher layers: {upward}"
