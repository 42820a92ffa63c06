"""The shape of harness_stats: the mixed-models engine stands alone, no two modules import each other, and
the plugin's entry point loads without the `stats` extra."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import harness_stats
import pytest

PACKAGE = Path(harness_stats.__file__).parent
ENGINE = PACKAGE / "mixedmodels"
# what the engine may import besides itself: the standard library and the numeric stack (data frames in)
ENGINE_DEPENDENCIES = {"numpy", "scipy", "pandas", "patsy", "nlopt", "threadpoolctl"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[str]:
    """Every module a file imports, at the top or inside a function, as absolute names."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            out += [f"{module}.{a.name}" for a in node.names] if not node.module else [module]
    return out


def test_the_engine_imports_only_itself_and_the_numeric_stack():
    for path in sorted(ENGINE.glob("*.py")):
        for module in _imports(path):
            top = module.split(".")[0]
            if module.startswith("harness_stats."):
                assert module.startswith("harness_stats.mixedmodels"), (path.name, module)
            else:
                assert top in ENGINE_DEPENDENCIES or top in sys.stdlib_module_names, (path.name, module)


@pytest.mark.stats
def test_the_engine_fits_with_harness_and_the_rest_of_harness_stats_unimportable():
    code = """
import sys
from importlib.abc import MetaPathFinder

class Block(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        outside = name == "harness" or name.startswith("harness.") or (
            name.startswith("harness_stats.") and not name.startswith("harness_stats.mixedmodels")
        )
        if outside:
            raise ImportError(f"blocked: {name}")
        return None

sys.meta_path.insert(0, Block())
import numpy as np
import pandas as pd
from harness_stats.mixedmodels import fit_glmm, fit_lmm, codes, lrt, treatment_design

rng = np.random.default_rng(0)
rows = [(v, k, t, f"{t}{l}", f"{k}{i}") for v in ("base", "dpo") for k in ("helpful", "harmful")
        for t in ("high", "low") for l in range(4) for i in range(6)]
d = pd.DataFrame(rows, columns=["variant", "kind", "tier", "language", "item"])
d["score"] = rng.normal(size=len(d)) + (d["language"].map(hash) % 7) / 7
for col, levels in (("variant", ["base", "dpo"]), ("kind", ["helpful", "harmful"]), ("tier", ["high", "low"])):
    d[col] = pd.Categorical(d[col], categories=levels)
fit = fit_lmm(d, random="(1|item) + (1|language)")
assert np.isfinite(fit.contrast(np.eye(len(fit.names))[-1])["p"])
d["passed"] = (d["score"] > 0).astype(int)
X, terms = treatment_design(d, "variant * kind")
g = fit_glmm(d["passed"], X, terms, {"item": codes(d["item"]), "language": codes(d["language"])})
assert np.all(np.isfinite(g.beta))
assert not any(m == "harness" or m.startswith("harness.") for m in sys.modules)
print("ok")
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-3000:]


def test_no_two_modules_of_harness_stats_import_each_other_directly_or_around_a_loop():
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    edges = {
        name: {m for m in _imports(path) for m in (m, m.rpartition(".")[0]) if m in modules and m != name}
        for name, path in modules.items()
    }

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            for nxt in edges[todo.pop()] - seen:
                if nxt == goal:
                    return True
                seen.add(nxt)
                todo.append(nxt)
        return False

    loops = sorted(f"{a} -> {b} -> ... -> {a}" for a in edges for b in edges[a] if reaches(b, a))
    assert not loops, loops


def test_the_entry_point_loads_without_the_stats_extra():
    code = """
import sys
from importlib.abc import MetaPathFinder

class Block(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"numpy", "scipy", "pandas", "statsmodels", "matplotlib"}:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Block())
import harness_stats.plugin, harness_stats.commands
print("ok")
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-3000:]


def test_subpackages_import_one_way_as_the_architecture_map_says():
    # plugin -> commands -> simulation -> statistics -> mixedmodels, plots (ARCHITECTURE.md's map)
    allowed = {
        "mixedmodels": set(),
        "plots": set(),
        "statistics": {"mixedmodels", "plots"},
        "simulation": {"statistics", "mixedmodels"},
        "commands": {"simulation", "statistics", "mixedmodels"},
        "plugin": {"commands", "statistics"},
        "paper": set(),
    }
    for path in PACKAGE.rglob("*.py"):
        part = _module_name(path).split(".")[1] if "." in _module_name(path) else ""
        if not part:
            continue
        for module in _imports(path):
            if module.startswith("harness_stats."):
                target = module.split(".")[1]
                assert target == part or target in allowed[part], (path.relative_to(PACKAGE), module)
