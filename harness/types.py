"""Public types that flow between the core and plugins.

Everything a plugin registers subclasses one of the abstract classes here; everything
that moves between stages (prompts, generations, scores, statistic results) is a
frozen dataclass. Nothing here imports torch: heavy work happens in ``load()``.

Each registered class has two halves: a cheap *recipe* (``ModelVariant``, ``Scorer``,
``Translator``) that the core may create, fingerprint and pickle freely, and the *loaded*
object its ``load(ctx)`` returns (``LoadedModel``, ``LoadedScorer``, ``LoadedTranslator``),
which holds the weights and does the batches. The plugin host checks at registration that
every method a class overrides can take the arguments the core passes (see each method's
signature); a mismatch is an error of the plugin, named in one line.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The two prompt kinds the harness knows about. Harmful prompts measure
#: harmlessness (HmR); helpful prompts measure helpfulness (HpR).
KINDS: tuple[str, ...] = ("harmful", "helpful")

#: Columns every tidy-table row has, in this order. Extra metadata columns may follow.
TABLE_COLUMNS: tuple[str, ...] = (
    "model",
    "source",
    "kind",
    "language",
    "tier",
    "prompt_id",
    "prompt",
    "response",
    "scorer",
    "score",
)


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Language:
    """A language the harness can evaluate (ISO 639-1 ``code``), registered through
    ``harness_register_languages``. ``joshi_class`` is its resource class (0 to 5, Joshi et al.
    2020) when known; ``tasks`` the benchmarks that cover it. A code can be registered once: the
    built-in plugins register the 50 XTREME-R languages, so a plugin registers only new ones.

    Example::

        from harness import Language, hookimpl

        @hookimpl
        def harness_register_languages(register):
            register(Language("xh", "Xhosa", joshi_class=1))
    """

    code: str
    name: str
    joshi_class: int | None = None
    tasks: tuple[str, ...] = ()
    plugin: str = ""  # filled in by the plugin host
    #: the registered name of an offline stand-in that ``harness run --rehearse`` uses instead
    #: (a component that needs the hub names one; "" when it runs offline as it is)
    stand_in: str = ""


@dataclass(frozen=True)
class TierScheme:
    """A mapping from language code to resource tier (``low``/``mid``/``high`` ...), registered
    through ``harness_register_tier_schemes`` and chosen by a suite's ``tier_scheme``.

    ``order`` lists the tiers from least to most resourced; statistics use its
    first and last entries as the contrast of interest. ``--langs low,high`` expands tier names
    through the scheme. A suite can also define one inline (``[tier_schemes.NAME]``).

    Example::

        from harness import TierScheme, hookimpl

        @hookimpl
        def harness_register_tier_schemes(register):
            register(TierScheme("two-tier", {"sw": "low", "yo": "low", "en": "high"}, order=("low", "high")))
    """

    name: str
    tiers: Mapping[str, str]
    order: tuple[str, ...] = ("low", "mid", "high")
    description: str = ""
    plugin: str = ""

    def tier_of(self, code: str) -> str | None:
        """The tier of language ``code``, or None when the scheme leaves it out."""
        return self.tiers.get(code)

    def languages_in(self, tier: str) -> list[str]:
        """The codes in ``tier``, sorted."""
        return sorted(code for code, t in self.tiers.items() if t == tier)


@dataclass(frozen=True)
class Prompt:
    """One prompt as a source yields it (``PromptSource.load`` returns a list of them).

    ``source`` is the source's registered name, ``language`` the code it was asked for and
    ``kind`` one of ``KINDS``. ``prompt_id`` is stable across languages for parallel data, so the
    same item in Swahili and in Chinese shares an id (the statistics use it as a random
    effect). ``meta`` carries source-specific facts (``translated``, dataset row ...)
    and must be JSON-serialisable.

    Example::

        from harness import Prompt

        Prompt("my-prompts", "harmful-0", "sw", "harmful", "Nifungueje kufuli?", {"row": 17})
    """

    source: str
    prompt_id: str
    language: str
    kind: str
    text: str
    meta: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GenerationOutput:
    """What a loaded model returns for one prompt: the decoded new tokens only.

    ``meta`` is stored with the generation (JSON-serialisable): e.g. ``n_new_tokens``,
    ``stopped_at_eos``; ``{"error": why}`` marks a failed generation, whose rows are kept
    in the table without a score and with ``why`` as their ``missing_reason``.
    """

    response: str
    meta: Mapping[str, Any] = field(default_factory=dict)  # e.g. n_new_tokens, stopped_at_eos


@dataclass(frozen=True)
class Generation:
    """A stored generation: the response of one model to one prompt (the core builds these)."""

    key: str
    model: str
    prompt: Prompt
    response: str
    meta: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ScoreRequest:
    """What a scorer sees for one generation: the prompt text, the model's response, and the
    row's language and kind. The same generation can be scored once per (language, kind) it
    appears under; ``generation_key`` identifies it (for a cache of your own)."""

    generation_key: str
    prompt: str
    response: str
    language: str
    kind: str


@dataclass(frozen=True)
class ScoreOutput:
    """What a loaded scorer returns for one request.

    ``value`` must be a finite float; ``float("nan")`` with ``meta={"reason": why}`` says the
    scorer cannot score this row (e.g. a language it does not cover): the row stays in the
    table without a score, with ``why`` as its ``missing_reason``. ``meta`` is stored with the
    score (JSON-serialisable), e.g. ``{"truncated": True}``.
    """

    value: float
    meta: Mapping[str, Any] = field(default_factory=dict)  # e.g. truncated: true


@dataclass(frozen=True)
class Score:
    """A stored score of one generation by one scorer (the core builds these)."""

    generation_key: str
    scorer: str
    value: float
    meta: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GenerationSettings:
    """How every model generates in a run (``ctx.generation``; a suite's ``[generation]`` table).
    Include ``as_dict()`` in a model's fingerprint: a change must re-generate."""

    max_new_tokens: int = 50
    prompt_format: str = "raw"
    do_sample: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The settings as a plain dict, for fingerprints."""
        return {
            "max_new_tokens": self.max_new_tokens,
            "prompt_format": self.prompt_format,
            "do_sample": self.do_sample,
        }


@dataclass
class StatResult:
    """What a statistic returns.

    ``data`` is printed by ``harness stats --json`` and must be JSON-serialisable.
    ``tables`` become ``tables/<name>.csv`` and tables in the report; ``markdown``
    is the section's prose; ``figures`` are PNG bytes by file name; ``warnings``
    (convergence, singular fits ...) are surfaced in the report and on stderr.
    ``headline`` is the statistic's answer to the run's question in plain sentences
    (markdown); the report opens with every result's headline, before any table, and
    with the figure named by ``headline_figure`` (a key of ``figures``) when set.
    ``name`` must be the statistic's registered name; ``title`` heads its report section.

    Example::

        from harness import StatResult

        StatResult(
            name="my-mean",
            title="Mean score",
            data=[{"model": "m", "mean": 0.5}],
            tables={"my-mean": [{"model": "m", "mean": 0.5}]},
            markdown="The mean score per model.",
        )
    """

    name: str
    title: str
    data: Any = None
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    markdown: str = ""
    figures: dict[str, bytes] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    headline: str = ""
    headline_figure: str | None = None
    #: set by the core, never by a statistic: the one-line error when ``compute`` raised; the
    #: report then shows a banner and a "(failed)" section, and ``--strict-plugins`` exits non-zero
    error: str = ""


# --------------------------------------------------------------------------- context


class Cache(abc.ABC):
    """A small content-addressed key/value cache backed by the store (``ctx.cache``): text values
    under a namespace of your choosing, kept across runs (the core caches translations here)."""

    @abc.abstractmethod
    def get(self, namespace: str, key: str) -> str | None:
        """The value stored under ``key``, or None."""

    @abc.abstractmethod
    def put_many(self, namespace: str, items: Mapping[str, str]) -> None:
        """Store every ``key: value`` of ``items`` (one transaction)."""


@dataclass
class Context:
    """What the core hands a plugin object when it needs to do real work (every ``ctx`` argument).

    ``options`` are this component's options from the suite (``[models.NAME]``,
    ``[sources.NAME]`` ...) after ``--set`` overrides, merged over the object's
    ``default_options``. ``home`` is ``$HARNESS_HOME`` (put checkpoints and downloads under
    it), ``data_dir`` the data folder (``HARNESS_DATA_DIR``) or None, ``log`` prints a progress
    line to stderr, ``seed`` is the run's seed, ``device`` and ``dtype`` where and how to load
    (``cpu``/``cuda``; ``float32``/``bfloat16``/``float16``).
    """

    options: Mapping[str, Any] = field(default_factory=dict)
    generation: GenerationSettings = field(default_factory=GenerationSettings)
    device: str = "cpu"
    #: the run's ``--dtype`` (float32/bfloat16/float16; ``auto`` only on a GPU): see harness.dtypes
    dtype: str = "float32"
    batch_size: int | str = "auto"
    seed: int = 0
    home: Path = Path("~/.cache/harness").expanduser()
    data_dir: Path | None = None
    train_missing: bool = False
    cache: Cache | None = None
    log: Callable[[str], None] = print
    #: name -> Translator, for plugins that translate (translate-test, gap filling)
    translators: Mapping[str, Translator] = field(default_factory=dict)
    #: name -> Language, for plugins that need language metadata
    languages: Mapping[str, Language] = field(default_factory=dict)
    config: Mapping[str, Any] = field(default_factory=dict)
    #: ``--set NAME.num_gpus=...`` (``num_cpus``, ``memory``): placement overrides for one replica
    #: on a distributed executor; kept out of ``options`` so they never change a fingerprint
    resources: Mapping[str, Any] = field(default_factory=dict)
    #: ``--limit``: the run keeps only the first N prompts of each kind a source yields, so a
    #: source may stop there (e.g. translate only those); None: every prompt is used
    limit: int | None = None


class HarnessError(Exception):
    """An error a plugin raises for a problem the user can fix (missing weights, bad option).

    The CLI prints its message as one line and exits with code 2: keep it to one
    sentence that says what was wrong and what to do. Any other exception from a plugin's
    code is a bug of the plugin: the CLI prints one line naming the plugin and the method
    (``HARNESS_DEBUG=1`` shows the traceback).

    Example::

        from harness import HarnessError

        def load(self, ctx):
            if "path" not in ctx.options:
                raise HarnessError("my-model needs a checkpoint: --set my-model.path=DIR")
    """


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return "an integer" if isinstance(value, int) else "a number"
    return {str: "a string", list: "a list", dict: "a table"}.get(type(value), type(value).__name__)


def check_option_types(
    component: str, defaults: Mapping[str, Any], options: Mapping[str, Any], known_keys_only: bool = False
) -> None:
    """Each option must have the type of its default (an int passes for a float; numbers must be finite).

    With ``known_keys_only``, a key without a default is an error with "did you mean": a misspelt
    option silently ignored would give a wrong result.
    """
    import difflib
    import math

    for key, value in options.items():
        if key not in defaults:
            if known_keys_only:
                close = difflib.get_close_matches(key, list(defaults), n=1, cutoff=0.6)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise HarnessError(
                    f"unknown option {component}.{key}{hint}; valid: {', '.join(sorted(defaults)) or 'none'}"
                )
            continue
        default = defaults[key]
        if default is None:
            continue
        if isinstance(default, bool):
            ok = isinstance(value, bool)
        elif isinstance(default, float):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        elif isinstance(default, int):
            ok = isinstance(value, int) and not isinstance(value, bool)
        else:
            ok = isinstance(value, type(default)) or (isinstance(default, (list, tuple)) and isinstance(value, list))
        if not ok:
            raise HarnessError(f"option {component}.{key} must be {_kind_of(default)}, got {value!r}")
        if isinstance(value, float) and not math.isfinite(value):
            raise HarnessError(f"option {component}.{key} must be a finite number, got {value!r}")


# --------------------------------------------------------------------------- plugin objects


#: Suite/``--set`` keys of a model, scorer or translator that say where it runs, not how.
RESOURCE_KEYS: tuple[str, ...] = ("num_cpus", "num_gpus", "memory")


@dataclass(frozen=True)
class Resources:
    """What one replica of a model, scorer or translator needs on a node (distributed executors).

    ``memory`` is in bytes (0: no reservation). The local executor ignores it.
    """

    num_cpus: float = 1.0
    num_gpus: float = 0.0
    memory: int = 0

    def as_dict(self) -> dict[str, float | int]:
        return {"num_cpus": self.num_cpus, "num_gpus": self.num_gpus, "memory": self.memory}


class _Named(abc.ABC):
    """What every registered object has: a ``name`` (unique within its kind, no spaces or commas;
    the suite and ``--models``/``--scorers`` ... use it), a one-line ``description`` for the
    listings, and ``default_options``, the options it takes with their defaults (a suite's
    ``[KIND.NAME]`` table and ``--set NAME.KEY=VALUE`` override them; each value must have its
    default's type). ``plugin`` is filled in by the host. ``stand_in`` (optional) names an offline
    component that ``harness run --rehearse`` uses instead of this one."""

    name: str = ""
    description: str = ""
    default_options: Mapping[str, Any] = {}
    plugin: str = ""  # filled in by the plugin host

    def describe(self) -> dict[str, Any]:
        """Extra keys for ``harness <kind> --json``; override to add facts.

        Called by the listing commands only. Returns a JSON-serialisable dict (default: empty)."""
        return {}

    def resources(self, ctx: Context) -> Resources:
        """What one loaded replica needs: a GPU when the run is on CUDA, else one CPU. Override
        to declare more (memory, several GPUs) or less; ``--set NAME.num_gpus=...`` wins over both.

        Called once per run before any work, for executors that place replicas on other machines."""
        return Resources(num_cpus=1.0, num_gpus=1.0 if str(ctx.device).startswith("cuda") else 0.0)

    def check_options(self, options: Mapping[str, Any]) -> None:
        """Raise HarnessError for an option value this component cannot use; called before any work.

        The default checks each given option against the type of its default in ``default_options``
        (a number where a number is expected, finite; a list where a list is ...). Override to add
        checks, calling ``super().check_options(options)``. Returns None.
        """
        check_option_types(self.name, self.default_options, options)


class LoadedModel(abc.ABC):
    """A model in memory, returned by ``ModelVariant.load``. The runner calls ``generate`` once per
    batch, then ``close`` once; it keeps one model in memory at a time.

    Example::

        from harness import GenerationOutput, LoadedModel

        class Reverse(LoadedModel):
            def generate(self, prompts):
                return [GenerationOutput(p.text[::-1]) for p in prompts]
    """

    @abc.abstractmethod
    def generate(self, prompts: Sequence[Prompt]) -> list[GenerationOutput]:
        """Generate for one batch; results in the order of ``prompts``.

        Called once per batch of ``Prompt`` objects (cut by ``item_lengths``, longest first).
        Returns exactly one ``GenerationOutput`` per prompt. An output must not depend on the
        batch it lands in (greedy decoding, no shared random state): the table must be the same
        at ``--batch-size 1`` and at 64."""

    def auto_batch_size(self, prompts: Sequence[Prompt]) -> int:
        """The batch size to use for ``--batch-size auto``; called once per run with every
        pending prompt. Returns an int >= 1 (default 8)."""
        return 8

    def item_lengths(self, prompts: Sequence[Prompt]) -> list[int]:
        """Each prompt's length in the model's own units, by which batches are cut (longest first).
        Characters by default; a model with a tokenizer should count tokens, since across scripts
        characters say little about tokens (the demo's 7 languages padded 2.4x by characters).

        Called once per run with every pending prompt, before the first batch. Returns one
        int per prompt, in order."""
        return [len(p.text) for p in prompts]

    def close(self) -> None:
        """Free memory; called once after the last batch (also after an error). Returns None."""

    def run_facts(self) -> dict[str, Any]:
        """Facts about this run's work for the manifest (e.g. a server's token usage and what it
        guarantees); never part of a result. Called by the local executor after the last batch,
        before ``close``. Returns a JSON-serialisable dict (default: empty, recorded nowhere)."""
        return {}


class ModelVariant(_Named):
    """A generator recipe: base weights + alignment recipe + how prompts are formatted.

    Registered through ``harness_register_models``. ``family`` groups a base model with its
    aligned variants and ``recipe`` says which is which (``base`` is the family's reference for
    the statistics; ``sft``, ``dpo`` ...). The object is a recipe: creating it must be cheap
    (no weights), it must pickle, and ``load`` makes the ``LoadedModel``.

    Example::

        from harness import GenerationOutput, LoadedModel, ModelVariant, hookimpl
        from harness.fingerprint import digest

        class Reverse(LoadedModel):
            def generate(self, prompts):
                return [GenerationOutput(p.text[::-1]) for p in prompts]

        class ReverseModel(ModelVariant):
            name, family, recipe = "reverse", "reverse", "base"
            description = "Answers with the prompt reversed"

            def fingerprint(self, ctx):
                return digest(self.name, 1, ctx.generation.as_dict())

            def load(self, ctx):
                return Reverse()

        @hookimpl
        def harness_register_models(register):
            register(ReverseModel())
    """

    family: str = ""
    recipe: str = ""

    @abc.abstractmethod
    def fingerprint(self, ctx: Context) -> str:
        """A cheap, stable digest of everything that determines outputs: weights
        (revision or hash), tokenizer, prompt format, generation settings, dtype.
        Two variants that could answer differently must never share a fingerprint.

        Called before any work, also by ``--dry-run`` (so it must not load weights) and on
        every run: generations are stored under it, so an unchanged fingerprint means a
        re-run loads nothing. Returns a string (``harness.fingerprint.digest(...)`` of the
        facts is the usual way)."""

    @abc.abstractmethod
    def load(self, ctx: Context) -> LoadedModel:
        """Load weights (importing torch here). Raise HarnessError for user-fixable problems.

        Called once per run, only when some prompt has no stored generation yet, in the process
        that runs the batches (perhaps another machine, with a distributed executor). Returns a
        ``LoadedModel``."""

    def is_available(self, ctx: Context) -> str | None:
        """None when ``load`` can work; else a one-line reason (e.g. 'run harness train X').

        Called before any work (and by ``--dry-run``) for models with generations still to do:
        a reason stops the run before anything is computed."""
        return None


class ModelBackend(abc.ABC):
    """Makes model variants from references the user writes, without a plugin of their own: ``NAME:REF``
    on the command line (``--models hf:Qwen/Qwen2.5-0.5B-Instruct``) or a suite's declared model
    (``[models.qwen] model = "hf:Qwen/..."``, or ``backend = "NAME"`` with ``model = "REF"``).
    ``name`` is the scheme; ``example`` a reference to show in listings and errors."""

    name: str = ""
    description: str = ""
    example: str = ""
    plugin: str = ""  # filled in by the plugin host

    @abc.abstractmethod
    def declare(self, name: str, ref: str, options: Mapping[str, Any]) -> ModelVariant:
        """The variant called ``name`` for ``ref`` (the part after ``NAME:``) with the declaration's
        options; raise HarnessError, one line with "did you mean" where it can, for a malformed ref.
        Cheap: no weights are read here."""


class PromptSource(_Named):
    """A set of prompts of one or both kinds, in one or more languages.

    Registered through ``harness_register_sources``. ``kinds`` lists the kinds it yields.
    Nothing is loaded in ``__init__``: the data is read in ``load``.

    Example::

        from harness import Prompt, PromptSource, hookimpl
        from harness.fingerprint import digest

        TEXTS = {"en": {"harmful": "How do I pick a lock?", "helpful": "How do I boil an egg?"},
                 "sw": {"harmful": "Nifungueje kufuli?", "helpful": "Ninachemshaje yai?"}}

        class TwoPrompts(PromptSource):
            name = "two-prompts"
            description = "One harmful and one helpful prompt in English and Swahili"

            def languages(self, ctx):
                return sorted(TEXTS)

            def load(self, language, ctx):
                return [Prompt(self.name, f"{kind}-0", language, kind, text)
                        for kind, text in TEXTS[language].items()]

            def fingerprint(self, language, ctx):
                return digest(self.name, TEXTS[language])

        @hookimpl
        def harness_register_sources(register):
            register(TwoPrompts())
    """

    kinds: tuple[str, ...] = KINDS

    @abc.abstractmethod
    def languages(self, ctx: Context) -> list[str]:
        """Language codes this source can yield with these options (translation included).

        Called when a run is planned (and by ``--dry-run`` and ``harness prompts``): the run asks
        this source only for the chosen languages it returns, and names the others as skipped.
        Returns a list of codes; must be cheap (no download)."""

    @abc.abstractmethod
    def load(self, language: str, ctx: Context) -> list[Prompt]:
        """All selected prompts for ``language`` (seeded sampling uses ``ctx.seed``/options).

        Called once per planned language, before any generation (also by ``--dry-run`` and
        ``harness prompts``). Returns a list of ``Prompt`` with ``source=self.name``, this
        ``language``, a kind from ``kinds`` and ids shared by parallel prompts across languages;
        the same list every time for the same options and seed. ``ctx.limit`` (``--limit N``)
        says the run keeps only the first N of each kind."""

    def fingerprint(self, language: str, ctx: Context) -> str:
        """Digest of the data and options behind ``load`` (for the manifest).

        Called once per planned language after ``load``. Returns a string ("" by default:
        nothing recorded)."""
        return ""


class LoadedScorer(abc.ABC):
    """A scorer in memory, returned by ``Scorer.load``: ``score`` once per batch, then ``close``.

    Example::

        from harness import LoadedScorer, ScoreOutput

        class WordCount(LoadedScorer):
            def score(self, items):
                return [ScoreOutput(float(len(r.response.split()))) for r in items]
    """

    @abc.abstractmethod
    def score(self, items: Sequence[ScoreRequest]) -> list[ScoreOutput]:
        """Score one batch; results in the order of ``items``. Must not depend on batch size.

        Called once per batch of ``ScoreRequest`` objects that have no stored score yet.
        Returns exactly one ``ScoreOutput`` per request."""

    def close(self) -> None:
        """Free memory; called once after the last batch (also after an error). Returns None."""

    def run_facts(self) -> dict[str, Any]:
        """Facts for the manifest, as ``LoadedModel.run_facts`` (default: empty)."""
        return {}


class Scorer(_Named):
    """Turns (prompt, response, language) into a number.

    Registered through ``harness_register_scorers``. ``metric`` says what the number is:
    ``reward`` (a reward-model logit, the input of HmR/HpR) or something else (``probability``
    for language fidelity); the tidy table carries it so statistics pick the right rows. Like a
    model variant, the object is a cheap, picklable recipe; ``load`` makes the ``LoadedScorer``.
    One object per scoring mode: a translate-test variant is a scorer of its own.

    Example::

        from harness import LoadedScorer, ScoreOutput, Scorer, hookimpl
        from harness.fingerprint import digest

        class WordCount(LoadedScorer):
            def score(self, items):
                return [ScoreOutput(float(len(r.response.split()))) for r in items]

        class WordCountScorer(Scorer):
            name = "word-count"
            description = "Words in the response"
            metric = "length"

            def fingerprint(self, ctx):
                return digest(self.name, 1)

            def load(self, ctx):
                return WordCount()

        @hookimpl
        def harness_register_scorers(register):
            register(WordCountScorer())
    """

    metric: str = "reward"

    @abc.abstractmethod
    def fingerprint(self, ctx: Context) -> str:
        """Digest of weights, tokenizer, input encoding, truncation ... A change re-scores.

        Called before any work, also by ``--dry-run`` (no weights loaded here): scores are stored
        under it with the generation, language and kind. Returns a string."""

    @abc.abstractmethod
    def load(self, ctx: Context) -> LoadedScorer:
        """Load the scorer (import torch here). Called once per run, only when some row has no
        stored score yet, in the process that runs the batches. Returns a ``LoadedScorer``."""


class Statistic(_Named):
    """Reads the tidy table and returns a ``StatResult``.

    Registered through ``harness_register_stats``; run after the table of ``harness run`` is
    written and by ``harness stats TABLE`` on any tidy table (so it reads nothing else). A
    statistic that raises is kept as a failed section named in the report's banner
    (``--strict-plugins`` then fails the command).

    Example::

        from harness import Statistic, StatResult, hookimpl

        class MeanScore(Statistic):
            name = "mean-score"
            description = "Mean score per model"
            default_options = {"digits": 3}

            def compute(self, rows, options):
                by_model = {}
                for r in rows:
                    if r["score"] is not None:
                        by_model.setdefault(r["model"], []).append(r["score"])
                data = [{"model": m, "mean": round(sum(v) / len(v), options["digits"])}
                        for m, v in sorted(by_model.items())]
                return StatResult(self.name, "Mean score", data=data, tables={"mean-score": data})

        @hookimpl
        def harness_register_stats(register):
            register(MeanScore())
    """

    def check_options(self, options: Mapping[str, Any]) -> None:
        """A statistic that declares its options rejects any other key (a misspelt threshold would be ignored)."""
        check_option_types(self.name, self.default_options, options, known_keys_only=bool(self.default_options))

    @abc.abstractmethod
    def compute(self, rows: list[dict[str, Any]], options: Mapping[str, Any]) -> StatResult:
        """``rows`` are tidy-table rows (see ``TABLE_COLUMNS``).

        Called once per run or ``harness stats``, after the table is complete. ``rows`` are
        dicts with ``TABLE_COLUMNS`` plus ``family, recipe, metric, translated, truncated,
        generation_key, missing_reason``; ``score`` is a float or None (then
        ``missing_reason`` says why). ``options`` are ``default_options`` with the suite's
        ``[stats.NAME]`` and ``--set`` values over them. Returns one ``StatResult`` whose
        ``name`` is this statistic's name."""


class LoadedTranslator(abc.ABC):
    """A translation model in memory, returned by ``Translator.load``; loaded once per process."""

    @abc.abstractmethod
    def translate(self, texts: Sequence[str], source_lang: str, target_lang: str) -> list[str]:
        """Translate ``texts`` from ``source_lang`` to ``target_lang``. Called with the texts not yet
        in the translation cache (one call per batch of a source's or scorer's texts). Returns one
        translation per text, in order; deterministic (the cache keeps the first answer)."""

    def close(self) -> None:
        """Free memory; called when the run ends. Returns None."""


class Translator(_Named):
    """Machine translation between language codes (used to fill gaps and for translate-test).

    Registered through ``harness_register_translators``; sources and scorers name one in their
    options and reach it through ``ctx.translators`` (the core caches every translation in the
    store under the translator's fingerprint).

    Example::

        from harness import LoadedTranslator, Translator, hookimpl
        from harness.fingerprint import digest

        class Tagger(LoadedTranslator):
            def translate(self, texts, source_lang, target_lang):
                return [f"[{target_lang}] {t}" for t in texts]

        class TagTranslator(Translator):
            name = "tagger"
            description = "Prefixes the target language (a stand-in for a real model)"

            def languages(self):
                return ["en", "sw", "yo"]

            def fingerprint(self, ctx):
                return digest(self.name, 1)

            def load(self, ctx):
                return Tagger()

        @hookimpl
        def harness_register_translators(register):
            register(TagTranslator())
    """

    @abc.abstractmethod
    def languages(self) -> list[str]:
        """The codes it translates between. Called when a run is planned and by
        ``harness translators``; returns a list of codes (no model loaded)."""

    @abc.abstractmethod
    def fingerprint(self, ctx: Context) -> str:
        """Digest of the model and settings; translations are cached under it. Called before any
        translation (also by ``--dry-run``). Returns a string."""

    @abc.abstractmethod
    def load(self, ctx: Context) -> LoadedTranslator:
        """Load the model (import torch here). Called on the first cache miss of a run. Returns a
        ``LoadedTranslator``."""


# --------------------------------------------------------------------------- executors


def batches_of(items: Sequence[Any], size: int, length: Callable[[Any], int], key: Callable[[Any], str]):
    """Length-sorted (longest first, ties by key) batches, so padding is minimal and OOM shows early."""
    ordered = sorted(items, key=lambda x: (-length(x), key(x)))
    return [list(ordered[i : i + size]) for i in range(0, len(ordered), size)]


@dataclass
class WorkUnit:
    """One component's pending work, self-contained so an executor can run it in another process.

    ``obj`` is the registered ModelVariant or Scorer (a recipe: options, never loaded weights)
    and ``ctx`` its Context; ``items`` are Prompts (``generate``) or ScoreRequests (``score``).
    Batches are a pure function of the items and the batch size, so every executor cuts the
    same batches and a result cannot depend on where its batch ran.
    """

    kind: str  # "generate" or "score"
    component: str
    obj: Any
    ctx: Context
    items: list[Any]
    batch_size: int | str = "auto"
    resources: Resources = field(default_factory=Resources)

    @property
    def plugin(self) -> str:
        return str(getattr(self.obj, "plugin", "") or "?")

    @property
    def size(self) -> int:
        return len(self.items)

    def open(self) -> Any:
        """Load the model or scorer (in whichever process runs the unit)."""
        return self.obj.load(self.ctx)

    def batches(self, worker: Any) -> list[list[int]]:
        """Index batches, longest items first (ties by key): minimal padding, OOM shows early,
        and a distributed executor hands out the longest work first so the tail is short."""
        if self.batch_size == "auto":
            size = getattr(worker, "auto_batch_size", lambda _: 8)(self.items)
        else:
            size = self.batch_size
        size = max(1, int(size))
        items = self.items
        if self.kind == "generate":
            measure = getattr(worker, "item_lengths", None)
            lengths = list(measure(items)) if callable(measure) else [len(p.text) for p in items]
            if len(lengths) != len(items):
                raise HarnessError(f"{self.component}: item_lengths gave {len(lengths)} lengths "
                                   f"for {len(items)} prompts")
            return batches_of(range(len(items)), size, lambda i: lengths[i], lambda i: items[i].text)
        return batches_of(
            range(len(items)),
            size,
            lambda i: len(items[i].prompt) + len(items[i].response),
            lambda i: items[i].generation_key + items[i].language + items[i].kind,
        )

    def run(self, worker: Any, batch: Sequence[int]) -> list[Any]:
        """Generate or score one batch on a loaded worker; one output per item, in order."""
        items = [self.items[i] for i in batch]
        outputs = list(worker.generate(items) if self.kind == "generate" else worker.score(items))
        if len(outputs) != len(items):
            raise HarnessError(f"{self.component} returned {len(outputs)} results for a batch of {len(items)}")
        return outputs

    def describe_batch(self, batch: Sequence[int], number: int, total: int) -> str:
        """How an error names a batch: its position and its first item."""
        first = self.items[batch[0]] if batch else None
        if isinstance(first, Prompt):
            what = f"first prompt {first.source}/{first.language}/{first.prompt_id}"
        elif first is not None:
            what = f"first generation {first.generation_key[:12]} ({first.language}, {first.kind})"
        else:
            what = "empty"
        return f"batch {number}/{total} ({len(batch)} items, {what})"


class WorkProgress(abc.ABC):
    """The driver's one progress display for a unit, fed by the executor."""

    @abc.abstractmethod
    def start(self) -> None:
        """The first worker has loaded; batches begin (the bar appears only now)."""

    @abc.abstractmethod
    def update(self, n: int, replica: str = "local") -> None:
        """``n`` more items are committed; ``replica`` names the worker that produced them."""


class Executor(abc.ABC):
    """Runs work units: loads each component where it fits and feeds it batches.

    The core registers ``local`` (this process, batch after batch); plugins register others
    through ``harness_register_executors`` (e.g. a cluster). ``sink(items, outputs)`` commits
    one finished batch to the store; only the driver calls it, so the store has one writer.
    ``cli_options`` (name -> help) become ``--EXECUTOR-NAME`` options of ``harness run``.
    Called per run: ``start`` once, ``execute`` once per model or scorer with work, ``close``
    once (also after an error), ``run_facts`` for the manifest.

    Example (what the core's ``local`` executor does)::

        from harness import Executor, hookimpl

        class Sequential(Executor):
            name = "sequential"
            description = "This process, batch after batch"

            def execute(self, unit, sink, progress):
                worker = unit.open()
                try:
                    batches = unit.batches(worker)
                    progress.start()
                    for batch in batches:
                        sink([unit.items[i] for i in batch], unit.run(worker, batch))
                        progress.update(len(batch))
                finally:
                    worker.close()

        @hookimpl
        def harness_register_executors(register):
            register(Sequential())
    """

    name: str = ""
    description: str = ""
    plugin: str = ""  # filled in by the plugin host
    cli_options: Mapping[str, str] = {}

    def start(self, options: Mapping[str, Any], log: Callable[[str], None], modules: Sequence[str]) -> None:
        """Before the first unit (keep it cheap: connect on the first unit, so a cached run starts nothing).

        ``options`` are the ``cli_options`` values; ``modules`` are the import names of every
        loaded plugin's top-level module or package, what another machine needs to unpickle a
        unit (the ``harness`` package itself is not among them).
        """

    @abc.abstractmethod
    def execute(
        self,
        unit: WorkUnit,
        sink: Callable[[list[Any], list[Any]], None],
        progress: WorkProgress,
    ) -> None:
        """Run every batch of ``unit``; return once each is committed through ``sink``."""

    def close(self) -> None:
        """After the last unit, also after an error: free workers, shut down what ``start`` started."""

    def run_facts(self) -> dict[str, Any]:
        """Facts for the manifest and report (address, replicas ...); never part of any result."""
        return {}
