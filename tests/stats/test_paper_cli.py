"""The study's released scores go through the CLI path a user takes: convert, then `harness stats`."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


@pytest.mark.stats
def test_convert_then_harness_stats_gives_table_1(shared_data, tmp_path):
    out = tmp_path / "paper.csv"
    subprocess.run(
        [sys.executable, "-m", "harness_stats.paper", str(shared_data / "opt350m-paper" / "responses"), str(out)],
        check=True,
        capture_output=True,
    )
    done = subprocess.run(
        [sys.executable, "-c", "from harness.cli import main; main()", "stats", str(out), "--stats", "rates", "--json"],
        check=True,
        capture_output=True,
        text=True,
    )
    rates = json.loads(done.stdout)["rates"]
    english = {r["model"]: r for r in rates if r.get("by") == "language" and r.get("language") == "en"}
    got = {m: (english[m]["HmR"], english[m]["HpR"], english[m]["CAS"]) for m in ("base", "sft", "dpo", "sftdpo")}
    assert got == {
        "base": (42.0, 22.0, 32.0),
        "sft": (48.0, 56.0, 52.0),
        "dpo": (36.0, 46.0, 41.0),
        "sftdpo": (44.0, 66.0, 55.0),
    }


def test_convert_bad_folder_is_one_line_exit_2(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "harness_stats.paper", str(tmp_path / "missing"), str(tmp_path / "x.csv")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "missing" in done.stderr
