"""The guards and the judge the plugin registers, each real one with its offline stand-in for --rehearse."""

from __future__ import annotations

from typing import Any

from harness.types import Context, Scorer

from .guard import ClassifierGuardScorer, GenerativeGuardScorer
from .guard_fields import FieldsGuardScorer
from .judge import JudgeScorer
from .resolve import ResolvedModel, resolve_model


class _StandIn:
    """Mixin: the model is the locally built stand-in NAME (tiny_guards.py), not a hub id."""

    build_name = ""
    fallback_translator = "tiny-nllb"

    def resolve(self, ctx: Context) -> ResolvedModel:
        from .tiny_guards import ensure_built

        return resolve_model(str(ensure_built(ctx.home, self.build_name, ctx.log)))

    def pin(self, ctx: Context) -> ResolvedModel:
        """The build key (recipe, template, rubrics, data, library versions) fixes the weights, so a
        fingerprint needs no build: a dry run on a cold HARNESS_HOME builds nothing."""
        from .tiny_guards import build_dir, build_key

        key = build_key(self.build_name)
        return ResolvedModel(str(build_dir(ctx.home, self.build_name)), None, key, key, dtype="float32")


class TinyGenerativeGuard(_StandIn, GenerativeGuardScorer):
    pass


class TinyClassifierGuard(_StandIn, ClassifierGuardScorer):
    pass


class TinyFieldsGuard(_StandIn, FieldsGuardScorer):
    pass


class TinyJudge(_StandIn, JudgeScorer):
    pass


def _stand_in(cls: type, build: str, name: str, *args: Any, **kwargs: Any) -> Scorer:
    obj = cls(name, *args, **kwargs)
    obj.build_name = build
    obj.default_options["model"] = f"built locally under HARNESS_HOME/scorers/{build}"
    return obj


def _real(obj: Scorer, stand_in: str) -> Scorer:
    obj.stand_in = stand_in
    return obj


def guard_scorers() -> list[Scorer]:
    offline = " (offline stand-in: random weights, real prompt format)"
    return [
        _real(
            GenerativeGuardScorer("llama-guard-3-1b", "meta-llama/Llama-Guard-3-1B", "llama-guard-3-1b"),
            "tiny-llama-guard",
        ),
        _real(
            GenerativeGuardScorer("llama-guard-3-8b", "meta-llama/Llama-Guard-3-8B", "llama-guard-3"),
            "tiny-llama-guard",
        ),
        _real(
            GenerativeGuardScorer(
                "llama-guard-3-8b@translate-test", "meta-llama/Llama-Guard-3-8B", "llama-guard-3", translator="suite"
            ),
            "tiny-llama-guard@translate-test",
        ),
        _real(GenerativeGuardScorer("qwen3guard-gen", "Qwen/Qwen3Guard-Gen-4B", "qwen3guard"), "tiny-qwen3guard"),
        _real(
            ClassifierGuardScorer("duoguard", "DuoGuard/DuoGuard-0.5B", tokenizer="Qwen/Qwen2.5-0.5B"), "tiny-duoguard"
        ),
        _real(FieldsGuardScorer("wildguard", "allenai/wildguard", "wildguard"), "tiny-wildguard"),
        _real(FieldsGuardScorer("polyguard", "ToxicityPrompts/PolyGuard-Qwen", "polyguard"), "tiny-polyguard"),
        _real(JudgeScorer("llm-judge", "Qwen/Qwen2.5-7B-Instruct"), "tiny-judge"),
        _stand_in(
            TinyGenerativeGuard,
            "tiny-llama-guard",
            "tiny-llama-guard",
            "tiny",
            "llama-guard-3",
            description="Llama Guard 3 format, P(unsafe) from the first answer token" + offline,
        ),
        _stand_in(
            TinyGenerativeGuard,
            "tiny-llama-guard",
            "tiny-llama-guard@translate-test",
            "tiny",
            "llama-guard-3",
            translator="suite",
            description="tiny-llama-guard on English translations by the suite's translator, else tiny-nllb" + offline,
        ),
        _stand_in(
            TinyGenerativeGuard,
            "tiny-qwen3guard",
            "tiny-qwen3guard",
            "tiny",
            "qwen3guard",
            description="Qwen3Guard-Gen format, P(unsafe or controversial) after 'Safety:'" + offline,
        ),
        _stand_in(
            TinyClassifierGuard,
            "tiny-duoguard",
            "tiny-duoguard",
            "tiny",
            description="DuoGuard-style 12-category head, max sigmoid" + offline,
        ),
        _stand_in(
            TinyFieldsGuard,
            "tiny-wildguard",
            "tiny-wildguard",
            "tiny",
            "wildguard",
            description="WildGuard format, P(harmful response = yes) after the fed field names" + offline,
        ),
        _stand_in(
            TinyFieldsGuard,
            "tiny-polyguard",
            "tiny-polyguard",
            "tiny",
            "polyguard",
            description="PolyGuard format (ChatML + its system prompt), P(harmful response = yes)" + offline,
        ),
        _stand_in(
            TinyJudge,
            "tiny-judge",
            "tiny-judge",
            "tiny",
            description="ChatML judge with the MultiJail and helpfulness rubrics" + offline,
        ),
    ]
