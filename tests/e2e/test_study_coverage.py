"""The default suite covers every language it asks for: the plan at the xtreme-r shape, real and rehearsed."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.ml, pytest.mark.slow]


def _plan(shared_data, tmp_path, *args):
    cmd = [sys.executable, "-c", "from harness.cli import main; main()", "run", "--dry-run", "--json",
           "--models", "all", "--store", str(tmp_path / "store.sqlite"), *args]
    env = {**os.environ, "HARNESS_DATA_DIR": str(shared_data)}
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)


def test_default_suite_plans_every_language_with_nothing_skipped(shared_data, tmp_path):
    done = _plan(shared_data, tmp_path, "--langs", "low,high")
    assert done.returncode == 0, done.stderr[-2000:]
    plan = json.loads(done.stdout)
    assert {t: len(c) for t, c in plan["languages"].items()} == {"low": 13, "high": 20}
    assert plan["skipped_languages"] == [] and {"te", "eu", "qu", "wo", "ht"} <= set(plan["languages"]["low"]
                                                                                      + plan["languages"]["high"])
    assert all(len(s["languages"]) == 33 for s in plan["sources"].values())
    assert any("Eastern Apurimac" in n and "Ayacucho" in n for n in plan["notes"])
    assert not (tmp_path / "store.sqlite").exists()
    every = json.loads(_plan(shared_data, tmp_path, "--langs", "low,mid,high").stdout)
    assert sum(len(c) for c in every["languages"].values()) == 50 and every["skipped_languages"] == []


def test_one_suite_line_switches_the_translator(shared_data, tmp_path):
    m2m = json.loads(_plan(shared_data, tmp_path, "--langs", "low,high", "--set", "translator=m2m100").stdout)
    assert m2m["skipped_languages"] == ["te", "eu"]  # M2M100 lacks them; XCOPA has qu itself
    madlad = json.loads(_plan(shared_data, tmp_path, "--langs", "low,high", "--set", "translator=madlad").stdout)
    assert madlad["skipped_languages"] == []
    bad = _plan(shared_data, tmp_path, "--set", "translator=nlb")
    assert bad.returncode == 2 and "did you mean 'nllb'" in bad.stderr and "Traceback" not in bad.stderr


def test_rehearsal_plan_swaps_the_suite_translator(shared_data, tmp_path):
    done = _plan(shared_data, tmp_path, "--langs", "low,high", "--rehearse")
    assert done.returncode == 0, done.stderr[-2000:]
    plan = json.loads(done.stdout)
    assert plan["rehearsal"]["stand_ins"]["nllb"] == "tiny-nllb" and plan["skipped_languages"] == []
    assert sum(len(c) for c in plan["languages"].values()) == 33
