"""How good is a machine-translated language? Translate a sample there and back, chrF against the original.

A source that fills a language by translation measures it on the first ``round_trip`` prompts
it translated: back to the pivot through the same cached translator (so a re-run translates
nothing), then sacrebleu's corpus chrF (character 6-grams, beta 2, its defaults) of the
back-translations against the originals. Low chrF flags languages whose machine-translated
prompts are weak; it measures both directions at once, so it is a screen, not a verdict.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from harness.translation import planning


def chrf(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """sacrebleu's corpus chrF (its defaults: the CLI's ``-m chrf`` score), to 2 decimals (the CLI's ``-w 2``)."""
    from sacrebleu.metrics import CHRF

    return round(float(CHRF().corpus_score(list(hypotheses), [list(references)]).score), 2)


def round_trip(back: Callable[[Sequence[str]], list[str]], originals: Sequence[str], translated: Sequence[str],
               n: int, info: dict[str, Any]) -> dict[str, Any] | None:
    """``info`` plus ``n`` (the sample size) and ``chrf``, or ``chrf: None`` and the ``reason``.

    ``back(texts)`` translates texts of the language back to the pivot. None when ``n`` <= 0.
    """
    k = min(int(n), len(originals))
    if k <= 0:
        return None
    out = {**info, "n": k}
    returned = back(list(translated[:k]))  # in a dry run this only counts what is left to translate
    if planning():
        return {**out, "chrf": None, "reason": "not measured in a dry run"}
    try:
        return {**out, "chrf": chrf(returned, originals[:k])}
    except ImportError:
        return {**out, "chrf": None, "reason": "sacrebleu is not installed (pip install sacrebleu)"}
