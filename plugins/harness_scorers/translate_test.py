"""Translate-test: translate a non-English (prompt, response) to English, then score it.

The reward model reads English. This scorer lives beside the direct one under its own name
(``deberta-reward@translate-test``) so both scores stay in the tidy table with their mode.
Translation goes through ``harness.translation.get_translator``, so it is cached in the
store and the translation model loads only on a cache miss. English passes through.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from harness.fingerprint import digest
from harness.types import Context, HarnessError, LoadedScorer, ScoreOutput, ScoreRequest

from .resolve import ResolvedModel, resolve_model
from .reward import LoadedRewardModel, RewardModelScorer

TARGET = "en"


class LoadedTranslateTest(LoadedScorer):
    def __init__(self, reward: LoadedRewardModel, translator: Any) -> None:
        self.reward = reward
        self.translator = translator

    def auto_batch_size(self, items: Sequence[ScoreRequest]) -> int:
        return self.reward.auto_batch_size(items)

    def score(self, items: Sequence[ScoreRequest]) -> list[ScoreOutput]:
        translated = list(items)
        by_lang: dict[str, list[int]] = defaultdict(list)
        for i, it in enumerate(items):
            if it.language != TARGET:
                by_lang[it.language].append(i)
        for lang in sorted(by_lang):
            idx = by_lang[lang]
            texts = sorted({t for i in idx for t in (items[i].prompt, items[i].response) if t.strip()})
            done = dict(zip(texts, self.translator.translate(texts, lang, TARGET)))
            for i in idx:
                it = items[i]
                translated[i] = replace(
                    it, prompt=done.get(it.prompt, it.prompt), response=done.get(it.response, it.response)
                )
        scores = self.reward.score(translated)
        return [
            ScoreOutput(s.value, {**s.meta, "translated": it.language != TARGET, "source_language": it.language})
            for s, it in zip(scores, items)
        ]

    def close(self) -> None:
        self.reward.close()
        self.translator.close()


class TranslateTestScorer(RewardModelScorer):
    """A reward model scored on English translations: option ``translator``, else the suite's
    ``translator``, else ``fallback_translator`` (nllb: it covers every XTREME-R language)."""

    fallback_translator = "nllb"

    def __init__(self, name: str = "deberta-reward@translate-test", **defaults: Any) -> None:
        super().__init__(
            name=name,
            description="Reward-model logit after translating non-English prompt and response to English",
            **{"translator": "", **defaults},
        )

    def translator_name(self, ctx: Context) -> str:
        return str(self.options(ctx)["translator"] or (ctx.config or {}).get("translator")
                   or self.fallback_translator)

    def _translator(self, ctx: Context) -> Any:
        name = self.translator_name(ctx)
        if name not in ctx.translators:
            valid = ", ".join(sorted(ctx.translators)) or "none registered"
            raise HarnessError(f"{self.name}: unknown translator {name!r}; valid: {valid}")
        return ctx.translators[name]

    def fingerprint(self, ctx: Context) -> str:
        name = self.translator_name(ctx)
        translator = self._translator(ctx)
        return digest(self.fingerprint_parts(ctx), "translate-test/v1", TARGET, name, translator.fingerprint(ctx))

    def load(self, ctx: Context) -> LoadedTranslateTest:
        from harness.translation import get_translator

        self._translator(ctx)
        cached = get_translator(ctx, self.translator_name(ctx))
        return LoadedTranslateTest(super().load(ctx), cached)

    def describe(self) -> dict[str, Any]:
        default = self.default_options["translator"] or f"the suite's translator, else {self.fallback_translator}"
        return {**super().describe(), "mode": "translate-test", "translator": default}


class TinyTranslateTestScorer(TranslateTestScorer):
    """``tiny-reward@translate-test``: the tiny local reward model behind the tiny translator, offline
    (the stand-in of ``deberta-reward@translate-test`` in ``harness run --rehearse``)."""

    fallback_translator = "tiny-nllb"

    def __init__(self) -> None:
        super().__init__(name="tiny-reward@translate-test")
        self.description = "tiny-reward on English translations by the suite's translator, else tiny-nllb (offline)"
        self.default_options = {k: v for k, v in self.default_options.items() if k not in ("model", "revision")}

    def resolve(self, ctx: Context) -> ResolvedModel:
        from .tiny_reward import ensure_built

        return resolve_model(str(ensure_built(ctx.home, ctx.log)))

    def pin(self, ctx: Context) -> ResolvedModel:
        from .tiny_reward import pinned

        return pinned(ctx.home)
