"""A hostile test plugin: a model and a scorer that misbehave as ``HOSTILE`` says (read at call time).

``HOSTILE`` (comma-separated): ``load`` (load() raises), ``generate-late`` (generate() raises after
its first batch), ``score-inf`` / ``score-nan`` / ``score-string`` (scores that are not finite numbers),
``score-short`` (one result too few), ``register`` (the stats hook raises), ``describe`` (describe() raises).
"""

from __future__ import annotations

import os

from fakeplug import FakeModel, FakeScorer, _LoadedScorer

from harness import GenerationOutput, LoadedModel, ScoreOutput, hookimpl


def _on(flag: str) -> bool:
    return flag in os.environ.get("HOSTILE", "").split(",")


class _Model(LoadedModel):
    def __init__(self) -> None:
        self.calls = 0

    def generate(self, prompts):
        self.calls += 1
        if _on("generate-late") and self.calls > 1:
            raise RuntimeError("CUDA error: an illegal memory access was encountered")
        return [GenerationOutput(f"h:{p.text[::-1]}", {}) for p in prompts]

    def auto_batch_size(self, prompts):
        return 4


class HostileModel(FakeModel):
    def load(self, ctx):
        if _on("load"):
            raise RuntimeError("weights file is corrupt\nsecond line of the message")
        return _Model()

    def describe(self):
        if _on("describe"):
            raise ValueError("describe exploded")
        return {}


class _Scorer(_LoadedScorer):
    def score(self, items):
        out = super().score(items)
        if _on("score-inf"):
            out = [ScoreOutput(float("inf") if i % 2 else o.value, o.meta) for i, o in enumerate(out)]
        if _on("score-nan"):
            out = [ScoreOutput(float("nan"), {"reason": "no reward for empty text"}) for _ in out]
        if _on("score-string"):
            out = [ScoreOutput("high", {}) for _ in out]  # type: ignore[arg-type]
        if _on("score-short"):
            out = out[:-1]
        return out


class HostileScorer(FakeScorer):
    name = "hostile-scorer"

    def load(self, ctx):
        return _Scorer()


@hookimpl
def harness_register_models(register):
    register(HostileModel("hostile-model", "base", "h"))


@hookimpl
def harness_register_scorers(register):
    register(HostileScorer())


@hookimpl
def harness_register_stats(register):
    if _on("register"):
        raise RuntimeError("stats registry exploded")
