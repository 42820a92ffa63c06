"""`harness run` end to end on the fake plugin: caching, plan options, manifest, report and export."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from corehelp import run_harness, store_counts, store_rows

RUN = ["run", "--suite", "_fake", "--no-progress"]


def _loads(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def _rows(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "table.jsonl").read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def logged(invoke, tmp_path, monkeypatch):
    """invoke() with FAKE_LOAD_LOG set; returns (invoke, log path)."""
    log = tmp_path / "loads.log"
    monkeypatch.setenv("FAKE_LOAD_LOG", str(log))
    return invoke, log


def test_cached_rerun_loads_no_model_and_gives_identical_table(env, home, tmp_path):
    out = tmp_path / "run"
    log = tmp_path / "loads.log"
    env = {**env, "FAKE_LOAD_LOG": str(log)}
    first = run_harness([*RUN, "--out", str(out)], env)
    assert first.returncode == 0, first.stderr
    assert _loads(log) == ["load model fake-base", "load model fake-dpo", "load scorer fake-reward"]
    assert "generations: 80 distinct needed, 0 cached, 80 to do" in first.stderr
    files = {name: (out / name).read_bytes() for name in ("table.jsonl", "table.csv", "report.md", "report.html")}
    counts = store_counts(home / "store.sqlite")
    assert counts == {"generations": 80, "scores": 80}

    t0 = time.perf_counter()
    again = run_harness([*RUN, "--out", str(out)], env)
    elapsed = time.perf_counter() - t0
    assert again.returncode == 0, again.stderr
    assert len(_loads(log)) == 3  # nothing loaded the second time
    assert "generations: 80 distinct needed, 80 cached, 0 to do" in again.stderr
    assert "scores: 80 distinct needed, 80 cached, 0 to do" in again.stderr
    assert "generated 0 (cached 80), scored 0 (cached 80)" in again.stderr
    assert {name: (out / name).read_bytes() for name in files} == files
    assert store_counts(home / "store.sqlite") == counts
    assert elapsed < 10, f"a fully cached re-run took {elapsed:.1f}s"
    assert json.loads((out / "manifest.json").read_text())["work"]["loaded_models"] == []


def test_default_run_dir_is_stable_so_a_rerun_resumes_in_place(invoke, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first = invoke([*RUN, "--limit", "1"])
    second = invoke([*RUN, "--limit", "1"])
    other = invoke([*RUN, "--limit", "2"])
    dirs = [r.stdout.splitlines()[0].removeprefix("run directory: ") for r in (first, second, other)]
    assert dirs[0] == dirs[1] and dirs[0].startswith("results/fake-")
    assert dirs[2] != dirs[0]  # a different configuration gets its own directory
    assert (tmp_path / dirs[0] / "table.jsonl").is_file()


def test_changed_generation_setting_regenerates(logged, home, tmp_path):
    invoke, log = logged
    out = tmp_path / "run"
    assert invoke([*RUN, "--out", str(out)]).exit_code == 0
    base = _rows(out)
    result = invoke([*RUN, "--out", str(tmp_path / "run9"), "--set", "generation.max_new_tokens=9"])
    assert result.exit_code == 0, result.output
    assert _loads(log)[3:] == ["load model fake-base", "load model fake-dpo", "load scorer fake-reward"]
    assert store_counts(home / "store.sqlite") == {"generations": 160, "scores": 160}
    nine = _rows(tmp_path / "run9")
    assert {r["generation_key"] for r in nine}.isdisjoint({r["generation_key"] for r in base})
    # and the original setting is still cached
    assert invoke([*RUN, "--out", str(out)]).exit_code == 0
    assert len(_loads(log)) == 6


def test_changed_model_option_regenerates_only_that_model(logged, tmp_path):
    invoke, log = logged
    assert invoke([*RUN, "--out", str(tmp_path / "a")]).exit_code == 0
    result = invoke([*RUN, "--out", str(tmp_path / "b"), "--set", "fake-base.salt2=z"])
    assert result.exit_code == 0, result.output
    assert _loads(log)[3:] == ["load model fake-base", "load scorer fake-reward"]
    rows = _rows(tmp_path / "b")
    assert all(r["response"].startswith("bz:") for r in rows if r["model"] == "fake-base")
    assert all(r["response"].startswith("d:") for r in rows if r["model"] == "fake-dpo")


def test_two_models_never_share_generations(logged, home, tmp_path):
    invoke, log = logged
    assert invoke([*RUN, "--models", "fake-base", "--out", str(tmp_path / "a")]).exit_code == 0
    assert invoke([*RUN, "--models", "fake-base,fake-dpo", "--out", str(tmp_path / "b")]).exit_code == 0
    # fake-dpo is loaded even though every prompt already has a (fake-base) answer in the store
    assert _loads(log) == [
        "load model fake-base",
        "load scorer fake-reward",
        "load model fake-dpo",
        "load scorer fake-reward",
    ]
    gens = store_rows(home / "store.sqlite")["generations"]
    by_model: dict[str, set] = {}
    for key, model, fp, _prompt, response, _meta in gens:
        by_model.setdefault(model, set()).add((key, fp))
        assert response.startswith({"fake-base": "b:", "fake-dpo": "d:"}[model])
    assert set(by_model) == {"fake-base", "fake-dpo"}
    assert len(by_model["fake-base"]) == len(by_model["fake-dpo"]) == 40
    keys = {m: {k for k, _ in v} for m, v in by_model.items()}
    fps = {m: {fp for _, fp in v} for m, v in by_model.items()}
    assert keys["fake-base"].isdisjoint(keys["fake-dpo"])
    assert fps["fake-base"].isdisjoint(fps["fake-dpo"]) and all(len(v) == 1 for v in fps.values())


def test_dry_run_prints_plan_and_writes_nothing(logged, home, tmp_path):
    invoke, log = logged
    out = tmp_path / "run"
    result = invoke([*RUN, "--dry-run", "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "source fake-prompts (4 languages: all): 5 harmful + 5 helpful per language" in text
    assert "rows: 80 planned = 2 models x 40 prompts x 1 scorers" in text
    assert "generations: 80 distinct needed, 0 cached, 80 to do" in text
    assert len(text.splitlines()) < 12  # a summary, not a line per cell
    assert not out.exists()
    assert not (home / "store.sqlite").exists()  # a plan creates no store
    assert _loads(log) == []
    # after a real run of one model, its work shows as cached; --json says the same as data
    assert invoke([*RUN, "--models", "fake-base", "--out", str(out)]).exit_code == 0
    again = invoke([*RUN, "--dry-run", "--json"])
    plan = json.loads(again.stdout)
    assert plan["generations"] == {"needed": 80, "cached": 40, "to_do": 40}
    assert plan["scores"] == {"needed": 80, "cached": 40, "to_do": 40}
    assert plan["rows"] == 80 and plan["languages"] == {"low": ["sw", "yo"], "high": ["de", "en"]}
    # the run measured the fake scorer's speed, so the plan can estimate its time for what is left
    est = plan["estimate"]["seconds"]
    assert est["fake-reward"] is not None and est["fake-dpo"] is None  # fake-dpo never ran here
    assert plan["estimate"]["unmeasured"] == ["fake-dpo"] and plan["estimate"]["total_seconds"] >= 0
    assert _loads(log) == ["load model fake-base", "load scorer fake-reward"]


def test_limit_keeps_first_n_prompts_per_kind(invoke, tmp_path):
    out = tmp_path / "run"
    assert invoke([*RUN, "--limit", "2", "--out", str(out)]).exit_code == 0
    rows = _rows(out)
    assert len(rows) == 2 * 4 * 2 * 2  # models x languages x kinds x limit
    assert {r["prompt_id"] for r in rows} == {"harmful-0", "harmful-1", "helpful-0", "helpful-1"}
    assert json.loads((out / "manifest.json").read_text())["options"]["limit"] == 2


def test_langs_mixes_tiers_and_codes(invoke, tmp_path):
    out = tmp_path / "run"
    result = invoke([*RUN, "--langs", "low,de", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "languages (3): low (2): sw, yo; high (1): de" in result.stderr
    rows = _rows(out)
    assert {(r["language"], r["tier"]) for r in rows} == {("sw", "low"), ("yo", "low"), ("de", "high")}
    assert len(rows) == 2 * 3 * 10


def test_uncovered_language_is_reported_as_skipped(invoke, tmp_path):
    out = tmp_path / "run"
    result = invoke([*RUN, "--langs", "de,qu", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "skipped (no chosen source covers them): qu" in result.stderr
    assert {r["language"] for r in _rows(out)} == {"de"}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["plan"]["skipped_langs"] == ["qu"]
    assert "requested but not covered by any source: qu" in (out / "report.md").read_text()


def test_batch_size_does_not_change_the_table(invoke, tmp_path):
    tables = {}
    for bs in ("1", "7", "auto"):
        out = tmp_path / f"run-{bs}"
        store = tmp_path / f"store-{bs}.sqlite"  # a fresh store each: everything is generated anew
        result = invoke([*RUN, "--batch-size", bs, "--store", str(store), "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert "generated 80 (cached 0)" in result.stderr
        tables[bs] = (out / "table.jsonl").read_bytes()
    assert tables["1"] == tables["7"] == tables["auto"]


def test_manifest_records_what_reproduces_the_run(invoke, tmp_path):
    out = tmp_path / "run"
    assert invoke([*RUN, "--set", "seed=3", "--out", str(out)]).exit_code == 0
    m = json.loads((out / "manifest.json").read_text())
    assert m["config"]["name"] == "fake" and m["config"]["seed"] == 3
    assert m["config"]["generation"] == {"max_new_tokens": 8, "prompt_format": "raw"}
    assert m["seeds"] == {"suite": 3}
    assert {"alignment-harness", "click", "pluggy", "torch"} <= set(m["packages"])
    assert m["packages"]["alignment-harness"]
    assert set(m["git"]) == {"revision", "dirty"} and len(m["git"]["revision"] or "x" * 40) == 40
    assert m["plugins"]["fakeplug"]["registered"]["models"] == ["fake-base", "fake-dpo"]
    assert "version" in m["plugins"]["fakeplug"]
    fps = m["fingerprints"]
    assert set(fps["models"]) == {"fake-base", "fake-dpo"} and all(len(v) == 64 for v in fps["models"].values())
    assert set(fps["scorers"]) == {"fake-reward"}
    assert set(fps["data"]) == {"fake-prompts/sw", "fake-prompts/yo", "fake-prompts/de", "fake-prompts/en"}
    assert m["started"] <= m["finished"]
    assert m["plan"]["models"] == ["fake-base", "fake-dpo"] and m["plan"]["tier_scheme"] == "joshi"
    assert m["work"]["rows"] == 80


def test_report_is_rebuilt_without_loading_a_model(logged, home, tmp_path):
    invoke, log = logged
    out = tmp_path / "run"
    assert invoke([*RUN, "--out", str(out)]).exit_code == 0
    md = (out / "report.md").read_text()
    assert "Mean score" in md and "fake-base" in md
    for name in ("report.md", "report.html", "stats.json"):
        (out / name).unlink()
    (home / "store.sqlite").unlink()  # the report needs only the run directory
    n = len(_loads(log))
    result = invoke(["report", str(out)])
    assert result.exit_code == 0, result.output
    assert len(_loads(log)) == n
    assert (out / "report.md").read_text() == md
    html = (out / "report.html").read_text()
    assert html.startswith("<!doctype html>") and "Mean score" in html
    assert json.loads((out / "stats.json").read_text())["mean-score"]["data"][0]["model"] == "fake-base"


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_export_round_trips_through_stats(invoke, tmp_path, fmt):
    out = tmp_path / "run"
    assert invoke([*RUN, "--out", str(out)]).exit_code == 0
    target = tmp_path / f"exported.{fmt}"
    result = invoke(["export", str(out), "--format", fmt, "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(target)
    reference = invoke(["stats", str(out / "table.jsonl"), "--json"])
    exported = invoke(["stats", str(target), "--json"])
    assert reference.exit_code == exported.exit_code == 0, exported.output
    assert json.loads(exported.stdout) == json.loads(reference.stdout)
    data = json.loads(exported.stdout)["mean-score"]
    assert [d["model"] for d in data] == ["fake-base", "fake-dpo"] and all(d["n"] == 40 for d in data)

    from harness.table import read_table

    assert read_table(target) == read_table(out / "table.jsonl")


def test_stats_on_table_human_output(invoke, tmp_path):
    out = tmp_path / "run"
    assert invoke([*RUN, "--out", str(out)]).exit_code == 0
    result = invoke(["stats", str(out / "table.csv")])
    assert result.exit_code == 0
    assert result.stdout.startswith("## Mean score")


def test_without_suite_the_default_suite_and_all_its_models_are_used(invoke, tmp_path, monkeypatch):
    from corehelp import REPO

    from harness.suite import DEFAULT_SUITE

    tasks = tmp_path / "tasks"
    tasks.mkdir()
    (tasks / f"{DEFAULT_SUITE}.toml").write_text((REPO / "tasks" / "_fake.toml").read_text(), encoding="utf-8")
    monkeypatch.setenv("HARNESS_TASKS_DIR", str(tasks))
    for args in (["run", "--dry-run"], ["run", "--models", "all", "--dry-run"]):
        result = invoke(args)
        assert result.exit_code == 0, result.output
        assert "models (2): fake-base, fake-dpo" in result.stdout
