"""report.md and report.html open with the verdict, say at the top when a run is a rehearsal or partial,
fold long tables away, render markdown through markdown-it with raw HTML shown as text, and write the
sample browser's rows to samples.js."""

from __future__ import annotations

import json
import re
from pathlib import Path

import synthetic_report as synth
from synthetic_report import synthetic_results, write_synthetic_report

from harness.report import write_report
from harness.samples import samples_payload


def _h2(md: str) -> list[str]:
    return re.findall(r"^## (.+)$", md, flags=re.M)


def test_the_report_opens_with_the_verdict_then_one_figure_then_the_run(report_dir: Path):
    md = (report_dir / "report.md").read_text()
    assert _h2(md) == ["Verdict", "The run", "Results", "Diagnostics", "Samples"]
    verdict = md.split("## Verdict", 1)[1].split("## The run", 1)[0]
    assert "**dpo vs base**: the harmlessness gain is 1.2 points smaller" in verdict
    # the figure the headline names, not the result's first figure
    assert re.findall(r"!\[[^]]*\]\(([^)]+)\)", verdict) == ["plots/interaction.png"]
    assert "1 warning(s)" in verdict
    html = (report_dir / "report.html").read_text()
    order = [html.index(f'<section id="{s}">') for s in ("verdict", "run", "results", "diagnostics", "samples")]
    assert order == sorted(order)
    first_img = re.search(r"<img alt=\"([^\"]+)\"", html)
    assert first_img and first_img.group(1) == "interaction.png"
    assert (report_dir / "plots" / "interaction.png").read_bytes() == synth.png(60, 30)


def test_without_a_headline_the_report_says_so(tmp_path: Path, rows):
    results = [r for r in synthetic_results() if not r.headline]
    write_report(tmp_path, results, {"config": {"name": "x"}}, rows)
    verdict = (tmp_path / "report.md").read_text().split("## Verdict", 1)[1].split("##", 1)[0]
    assert "No statistic of this run states a verdict" in verdict
    assert "![" not in verdict


def test_a_rehearsal_and_a_partial_run_say_so_at_the_top(tmp_path: Path, rows):
    manifest = {
        "config": {"name": "xtreme-r"},
        "rehearsal": {"stand_ins": {"deberta-reward": "tiny-reward", "opt-350m": "tiny-opt"}},
        "accounting": {
            "planned": 400,
            "complete": 360,
            "missing": {"generation failed": 30, "no score": 4},
            "unexplained": [{"model": "sft", "source": "alpha", "language": "sw", "scorer": "reward", "rows": 6}],
        },
    }
    write_synthetic_report(tmp_path, rows, manifest)
    md = (tmp_path / "report.md").read_text()
    top = md.split("## Verdict", 1)[0]
    swaps = "`deberta-reward` replaced by `tiny-reward`, `opt-350m` replaced by `tiny-opt`"
    assert f"**Rehearsal with offline stand-ins** ({swaps})" in top
    assert "**Partial results**: 360 of 400 planned rows have a score" in top
    assert "(missing: generation failed: 30; no score: 4); 6 rows are missing without a reason." in top
    html = (tmp_path / "report.html").read_text()
    assert html.index('data-banner="rehearsal"') < html.index('data-banner="partial"') < html.index('id="verdict"')


def test_a_complete_run_has_no_banner_and_missing_scores_without_accounting_are_counted(tmp_path: Path, rows):
    complete = [r for r in rows if r["score"] is not None]
    write_synthetic_report(tmp_path / "complete", complete)
    assert "data-banner" not in (tmp_path / "complete" / "report.html").read_text()
    write_synthetic_report(tmp_path / "partial", rows)  # no accounting in the manifest: counted from the rows
    missing = sum(r["score"] is None for r in rows)
    md = (tmp_path / "partial" / "report.md").read_text()
    expected = f"{len(rows) - missing} of {len(rows)} planned rows have a score"
    assert f"{expected} (missing: identifier cannot score yo: {missing})" in md


def test_long_tables_fold_away_in_the_html(report_dir: Path):
    html = (report_dir / "report.html").read_text()
    folded = re.findall(r"<details class=\"table\"><summary>([^<]+)", html)
    assert folded == ["means_by_language: 36 rows ("]
    assert "<h4>means <small>" in html  # 3 rows: shown
    md = (report_dir / "report.md").read_text()
    assert "**means_by_language** (`tables/means_by_language.csv`, 36 rows)" in md


def test_markdown_goes_through_markdown_it_and_raw_html_stays_text(report_dir: Path):
    html = (report_dir / "report.html").read_text()
    assert "<strong>bold</strong>" in html and '<a href="https://example.org">link</a>' in html
    assert "<table>" in html and "<th>model</th>" in html
    for n in (3, 4, 5, 6):  # warnings, titles and markdown from statistics are text, never markup
        assert f"window.__pwned = {n}" in html.replace("&quot;", '"')
    assert "<script>window" not in html and "<img src=x" not in html
    assert "&lt;script&gt;window.__pwned = 5&lt;/script&gt;" in html
    assert "Hostile &lt;script&gt;" in html


def test_samples_js_holds_every_row_grouped_by_generation(report_dir: Path, rows):
    text = (report_dir / "samples.js").read_text(encoding="utf-8")
    assert text.startswith("window.HARNESS_SAMPLES=") and text.endswith(";\n")
    assert "<" not in text  # no text can close a script element
    payload = json.loads(text[len("window.HARNESS_SAMPLES=") : -2])
    assert payload == json.loads(json.dumps(samples_payload(rows)))
    assert payload["rows"] == len(rows) == 360
    assert len(payload["samples"]) == 240 and payload["scorers"] == ["reward", "fidelity"]
    texts = payload["texts"]
    planted = [s for s in payload["samples"] if texts[s[7]] == synth.PLANTED]
    assert len(planted) == 1 and isinstance(planted[0][9][0], float)
    yo = [
        s
        for s in payload["samples"]
        if payload["values"]["language"][s[3]] == "yo" and payload["values"]["source"][s[1]] == "alpha"
    ]
    assert yo and all(s[9][1] == "identifier cannot score yo" for s in yo)
    beta = [s for s in payload["samples"] if payload["values"]["source"][s[1]] == "beta"]
    assert beta and all(s[9][1] is None for s in beta)  # fidelity has no row for them


def test_the_report_is_byte_identical_for_the_same_inputs(tmp_path: Path, rows):
    a = write_synthetic_report(tmp_path / "a", rows)
    b = write_synthetic_report(tmp_path / "b", list(rows))
    for name in ("report.md", "report.html", "samples.js", "stats.json"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert not list(a.glob(".*.tmp")) and not list(a.glob("*.tmp"))
