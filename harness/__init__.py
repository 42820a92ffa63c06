"""An evaluation harness for the harmlessness/helpfulness trade-off of aligned LLMs across languages.

The core never imports torch and never names a concrete plugin; see ARCHITECTURE.md.

**What a plugin may import.** Public, kept stable for plugins: every name in ``harness``
itself (``harness.__all__``: the types of ``harness.types`` and ``hookimpl``), the modules
``harness.types`` and ``harness.hookspecs`` (the hooks), ``harness.fingerprint`` (``digest``,
``file_digest``, ``tree_digest``, ``canonical_json`` for fingerprints) and ``harness.testing``
(for a plugin's own tests). Everything else (``harness.plugins``, ``harness.runner``,
``harness.store``, ``harness.cli`` ...) and every name starting with ``_`` is private: it may
change in any release, and a plugin that needs it should ask for a public way instead.
"""

from .hookspecs import hookimpl
from .types import (
    KINDS,
    TABLE_COLUMNS,
    Cache,
    Context,
    Executor,
    Generation,
    GenerationOutput,
    GenerationSettings,
    HarnessError,
    Language,
    LoadedModel,
    LoadedScorer,
    LoadedTranslator,
    ModelBackend,
    ModelVariant,
    Prompt,
    PromptSource,
    Resources,
    Score,
    ScoreOutput,
    Scorer,
    ScoreRequest,
    Statistic,
    StatResult,
    TierScheme,
    Translator,
    WorkProgress,
    WorkUnit,
)

__version__ = "0.1.0"

__all__ = [
    "KINDS",
    "TABLE_COLUMNS",
    "Cache",
    "Context",
    "Executor",
    "Generation",
    "GenerationOutput",
    "GenerationSettings",
    "HarnessError",
    "Language",
    "LoadedModel",
    "LoadedScorer",
    "LoadedTranslator",
    "ModelBackend",
    "ModelVariant",
    "Prompt",
    "PromptSource",
    "Resources",
    "Score",
    "ScoreOutput",
    "ScoreRequest",
    "Scorer",
    "StatResult",
    "Statistic",
    "TierScheme",
    "Translator",
    "WorkProgress",
    "WorkUnit",
    "hookimpl",
    "__version__",
]
