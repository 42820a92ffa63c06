"""``lang-fidelity``: the probability that a response is written in its prompt's language.

Low-resource prompts answered in English, or in nothing recognisable, is one of the effects
the harness exists to show. py3langid ships its model (a naive-Bayes identifier over 142
labels), so this needs no network. Its scores are normalised to a probability distribution
over all labels (``norm_probs=True``); the score is the probability mass of the prompt's
language, summing labels that name the same language (script variants such as ``sr``/``uz``)
and close varieties listed in ``VARIETIES`` (Cantonese and Wu for Chinese, Moroccan and
Egyptian Arabic for Arabic).

Of the 50 XTREME-R languages py3langid covers 49; Wolof (``wo``) is not covered and scores
NaN with ``meta.reason``. An empty (or whitespace-only) response scores 0.0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from importlib import metadata
from typing import Any

from harness.fingerprint import digest, file_digest
from harness.types import Context, LoadedScorer, Resources, ScoreOutput, Scorer, ScoreRequest

#: The 50 XTREME-R languages (ISO 639-1), from ../shared/data/xtreme-r/languages.tsv.
XTREME_R = (
    "af ar az bg bn de el en es et eu fa fi fr gu he hi ht hu id it ja jv ka kk ko lt ml mr ms my nl pa pl "
    "pt qu ro ru sw ta te th tl tr uk ur vi wo yo zh"
).split()

#: Labels counted as the same language as the key.
VARIETIES = {"zh": ("zh", "yue", "wuu"), "ar": ("ar", "ary", "arz")}
#: Codes a request may use for a language py3langid labels differently.
ALIASES = {"iw": "he", "in": "id", "jw": "jv", "fil": "tl", "nb": "no"}


def _model_file() -> Any:
    from py3langid.langid import MODEL_DIR, MODEL_FILE

    return MODEL_DIR / MODEL_FILE


def langid_labels() -> set[str]:
    """The language labels the shipped py3langid model knows."""
    return set(_identifier().nb_classes)


_IDENTIFIER: Any = None


def _identifier() -> Any:
    global _IDENTIFIER
    if _IDENTIFIER is None:
        from py3langid.langid import LanguageIdentifier

        _IDENTIFIER = LanguageIdentifier.from_model_file(_model_file(), norm_probs=True)
    return _IDENTIFIER


def normalise_code(code: str) -> str:
    base = code.lower().replace("_", "-").split("-")[0]
    return ALIASES.get(base, base)


class LoadedLangFidelity(LoadedScorer):
    def __init__(self) -> None:
        self.identifier = _identifier()
        self.labels = set(self.identifier.nb_classes)

    def score_one(self, item: ScoreRequest) -> ScoreOutput:
        lang = normalise_code(item.language)
        if lang not in self.labels:
            return ScoreOutput(math.nan, {"reason": f"language {item.language!r} not covered by py3langid"})
        text = item.response.strip()
        if not text:
            return ScoreOutput(0.0, {"reason": "empty response"})
        ranked = self.identifier.rank(text)
        wanted = set(VARIETIES.get(lang, (lang,)))
        prob = sum(float(p) for label, p in ranked if label in wanted)
        top = ranked[0][0]
        return ScoreOutput(round(min(1.0, max(0.0, prob)), 6), {"detected": str(top)})

    def score(self, items: Sequence[ScoreRequest]) -> list[ScoreOutput]:
        return [self.score_one(it) for it in items]


class LangFidelityScorer(Scorer):
    name = "lang-fidelity"
    description = "Probability (py3langid, offline) that the response is in the prompt's language"
    metric = "probability"
    default_options: dict[str, Any] = {}

    def resources(self, ctx: Context) -> Resources:
        """py3langid runs on a CPU: a replica never holds a GPU, even on a CUDA run."""
        return Resources(num_cpus=1.0, num_gpus=0.0)

    def fingerprint(self, ctx: Context) -> str:
        return digest(
            "lang-fidelity/v1",
            metadata.version("py3langid"),
            file_digest(_model_file()),
            sorted(VARIETIES.items()),
            sorted(ALIASES.items()),
        )

    def load(self, ctx: Context) -> LoadedLangFidelity:
        return LoadedLangFidelity()

    def describe(self) -> dict[str, Any]:
        labels = langid_labels()
        return {
            "metric": self.metric,
            "identifier": f"py3langid {metadata.version('py3langid')}",
            "xtreme_r_covered": [c for c in XTREME_R if c in labels],
            "xtreme_r_not_covered": [c for c in XTREME_R if c not in labels],
        }
