"""The core stands alone: it imports and runs without torch, and never names a built-in plugin."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from corehelp import REPO, plugin_env

CORE_MODULES = sorted(
    ".".join(p.relative_to(REPO / "harness").with_suffix("").parts).removesuffix(".__init__")
    for p in (REPO / "harness").rglob("*.py")
    if p.relative_to(REPO / "harness").as_posix() != "__init__.py"
)
HEAVY = ("torch", "transformers", "trl", "datasets", "accelerate", "peft", "statsmodels", "pandas", "matplotlib", "ray")

# A meta-path finder that makes every heavy import fail, then a full fake run through the CLI's main().
_BLOCK_AND_RUN = f"""
import sys
BLOCKED = {HEAVY!r}
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError("blocked for this test: " + name)
        return None
sys.meta_path.insert(0, Block())
from harness.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    assert not exc.code, exc.code
loaded = [m for m in sys.modules if m.split(".")[0] in BLOCKED]
assert not loaded, loaded
print("NO-HEAVY-IMPORTS")
"""


def test_every_core_module_imports_without_torch():
    modules = ", ".join(f"harness.{m}" for m in CORE_MODULES)
    code = (
        f"import harness, {modules}; import sys; "
        f"heavy = [m for m in sys.modules if m.split('.')[0] in {HEAVY!r}]; "
        "assert not heavy, heavy; print(len(sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert {"cli", "commands.run", "runner", "store", "plugins", "orchestrate", "report", "table"} <= set(CORE_MODULES)


def test_a_whole_run_needs_no_ml_stack(tmp_path):
    out = tmp_path / "run"
    args = ["run", "--suite", "_fake", "--no-progress", "--out", str(out)]
    for _ in range(2):  # a fresh run, then a cached one
        result = subprocess.run(
            [sys.executable, "-c", _BLOCK_AND_RUN, *args],
            env=plugin_env(tmp_path / "home"),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert "NO-HEAVY-IMPORTS" in result.stdout
    assert len((out / "table.jsonl").read_text().splitlines()) == 80


def test_core_source_never_names_a_builtin_plugin():
    pattern = re.compile(
        r"harness_opt|harness_sources|harness_scorers|harness_stats|harness_ray|harness_endpoints|\bray\b|deberta|"
        r"opt-350m",
        re.I,
    )
    offenders = []
    for path in sorted((REPO / "harness").rglob("*.py")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line):
                offenders.append(f"{path.relative_to(REPO)}:{n}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_builtin_plugins_are_published_through_the_entry_point_group():
    """The built-in plugins use the same `harness` entry-point group a third-party package uses."""
    from importlib import metadata

    import tomllib

    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["entry-points"]["harness"]
    assert set(declared) == {"opt-models", "hf-models", "sources", "scorers", "stats", "ray", "endpoints"}
    assert all(v.startswith("harness_") and v.endswith(".plugin") for v in declared.values())
    ours = [ep for ep in metadata.entry_points(group="harness") if ep.dist and ep.dist.name == "alignment-harness"]
    installed = {ep.name: ep.value for ep in ours}
    if set(installed) < set(declared):
        pytest.skip(
            f"the installed metadata predates pyproject.toml ({set(declared) - set(installed)} missing): "
            "reinstall with pip install -e ."
        )
    assert installed == declared
