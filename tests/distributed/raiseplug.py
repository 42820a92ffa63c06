"""A scorer that fails on Swahili: how a plugin error on a Ray worker reaches the driver."""

from __future__ import annotations

from harness import LoadedScorer, ScoreOutput, Scorer, hookimpl


class _Brittle(LoadedScorer):
    def score(self, items):
        if any(r.language == "sw" for r in items):
            raise ValueError("cannot score Swahili")
        return [ScoreOutput(float(len(r.response))) for r in items]


class BrittleScorer(Scorer):
    name = "brittle-reward"

    def fingerprint(self, ctx):
        return "brittle-1"

    def load(self, ctx):
        return _Brittle()


@hookimpl
def harness_register_scorers(register):
    register(BrittleScorer())
