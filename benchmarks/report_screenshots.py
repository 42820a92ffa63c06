"""Screenshots of a run's report.html for the docs: the top of the report, the sample browser and its
side-by-side view, taken in Debian's Chromium through Playwright.

    python benchmarks/report_screenshots.py RUN_DIR [--out docs]

It lives beside the browser launch and the filter clicks the benchmark uses, which it imports.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from chromium import CHROMIUM_ARGS, chromium_path
from sample_browser_ui import choose

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("--out", type=Path, default=REPO / "docs")
    ap.add_argument("--language", default="sw", help="language the sample browser is filtered to")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000}, device_scale_factor=1)
        page.goto((args.run_dir / "report.html").resolve().as_uri())
        page.wait_for_selector("#sb-count[data-matches]", state="attached")
        page.wait_for_function("Array.from(document.images).every(i => i.complete)")
        page.screenshot(path=str(args.out / "report-top.png"))
        choose(page, "language", args.language)
        choose(page, "kind", "harmful")
        page.evaluate("document.getElementById('samples').scrollIntoView()")
        page.screenshot(path=str(args.out / "sample-browser.png"))
        page.locator("#sb-rows button.sb-cmp").nth(1).click()
        page.wait_for_timeout(200)
        page.screenshot(path=str(args.out / "side-by-side.png"))
        browser.close()
    for name in ("report-top.png", "sample-browser.png", "side-by-side.png"):
        print(args.out / name)


if __name__ == "__main__":
    main()
