"""An evaluation harness for the harmlessness/helpfulness trade-off of aligned LLMs across languages.

The core never imports torch and never names a concrete plugin; see ARCHITECTURE.md.
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
