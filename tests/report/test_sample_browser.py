"""The sample browser of report.html, driven in Chromium through Playwright: every filter gives the right
count, search and sort work, the side-by-side view shows every variant and language, figures load, nothing
logs an error, and a planted ``<script>`` response stays inert text."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import synthetic_report as synth
from sample_browser_ui import choose
from synthetic_report import write_synthetic_report

pytestmark = pytest.mark.browser
PAGE_SIZE = 50


def _samples(rows: list[dict[str, Any]]) -> dict[tuple, dict[str, Any]]:
    """The browser's unit, computed independently: one sample per generation, scores by scorer."""
    out: dict[tuple, dict[str, Any]] = {}
    for r in rows:
        key = (r["model"], r["source"], r["kind"], r["language"], r["prompt_id"])
        out.setdefault(key, {**r, "scores": {}})["scores"][r["scorer"]] = r["score"]
    return out


def _count(rows, keep: Callable[[dict[str, Any]], bool]) -> int:
    return sum(1 for s in _samples(rows).values() if keep(s))


def _settle(page: Any, action: Callable[[], Any]) -> int:
    """Run a UI action and wait until the browser has applied the filters; returns the matching count."""
    before = int(page.get_attribute("#sb-count", "data-applied") or 0)
    action()
    page.wait_for_function(f"Number(document.getElementById('sb-count').dataset.applied) > {before}")
    return int(page.get_attribute("#sb-count", "data-matches"))


def _visible(page: Any) -> int:
    return page.locator("#sb-rows tr.sb-row").count()


FILTERS = {
    "model": ("dpo", lambda s: s["model"] == "dpo"),
    "language": ("sw", lambda s: s["language"] == "sw"),
    "tier": ("low", lambda s: s["tier"] == "low"),
    "kind": ("harmful", lambda s: s["kind"] == "harmful"),
    "source": ("beta", lambda s: s["source"] == "beta"),
    "scorer": ("fidelity", lambda s: "fidelity" in s["scores"]),
}


@pytest.mark.parametrize("name", list(FILTERS))
def test_each_filter_shows_the_right_number_of_rows(page, report_dir: Path, rows, name):
    p = page.open(report_dir / "report.html")
    total = len(_samples(rows))
    assert int(p.get_attribute("#sb-count", "data-matches")) == total == 240
    assert _visible(p) == PAGE_SIZE
    label, keep = FILTERS[name]
    expected = _count(rows, keep)
    assert 0 < expected < total
    assert _settle(p, lambda: choose(p, name, label)) == expected
    assert _visible(p) == min(expected, PAGE_SIZE)
    shown = p.locator("#sb-rows tr.sb-row td.meta").all_inner_texts()
    if name in ("model", "language", "tier", "kind", "source"):
        assert all(label in text for text in shown)
    assert _settle(p, lambda: p.click("#sb-reset")) == total
    assert page.errors == []


def test_filters_combine_and_the_score_range_applies_to_the_chosen_scorer(page, report_dir: Path, rows):
    p = page.open(report_dir / "report.html")
    _settle(p, lambda: choose(p, "model", "dpo"))
    assert _settle(p, lambda: choose(p, "language", "sw")) == _count(
        rows, lambda s: s["model"] == "dpo" and s["language"] == "sw"
    )
    p.click("#sb-reset")
    _settle(p, lambda: choose(p, "scorer", "reward"))
    _settle(p, lambda: p.fill("#sb-min", "0"))
    n = _settle(p, lambda: p.fill("#sb-max", "2.5"))
    assert n == _count(rows, lambda s: 0 <= s["scores"]["reward"] <= 2.5) and 0 < n < 240
    assert _visible(p) == min(n, PAGE_SIZE)
    # the same range on fidelity (scores 0..0.9): unscored (missing) rows are left out
    n = _settle(p, lambda: choose(p, "scorer", "fidelity"))
    assert n == _count(rows, lambda s: s["scores"].get("fidelity") is not None and 0 <= s["scores"]["fidelity"] <= 2.5)
    assert page.errors == []


def test_search_finds_a_known_response(page, report_dir: Path):
    p = page.open(report_dir / "report.html")
    assert _settle(p, lambda: p.fill("#sb-q", "ZEBRA-42")) == 1
    row = p.locator("#sb-rows tr.sb-row")
    assert row.count() == 1
    assert synth.NEEDLE in row.locator("td.response").inner_text()
    assert "dpo" in row.locator("td.meta").inner_text() and "sw" in row.locator("td.meta").inner_text()
    assert _settle(p, lambda: p.fill("#sb-q", "no such text anywhere")) == 0
    assert "No sample matches" in p.inner_text("#sb-count")
    assert page.errors == []


def test_translations_show_beside_the_texts(page, report_dir: Path):
    p = page.open(report_dir / "report.html")
    _settle(p, lambda: p.fill("#sb-q", "base answers alpha-harmful-002 in"))
    _settle(p, lambda: choose(p, "language", "sw"))
    row = p.locator("#sb-rows tr.sb-row")
    assert row.count() == 1
    # the English prompt of the same id, and the row's own translation of the response
    assert row.locator("td.prompt .tr").inner_text().splitlines() == [
        "ENGLISH PROMPT, SAME ID",
        "[en] harmful prompt 2 of alpha",
    ]
    assert row.locator("td.response .tr .txt").inner_text() == "in English: base answers alpha-harmful-002 in sw"
    _settle(p, lambda: choose(p, "source", "beta"))
    _settle(p, lambda: p.fill("#sb-q", "base answers beta-harmful-002 in"))
    assert "machine-translated" in p.locator("#sb-rows tr.sb-row td.meta").inner_text()
    _settle(p, lambda: choose(p, "language", "en"))
    assert p.locator("#sb-rows tr.sb-row td.prompt .tr").count() == 0  # English needs no translation
    assert page.errors == []


def test_sort_by_score_orders_the_rows(page, report_dir: Path, rows):
    p = page.open(report_dir / "report.html")
    _settle(p, lambda: p.select_option("#sb-sort", label="reward: highest first"))
    first = [float(t) for t in p.locator("#sb-rows tr.sb-row td.num:nth-child(4)").all_inner_texts()]
    assert first == sorted(first, reverse=True) and first[0] == max(r["score"] for r in rows if r["scorer"] == "reward")
    _settle(p, lambda: p.select_option("#sb-sort", label="fidelity: lowest first"))
    cells = p.locator("#sb-rows tr.sb-row td:nth-child(5)").all_inner_texts()
    values = [float(c) for c in cells]
    assert values == sorted(values) and values[0] == 0.0
    p.click("#sb-next")  # the second page continues the order
    assert p.inner_text("#sb-page") == "page 2 of 5"
    more = p.locator("#sb-rows tr.sb-row td:nth-child(5)").all_inner_texts()
    scored = [float(c) for c in more if c[0].isdigit()]
    assert scored == sorted(scored) and scored[0] >= values[-1]
    assert more[: len(scored)] == [f"{v:.3f}" for v in scored]  # samples without a fidelity score come last
    assert len(values) + len(scored) == _count(rows, lambda s: s["scores"].get("fidelity") is not None)
    assert page.errors == []


def test_side_by_side_shows_every_variant_and_every_language(page, report_dir: Path):
    p = page.open(report_dir / "report.html")
    _settle(p, lambda: p.fill("#sb-q", "zebra-42"))
    p.click("#sb-rows button.sb-cmp")
    panel = p.locator("#sb-compare")
    assert panel.is_visible()
    models = panel.locator(".sb-variants thead th[data-model]").evaluate_all("els => els.map(e => e.dataset.model)")
    assert models == list(synth.MODELS)
    responses = panel.locator(".sb-variants td.response").all_inner_texts()
    assert responses == ["base answers beta-helpful-003 in sw", "sft answers beta-helpful-003 in sw", synth.NEEDLE]
    langs = panel.locator(".sb-langs tbody tr").evaluate_all("els => els.map(e => e.dataset.language)")
    assert sorted(langs) == sorted(synth.LANGS)
    assert "4 languages, parallel prompts" in panel.inner_text()
    texts = panel.locator(".sb-langs td.response").all_inner_texts()  # the clicked variant, dpo
    want = {lang: f"dpo answers beta-helpful-003 in {lang}" for lang in synth.LANGS} | {"sw": synth.NEEDLE}
    assert sorted(texts) == sorted(want.values())
    panel.locator("select.sb-lang-model").select_option(label="base")  # another variant across languages
    texts = panel.locator(".sb-langs td.response").all_inner_texts()
    assert sorted(texts) == sorted(f"base answers beta-helpful-003 in {lang}" for lang in synth.LANGS)
    panel.locator(".sb-close").click()
    assert not panel.is_visible()
    assert page.errors == []


def test_figures_load_and_nothing_logs_an_error(page, report_dir: Path):
    p = page.open(report_dir / "report.html")
    images = p.locator("img")
    assert images.count() == 4  # the headline figure, then the three figures of their sections
    p.wait_for_function("Array.from(document.images).every(i => i.complete)")
    sizes = images.evaluate_all("els => els.map(e => [e.naturalWidth, e.naturalHeight])")
    assert sizes == [[60, 30], [40, 20], [30, 30], [60, 30]]
    assert p.locator("details.table").count() == 1
    assert page.errors == []


def test_a_planted_script_stays_inert_text(page, report_dir: Path):
    p = page.open(report_dir / "report.html")
    _settle(p, lambda: p.fill("#sb-q", "PLANTED"))
    row = p.locator("#sb-rows tr.sb-row")
    assert row.count() == 1
    assert row.locator("td.response").inner_text() == synth.PLANTED
    assert row.locator("td.prompt .txt").first.inner_text().startswith("<b>not bold</b>")
    row.locator("button.sb-cmp").click()
    assert synth.PLANTED in p.locator("#sb-compare").inner_text()
    p.wait_for_timeout(100)
    assert p.evaluate("window.__pwned") is None
    assert p.locator("#samples script, #samples img, #samples b").count() == 0
    # titles, warnings and prose from statistics are text as well
    assert "Hostile <script>window.__pwned = 4</script> title" in p.inner_text("#results")
    assert page.errors == []


def test_forty_thousand_rows_render_one_page_and_filter(page, tmp_path: Path):
    langs = {f"l{i:02d}": "low" if i % 3 else "high" for i in range(20)}
    big = synth.table(models=("base", "sft", "dpo", "sft-dpo"), langs=langs, prompts=125, long_texts=True)
    assert len(big) == 60_000  # 40,000 samples: 20 languages x 4 models x 2 x 2 x 125, two scorers
    out = write_synthetic_report(tmp_path / "big", big)
    p = page.open(out / "report.html")
    assert int(p.get_attribute("#sb-count", "data-matches")) == 40_000
    assert _visible(p) == PAGE_SIZE
    n = _settle(p, lambda: choose(p, "language", "l05"))
    assert n == 2_000 and _visible(p) == PAGE_SIZE
    assert _settle(p, lambda: choose(p, "language", "l05", "l07", "l11")) == 6_000
    assert _settle(p, lambda: choose(p, "model", "sft", "dpo")) == 3_000
    assert _settle(p, lambda: p.fill("#sb-q", "zebra")) == 0
    assert page.errors == []


def test_without_samples_js_the_page_says_what_is_missing(page, report_dir: Path, tmp_path: Path):
    copy = tmp_path / "copy"
    shutil.copytree(report_dir, copy)
    (copy / "samples.js").unlink()
    page.page.goto((copy / "report.html").as_uri())
    page.page.wait_for_function("document.getElementById('sb-status').textContent.includes('samples.js')")
    assert "needs samples.js beside report.html" in page.page.inner_text("#sb-status")
    assert page.page.is_visible("#verdict")
