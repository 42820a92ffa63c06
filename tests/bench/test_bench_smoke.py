"""Smoke test of benchmarks/run.py: the quick tiny-model part runs and prints the promised JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RUN = REPO / "benchmarks" / "run.py"


@pytest.fixture(scope="module")
def quick_tiny(harness_home: Path) -> tuple[dict, str]:
    """One ``run.py --quick --json --parts tiny`` (tiny model only, every side, ~30 s)."""
    env = dict(os.environ, HARNESS_HOME=str(harness_home), HF_HUB_OFFLINE="1")
    proc = subprocess.run([sys.executable, str(RUN), "--quick", "--json", "--parts", "tiny", "--threads", "2"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout), proc.stderr


@pytest.mark.ml
def test_stdout_is_one_json_object_with_the_headline_keys(quick_tiny):
    result, stderr = quick_tiny
    for key in ("harness_vs_handloop", "per_prompt_vs_harness", "harness_vs_lm_eval", "score_batched_speedup",
                "cached_rerun_s", "peak_rss_mb", "machine", "details", "errors"):
        assert key in result, key
    assert result["errors"] == {}
    assert "[bench]" in stderr  # progress went to stderr, not into the JSON


@pytest.mark.ml
def test_tiny_ratios_are_positive_numbers(quick_tiny):
    result, _ = quick_tiny
    for key in ("harness_vs_handloop", "per_prompt_vs_harness", "harness_vs_lm_eval"):
        value = result[f"{key}_tiny"]
        assert isinstance(value, float) and value > 0, (key, value)


@pytest.mark.ml
def test_every_side_did_the_same_work(quick_tiny):
    gen = quick_tiny[0]["details"]["generation_tiny"]
    sides = {"harness", "harness_auto", "handloop", "per_prompt", "lm_eval", "lm_eval_wide"}
    assert set(gen["seconds"]) == sides
    assert all(gen["seconds"][s] > 0 for s in sides)
    assert gen["prompts"] == 16 and gen["max_new_tokens"] == 16 and gen["batch_size"] == 8
    # Same prompts, same token budget: each path generated the same number of new tokens.
    assert len(set(gen["new_tokens"].values())) == 1, gen["new_tokens"]
    # The runner's own time (plan, batching, store commits) is the part of its wall time outside generate().
    assert 0 <= gen["harness_generate_calls_s"] <= gen["seconds"]["harness"]
    # ... and the same tokens: the packed engine gives the plain loop's responses at both batch sizes.
    assert gen["harness_identical_to_handloop"] == gen["harness_auto_identical_to_handloop"] == 1.0


def test_unknown_part_is_a_usage_error():
    proc = subprocess.run([sys.executable, str(RUN), "--json", "--parts", "nope"], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "unknown part" in proc.stderr and proc.stdout == ""
