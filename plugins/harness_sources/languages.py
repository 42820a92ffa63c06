"""The 50 XTREME-R languages and the resource-tier schemes built on them.

The facts are kept as Python data so the plugin needs no data file: ISO 639-1 code,
English name, Joshi et al. (2020) resource class 0-5, and the XTREME-R tasks that
cover each language (``XTREME_R_TASK2LANGS`` in the XTREME-R evaluation code).
"""

from __future__ import annotations

from harness.types import Language, TierScheme

#: (code, English name, Joshi class, comma-separated XTREME-R tasks)
XTREME_R: tuple[tuple[str, str, int, str], ...] = (
    ("af", "Afrikaans", 3, "panx,udpos,tatoeba"),
    ("ar", "Arabic", 5, "xnli,panx,udpos,tatoeba,mewslix,xquad,mlqa,tydiqa"),
    ("az", "Azerbaijani", 1, "panx,tatoeba"),
    ("bg", "Bulgarian", 3, "xnli,panx,udpos,tatoeba"),
    ("bn", "Bengali", 3, "panx,tatoeba,tydiqa"),
    ("de", "German", 5, "xnli,panx,udpos,tatoeba,mewslix,xquad,mlqa"),
    ("el", "Greek", 3, "xnli,panx,udpos,tatoeba,xquad"),
    ("en", "English", 5, "xnli,panx,udpos,mewslix,xquad,mlqa,tydiqa"),
    ("es", "Spanish", 5, "xnli,panx,udpos,tatoeba,mewslix,xquad,mlqa"),
    ("et", "Estonian", 3, "panx,udpos,tatoeba,xcopa"),
    ("eu", "Basque", 4, "panx,udpos,tatoeba"),
    ("fa", "Persian", 4, "panx,udpos,tatoeba,mewslix"),
    ("fi", "Finnish", 4, "panx,udpos,tatoeba,tydiqa"),
    ("fr", "French", 5, "xnli,panx,udpos,tatoeba"),
    ("gu", "Gujarati", 1, "panx"),
    ("he", "Hebrew", 3, "panx,udpos,tatoeba"),
    ("hi", "Hindi", 4, "xnli,panx,udpos,tatoeba,xquad,mlqa"),
    ("ht", "Haitian Creole", 2, "xcopa"),
    ("hu", "Hungarian", 4, "panx,udpos,tatoeba"),
    ("id", "Indonesian", 3, "panx,udpos,tatoeba,xcopa,tydiqa"),
    ("it", "Italian", 4, "panx,udpos,tatoeba,xcopa"),
    ("ja", "Japanese", 5, "panx,udpos,tatoeba,mewslix"),
    ("jv", "Javanese", 1, "panx,tatoeba"),
    ("ka", "Georgian", 3, "panx,tatoeba"),
    ("kk", "Kazakh", 3, "panx,udpos,tatoeba"),
    ("ko", "Korean", 4, "panx,udpos,tatoeba,tydiqa"),
    ("lt", "Lithuanian", 3, "panx,udpos,tatoeba"),
    ("ml", "Malayalam", 1, "panx,tatoeba"),
    ("mr", "Marathi", 2, "panx,udpos,tatoeba"),
    ("ms", "Malay", 3, "panx"),
    ("my", "Burmese", 1, "panx"),
    ("nl", "Dutch", 4, "panx,udpos,tatoeba"),
    ("pa", "Punjabi", 2, "panx"),
    ("pl", "Polish", 4, "panx,udpos,tatoeba,mewslix"),
    ("pt", "Portuguese", 4, "panx,udpos,tatoeba"),
    ("qu", "Quechua", 1, "panx,xcopa"),
    ("ro", "Romanian", 3, "panx,udpos,tatoeba,mewslix,xquad"),
    ("ru", "Russian", 4, "xnli,panx,udpos,tatoeba,xquad,tydiqa"),
    ("sw", "Swahili", 2, "xnli,panx,tatoeba,xcopa,tydiqa"),
    ("ta", "Tamil", 3, "panx,udpos,tatoeba,xcopa,mewslix"),
    ("te", "Telugu", 1, "panx,udpos,tatoeba,tydiqa"),
    ("th", "Thai", 3, "xnli,panx,udpos,tatoeba,xcopa,xquad"),
    ("tl", "Tagalog", 3, "panx,udpos,tatoeba"),
    ("tr", "Turkish", 4, "xnli,panx,udpos,tatoeba,xcopa,mewslix,xquad"),
    ("uk", "Ukrainian", 3, "panx,udpos,tatoeba,mewslix"),
    ("ur", "Urdu", 3, "xnli,panx,udpos,tatoeba"),
    ("vi", "Vietnamese", 4, "xnli,panx,udpos,tatoeba,xcopa,xquad,mlqa"),
    ("wo", "Wolof", 2, "udpos"),
    ("yo", "Yoruba", 2, "panx,udpos"),
    ("zh", "Chinese", 5, "xnli,panx,udpos,tatoeba,xcopa,xquad,mlqa"),
)

#: MultiJail's own three tiers (Deng et al., ICLR 2024).
MULTIJAIL_TIERS: dict[str, str] = {
    "zh": "high", "it": "high", "vi": "high",
    "ar": "medium", "ko": "medium", "th": "medium",
    "bn": "low", "sw": "low", "jv": "low",
}


def languages() -> list[Language]:
    """Every XTREME-R language as a harness Language."""
    return [Language(code=c, name=n, joshi_class=j, tasks=tuple(t.split(","))) for c, n, j, t in XTREME_R]


def joshi_tier(joshi_class: int) -> str:
    """Joshi classes 4-5 are ``high``, 3 is ``mid``, 0-2 are ``low``."""
    if joshi_class >= 4:
        return "high"
    return "mid" if joshi_class == 3 else "low"


def tier_schemes() -> list[TierScheme]:
    """The ``joshi`` scheme (the default) and MultiJail's ``multijail`` scheme."""
    joshi = TierScheme(
        name="joshi",
        tiers={c: joshi_tier(j) for c, _, j, _ in XTREME_R},
        order=("low", "mid", "high"),
        description="Joshi et al. (2020) classes: high = 4-5, mid = 3, low = 0-2",
    )
    multijail = TierScheme(
        name="multijail",
        tiers=dict(MULTIJAIL_TIERS),
        order=("low", "medium", "high"),
        description="MultiJail tiers (Deng et al. 2024): high zh,it,vi; medium ar,ko,th; low bn,sw,jv",
    )
    return [joshi, multijail]
