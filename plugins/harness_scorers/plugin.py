"""Entry point: registers the scorers. Cheap to import: torch & co. load inside ``load()``."""

from __future__ import annotations

from harness import hookimpl
from harness.hookspecs import Register

from .guard_registry import guard_scorers
from .lang_fidelity import LangFidelityScorer, TinyGlotlidScorer
from .reward import RewardModelScorer
from .tiny_reward import TinyRewardScorer
from .translate_test import TinyTranslateTestScorer, TranslateTestScorer


@hookimpl
def harness_register_scorers(register: Register) -> None:
    # --rehearse swaps the hub reward model (direct and translate-test) for the tiny local one
    direct = RewardModelScorer("deberta-reward")
    direct.stand_in = "tiny-reward"
    translate_test = TranslateTestScorer("deberta-reward@translate-test")
    translate_test.stand_in = "tiny-reward@translate-test"
    register(direct)
    register(translate_test)
    register(LangFidelityScorer())
    register(TinyGlotlidScorer())
    register(TinyRewardScorer())
    register(TinyTranslateTestScorer())
    for scorer in guard_scorers():  # guards and the LLM judge, each with its offline stand-in
        register(scorer)
