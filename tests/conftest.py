"""Shared test setup: an isolated HARNESS_HOME, offline hub, and the path to ../shared/data."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session", autouse=True)
def harness_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One HARNESS_HOME per test session, so tiny models are built once and never touch ~/.cache."""
    home = Path(os.environ.get("HARNESS_TEST_HOME") or tmp_path_factory.mktemp("harness_home"))
    os.environ["HARNESS_HOME"] = str(home)
    return home


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The read-only real data beside the repo (see ../shared/data/README.md)."""
    assert SHARED_DATA.is_dir(), f"expected the shared data at {SHARED_DATA}"
    return SHARED_DATA


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


# ------------------------------------------------------------------ a real browser (report tests)
# Chromium is Debian's (/usr/bin/chromium, or $HARNESS_CHROMIUM), driven by Playwright; Playwright's own
# browser download is never used. Tests that need it skip, saying why, only when either is truly absent
# (.ci/run installs both).

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str | None:
    for candidate in (os.environ.get("HARNESS_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


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
