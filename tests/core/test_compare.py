"""`harness compare`: identical responses, score agreement, verdict and statistics-table changes."""

from __future__ import annotations

import json
from pathlib import Path

from harness.compare import compare_runs, format_comparison


def _run(tmp: Path, name: str, responses: list[str], scores: list[float], verdict: str, rate: str) -> Path:
    d = tmp / name
    (d / "tables").mkdir(parents=True)
    rows = [{"model": "m", "source": "s", "kind": "harmful", "language": "en", "tier": "high", "prompt_id": str(i),
             "prompt": f"p{i}", "response": r, "scorer": "rm", "score": x}
            for i, (r, x) in enumerate(zip(responses, scores))]
    (d / "table.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    (d / "report.md").write_text(f"# R\n\n## Verdict\n\n{verdict}\n\n## The run\n\n- x\n", encoding="utf-8")
    (d / "tables" / "rates.csv").write_text(f"model,scorer,HmR,HpR\nm,rm,{rate},50.0\n", encoding="utf-8")
    return d


def test_compare_reports_agreement_and_what_changed(tmp_path, invoke):
    a = _run(tmp_path, "a", ["x", "y", "z", "w"], [1.0, 2.0, 3.0, 4.0], "no evidence (p = 0.61).", "90.0")
    b = _run(tmp_path, "b", ["x", "y", "z!", "w"], [1.0, 2.1, 3.0, 4.5], "no evidence (p = 0.58).", "85.0")
    c = compare_runs(a, b)
    assert c["responses"]["identical"] == 3 and c["responses"]["identical_share"] == 0.75
    s = c["scores"]["rm"]
    assert s["n"] == 4 and s["max_abs_diff"] == 0.5 and 0.9 < s["pearson_r"] < 1
    assert c["verdict"]["changed"] is False and c["verdict"]["same_text"] is False  # only a p-value moved
    assert c["tables"]["rates"]["changed"] == 1 and c["tables"]["rates"]["largest"]["column"] == "HmR"
    flipped = _run(tmp_path, "c", ["x", "y", "z", "w"], [1.0, 2.0, 3.0, 4.0], "evidence (p = 0.01).", "90.0")
    flip = compare_runs(a, flipped)["verdict"]
    assert flip["changed"] is True
    assert flip["changed_sentences"] == [{"sentence": 1, "a": "no evidence (p = 0.61).", "b": "evidence (p = 0.01).",
                                          "words": [("no", "")]}]
    assert "sentence 1: 'no' -> ''" in "\n".join(format_comparison(compare_runs(a, flipped)))
    same = compare_runs(a, a)
    assert same["responses"]["identical_share"] == 1.0 and same["tables"]["rates"]["changed"] == 0
    text = "\n".join(format_comparison(c))
    assert "identical responses: 3/4" in text and "verdict: unchanged" in text
    out = invoke(["compare", str(a), str(tmp_path / "nope")])
    assert out.exit_code == 2 and "does not exist" in out.output
