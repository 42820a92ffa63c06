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


def synthetic_results() -> list[Any]:
    from harness.types import StatResult

    long_table = [
        {"model": m, "language": lang, "value": float(i)}
        for i, (m, lang) in enumerate((m, lang) for m in synth.MODELS for lang in synth.LANGS for _ in range(3))
    ]
    return [
        StatResult(
            name="means",
            title="Mean reward",
            markdown="Mean reward per model; **bold** and a [link](https://example.org).",
            tables={"means_by_language": long_table, "means": long_table[:3]},
            figures={"means.png": synth.png()},
        ),
        StatResult(
            name="verdict",
            title="The verdict",
            markdown="The trade-off test in detail.",
            headline="**dpo vs base**: the harmlessness gain is 1.2 points smaller in low-tier languages.",
            headline_figure="interaction.png",
            figures={"forest.png": synth.png(30, 30), "interaction.png": synth.png(60, 30)},
            warnings=["the fit did not converge <script>window.__pwned = 3</script>"],
        ),
        StatResult(
            name="hostile",
            title="Hostile <script>window.__pwned = 4</script> title",
            markdown='Text with <script>window.__pwned = 5</script> and <img src=x onerror="window.__pwned = 6">.',
        ),
    ]


def write_synthetic_report(out: Path, rows: list[dict[str, Any]], manifest: dict[str, Any] | None = None) -> Path:
    from harness.report import write_report

    out.mkdir(parents=True, exist_ok=True)
    manifest = (
        manifest
        if manifest is not None
        else {
            "config": {"name": "synthetic", "description": "A synthetic table with known counts."},
            "plan": {"tier_scheme": "joshi"},
        }
    )
    write_report(out, synthetic_results(), manifest, rows)
    return out


@pytest.fixture(scope="session")
def rows() -> list[dict[str, Any]]:
    return synth.table()


@pytest.fixture(scope="session")
def report_dir(tmp_path_factory: pytest.TempPathFactory, rows: list[dict[str, Any]]) -> Path:
    return write_synthetic_report(tmp_path_factory.mktemp("report"), rows)
