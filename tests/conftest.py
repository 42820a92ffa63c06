"""Shared test setup: an isolated HARNESS_HOME, offline hub, and the data the tests read.

``shared_data`` is the full reference data (``HARNESS_DATA_DIR``, else ../shared/data): tests that need
the whole data sets take it and skip, saying why, on a clone without it. ``sample_data`` is the full
data where present, else the committed samples in tests/fixtures/data (same layout, first records),
for tests of the loading code that hold on any subset.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chromium import CHROMIUM_ARGS, chromium_path  # benchmarks/, on pytest's pythonpath

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("HARNESS_DATA_DIR") or REPO.parent / "shared" / "data").expanduser()
SAMPLE_DATA = REPO / "tests" / "fixtures" / "data"
NO_FULL_DATA = (
    f"needs the full reference data sets, not found at {SHARED_DATA} "
    "(set HARNESS_DATA_DIR; `harness fetch-data DIR` downloads them, see README.md)"
)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


#: every test in these folders carries the marker, so `-m "not stats"` leaves out what needs the `stats` extra
FOLDER_MARKERS = {"stats": "stats"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        parts = Path(str(item.path)).relative_to(REPO / "tests").parts
        marker = FOLDER_MARKERS.get(parts[0]) if len(parts) > 1 else None
        if marker:
            item.add_marker(marker)


@pytest.fixture(scope="session", autouse=True)
def harness_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One HARNESS_HOME per test session, so tiny models are built once and never touch ~/.cache."""
    home = Path(os.environ.get("HARNESS_TEST_HOME") or tmp_path_factory.mktemp("harness_home"))
    os.environ["HARNESS_HOME"] = str(home)
    return home


def has_full_data() -> bool:
    return (SHARED_DATA / "xtreme-r" / "languages.tsv").is_file()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The read-only full data (see ../shared/data/README.md); skips the test where it is absent."""
    if not has_full_data():
        pytest.skip(NO_FULL_DATA)
    return SHARED_DATA


@pytest.fixture(scope="session")
def sample_data() -> Path:
    """The full data where present, else the committed samples (tests/fixtures/data/README.md)."""
    return SHARED_DATA if has_full_data() else SAMPLE_DATA


@pytest.fixture(scope="session")
def on_samples(sample_data: Path) -> bool:
    """Whether ``sample_data`` is the committed samples (their counts are not the full data sets')."""
    return sample_data == SAMPLE_DATA


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


# ------------------------------------------------------------------ a real browser (report tests)
# Chromium is Debian's (/usr/bin/chromium, or $HARNESS_CHROMIUM), driven by Playwright; Playwright's own
# browser download is never used. Tests that need it skip, saying why, only when either is truly absent
# (.ci/run installs both). The launch itself is benchmarks/chromium.py, shared with the browser benchmark.


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install -e '.[dev]' installs it; .ci/run does)")
    exe = chromium_path()
    if exe is None:
        pytest.skip("no Chromium binary at /usr/bin/chromium or $HARNESS_CHROMIUM (apt-get install -y chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Page:
    """A page with every console error and uncaught exception collected."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))

    def open(self, html: Path, fragment: str = "") -> Any:
        self.page.goto(html.as_uri() + fragment)
        self.page.wait_for_selector("#sb-count[data-matches]", state="attached", timeout=60_000)
        return self.page


@pytest.fixture
def page(browser: Any) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    p = Page(context.new_page())
    yield p
    context.close()
