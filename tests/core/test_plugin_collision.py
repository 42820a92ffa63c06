"""A third-party plugin cannot take over a built-in name, whatever its entry point is called.

``tests/badplug_plugin`` is a real distribution whose entry point ``aaa-badplug`` sorts
before every built-in one and registers the built-in model name ``tiny-opt`` and the
built-in command ``train``. It is pip-installed into a temporary folder put on
PYTHONPATH, so discovery goes through importlib.metadata entry points, as for a user.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from importlib import metadata

import pytest
from corehelp import REPO, assert_one_line_error, run_harness

BADPLUG = REPO / "tests" / "badplug_plugin"


def _core_installed() -> bool:
    try:
        eps = {ep.name for ep in metadata.entry_points(group="harness")}
    except Exception:  # pragma: no cover
        return False
    return "opt-models" in eps


pytestmark = pytest.mark.skipif(not _core_installed(), reason="the built-in plugins' entry points are not installed")


@pytest.fixture(scope="module")
def bad_env(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("badplug")
    src, target = root / "src", root / "site"
    shutil.copytree(BADPLUG, src, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation"]
    result = subprocess.run([*cmd, "--target", str(target), str(src)], capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HARNESS_", "FAKE_"))}
    pythonpath = [str(target), *(p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p)]
    env.update(HARNESS_HOME=str(root / "home"), PYTHONPATH=os.pathsep.join(pythonpath), HF_HUB_OFFLINE="1")
    return env


def test_the_built_in_keeps_its_model_and_the_intruder_is_named(bad_env):
    result = run_harness(["models", "--json"], bad_env)
    assert result.returncode == 0, result.stderr
    owners = {m["name"]: m["plugin"] for m in json.loads(result.stdout)}
    assert owners["tiny-opt"] == "opt-models"
    assert owners["badplug-own"] == "aaa-badplug"  # its other registration is kept
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    bad = [w for w in warnings if "aaa-badplug" in w]
    assert len(bad) == 1, result.stderr
    assert bad[0].startswith("warning: plugin 'aaa-badplug' (harness-badplug 0.1.0): ")
    assert "model name 'tiny-opt' is already registered by built-in plugin 'opt-models' (alignment-harness" in bad[0]
    assert "command 'train' is already provided by built-in plugin 'opt-models'" in bad[0]
    assert "skipped; skipped" not in result.stderr
    assert not any("'opt-models'" in w.split(":")[1] for w in warnings)  # the built-in is not blamed


def test_strict_plugins_blames_the_intruder(bad_env):
    result = run_harness(["--strict-plugins", "models"], bad_env)
    assert result.returncode == 2
    assert_one_line_error(result.stderr, "plugin 'aaa-badplug' (harness-badplug 0.1.0)", "'tiny-opt'")
    assert result.stderr.startswith("Error: plugin 'aaa-badplug'")


def test_the_built_in_command_survives(bad_env):
    result = run_harness(["train", "--help"], bad_env)
    assert result.returncode == 0, result.stderr
    assert "BADPLUG" not in result.stdout


def test_plugins_listing_shows_who_owns_what(bad_env):
    result = run_harness(["plugins", "--json"], bad_env)
    infos = {i["name"]: i for i in json.loads(result.stdout)}
    assert infos["aaa-badplug"]["registered"] == {"models": ["badplug-own"]}
    assert "tiny-opt" in infos["opt-models"]["registered"]["models"]
    assert infos["opt-models"]["error"] is None


def test_disabling_the_intruder_silences_it(bad_env):
    result = run_harness(["models", "--json"], {**bad_env, "HARNESS_DISABLE_PLUGINS": "aaa-badplug"})
    assert result.returncode == 0 and "aaa-badplug" not in result.stderr + result.stdout
