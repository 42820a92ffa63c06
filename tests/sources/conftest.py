"""Fixtures for the sources plugin: contexts on the real data (full or sample) and an in-memory cache."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from harness.types import Cache, Context


class MemoryCache(Cache):
    """The store's cache contract in a dict, counting writes."""

    def __init__(self) -> None:
        self.data: dict[tuple[str, str], str] = {}
        self.writes = 0

    def get(self, namespace: str, key: str) -> str | None:
        return self.data.get((namespace, key))

    def put_many(self, namespace: str, items: Mapping[str, str]) -> None:
        self.writes += len(items)
        self.data.update({(namespace, k): v for k, v in items.items()})


@pytest.fixture
def make_ctx(sample_data: Path, harness_home: Path):
    """Build a Context the way the core does: the real data (full or sample), session HARNESS_HOME."""

    def make(options: dict[str, Any] | None = None, **kw: Any) -> Context:
        kw.setdefault("data_dir", sample_data)
        kw.setdefault("home", harness_home)
        kw.setdefault("device", "cpu")
        return Context(options=dict(options or {}), **kw)

    return make
