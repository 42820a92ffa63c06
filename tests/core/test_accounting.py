"""Every planned row is in the table, once: shared texts, a constant translator, NaN scores, lost rows."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from harness.runner import LocalExecutor

RUN = ["run", "--suite", "_fake", "--no-progress"]


def _rows(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "table.jsonl").read_text(encoding="utf-8").splitlines()]


def _manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def test_texts_shared_across_languages_and_kinds_keep_a_row_each(invoke, tmp_path):
    out = tmp_path / "run"
    result = invoke([*RUN, "--set", "fake-prompts.shared=true", "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = _rows(out)
    # 2 models x 4 languages x 2 kinds x 5 prompts x 1 scorer, though there are only 5 distinct texts
    assert len(rows) == 80
    assert Counter((r["language"], r["kind"]) for r in rows) == {
        (lang, kind): 10 for lang in ("sw", "yo", "de", "en") for kind in ("harmful", "helpful")
    }
    assert len({(r["model"], r["source"], r["language"], r["kind"], r["prompt_id"], r["scorer"]) for r in rows}) == 80
    assert all(r["score"] is not None and r["missing_reason"] is None for r in rows)
    work = _manifest(out)["work"]
    # progress counts distinct work: one generation per (model, text), one score per (generation, language, kind)
    assert (work["generated"], work["scored"]) == (2 * 5, 2 * 5 * 4 * 2)
    assert _manifest(out)["accounting"] == {"planned": 80, "complete": 80, "missing": {}, "unexplained": []}
    again = invoke([*RUN, "--set", "fake-prompts.shared=true", "--out", str(out)])
    assert "generated 0 (cached 10), scored 0 (cached 80)" in again.stderr


def test_a_constant_translator_still_gives_every_planned_row(invoke, tmp_path):
    """Every translated prompt, in every language and kind, becomes the same text."""
    out = tmp_path / "run"
    result = invoke([*RUN, "--sources", "fake-translated", "--out", str(out)], ["fakeplug", "translateplug"])
    assert result.exit_code == 0, result.output
    rows = _rows(out)
    assert len(rows) == 2 * 4 * 6  # models x languages x (3 harmful + 3 helpful)
    assert Counter((r["language"], r["kind"]) for r in rows) == {
        (lang, kind): 6 for lang in ("sw", "yo", "de", "en") for kind in ("harmful", "helpful")
    }
    assert {r["prompt"] for r in rows if r["language"] != "en"} == {"the same text"}
    manifest = _manifest(out)
    assert manifest["accounting"] == {"planned": 48, "complete": 48, "missing": {}, "unexplained": []}
    # one distinct text per model for the 3 translated languages, plus the 6 English ones
    assert manifest["work"]["generated"] == 2 * 7
    # the translator loaded once for the three languages it filled
    assert manifest["work"]["translator_loads"] == {"fake-constant": 1}
    assert "rows: planned 48, complete 48, missing 0" in result.stderr


def test_a_row_the_scorer_cannot_score_is_kept_with_its_reason(invoke, tmp_path):
    out = tmp_path / "run"
    result = invoke([*RUN, "--set", "fake-reward.nan_lang=yo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = _rows(out)
    assert len(rows) == 80
    yo = [r for r in rows if r["language"] == "yo"]
    assert len(yo) == 20 and all(r["score"] is None for r in yo)
    assert {r["missing_reason"] for r in yo} == {"fake-reward: language 'yo' not covered"}
    accounting = _manifest(out)["accounting"]
    assert accounting["missing"] == {"fake-reward: language 'yo' not covered": 20}
    assert accounting["complete"] == 60 and accounting["unexplained"] == []
    assert "missing 20 (fake-reward: language 'yo' not covered: 20)" in result.stderr
    csv_lines = (out / "table.csv").read_text(encoding="utf-8").splitlines()
    assert len(csv_lines) == 81 and csv_lines[0].endswith(",missing_reason")


def test_rows_lost_without_a_reason_fail_the_run_naming_the_cells(invoke, tmp_path, monkeypatch):
    """An executor that loses a batch of scores: the table still has every row, the run exits 3."""
    real = LocalExecutor.execute

    def lossy(self, unit, sink, progress):
        dropped = []

        def drop_first(items, outputs):
            if unit.kind == "score" and not dropped:
                dropped.append(len(items))
                return
            sink(items, outputs)

        return real(self, unit, drop_first, progress)

    monkeypatch.setattr(LocalExecutor, "execute", lossy)
    out = tmp_path / "run"
    result = invoke([*RUN, "--models", "fake-base", "--out", str(out)])
    assert result.exit_code == 3, result.output
    assert "planned rows have no result and no reason" in result.stderr
    rows = _rows(out)
    assert len(rows) == 40  # written before failing: nothing computed is lost
    lost = [r for r in rows if r["score"] is None]
    assert lost and all(r["missing_reason"] == "no score in the store" for r in lost)
    accounting = _manifest(out)["accounting"]
    cells = {(c["model"], c["language"], c["scorer"]) for c in accounting["unexplained"]}
    assert sum(c["rows"] for c in accounting["unexplained"]) == len(lost)
    for model, lang, scorer in cells:
        assert f"{model}/fake-prompts/{lang}/{scorer}" in result.stderr
    # a re-run with a working executor fills the gap and succeeds
    monkeypatch.setattr(LocalExecutor, "execute", real)
    again = invoke([*RUN, "--models", "fake-base", "--out", str(out)])
    assert again.exit_code == 0, again.output
    assert all(r["score"] is not None for r in _rows(out))


def test_set_on_a_component_outside_the_run_is_an_error(invoke):
    both = ["fakeplug", "translateplug"]
    result = invoke([*RUN, "--sources", "fake-prompts", "--set", "fake-translated.n=2", "--dry-run"], both)
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "fake-translated" in lines[0] and "not in this run" in lines[0]
    assert "(did you mean" in lines[0] and "valid: fake-base, fake-dpo, fake-prompts" in lines[0]
    # a translator is fed only by a source that names it
    bad = invoke([*RUN, "--sources", "fake-prompts", "--set", "translators.fake-constant.x=1", "--dry-run"], both)
    assert bad.exit_code == 2 and "fake-constant" in bad.stderr
    fed = invoke([*RUN, "--sources", "fake-translated", "--set", "translators.fake-constant.x=1", "--dry-run"], both)
    assert fed.exit_code == 0, fed.output
    # a variant's base feeds it: fake-base is the base of fake-dpo (same family)
    base = invoke([*RUN, "--models", "fake-dpo", "--set", "fake-base.salt2=x", "--dry-run"])
    assert base.exit_code == 0, base.output
