"""``demo-prompts``: 20 prompts written for this project, parallel in 7 languages, shipped with the package.

High-resource (Joshi 4-5): en, de, es, zh; low-resource (Joshi 0-2): sw, ht, mr.
They let the whole pipeline run with no dataset download.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.types import Context, HarnessError

from .base import BaseSource, ItemSource
from .readers import read_json

DATA_FILE = "demo_prompts.json"


def demo_path() -> Path:
    return Path(__file__).with_name(DATA_FILE)


def demo_document() -> dict[str, Any]:
    doc = read_json(demo_path())
    if not isinstance(doc, dict) or "prompts" not in doc or "languages" not in doc:
        raise HarnessError(f"cannot read {demo_path()}: expected keys 'languages' and 'prompts'")
    return doc


class DemoSource(ItemSource):
    name = "demo-prompts"
    description = "20 project-written prompts (10 harmful, 10 helpful), parallel in en,de,es,zh,sw,ht,mr"
    kinds = ("harmful", "helpful")
    id_prefix = "demo-"
    default_options: dict[str, Any] = {**BaseSource.common_options, "n": 0}

    def native_languages(self, ctx: Context) -> list[str]:
        return list(demo_document()["languages"])

    def data_files(self, language: str, ctx: Context) -> list[Path | str]:
        return [demo_path()]

    def items(self, language: str, ctx: Context) -> list[tuple[str, str, dict[str, Any]]]:
        return [(p["id"], p["text"][language], {"kind": p["kind"]})
                for p in demo_document()["prompts"] if language in p["text"]]
