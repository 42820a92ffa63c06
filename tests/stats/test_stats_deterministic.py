"""Same table, same statistics output, byte for byte, in separate processes (the GLMM's VB fit jitters in
the 8th digit run to run; what we print must not)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from harness_stats.simulation.simulate import SimDesign, simulate_rows

from harness.table import write_table


@pytest.mark.stats
def test_stats_json_is_identical_across_processes(tmp_path):
    rows = simulate_rows(
        np.random.default_rng(7), 1.0, SimDesign(variants=2, items_per_kind=12, low_languages=3, high_languages=3)
    )
    table = write_table(rows, tmp_path / "sim.csv")
    cmd = [
        sys.executable,
        "-c",
        "from harness.cli import main; main()",
        "stats",
        str(table),
        "--stats",
        "rates,tradeoff,tradeoff-glmm",
        "--json",
    ]
    outputs = {subprocess.run(cmd, check=True, capture_output=True, text=True).stdout for _ in range(3)}
    assert len(outputs) == 1
