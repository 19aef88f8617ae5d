"""The layout's one-way rule, read from the imports of every module (docs/architecture.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FOUNDATIONS = {"config", "db", "models", "migrate", "i18n", "i18n_markers", "validation", "numerals", "ports",
               "checkout", "mqtt", "mail", "csv_cells", "password_policy"}
# What each capability may import of EnerTrack, besides the foundations and itself.
ALLOWED: dict[str, set[str]] = {
    "foundation": set(),
    "core": set(),
    "store": {"core"},
    "ingest": {"core", "store"},
    "simulation": {"core", "store"},
    "broker": {"core"},
    "alerts": {"core", "store"},
    "quality": {"core", "store"},
    "web": {"core", "store", "broker", "alerts", "quality"},
    "cli": {"core", "store", "ingest", "simulation", "broker", "alerts", "quality", "web"},
    "pages": {"core", "web", "store"},
}
# Pages reach data through web/services only (CONVENTIONS.md principle 1).
PAGES_FORBIDDEN = ("sqlalchemy", "sqlite3", "enertrack.models", "enertrack.db", "enertrack.ingest",
                   "enertrack.simulation", "enertrack.cli", "enertrack.store.sqlite", "enertrack.store.influx",
                   "enertrack.store.factory", "enertrack.store.rollups")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    found = {module_name(p): p for p in (ROOT / "enertrack").rglob("*.py")}
    found.update({module_name(p): p for p in (ROOT / "pages").glob("*.py")})
    return found


MODULES = modules()


def imports(name: str, path: Path) -> set[str]:
    """Every module this one imports, at the top or inside a function (a lazy import is still a dependency)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:  # `from pkg import submodule` depends on the submodule
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in MODULES else base)
    return found


def layer(name: str) -> str:
    parts = name.split(".")
    if parts[0] == "pages":
        return "pages"
    if len(parts) == 1 or parts[1] in FOUNDATIONS or parts[1] == "locale":
        return "foundation"
    return parts[1]


def test_every_module_belongs_to_a_known_layer() -> None:
    unknown = sorted(n for n in MODULES if layer(n) not in ALLOWED)
    assert not unknown, f"add these folders to ALLOWED and docs/architecture.md: {unknown}"


def violations(name: str, path: Path) -> list[str]:
    """The EnerTrack modules name imports against the one-way rule."""
    allowed = ALLOWED[layer(name)] | {layer(name), "foundation"}
    return sorted(i for i in imports(name, path) if i.startswith("enertrack") and layer(i) not in allowed)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_point_one_way(name: str) -> None:
    wrong = violations(name, MODULES[name])
    assert not wrong, f"{name} ({layer(name)}) may not import {wrong}"


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.startswith("pages.")))
def test_pages_reach_data_through_services(name: str) -> None:
    wrong = sorted(i for i in imports(name, MODULES[name])
                   if any(i == f or i.startswith(f + ".") for f in PAGES_FORBIDDEN))
    assert not wrong, f"{name} imports {wrong}: call a function in enertrack/web/services instead"


def test_nothing_imports_the_cli_but_itself() -> None:
    wrong = sorted((n, i) for n in MODULES if layer(n) != "cli"
                   for i in imports(n, MODULES[n]) if i == "enertrack.cli" or i.startswith("enertrack.cli."))
    assert not wrong


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def package_of(name: str) -> set[str]:
    """A module's parent packages: importing it runs their __init__ first (an edge too)."""
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


def test_no_import_cycles() -> None:
    graph = {n: {i for i in imports(n, p) if i in MODULES and i != n and i not in package_of(n)}
             for n, p in MODULES.items()}
    assert cycles(graph) == []


@pytest.mark.parametrize(("graph", "expected"), [
    ({"a": {"b"}, "b": {"a"}}, [["a", "b"]]),
    ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
])
def test_the_cycle_finder_finds_cycles(graph: dict[str, set[str]], expected: list[list[str]]) -> None:
    assert cycles(graph) == expected


@pytest.mark.parametrize(("name", "source", "expected"), [
    ("enertrack.core.x", "from enertrack.web.ui import fmt\n", ["enertrack.web.ui.fmt"]),
    ("enertrack.store.x", "def f():\n    import enertrack.cli.main\n", ["enertrack.cli.main"]),
    ("enertrack.ingest.x", "from enertrack.web.services.nodes import owned\n", ["enertrack.web.services.nodes"]),
    ("enertrack.ingest.x", "from enertrack.store.base import Reading\nfrom enertrack import config\n", []),
])
def test_the_rule_catches_a_forbidden_import(tmp_path: Path, name: str, source: str, expected: list[str]) -> None:
    module = tmp_path / "x.py"
    module.write_text(source)
    assert violations(name, module) == expected
