"""`harness new-plugin`: the package it writes installs into a fresh environment, registers, passes its own tests.

The slow test is what a new author does: create the package, pip-install the core and the package into
a fresh venv (no ML stack; pip's cache makes it quick), run `harness plugins` there and the package's
own generated tests. The fast tests load every combination of parts strictly in-process.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from corehelp import REPO, assert_one_line_error, plugin_env, run_harness

from harness.plugins import PluginHost
from harness.scaffold import PARTS, module_name, render, write_package

NETWORK_TROUBLE = ("Could not find a version", "No matching distribution", "Failed to establish", "Network is")


def _pip(python: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=cwd)


def _copy_core(target: Path) -> Path:
    """The core's sources, so building its wheel leaves no build/ or egg-info in the repository."""
    target.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, target / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "build")
    for name in ("harness", "plugins"):
        shutil.copytree(REPO / name, target / name, ignore=ignore)
    return target


@pytest.mark.slow
def test_scaffold_installs_in_a_fresh_venv_and_passes_its_own_tests(tmp_path, home):
    made = run_harness(["new-plugin", "harness-lengthy", "--dir", str(tmp_path)], plugin_env(home))
    assert made.returncode == 0, made.stderr
    assert "wrote" in made.stdout and "model, source, scorer, stat" in made.stdout
    small_args = ["new-plugin", "harness-tiny", "--scorer", "--source", "--dir", str(tmp_path)]
    small = run_harness(small_args, plugin_env(home))
    assert small.returncode == 0, small.stderr

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    core = _copy_core(tmp_path / "core")
    installed = _pip(python, str(core), str(tmp_path / "harness-lengthy"), str(tmp_path / "harness-tiny"), "pytest")
    if installed.returncode != 0 and any(s in installed.stderr for s in NETWORK_TROUBLE):
        pytest.skip(f"pip could not reach a package index: {installed.stderr.strip().splitlines()[-1]}")
    assert installed.returncode == 0, installed.stderr
    probe = "import importlib.util as u; print([m for m in ('torch', 'transformers') if u.find_spec(m)])"
    absent = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, check=True)
    assert absent.stdout.strip() == "[]"  # the core alone: no ML stack

    listing = subprocess.run([str(venv / "bin" / "harness"), "plugins"], capture_output=True, text=True, timeout=120)
    assert listing.returncode == 0, listing.stderr
    assert "harness-lengthy  (harness-lengthy 0.1.0): ok" in listing.stdout
    assert "  scorers: harness-lengthy-refusal" in listing.stdout
    assert "harness-tiny  (harness-tiny 0.1.0): ok" in listing.stdout

    for package, passed in (("harness-lengthy", "7 passed"), ("harness-tiny", "4 passed")):
        tests = subprocess.run(
            [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider"],
            cwd=tmp_path / package, capture_output=True, text=True, timeout=600,
        )
        assert tests.returncode == 0, tests.stdout + tests.stderr
        assert passed in tests.stdout, tests.stdout


@pytest.mark.parametrize("parts", [[p] for p in PARTS] + [["scorer", "source"], list(PARTS)])
def test_every_combination_registers_strictly(tmp_path, monkeypatch, parts):
    name = "harness-" + "-".join(parts)  # one import name per combination: modules stay in sys.modules
    root = write_package(name, parts, tmp_path)
    monkeypatch.syspath_prepend(str(root))
    host = PluginHost(entry_points=False, modules=[f"{module_name(name)}.plugin"], strict=True)
    info = next(iter(host.infos.values()))
    kinds = {"model": "models", "source": "sources", "scorer": "scorers", "stat": "stats"}
    assert info.errors == []
    assert info.registered == {kinds[p]: [f"{name}-{PARTS[p]}"] for p in parts}
    for path, text in render(name, parts).items():
        if path.endswith(".py"):
            compile(text, path, "exec")  # every generated file is valid Python
    assert f'{name} = "{module_name(name)}.plugin"' in (root / "pyproject.toml").read_text()


def test_bad_name_and_existing_folder_are_one_line(tmp_path, home):
    env = plugin_env(home)
    bad = run_harness(["new-plugin", "My Plugin", "--dir", str(tmp_path)], env)
    assert bad.returncode == 2
    assert_one_line_error(bad.stderr, "'My Plugin' is not valid")
    (tmp_path / "taken").mkdir()
    taken = run_harness(["new-plugin", "taken", "--dir", str(tmp_path)], env)
    assert taken.returncode == 2
    assert_one_line_error(taken.stderr, "already exists")
    assert list((tmp_path / "taken").iterdir()) == []  # nothing written


def test_generated_tests_name_the_registrations(tmp_path):
    files = render("harness-x", ["scorer"])
    assert "'scorers': ['harness-x-refusal']," in files["tests/test_plugin.py"]
    assert 'harness-x = "harness_x.plugin"' in files["pyproject.toml"]
    assert "test_a_whole_run" not in files["tests/test_plugin.py"]  # a run needs a model, a source and a scorer
