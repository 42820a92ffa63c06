"""`harness run --suite xtreme-r --rehearse`: the real study's shape with offline stand-ins.

A small limit and five languages keep it fast; every planned row must be in the table, one
per (model, language, kind, prompt, scorer), and the manifest must say it was a rehearsal.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections import Counter

import pytest

LANGS = ["sw", "wo", "qu", "en", "zh"]  # low and high; Wolof has no language-identifier model


@pytest.mark.ml
@pytest.mark.stats
@pytest.mark.slow
def test_rehearsal_has_every_planned_row_per_language_and_kind(tmp_path, sample_data):
    out = tmp_path / "run"
    cmd = [sys.executable, "-c", "from harness.cli import main; main()", "run", "--suite", "xtreme-r",
           "--rehearse", "--limit", "1", "--langs", ",".join(LANGS), "--stats", "rates,fidelity",
           "--no-progress", "--out", str(out), "--store", str(tmp_path / "store.sqlite")]
    env = {**os.environ, "HARNESS_DATA_DIR": str(sample_data), "PYTHONUNBUFFERED": "1"}
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [json.loads(line) for line in (out / "table.jsonl").read_text(encoding="utf-8").splitlines()]
    models = ["tiny-opt", "tiny-opt-sft", "tiny-opt-dpo", "tiny-opt-sft-dpo"]
    # lang-fidelity's GlotLID backend has a stand-in trained on the demo prompts (en, zh, sw among LANGS)
    glotlid = importlib.util.find_spec("fasttext") is not None
    fidelity, unknown_langs = ("tiny-glotlid", {"wo", "qu"}) if glotlid else ("lang-fidelity", {"wo"})
    scorers = ["tiny-reward", "tiny-reward@translate-test", fidelity]
    # per language: 1 harmful (multijail) + 1 helpful from xquad + 1 from xcopa, x 4 models x 3 scorers
    expected = {(lang, kind): n * 4 * 3 for lang in LANGS for kind, n in (("harmful", 1), ("helpful", 2))}
    assert Counter((r["language"], r["kind"]) for r in rows) == expected
    assert len({(r["model"], r["source"], r["language"], r["prompt_id"], r["scorer"]) for r in rows}) == len(rows)
    assert {r["model"] for r in rows} == set(models) and {r["scorer"] for r in rows} == set(scorers)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["rehearsal"]["stand_ins"] == {
        "deberta-reward": "tiny-reward",
        "deberta-reward@translate-test": "tiny-reward@translate-test",
        **({"lang-fidelity": "tiny-glotlid"} if glotlid else {}),
        "nllb": "tiny-nllb",
        "opt-350m": "tiny-opt",
        "opt-350m-dpo": "tiny-opt-dpo",
        "opt-350m-sft": "tiny-opt-sft",
        "opt-350m-sft-dpo": "tiny-opt-sft-dpo",
    }
    acc = manifest["accounting"]
    assert acc["planned"] == len(rows) == 5 * 3 * 4 * 3 and acc["unexplained"] == []
    # language-fidelity rows of a language the identifier does not know are kept, with the reason, and counted
    unknown = [r for r in rows if r["language"] in unknown_langs and r["scorer"] == fidelity]
    assert len(unknown) == 12 * len(unknown_langs)
    assert all(r["score"] is None and "not covered by" in r["missing_reason"] for r in unknown)
    assert acc["complete"] + sum(acc["missing"].values()) == acc["planned"]
    assert sum(n for reason, n in acc["missing"].items() if reason.startswith(fidelity)) == len(unknown)
    # gap languages come from the stand-in translator, one distinct text per distinct input
    translated = [r for r in rows if r["translated"]]
    assert translated and all(r["prompt"].startswith(f"[{r['language']}]") for r in translated)
    assert "REHEARSAL" in result.stderr and "rows: planned 180" in result.stderr
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "Rehearsal with offline stand-ins" in report.split("\n## ")[0]  # said at the top
    # every translated (source, language) has its round-trip chrF, in the manifest and the report's diagnostics
    trips = {(t["source"], t["language"]): t for t in manifest["translation"]["round_trip"]}
    assert set(trips) == {(r["source"], r["language"]) for r in translated}
    assert all(0.0 <= t["chrf"] <= 100.0 and t["translator"] == "tiny-nllb" and t["n"] == 1 for t in trips.values())
    diagnostics = report.split("## Diagnostics")[1]
    assert "Machine translation: round trip" in diagnostics and "round-trip chrF" in diagnostics
    assert "Eastern Apurimac" in diagnostics and "Eastern Apurimac" in result.stderr  # the plan says it too
