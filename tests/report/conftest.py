"""Fixtures for the report tests: a report built from a synthetic tidy table (the browser and page
fixtures are in tests/conftest.py)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import synth  # noqa: E402
from synth import write_synthetic_report  # noqa: E402


@pytest.fixture(scope="session")
def rows() -> list[dict[str, Any]]:
    return synth.table()


@pytest.fixture(scope="session")
def report_dir(tmp_path_factory: pytest.TempPathFactory, rows: list[dict[str, Any]]) -> Path:
    return write_synthetic_report(tmp_path_factory.mktemp("report"), rows)
