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

Option ``backend``: ``glotlid`` (GlotLID v3, fastText, ~2,100 labels, Wolof included; see
``glotlid.py``), ``py3langid``, or ``auto`` (the default): GlotLID where fasttext is installed
and the model file is here (``model_file`` or the hub cache), else py3langid. The resolved
backend is part of the fingerprint, so scores of the two never mix.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from importlib import metadata
from typing import Any

from harness.choices import unknown
from harness.fingerprint import digest, file_digest
from harness.types import Context, LoadedScorer, Resources, ScoreOutput, Scorer, ScoreRequest

from .glotlid import (
    DEMO_LABELS,
    HUB_FILE,
    HUB_REPO,
    LANGUAGE_LABELS,
    FastTextIdentifier,
    build_tiny_glotlid,
    covered,
    fasttext_installed,
    fetch_model_file,
    local_model_file,
    model_digest,
    tiny_recipe,
)

BACKENDS = ("auto", "glotlid", "py3langid")

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


class LoadedGlotlid(LoadedScorer):
    """Scores with a fastText identifier in GlotLID's label format (GlotLID itself or the tiny stand-in)."""

    def __init__(self, identifier: FastTextIdentifier) -> None:
        self.identifier = identifier

    def score_one(self, item: ScoreRequest) -> ScoreOutput:
        lang = normalise_code(item.language)
        labels = self.identifier.known.get(lang)
        if not labels:
            codes = LANGUAGE_LABELS.get(lang, ())
            wanted = "/".join(codes[:3]) + ("/..." if len(codes) > 3 else "")
            why = f"none of its {len(self.identifier.labels)} labels is {wanted}" if codes else "no ISO 639-3 mapping"
            return ScoreOutput(math.nan, {"reason": f"language {item.language!r} not covered by "
                                                    f"{self.identifier.name} ({why})"})
        text = item.response.strip()
        if not text:
            return ScoreOutput(0.0, {"reason": "empty response"})
        ranked = self.identifier.probabilities(text)
        wanted = set(labels)
        prob = sum(p for label, p in ranked if label in wanted)
        return ScoreOutput(round(min(1.0, max(0.0, prob)), 6), {"detected": ranked[0][0].removeprefix("__label__")})

    def score(self, items: Sequence[ScoreRequest]) -> list[ScoreOutput]:
        return [self.score_one(it) for it in items]


class LangFidelityScorer(Scorer):
    name = "lang-fidelity"
    description = ("Probability that the response is in the prompt's language (GlotLID where installed, "
                   "else py3langid)")
    metric = "probability"
    default_options: dict[str, Any] = {"backend": "auto", "model_file": "", "repo": HUB_REPO,
                                       "filename": HUB_FILE, "revision": "main"}

    @property
    def stand_in(self) -> str:  # type: ignore[override]
        """--rehearse: the tiny local fastText model where fasttext is installed (GlotLID is a hub file)."""
        return "tiny-glotlid" if fasttext_installed() else ""

    def options(self, ctx: Context | None) -> dict[str, Any]:
        return {**self.default_options, **dict(getattr(ctx, "options", None) or {})}

    def check_options(self, options: Any) -> None:
        super().check_options(options)
        backend = dict(options or {}).get("backend", "auto")
        if backend not in BACKENDS:
            raise unknown(f"{self.name}.backend", str(backend), BACKENDS)

    def backend(self, ctx: Context | None) -> str:
        """``glotlid`` or ``py3langid``: ``auto`` is GlotLID when fasttext and the model file are both here."""
        o = self.options(ctx)
        chosen = str(o["backend"])
        if chosen == "auto":
            return "glotlid" if fasttext_installed() and local_model_file(o) is not None else "py3langid"
        return chosen

    def resources(self, ctx: Context) -> Resources:
        """py3langid runs on a CPU: a replica never holds a GPU, even on a CUDA run."""
        return Resources(num_cpus=1.0, num_gpus=0.0)

    def fingerprint(self, ctx: Context | None) -> str:
        if self.backend(ctx) == "glotlid":
            path = fetch_model_file(self.options(ctx))
            return digest("lang-fidelity/glotlid/v1", metadata.version("fasttext"), model_digest(path),
                          sorted(LANGUAGE_LABELS.items()))
        return digest(
            "lang-fidelity/v1",
            metadata.version("py3langid"),
            file_digest(_model_file()),
            sorted(VARIETIES.items()),
            sorted(ALIASES.items()),
        )

    def load(self, ctx: Context | None) -> LoadedScorer:
        if self.backend(ctx) == "glotlid":
            return LoadedGlotlid(FastTextIdentifier(fetch_model_file(self.options(ctx)), "GlotLID"))
        return LoadedLangFidelity()

    def describe(self) -> dict[str, Any]:
        labels = langid_labels()
        return {
            "metric": self.metric,
            "backend_here": self.backend(None),  # what `auto` picks on this machine
            "identifier": f"py3langid {metadata.version('py3langid')}",
            "xtreme_r_covered": [c for c in XTREME_R if c in labels],
            "xtreme_r_not_covered": [c for c in XTREME_R if c not in labels],
            "glotlid": {
                "identifier": f"GlotLID v3 ({HUB_REPO}/{HUB_FILE}), fastText",
                "fasttext_installed": fasttext_installed(),
                "labels_counted": {c: list(v) for c, v in LANGUAGE_LABELS.items() if c in XTREME_R},
                "xtreme_r_covered": [c for c in XTREME_R if c in LANGUAGE_LABELS],
                "xtreme_r_not_covered": [c for c in XTREME_R if c not in LANGUAGE_LABELS],
                "note": "codes mapped to GlotLID's ISO 639-3 labels; the model's own labels are checked when it loads",
            },
        }


class TinyGlotlidScorer(LangFidelityScorer):
    """``tiny-glotlid``: lang-fidelity through a fastText model trained here on the demo prompts (offline
    stand-in of the GlotLID backend; it knows 7 languages, the others are missing with the reason)."""

    name = "tiny-glotlid"
    description = "lang-fidelity with a tiny fastText identifier trained on the demo prompts (offline stand-in)"
    default_options: dict[str, Any] = {}

    @property
    def stand_in(self) -> str:  # type: ignore[override]
        return ""

    def check_options(self, options: Any) -> None:
        Scorer.check_options(self, options)

    def backend(self, ctx: Context | None) -> str:
        return "tiny-glotlid"

    def fingerprint(self, ctx: Context) -> str:
        """The recipe, not the built file: a plan never trains the model."""
        return digest("tiny-glotlid/v1", metadata.version("fasttext") if fasttext_installed() else "",
                      tiny_recipe(), sorted(LANGUAGE_LABELS.items()))

    def load(self, ctx: Context) -> LoadedScorer:
        return LoadedGlotlid(FastTextIdentifier(build_tiny_glotlid(ctx.home), self.name))

    def describe(self) -> dict[str, Any]:
        known = covered([f"__label__{label}" for label in DEMO_LABELS.values()])
        return {"metric": self.metric, "identifier": "fastText trained on the demo prompts",
                "xtreme_r_covered": [c for c in XTREME_R if c in known],
                "xtreme_r_not_covered": [c for c in XTREME_R if c not in known]}
