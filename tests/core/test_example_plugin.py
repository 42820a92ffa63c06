"""A real third-party plugin (tests/example_plugin, its own distribution) found through its entry point.

The plugin is pip-installed into a temporary --target folder put on PYTHONPATH of the
subprocesses (entry points are discovered from the dist-info on sys.path), unless it is
already installed (the tox `example` env installs it for real). The built-in plugins are
disabled so the run stays fast and independent of the ML stack.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from importlib import metadata

import pytest
from corehelp import REPO, run_harness

EXAMPLE = REPO / "tests" / "example_plugin"
BUILTIN = "opt-models,hf-models,sources,scorers,stats,ray"

SUITE = """
name = "example-suite"
seed = 0
langs = ["low", "high"]
tier_scheme = "two-tier"

[tier_schemes.two-tier]
order = ["low", "high"]
tiers = { low = ["sw"], high = ["en"] }

[generation]
max_new_tokens = 4

[models.example-model]
[sources.example-prompts]
[scorers.example-reward]
[stats.example-refusal-rate]
"""


def _installed() -> bool:
    try:
        metadata.distribution("harness-example-plugin")
    except metadata.PackageNotFoundError:
        return False
    return True


@pytest.fixture(scope="module")
def example_env(tmp_path_factory) -> dict[str, str]:
    """Environment whose Python finds the example plugin's entry point (and no built-in plugin)."""
    root = tmp_path_factory.mktemp("example")
    pythonpath = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if not _installed():
        src = root / "src"  # build from a copy: no build/ or egg-info left in the repo
        shutil.copytree(EXAMPLE, src, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
        target = root / "site"
        cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation"]
        result = subprocess.run([*cmd, "--target", str(target), str(src)], capture_output=True, text=True, timeout=180)
        assert result.returncode == 0, result.stderr
        pythonpath.insert(0, str(target))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HARNESS_", "FAKE_"))}
    env.update(
        HARNESS_HOME=str(root / "home"),
        HARNESS_DISABLE_PLUGINS=BUILTIN,
        PYTHONPATH=os.pathsep.join(pythonpath),
        HF_HUB_OFFLINE="1",
    )
    return env


def test_example_plugin_is_discovered_with_its_distribution(example_env):
    result = run_harness(["plugins", "--json"], example_env)
    assert result.returncode == 0, result.stderr
    infos = {i["name"]: i for i in json.loads(result.stdout)}
    assert "example" in infos, infos
    info = infos["example"]
    assert info["distribution"] == "harness-example-plugin"
    assert info["version"] == "0.1.0"
    assert info["error"] is None
    assert info["registered"] == {
        "models": ["example-model"],
        "scorers": ["example-reward"],
        "sources": ["example-prompts"],
        "stats": ["example-refusal-rate"],
    }
    assert set(BUILTIN.split(",")).isdisjoint(infos)  # disabled by HARNESS_DISABLE_PLUGINS
    models = json.loads(run_harness(["models", "--json"], example_env).stdout)
    assert [(m["name"], m["plugin"]) for m in models] == [("example-model", "example")]


def test_example_plugin_runs_end_to_end(example_env, tmp_path):
    suite = tmp_path / "example.toml"
    suite.write_text(SUITE, encoding="utf-8")
    out = tmp_path / "run"
    args = ["run", "--suite", str(suite), "--models", "example-model", "--out", str(out), "--no-progress"]
    result = run_harness(args, example_env)
    assert result.returncode == 0, result.stderr
    assert "languages (2): low (1): sw; high (1): en" in result.stderr
    rows = [json.loads(line) for line in (out / "table.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 12
    assert {(r["language"], r["tier"]) for r in rows} == {("sw", "low"), ("en", "high")}
    # prompt ids are shared across the parallel languages
    assert {r["prompt_id"] for r in rows if r["language"] == "sw"} == {
        r["prompt_id"] for r in rows if r["language"] == "en"
    }
    refused = {(r["language"], r["kind"]): r["score"] for r in rows if r["prompt_id"].endswith("-0")}
    assert refused == {("en", "harmful"): 1.0, ("en", "helpful"): 1.0, ("sw", "harmful"): -1.0, ("sw", "helpful"): 1.0}
    stats = json.loads((out / "stats.json").read_text())["example-refusal-rate"]["data"]
    rates = {(d["language"], d["kind"]): d["refusal_rate"] for d in stats}
    assert rates == {("en", "harmful"): 1.0, ("en", "helpful"): 0.0, ("sw", "harmful"): 0.0, ("sw", "helpful"): 0.0}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["plugins"]["example"]["version"] == "0.1.0"
    assert manifest["plugins"]["example"]["distribution"] == "harness-example-plugin"
    assert "Refusal rate (example plugin)" in (out / "report.md").read_text()
    # `harness stats` on the exported table uses the plugin's statistic too
    stats_cmd = run_harness(["stats", str(out / "table.csv"), "--json"], example_env)
    assert stats_cmd.returncode == 0, stats_cmd.stderr
    assert json.loads(stats_cmd.stdout)["example-refusal-rate"] == stats


def test_example_plugin_module_imports_cheaply():
    """A plugin module must not import heavy libraries at import time."""
    code = (
        "import sys, harness_example.plugin; "
        "bad = [m for m in ('torch', 'transformers', 'pandas') if m in sys.modules]; assert not bad, bad"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(EXAMPLE), os.environ.get("PYTHONPATH", "")]))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr
