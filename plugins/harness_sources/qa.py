"""Extractive-QA sources (XQuAD, MLQA, TyDiQA-GoldP): a question with its context paragraph as a user turn.

All three ship SQuAD v1.1 JSON upstream; the hub copies live in ``google/xtreme``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.types import Context, HarnessError

from .base import ItemSource
from .readers import load_hub, read_json, squad_items

XTREME_HUB = "google/xtreme"


def qa_text(context: str, question: str) -> str:
    return f"{context.strip()}\n\n{question.strip()}"


class SquadSource(ItemSource):
    """Shared loading: a local SQuAD JSON in the upstream layout, else the ``google/xtreme`` config."""

    kinds = ("helpful",)
    kind = "helpful"
    langs: tuple[str, ...] = ()

    def native_languages(self, ctx: Context) -> list[str]:
        return list(self.langs)

    def local_file(self, language: str, ctx: Context) -> Path | None:
        raise NotImplementedError

    def hub_args(self, language: str) -> dict[str, Any]:
        raise NotImplementedError

    def keep(self, language: str, item_id: str) -> bool:
        return True

    def data_files(self, language: str, ctx: Context) -> list[Path | str]:
        path = self.local_file(language, ctx)
        if path is not None and path.exists():
            return [path]
        args = self.hub_args(language)
        return [f"hub:{XTREME_HUB}/{args.get('name')}/{args.get('split')}"]

    def items(self, language: str, ctx: Context) -> list[tuple[str, str, dict[str, Any]]]:
        if language not in self.langs:
            raise HarnessError(f"{self.name} has no {language!r} data")
        path = self.local_file(language, ctx)
        if path is not None and path.exists():
            rows = squad_items(path, read_json(path))
        else:
            rows = load_hub(XTREME_HUB, what=f"{self.name} {language}", local=path, **self.hub_args(language))
        out = []
        for r in rows:
            if not self.keep(language, str(r["id"])):
                continue
            out.append((str(r["id"]), qa_text(r["context"], r["question"]), {"qid": str(r["id"])}))
        if not out:
            raise HarnessError(f"{self.name}: no {language} questions in {path or XTREME_HUB}")
        return out


class XQuADSource(SquadSource):
    name = "xquad"
    description = "XQuAD: 1,190 questions on 240 paragraphs, parallel in 12 languages (question + context)"
    langs = ("ar", "de", "el", "en", "es", "hi", "ro", "ru", "th", "tr", "vi", "zh")

    def local_file(self, language: str, ctx: Context) -> Path | None:
        return self.local(ctx, "xquad", f"xquad.{language}.json")

    def hub_args(self, language: str) -> dict[str, Any]:
        return {"name": f"XQuAD.{language}", "split": "validation"}


class MLQASource(SquadSource):
    name = "mlqa"
    description = "MLQA test (context and question in the same language), 7 languages"
    langs = ("ar", "de", "en", "es", "hi", "vi", "zh")
    def local_file(self, language: str, ctx: Context) -> Path | None:
        return self.local(ctx, "mlqa", "MLQA_V1", "test", f"test-context-{language}-question-{language}.json")

    def hub_args(self, language: str) -> dict[str, Any]:
        return {"name": f"MLQA.{language}.{language}", "split": "test"}


#: TyDiQA-GoldP ids start with the language's English name, e.g. ``swahili-...``.
TYDI_NAMES = {"ar": "arabic", "bn": "bengali", "en": "english", "fi": "finnish", "id": "indonesian",
              "ko": "korean", "ru": "russian", "sw": "swahili", "te": "telugu"}


class TyDiQASource(SquadSource):
    name = "tydiqa"
    description = "TyDiQA-GoldP dev set, 9 typologically diverse languages (not parallel)"
    langs = tuple(sorted(TYDI_NAMES))

    def local_file(self, language: str, ctx: Context) -> Path | None:
        return self.local(ctx, "tydiqa", "tydiqa-goldp-v1.1-dev.json")

    def hub_args(self, language: str) -> dict[str, Any]:
        return {"name": "tydiqa", "split": "validation"}

    def keep(self, language: str, item_id: str) -> bool:
        return item_id.startswith(TYDI_NAMES[language] + "-")
