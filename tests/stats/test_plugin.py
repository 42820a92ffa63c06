"""The plugin registers its statistics and command, and importing it stays cheap."""

from __future__ import annotations

import os
import subprocess
import sys

import click
import pluggy
import pytest
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
    assert [s.name for s in stats] == [
        "verdict",
        "rates",
        "paired",
        "tradeoff",
        "tradeoff-glmm",
        "fidelity",
        "agreement",
    ]
    assert all(isinstance(s, Statistic) and s.description for s in stats)


def test_import_is_cheap():
    code = (
        "import sys, harness_stats.plugin; "
        "print(sorted(m for m in ('pandas', 'statsmodels', 'matplotlib', 'torch', 'scipy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_simulate_takes_variance_components_from_a_table(tmp_path):
    import numpy as np
    from harness_stats.simulation.simulate import SimDesign, simulate_rows
    from harness_stats.statistics.tradeoff_model import design_frames, fit_frame

    from harness.table import read_table, write_table

    design = SimDesign(variants=2, items_per_kind=10, low_languages=3, high_languages=3, sd_language_item=0.0)
    table = write_table(simulate_rows(np.random.default_rng(3), 0.0, design), tmp_path / "t.csv")
    cli = click.Group("harness")
    _manager().hook.harness_register_commands(cli=cli)
    args = ["simulate", "--from-table", str(table), "--n-null", "1", "--n-effect", "0", "--models", "2"]
    result = CliRunner().invoke(cli, [*args, "--items", "10", "--low", "3", "--high", "3"])
    assert result.exit_code == 0, result.output
    sds = dict(
        part.rsplit(" ", 1) for part in result.output.split("data-generating SDs: ")[1].split("\n")[0].split(", ")
    )
    fitted = fit_frame(design_frames(read_table(table), {})[0]["frame"], None).variance_components()
    for name, value in sds.items():  # the SDs shown are the table's fitted ones, not the defaults
        assert float(value) == pytest.approx(fitted[name] ** 0.5, abs=1e-3), name


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
