"""Fixtures for the statistics tests: the study's released scores and simulated multilingual tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def paper_dir(shared_data: Path) -> Path:
    return shared_data / "opt350m-paper" / "responses"


@pytest.fixture(scope="session")
def paper_rows(paper_dir: Path) -> list[dict[str, Any]]:
    from harness_stats.paper import load_paper_responses

    return load_paper_responses(paper_dir)


def _make_row(model: str, kind: str, language: str, pid: str, score: float, **extra: Any) -> dict[str, Any]:
    row = {
        "model": model,
        "source": "src",
        "kind": kind,
        "language": language,
        "tier": extra.pop("tier", None),
        "prompt_id": pid,
        "prompt": "p",
        "response": "r",
        "scorer": extra.pop("scorer", "rm"),
        "score": score,
        "metric": extra.pop("metric", "reward"),
        "family": extra.pop("family", "fam"),
        "recipe": extra.pop("recipe", "base" if model == "base" else model),
    }
    row.update(extra)
    return row


@pytest.fixture(scope="session")
def make_row():
    """Builds one tidy row: make_row(model, kind, language, prompt_id, score, tier=..., ...)."""
    return _make_row
