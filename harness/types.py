"""Public types that flow between the core and plugins.

Everything a plugin registers subclasses one of the abstract classes here; everything
that moves between stages (prompts, generations, scores, statistic results) is a
frozen dataclass. Nothing here imports torch: heavy work happens in ``load()``.
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
    """A language the harness can evaluate (ISO 639-1 ``code``)."""

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
    """A mapping from language code to resource tier (``low``/``mid``/``high`` ...).

    ``order`` lists the tiers from least to most resourced; statistics use its
    first and last entries as the contrast of interest.
    """

    name: str
    tiers: Mapping[str, str]
    order: tuple[str, ...] = ("low", "mid", "high")
    description: str = ""
    plugin: str = ""

    def tier_of(self, code: str) -> str | None:
        return self.tiers.get(code)

    def languages_in(self, tier: str) -> list[str]:
        return sorted(code for code, t in self.tiers.items() if t == tier)


@dataclass(frozen=True)
class Prompt:
    """One prompt as a source yields it.

    ``prompt_id`` is stable across languages for parallel data, so the same item
    in Swahili and in Chinese shares an id (the statistics use it as a random
    effect). ``meta`` carries source-specific facts (``translated``, dataset row ...)
    and must be JSON-serialisable.
    """

    source: str
    prompt_id: str
    language: str
    kind: str
    text: str
    meta: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GenerationOutput:
    """What a loaded model returns for one prompt: the decoded new tokens only."""

    response: str
    meta: Mapping[str, Any] = field(default_factory=dict)  # e.g. n_new_tokens, stopped_at_eos


@dataclass(frozen=True)
class Generation:
    """A stored generation: the response of one model to one prompt."""

    key: str
    model: str
    prompt: Prompt
    response: str
    meta: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ScoreRequest:
    """What a scorer sees for one generation."""

    generation_key: str
    prompt: str
    response: str
    language: str
    kind: str


@dataclass(frozen=True)
class ScoreOutput:
    """What a loaded scorer returns for one request."""

    value: float
    meta: Mapping[str, Any] = field(default_factory=dict)  # e.g. truncated: true


@dataclass(frozen=True)
class Score:
    """A stored score of one generation by one scorer."""

    generation_key: str
    scorer: str
    value: float
    meta: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GenerationSettings:
    """How every model generates in a run. Part of each model's fingerprint."""

    max_new_tokens: int = 50
    prompt_format: str = "raw"
    do_sample: bool = False

    def as_dict(self) -> dict[str, Any]:
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


# --------------------------------------------------------------------------- context


class Cache(abc.ABC):
    """A small content-addressed key/value cache backed by the store (translations ...)."""

    @abc.abstractmethod
    def get(self, namespace: str, key: str) -> str | None: ...

    @abc.abstractmethod
    def put_many(self, namespace: str, items: Mapping[str, str]) -> None: ...


@dataclass
class Context:
    """What the core hands a plugin object when it needs to do real work.

    ``options`` are this component's options from the suite (``[models.NAME]``,
    ``[sources.NAME]`` ...) after ``--set`` overrides, merged over the object's
    ``default_options``.
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
    sentence that says what was wrong and what to do.
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
    name: str = ""
    description: str = ""
    default_options: Mapping[str, Any] = {}
    plugin: str = ""  # filled in by the plugin host

    def describe(self) -> dict[str, Any]:
        """Extra keys for ``harness <kind> --json``; override to add facts."""
        return {}

    def resources(self, ctx: Context) -> Resources:
        """What one loaded replica needs: a GPU when the run is on CUDA, else one CPU. Override
        to declare more (memory, several GPUs) or less; ``--set NAME.num_gpus=...`` wins over both."""
        return Resources(num_cpus=1.0, num_gpus=1.0 if str(ctx.device).startswith("cuda") else 0.0)

    def check_options(self, options: Mapping[str, Any]) -> None:
        """Raise HarnessError for an option value this component cannot use; called before any work.

        The default checks each given option against the type of its default in ``default_options``
        (a number where a number is expected, finite; a list where a list is ...). Override to add
        checks, calling ``super().check_options(options)``.
        """
        check_option_types(self.name, self.default_options, options)


class LoadedModel(abc.ABC):
    """A model in memory. The runner calls ``generate`` once per batch."""

    @abc.abstractmethod
    def generate(self, prompts: Sequence[Prompt]) -> list[GenerationOutput]:
        """Generate for one batch; results in the order of ``prompts``."""

    def auto_batch_size(self, prompts: Sequence[Prompt]) -> int:
        """The batch size to use for ``--batch-size auto``."""
        return 8

    def item_lengths(self, prompts: Sequence[Prompt]) -> list[int]:
        """Each prompt's length in the model's own units, by which batches are cut (longest first).
        Characters by default; a model with a tokenizer should count tokens, since across scripts
        characters say little about tokens (the demo's 7 languages padded 2.4x by characters)."""
        return [len(p.text) for p in prompts]

    def close(self) -> None:
        """Free memory; the runner keeps one model in memory at a time."""


class ModelVariant(_Named):
    """A generator recipe: base weights + alignment recipe + how prompts are formatted."""

    family: str = ""
    recipe: str = ""

    @abc.abstractmethod
    def fingerprint(self, ctx: Context) -> str:
        """A cheap, stable digest of everything that determines outputs: weights
        (revision or hash), tokenizer, prompt format, generation settings, dtype.
        Two variants that could answer differently must never share a fingerprint."""

    @abc.abstractmethod
    def load(self, ctx: Context) -> LoadedModel:
        """Load weights (importing torch here). Raise HarnessError for user-fixable problems."""

    def is_available(self, ctx: Context) -> str | None:
        """None when ``load`` can work; else a one-line reason (e.g. 'run harness train X')."""
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
    """A set of prompts of one or both kinds, in one or more languages."""

    kinds: tuple[str, ...] = KINDS

    @abc.abstractmethod
    def languages(self, ctx: Context) -> list[str]:
        """Language codes this source can yield with these options (translation included)."""

    @abc.abstractmethod
    def load(self, language: str, ctx: Context) -> list[Prompt]:
        """All selected prompts for ``language`` (seeded sampling uses ``ctx.seed``/options)."""

    def fingerprint(self, language: str, ctx: Context) -> str:
        """Digest of the data and options behind ``load`` (for the manifest)."""
        return ""


class LoadedScorer(abc.ABC):
    @abc.abstractmethod
    def score(self, items: Sequence[ScoreRequest]) -> list[ScoreOutput]:
        """Score one batch; results in the order of ``items``. Must not depend on batch size."""

    def close(self) -> None:
        pass


class Scorer(_Named):
    """Turns (prompt, response, language) into a number.

    ``metric`` says what the number is: ``reward`` (a reward-model logit, the
    input of HmR/HpR) or something else (``probability`` for language fidelity);
    the tidy table carries it so statistics pick the right rows.
    """

    metric: str = "reward"

    @abc.abstractmethod
    def fingerprint(self, ctx: Context) -> str:
        """Digest of weights, tokenizer, input encoding, truncation ... A change re-scores."""

    @abc.abstractmethod
    def load(self, ctx: Context) -> LoadedScorer: ...


class Statistic(_Named):
    """Reads the tidy table and returns a ``StatResult``."""

    def check_options(self, options: Mapping[str, Any]) -> None:
        """A statistic that declares its options rejects any other key (a misspelt threshold would be ignored)."""
        check_option_types(self.name, self.default_options, options, known_keys_only=bool(self.default_options))

    @abc.abstractmethod
    def compute(self, rows: list[dict[str, Any]], options: Mapping[str, Any]) -> StatResult:
        """``rows`` are tidy-table rows (see ``TABLE_COLUMNS``)."""


class LoadedTranslator(abc.ABC):
    @abc.abstractmethod
    def translate(self, texts: Sequence[str], source_lang: str, target_lang: str) -> list[str]: ...

    def close(self) -> None:
        pass


class Translator(_Named):
    """Machine translation between language codes (used to fill gaps and for translate-test)."""

    @abc.abstractmethod
    def languages(self) -> list[str]: ...

    @abc.abstractmethod
    def fingerprint(self, ctx: Context) -> str: ...

    @abc.abstractmethod
    def load(self, ctx: Context) -> LoadedTranslator: ...


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
