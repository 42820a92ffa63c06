"""The import graph of the core and the built-in plugins: no two modules import each other (directly or
round a longer loop, counting imports inside functions too), and ARCHITECTURE.md's map names every core module."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from corehelp import REPO


def _modules() -> dict[str, Path]:
    """module name -> file, for harness/ and every package in plugins/."""
    roots = [(REPO, REPO / "harness")] + [(REPO / "plugins", d) for d in sorted((REPO / "plugins").iterdir())]
    out = {}
    for base, root in roots:
        if not (root / "__init__.py").is_file():
            continue
        for path in sorted(root.rglob("*.py")):
            parts = path.relative_to(base).with_suffix("").parts
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def import_graph() -> dict[str, set[str]]:
    """module -> the modules of the graph it imports (at module level or inside a function)."""
    modules = _modules()
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    parts = package.split(".")
                    base = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
                else:
                    base = node.module or ""
                targets = [base, *(f"{base}.{a.name}" for a in node.names)]
            else:
                continue
            graph[name].update(t for t in targets if t in graph and t != name)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_two_modules_import_each_other():
    graph = import_graph()
    assert len(graph) > 100  # the core and every built-in plugin were read
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_loop():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_core_never_imports_a_plugin():
    graph = import_graph()
    core = [m for m in graph if m.split(".")[0] == "harness"]
    assert {(m, t) for m in core for t in graph[m] if t.split(".")[0] != "harness"} == set()


def test_architecture_map_names_every_core_module():
    text = (REPO / "ARCHITECTURE.md").read_text(encoding="utf-8")
    block = text.split("```", 2)[1]  # the map: the first code block
    named = set(re.findall(r"^\s+([\w/]+(?:\.py|/))", block, re.M))
    core = {p.name for p in (REPO / "harness").glob("*.py") if p.name != "__init__.py"}
    core |= {p.name + "/" for p in (REPO / "harness").iterdir() if p.is_dir() and not p.name.startswith("_")}
    assert sorted(core - named) == []
    plugins = {p.name + "/" for p in (REPO / "plugins").iterdir() if (p / "__init__.py").is_file()}
    assert sorted(plugins - named) == []
