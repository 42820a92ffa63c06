"""Entry point: registers the scorers. Cheap to import: torch & co. load inside ``load()``."""

from __future__ import annotations

from harness import hookimpl
from harness.hookspecs import Register

from .lang_fidelity import LangFidelityScorer
from .reward import RewardModelScorer
from .tiny_reward import TinyRewardScorer
from .translate_test import TranslateTestScorer


@hookimpl
def harness_register_scorers(register: Register) -> None:
    register(RewardModelScorer("deberta-reward"))
    register(TranslateTestScorer("deberta-reward@translate-test"))
    register(LangFidelityScorer())
    register(TinyRewardScorer())
