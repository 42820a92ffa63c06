"""XCOPA (Ponti et al., 2020): 500 parallel cause/effect items in 11 languages.

Each item becomes a question in the item's own language: the premise, "what was the
cause?" or "what happened as a result?", and the two choices. The question phrases
were written for this project.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.types import Context

from .base import BaseSource, ItemSource
from .readers import load_hub, read_jsonl, require_columns

HUB_ID = "cambridgeltl/xcopa"
LANGS = ("et", "ht", "id", "it", "qu", "sw", "ta", "th", "tr", "vi", "zh")

#: language -> (cause question, effect question)
QUESTIONS: dict[str, tuple[str, str]] = {
    "en": ("What was the cause of this?", "What happened as a result?"),
    "et": ("Mis oli selle põhjus?", "Mis juhtus selle tagajärjel?"),
    "ht": ("Kisa ki te lakòz sa?", "Kisa ki te rive kòm rezilta?"),
    "id": ("Apa penyebabnya?", "Apa yang terjadi sebagai akibatnya?"),
    "it": ("Qual è stata la causa?", "Che cosa è successo di conseguenza?"),
    "qu": ("Imaraykutaq chay karqa?", "Chaymanta imataq karqa?"),
    "sw": ("Nini kilisababisha hili?", "Nini kilitokea kama matokeo yake?"),
    "ta": ("இதற்குக் காரணம் என்ன?", "இதன் விளைவாக என்ன நடந்தது?"),
    "th": ("สาเหตุของเรื่องนี้คืออะไร", "ผลที่เกิดขึ้นตามมาคืออะไร"),
    "tr": ("Bunun sebebi neydi?", "Bunun sonucunda ne oldu?"),
    "vi": ("Nguyên nhân của việc này là gì?", "Kết quả là điều gì đã xảy ra?"),
    "zh": ("这是什么原因造成的？", "结果发生了什么？"),
}

FIELDS = ("premise", "choice1", "choice2", "question", "idx")


def xcopa_text(item: dict[str, Any], language: str) -> str:
    cause, effect = QUESTIONS.get(language, QUESTIONS["en"])
    question = cause if item["question"] == "cause" else effect
    return f"{item['premise'].strip()} {question}\n1. {item['choice1'].strip()}\n2. {item['choice2'].strip()}"


#: Where XCOPA's variety of a language is narrower than its code says (shown in the plan and the report).
VARIETIES = {"qu": "XCOPA's qu prompts are Eastern Apurimac Quechua (ISO 639-3 qve), not Quechua in general"}


class XCOPASource(ItemSource):
    name = "xcopa"
    description = "XCOPA test: cause/effect questions with their premise and two choices, 11 languages"
    kinds = ("helpful",)
    kind = "helpful"
    #: XCOPA has no English; translation pivots on Italian unless told otherwise.
    default_options: dict[str, Any] = {**BaseSource.common_options, "translate_from": "it"}

    def native_languages(self, ctx: Context) -> list[str]:
        return list(LANGS)

    def _path(self, language: str, ctx: Context) -> Path | None:
        return self.local(ctx, "xcopa", f"test.{language}.jsonl")

    def data_files(self, language: str, ctx: Context) -> list[Path | str]:
        path = self._path(language, ctx)
        return [path if path is not None and path.exists() else f"hub:{HUB_ID}/{language}/test"]

    def items(self, language: str, ctx: Context) -> list[tuple[str, str, dict[str, Any]]]:
        path = self._path(language, ctx)
        if path is not None and path.exists():
            rows, where = read_jsonl(path), path
        else:
            rows = load_hub(HUB_ID, name=language, split="test", what=f"xcopa {language}", local=path)
            where = f"{HUB_ID}/{language}"
        out = []
        for i, row in enumerate(rows):
            require_columns(where, row, FIELDS, where=f"record {i}")
            meta = {"idx": row["idx"], "question": row["question"], "label": row.get("label"),
                    **({"note": VARIETIES[language]} if language in VARIETIES else {})}
            out.append((str(row["idx"]), xcopa_text(row, language), meta))
        return out
