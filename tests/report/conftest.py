"""Fixtures for the report tests: a report built from a synthetic tidy table (the browser and page
fixtures are in tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import synthetic_report as synth  # benchmarks/, on pytest's pythonpath
from synthetic_report import write_synthetic_report


@pytest.fixture(scope="session")
def rows() -> list[dict[str, Any]]:
    return synth.table()


@pytest.fixture(scope="session")
def report_dir(tmp_path_factory: pytest.TempPathFactory, rows: list[dict[str, Any]]) -> Path:
    return write_synthetic_report(tmp_path_factory.mktemp("report"), rows)
