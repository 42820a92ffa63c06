"""The plugin registers its statistics and command, and importing it stays cheap."""

from __future__ import annotations

import os
import subprocess
import sys

import click
import pluggy
from click.testing import CliRunner

from harness import hookspecs
from harness.types import Statistic


def _manager():
    import harness_stats.plugin as plugin

    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    pm.register(plugin)
    return pm


def test_registers_the_statistics():
    stats = []
    _manager().hook.harness_register_stats(register=stats.append)
    assert [s.name for s in stats] == ["rates", "paired", "tradeoff", "tradeoff-glmm", "fidelity"]
    assert all(isinstance(s, Statistic) and s.description for s in stats)


def test_import_is_cheap():
    code = (
        "import sys, harness_stats.plugin; "
        "print(sorted(m for m in ('pandas', 'statsmodels', 'matplotlib', 'torch', 'scipy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_simulate_command_prints_both_rates():
    cli = click.Group("harness")
    _manager().hook.harness_register_commands(cli=cli)
    small = ["--models", "2", "--items", "10", "--low", "3", "--high", "3", "--sd", "language:variant=0.5"]
    result = CliRunner().invoke(cli, ["simulate", "--n-null", "2", "--n-effect", "2", "--effect", "3", *small])
    assert result.exit_code == 0, result.output
    assert "false-positive rate" in result.output and "power" in result.output
    assert "language:variant 0.5" in result.output  # the data-generating SDs are shown
    bad = CliRunner().invoke(cli, ["simulate", "--sd", "langauge=1"])
    assert bad.exit_code != 0 and "did you mean 'language'" in str(bad.exception)


def test_power_command_plans_the_suite_and_reports_the_minimum_detectable_effect(tmp_path):
    env = {**os.environ, "HARNESS_HOME": str(tmp_path)}
    cmd = [sys.executable, "-c", "from harness.cli import main; main()", "power", "--suite", "demo", "--n", "3"]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert "4 models x (10 harmful + 10 helpful) items x (3 low + 4 high) languages" in out.stdout
    assert "minimum detectable three-way effect at 80% power" in out.stdout
    bad = subprocess.run([*cmd, "--items", "fifty"], capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and "--items fifty: expected two counts" in bad.stderr
