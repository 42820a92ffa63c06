"""The README's main job, end to end through the real CLI: the demo suite trains the tiny variants,
generates, scores with the tiny reward model and language fidelity, fits every statistic and writes
the report; the same command again is a cache hit that loads no model and rewrites the same table."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest

CMD = [
    sys.executable,
    "-c",
    "from harness.cli import main; main()",
    "run",
    "--suite",
    "demo",
    "--models",
    "all",
    "--langs",
    "low,high",
    "--limit",
    "2",
    "--no-progress",
]


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("demo")
    out = tmp / "run"
    # its own store: the first run must generate and score, even when HARNESS_TEST_HOME holds an earlier run's
    cmd = [*CMD, "--store", str(tmp / "store.sqlite"), "--out", str(out)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    first = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
    assert first.returncode == 0, first.stderr[-3000:]
    table_first = (out / "table.jsonl").read_bytes()
    second = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert second.returncode == 0, second.stderr[-3000:]
    return out, first, second, table_first


@pytest.mark.ml
@pytest.mark.stats
@pytest.mark.slow
def test_demo_produces_the_full_report(demo_runs):
    out, first, _, _ = demo_runs
    rows = [json.loads(line) for line in (out / "table.jsonl").read_text().splitlines()]
    models = {"tiny-planted", "tiny-planted-sft", "tiny-planted-dpo", "tiny-planted-sft-dpo"}
    assert {r["model"] for r in rows} == models
    assert {r["tier"] for r in rows} == {"low", "high"}
    assert {r["scorer"] for r in rows} == {"tiny-reward", "lang-fidelity"}
    # 4 models x 7 languages x (2 harmful + 2 helpful) x 2 scorers
    assert len(rows) == 4 * 7 * 4 * 2
    rewards = [r["score"] for r in rows if r["scorer"] == "tiny-reward"]
    assert all(isinstance(v, float) and math.isfinite(v) for v in rewards)
    assert all(0.0 <= r["score"] <= 1.0 for r in rows if r["scorer"] == "lang-fidelity")
    report = (out / "report.md").read_text()
    for section in (
        "combined alignment rates",
        "Paired comparisons",
        "Mixed-effects test",
        "Binomial mixed model",
        "Language fidelity",
    ):
        assert section in report
    assert "(failed)" not in report
    for plot in ("tradeoff_by_language.png", "rates_by_tier.png", "forest_tradeoff.png"):
        assert (out / "plots" / plot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 3
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["fingerprints"]["models"]) == models
    assert "loading model tiny-planted-sft-dpo" in first.stderr


@pytest.mark.ml
@pytest.mark.stats
@pytest.mark.slow
def test_demo_rerun_is_a_cache_hit_with_the_same_table(demo_runs):
    out, _, second, table_first = demo_runs
    assert "loading model" not in second.stderr and "loading scorer" not in second.stderr
    assert "0 to do" in second.stderr
    assert (out / "table.jsonl").read_bytes() == table_first
    work = json.loads((out / "manifest.json").read_text())["work"]
    assert work["generated"] == 0 and work["scored"] == 0


@pytest.mark.ml
@pytest.mark.stats
@pytest.mark.slow
@pytest.mark.browser
def test_demo_report_opens_in_chromium_with_the_verdict_and_every_sample(demo_runs, page):
    out = demo_runs[0]
    rows = [json.loads(line) for line in (out / "table.jsonl").read_text().splitlines()]
    p = page.open(out / "report.html")
    assert p.locator("main h2").first.inner_text() == "Verdict"
    # the html's verdict is report.md's: the same headline figure (or none), the same first sentence
    md_verdict = (out / "report.md").read_text().split("## Verdict", 1)[1].split("\n## ", 1)[0]
    assert p.locator("#verdict figure img").count() == md_verdict.count("![")
    first = md_verdict.strip().splitlines()[0].replace("**", "").lstrip("-* ")  # a list item renders without its marker
    assert first[:60] in p.inner_text("#verdict .verdict")
    assert p.locator("img").count() >= 3
    p.wait_for_function("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
    generations = {(r["model"], r["source"], r["kind"], r["language"], r["prompt_id"]) for r in rows}
    assert int(p.get_attribute("#sb-count", "data-matches")) == len(generations) == len(rows) // 2
    p.locator("#sb-rows button.sb-cmp").first.click()
    shown = p.locator("#sb-compare .sb-variants th[data-model]").evaluate_all("els => els.map(e => e.dataset.model)")
    assert set(shown) == {r["model"] for r in rows}
    assert page.errors == []
