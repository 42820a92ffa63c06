"""Shared test setup: an isolated HARNESS_HOME, offline hub, and the path to ../shared/data."""

from __future__ import annotations

import os
from pathlib import Path

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
