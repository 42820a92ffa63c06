"""An in-process test plugin: deterministic fake models, a source, a scorer and a statistic.

Loaded in tests through HARNESS_PLUGINS=fakeplug (with tests/core on sys.path) so the core
can be exercised without any ML stack. ``FAKE_LOAD_LOG`` records every load() call;
``FAKE_SLOW`` sleeps per batch so a test can kill a run midway.
"""

from __future__ import annotations

import os
import time
from statistics import mean

from harness import (
    GenerationOutput,
    HarnessError,
    Language,
    LoadedModel,
    LoadedScorer,
    ModelVariant,
    Prompt,
    PromptSource,
    ScoreOutput,
    Scorer,
    Statistic,
    StatResult,
    TierScheme,
    hookimpl,
)
from harness.fingerprint import digest

LANGS = {"en": ("English", 5), "de": ("German", 5), "sw": ("Swahili", 2), "yo": ("Yoruba", 2), "th": ("Thai", 3)}
#: Registered languages that no fake source covers and no tier contains (to test "skipped").
UNCOVERED = {"qu": ("Quechua", 1)}


def _log(event: str) -> None:
    path = os.environ.get("FAKE_LOAD_LOG")
    if path:
        with open(path, "a") as fh:
            fh.write(event + "\n")


class _Loaded(LoadedModel):
    def __init__(self, name: str, salt: str) -> None:
        self.name, self.salt = name, salt

    def generate(self, prompts):
        delay = float(os.environ.get("FAKE_SLOW", "0"))
        if delay:
            time.sleep(delay)
        return [
            GenerationOutput(f"{self.salt}:{' '.join(reversed(p.text.split()))}", {"n": len(p.text)}) for p in prompts
        ]

    def auto_batch_size(self, prompts):
        return 3


class FakeModel(ModelVariant):
    family = "fake"

    def __init__(self, name: str, recipe: str, salt: str) -> None:
        self.name, self.recipe, self.salt = name, recipe, salt
        self.description = f"fake {recipe} model"

    def fingerprint(self, ctx):
        return digest(self.name, self.salt, ctx.generation.as_dict(), ctx.options.get("salt2", ""))

    def is_available(self, ctx):
        if ctx.options.get("missing") and not ctx.train_missing:
            return f"no checkpoint; run `harness train {self.name}`"
        return None

    def load(self, ctx):
        _log(f"load model {self.name}")
        return _Loaded(self.name, self.salt + str(ctx.options.get("salt2", "")))


class FakeSource(PromptSource):
    name = "fake-prompts"
    description = "Five parallel prompts of each kind in five languages"
    default_options = {"n": 5, "shared": False}

    def languages(self, ctx):
        return sorted(LANGS)

    def load(self, language, ctx):
        n = int(ctx.options.get("n", 5))
        out = []
        for kind in ("harmful", "helpful"):
            for i in range(n):
                text = f"[{language}] {kind} question number {i} " + "word " * (i * 3 % 7)
                if ctx.options.get("shared"):  # the same texts in every language and kind
                    text = f"shared question {i}"
                out.append(Prompt(self.name, f"{kind}-{i}", language, kind, text.strip()))
        return out

    def fingerprint(self, language, ctx):
        return digest(self.name, language, dict(ctx.options))


class _LoadedScorer(LoadedScorer):
    def __init__(self, nan_lang: str = "") -> None:
        self.nan_lang = nan_lang

    def score(self, items):
        return [
            ScoreOutput(float("nan"), {"reason": f"language {r.language!r} not covered"})
            if r.language == self.nan_lang
            else ScoreOutput(round(len(r.response) / 10.0 - 4.0, 4), {"truncated": len(r.response) > 60})
            for r in items
        ]


class FakeScorer(Scorer):
    name = "fake-reward"
    description = "Length of the response, shifted: a deterministic stand-in for a reward model"

    default_options = {"nan_lang": ""}

    def fingerprint(self, ctx):
        return digest(self.name, 1, ctx.options.get("nan_lang", ""))

    def load(self, ctx):
        _log("load scorer fake-reward")
        return _LoadedScorer(str(ctx.options.get("nan_lang", "")))


class MeanScore(Statistic):
    name = "mean-score"
    description = "Mean score per model"

    def compute(self, rows, options):
        if not rows:
            raise HarnessError("no rows")
        by = {}
        for r in rows:
            by.setdefault(r["model"], []).append(float(r["score"]))
        data = [{"model": m, "mean": round(mean(v), 6), "n": len(v)} for m, v in sorted(by.items())]
        return StatResult(self.name, "Mean score", data=data, tables={"means": data}, markdown="Mean per model.")


@hookimpl
def harness_register_models(register):
    register(FakeModel("fake-base", "base", "b"))
    register(FakeModel("fake-dpo", "dpo", "d"))


@hookimpl
def harness_register_sources(register):
    register(FakeSource())


@hookimpl
def harness_register_scorers(register):
    register(FakeScorer())


@hookimpl
def harness_register_stats(register):
    register(MeanScore())


@hookimpl
def harness_register_languages(register):
    for code, (name, cls) in {**LANGS, **UNCOVERED}.items():
        register(Language(code, name, cls))


@hookimpl
def harness_register_tier_schemes(register):
    tiers = {c: ("high" if cls >= 4 else "mid" if cls == 3 else "low") for c, (_, cls) in LANGS.items()}
    register(TierScheme("joshi", tiers))
