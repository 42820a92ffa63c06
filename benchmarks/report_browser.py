"""The report's sample browser at 40,000 rows, measured in Chromium (Debian's, driven by Playwright).

    python benchmarks/report_browser.py [--json] [--repeats 5]

Two synthetic tidy tables (synthetic_report.py, texts of realistic length): the study's real shape,
33 languages x 4 variants x 120 prompts with three scorers (39,600 table rows, 15,840 samples), and a
worst case of 40,000 samples (60,000 rows). For each: the time to write the report, the sizes of
report.html and samples.js, and in the browser the first contentful paint, the time until the first
page of samples is on screen, and the time one filter takes (a language, a third language beside two,
a scorer with a score range, a free-text search, a sort by score; see ``_apply`` for what each figure
covers; the search input waits 120 ms for typing to pause, which only ``wall_ms`` includes). Medians of
``--repeats``; one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import synthetic_report as synth
from chromium import CHROMIUM_ARGS, chromium_path
from common import log
from sample_browser_ui import choose

from harness.report import write_report

SHAPES = {
    # the xtreme-r study: 33 languages, 4 variants, 100+ prompts, 3 scorers (fidelity scores one source)
    "study_39600_rows": dict(models=4, langs=33, prompts=30, extra_scorers=("reward-tt",)),
    "samples_40000": dict(models=4, langs=20, prompts=125, extra_scorers=()),
}


def build(shape: dict[str, Any]) -> list[dict[str, Any]]:
    models = ("base", "sft", "dpo", "sft-dpo")[: shape["models"]]
    langs = {f"l{i:02d}": "low" if i % 3 else "high" for i in range(shape["langs"])}
    return synth.table(models, langs, shape["prompts"], long_texts=True, extra_scorers=shape["extra_scorers"])


def _apply(page: Any, action: Any) -> dict[str, float]:
    """Run one UI action; the browser's own times from the event to the filtered list (``filter_ms``:
    the pass over the samples and the sort; ``js_ms``: plus building the page's rows) and to the
    frame that shows it (``paint_ms``: style, layout and paint included), and Playwright's wall time."""
    before = int(page.get_attribute("#sb-count", "data-applied"))
    t0 = time.perf_counter()
    action()
    page.wait_for_function(f"Number(document.getElementById('sb-count').dataset.painted) > {before}")
    wall = (time.perf_counter() - t0) * 1000
    get = lambda name: float(page.get_attribute("#sb-count", name))  # noqa: E731
    return {
        "filter_ms": get("data-filter-ms"),
        "js_ms": get("data-ms"),
        "paint_ms": get("data-paint-ms"),
        "wall_ms": wall,
    }


ALL_PAINTED = "(c => c.dataset.painted === c.dataset.applied)(document.getElementById('sb-count'))"


def _languages_open(page: Any, *chosen: str) -> None:
    """Untimed setup: these languages chosen and the language dropdown open, so one tick is timed."""
    if chosen:
        choose(page, "language", *chosen)
    page.click("#sb-language summary")


def measure(browser: Any, html: Path, repeats: int) -> dict[str, Any]:
    loads, filters = [], {}
    # (name, untimed setup, the timed action); the page is reset before each
    actions = [
        ("language", lambda p: _languages_open(p), lambda p: p.check("#sb-language [data-value=l05]")),
        (
            "third_language",
            lambda p: _languages_open(p, "l05", "l07"),
            lambda p: p.check("#sb-language [data-value=l11]"),
        ),
        ("scorer_and_range", lambda p: choose(p, "scorer", "reward"), lambda p: p.fill("#sb-min", "0")),
        ("search", None, lambda p: p.fill("#sb-q", "because never")),
        ("sort_by_score", None, lambda p: p.select_option("#sb-sort", label="reward: highest first")),
    ]
    for _ in range(repeats):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        t0 = time.perf_counter()
        page.goto(html.as_uri())
        page.wait_for_selector("#sb-count[data-matches]", state="attached", timeout=120_000)
        page.wait_for_function("performance.getEntriesByName('samples-painted').length > 0")
        wall_ready = (time.perf_counter() - t0) * 1000
        timing = page.evaluate(
            """() => ({
              fcp: (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime,
              ready: (performance.getEntriesByName('samples-ready')[0] || {}).startTime,
              painted: (performance.getEntriesByName('samples-painted')[0] || {}).startTime,
              dom: performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd,
              setup: Number(document.body.dataset.samplesReady)})"""
        )
        loads.append({**timing, "wall_ready": wall_ready})
        for name, setup, action in actions:
            _apply(page, lambda p=page: p.click("#sb-reset"))
            if setup:  # untimed; it may apply the filters several times, or not at all (opening a dropdown)
                setup(page)
                page.wait_for_function(ALL_PAINTED)
            filters.setdefault(name, []).append(_apply(page, lambda p=page, f=action: f(p)))
        context.close()

    def med(values: list[float]) -> float:
        return round(statistics.median(values), 1)

    return {
        "first_contentful_paint_ms": med([x["fcp"] for x in loads]),
        "samples_in_dom_ms": med([x["ready"] for x in loads]),
        "samples_on_screen_ms": med([x["painted"] for x in loads]),
        "samples_wall_ms": med([x["wall_ready"] for x in loads]),
        "samples_setup_ms": med([x["setup"] for x in loads]),
        "dom_content_loaded_ms": med([x["dom"] for x in loads]),
        "filters": {name: {k: med([x[k] for x in xs]) for k in xs[0]} for name, xs in filters.items()},
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="only the JSON object on stdout")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    exe = chromium_path()
    if exe is None:
        sys.exit("no Chromium at /usr/bin/chromium or $HARNESS_CHROMIUM (apt-get install -y chromium)")
    result: dict[str, Any] = {"chromium": exe, "repeats": args.repeats}
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        result["chromium_version"] = browser.version
        for name, shape in SHAPES.items():
            rows = build(shape)
            out = Path(tmp) / name
            out.mkdir()
            log(f"{name}: {len(rows)} rows, writing the report")
            t0 = time.perf_counter()
            write_report(out, [], {"config": {"name": name}}, rows)
            write_s = time.perf_counter() - t0
            log(f"{name}: measuring in Chromium ({args.repeats} loads)")
            result[name] = {
                "rows": len(rows),
                "samples": len({(r["model"], r["source"], r["kind"], r["language"], r["prompt_id"]) for r in rows}),
                "write_report_s": round(write_s, 2),
                "report_html_kb": round((out / "report.html").stat().st_size / 1024, 1),
                "samples_js_mb": round((out / "samples.js").stat().st_size / 2**20, 2),
                **measure(browser, out / "report.html", args.repeats),
            }
        browser.close()
    print(json.dumps(result, indent=None if args.json else 2))
    return result


if __name__ == "__main__":
    main()
