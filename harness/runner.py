"""The runner: generate what is missing, score what is missing, then build the tidy table.

Order of work keeps memory and load time down: each model is loaded once and
generates all of its pending prompts (every source and language) in length-sorted
batches; then each scorer is loaded once and scores every pending generation. One
model is in memory at a time. Every batch is committed to the store as it finishes,
so an interrupted run resumes where it stopped. Execution goes through an
``Executor`` so a distributed one can replace the local one without touching this.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .accounting import Accounting, record_throughput
from .context import make_context
from .executors import BarProgress, LocalExecutor, resources_of
from .plan import Plan, first_per_kind
from .plugin_errors import plugin_frame
from .plugins import PluginHost
from .run_options import RunOptions, run_options
from .store import Store, generation_key, score_key
from .translation import planned_translations, release_translators
from .types import Context, Executor, HarnessError, Prompt, ScoreRequest, WorkUnit, batches_of

__all__ = ["Executor", "LocalExecutor", "RunStats", "Runner", "WorkUnit", "batches_of"]


@dataclass
class RunStats:
    """Counts of distinct work: a text generated once for three languages counts once."""

    generated: int = 0
    scored: int = 0
    cached_generations: int = 0
    cached_scores: int = 0
    loaded_models: list[str] = field(default_factory=list)
    loaded_scorers: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # component -> seconds of batches after loading


def generation_failure(meta: dict[str, Any]) -> str | None:
    """A model marks a prompt it could not answer with ``GenerationOutput(meta={"error": why})``."""
    error = meta.get("error")
    return str(error) if error else None


class Runner:
    """Executes a plan against a store; knows nothing about concrete plugins.

    Every planned row is a (model, prompt, scorer) triple, where a prompt is one
    (source, language, kind, prompt_id). Generation is keyed by (model, text), so
    identical texts share one generation; scoring is keyed by (generation, scorer,
    language, kind), so every (prompt, language, kind) gets its own score request.
    """

    def __init__(
        self,
        host: PluginHost,
        plan: Plan,
        store: Store,
        options: RunOptions | None = None,
        *,
        executor: Executor | None = None,
        progress: bool = True,
        **settings: Any,
    ) -> None:
        """``options``: the run's settings (or ``RunOptions.resolve``'s keywords, for a script that builds a
        runner by hand)."""
        self.host, self.plan, self.store = host, plan, store
        self.options = run_options(options, settings)
        self.limit, self.log = self.options.limit, self.options.log
        self.executor = executor or LocalExecutor()
        self.show_progress = progress
        self.stats = RunStats()
        self._prompts: dict[tuple[str, str], list[Prompt]] | None = None
        self._all: list[Prompt] | None = None
        self._model_fps: dict[str, str] = {}
        self._scorer_fps: dict[str, str] = {}
        self._gkeys: dict[str, list[str]] = {}
        self._skeys: dict[tuple[str, str], list[str]] = {}
        self.data_fingerprints: dict[str, str] = {}
        #: (source, language) -> texts a translator still has to translate (counted by ``plan_only``)
        self.translations_todo: dict[tuple[str, str], int] = {}
        self.accounting: Accounting | None = None
        #: ``--dry-run``: a component whose fingerprint fails (weights not here) is named, not fatal
        self.plan_only = False
        self.unavailable: dict[str, str] = {}
        self._checked = False

    def ctx(self, section: str, name: str) -> Context:
        return make_context(self.host, self.plan.suite, section, name, self.options, cache=self.store)

    # ------------------------------------------------------------ inputs

    def prompts(self) -> dict[tuple[str, str], list[Prompt]]:
        """Prompts per (source, language), loaded once; ``--limit`` keeps the first N per kind."""
        if self._prompts is None:
            out: dict[tuple[str, str], list[Prompt]] = {}
            for source in self.plan.sources:
                ctx = self.ctx("sources", source)
                obj = self.host.sources[source]
                for lang in self.plan.langs_by_source.get(source, []):
                    before = planned_translations()
                    prompts = list(obj.load(lang, ctx))
                    self.translations_todo[(source, lang)] = planned_translations() - before
                    prompts = first_per_kind(prompts, self.limit)
                    out[(source, lang)] = prompts
                    self.data_fingerprints[f"{source}/{lang}"] = obj.fingerprint(lang, ctx)
            self._prompts = out
        return self._prompts

    def all_prompts(self) -> list[Prompt]:
        """Every planned prompt in table order: sources, then languages, then the source's order."""
        if self._all is None:
            self._all = [p for ps in self.prompts().values() for p in ps]
        return self._all

    def _fingerprint(self, section: str, name: str, cache: dict[str, str]) -> str:
        if name not in cache:
            try:
                cache[name] = self.host.registries[section][name].fingerprint(self.ctx(section, name))
            except HarnessError as exc:
                if not self.plan_only:
                    raise
                # a plan can still be shown: nothing of this component counts as cached
                self.unavailable[name] = str(exc)
                cache[name] = f"unavailable:{name}"
        return cache[name]

    def model_fp(self, model: str) -> str:
        return self._fingerprint("models", model, self._model_fps)

    def scorer_fp(self, scorer: str) -> str:
        return self._fingerprint("scorers", scorer, self._scorer_fps)

    def planned_rows(self) -> int:
        """model x prompt x scorer, counted from the plan (the table must have exactly these rows)."""
        return len(self.plan.models) * len(self.plan.scorers) * sum(len(ps) for ps in self.prompts().values())

    # ------------------------------------------------------------ keys (computed once)

    def gkeys(self, model: str) -> list[str]:
        """Generation keys of ``model``, aligned with ``all_prompts()``."""
        if model not in self._gkeys:
            fp = self.model_fp(model)
            self._gkeys[model] = [generation_key(fp, p.text) for p in self.all_prompts()]
        return self._gkeys[model]

    def skeys(self, model: str, scorer: str) -> list[str]:
        """Score keys of (model, scorer), aligned with ``all_prompts()``: one per (prompt, language, kind)."""
        if (model, scorer) not in self._skeys:
            fp = self.scorer_fp(scorer)
            self._skeys[(model, scorer)] = [
                score_key(g, fp, p.language, p.kind) for g, p in zip(self.gkeys(model), self.all_prompts())
            ]
        return self._skeys[(model, scorer)]

    def _all_gkeys(self) -> list[str]:
        return list(dict.fromkeys(k for m in self.plan.models for k in self.gkeys(m)))

    def _all_skeys(self) -> list[str]:
        return list(dict.fromkeys(k for m in self.plan.models for s in self.plan.scorers for k in self.skeys(m, s)))

    # ------------------------------------------------------------ status

    def pending_generations(self, model: str, existing: set[str] | None = None) -> tuple[list[Prompt], int]:
        """(distinct prompts still to generate, distinct texts in the plan) for ``model``."""
        unique: dict[str, Prompt] = {}
        for key, p in zip(self.gkeys(model), self.all_prompts()):
            unique.setdefault(key, p)
        done = existing if existing is not None else self.store.existing_generations(list(unique))
        return [p for k, p in unique.items() if k not in done], len(unique)

    def _score_requests(self, gens: dict[str, tuple[str, dict[str, Any]]]) -> dict[str, dict[str, ScoreRequest]]:
        """scorer -> {score key: request}, one per distinct (generation, language, kind) with a stored,
        successful generation."""
        prompts = self.all_prompts()
        out: dict[str, dict[str, ScoreRequest]] = {}
        for scorer in self.plan.scorers:
            reqs: dict[str, ScoreRequest] = {}
            for model in self.plan.models:
                for gkey, skey, p in zip(self.gkeys(model), self.skeys(model, scorer), prompts):
                    gen = gens.get(gkey)
                    if gen is None or generation_failure(gen[1]) or skey in reqs:
                        continue
                    reqs[skey] = ScoreRequest(gkey, p.text, gen[0], p.language, p.kind)
            out[scorer] = reqs
        return out

    def work(self) -> dict[str, Any]:
        """Distinct generations and scores the plan needs, and how many are in the store (two reads)."""
        have_gen = self.store.existing_generations(self._all_gkeys())
        have_score = self.store.existing_scores(self._all_skeys())
        out: dict[str, Any] = {"models": {}, "scorers": {}}
        prompts = self.all_prompts()
        for model in self.plan.models:
            pending, total = self.pending_generations(model, have_gen)
            out["models"][model] = {
                "needed": total,
                "cached": total - len(pending),
                "pending_chars": sum(len(p.text) for p in pending),
            }
        for scorer in self.plan.scorers:
            seen: dict[str, int] = {}
            for model in self.plan.models:
                for skey, p in zip(self.skeys(model, scorer), prompts):
                    seen.setdefault(skey, len(p.text))
            todo = [k for k in seen if k not in have_score]
            out["scorers"][scorer] = {
                "needed": len(seen),
                "cached": len(seen) - len(todo),
                "pending_chars": sum(seen[k] for k in todo),
            }
        return out

    # ------------------------------------------------------------ work

    def check_available(self) -> None:
        """Fail before any work if a model with pending prompts cannot be loaded, or a placement is malformed."""
        for section, names in (("models", self.plan.models), ("scorers", self.plan.scorers)):
            for name in names:
                resources_of(self.host.registries[section][name], self.ctx(section, name))
        problems = []
        have = self.store.existing_generations(self._all_gkeys())
        for model in self.plan.models:
            if self.pending_generations(model, have)[0]:
                reason = self.host.models[model].is_available(self.ctx("models", model))
                if reason:
                    problems.append(f"{model}: {reason}")
        if problems:
            raise HarnessError("; ".join(problems))
        self._checked = True

    def generate(self) -> None:
        have = self.store.existing_generations(self._all_gkeys())  # one read for every model
        for model in self.plan.models:
            pending, total = self.pending_generations(model, have)
            self.stats.cached_generations += total - len(pending)
            if not pending:
                continue
            fp = self.model_fp(model)

            def sink(batch, outputs, fp=fp, model=model):
                self.store.put_generations(
                    (generation_key(fp, p.text), model, fp, p.text, o.response, o.meta) for p, o in zip(batch, outputs)
                )
                self.stats.generated += len(batch)

            self._execute("models", model, pending, sink)

    def score(self) -> None:
        gens = self.store.get_generations(self._all_gkeys())  # one read for every model and scorer
        requests = self._score_requests(gens)
        done = self.store.existing_scores([k for reqs in requests.values() for k in reqs])
        for scorer in self.plan.scorers:
            pending = [req for key, req in requests[scorer].items() if key not in done]
            self.stats.cached_scores += len(requests[scorer]) - len(pending)
            if not pending:
                continue
            fp = self.scorer_fp(scorer)

            def sink(batch, outputs, fp=fp, scorer=scorer):
                self.store.put_scores(
                    (score_key(r.generation_key, fp, r.language, r.kind), r.generation_key, scorer, fp, o.value, o.meta)
                    for r, o in zip(batch, outputs)
                )
                self.stats.scored += len(batch)

            self._execute("scorers", scorer, pending, sink)

    def _execute(self, section: str, name: str, items: list[Any], sink: Callable) -> None:
        """Hand ``name``'s pending ``items`` to the executor as one work unit; ``sink`` commits each batch."""
        kind = "generate" if section == "models" else "score"
        obj = self.host.registries[section][name]
        ctx = self.ctx(section, name)
        unit = WorkUnit(kind, name, obj, ctx, items, self.options.batch_size, resources_of(obj, ctx))
        loaded = self.stats.loaded_models if section == "models" else self.stats.loaded_scorers
        self.log(f"loading {section[:-1]} {name}")
        progress = BarProgress(len(items), f"{kind} {name}", self.show_progress, self.log, lambda: loaded.append(name))
        started: list[float] = []

        def timed_sink(batch, results):
            sink(batch, results)
            if not started:  # the first batch's time includes loading and warm-up; count from its end
                started.extend((time.perf_counter(), len(batch)))

        try:
            self.executor.execute(unit, timed_sink, progress)
        except (HarnessError, KeyboardInterrupt):
            raise
        except Exception as exc:  # a plugin's bug: one line naming it; finished batches are in the store
            if os.environ.get("HARNESS_DEBUG"):
                raise
            where = f"{section[:-1]} {name!r} (plugin {obj.plugin!r})"
            found = plugin_frame(self.host, exc.__traceback__)  # the method that raised, and where
            method = f"{found[1]} raised " if found else ""
            at = f" (at {found[2]})" if found else ""
            raise HarnessError(
                f"{where} failed: {method}{type(exc).__name__}: {' '.join(str(exc).split())[:300]}{at}; finished "
                "batches are saved; fix or disable the plugin (HARNESS_DEBUG=1 shows the traceback)"
            ) from exc
        finally:
            progress.close()
        if started and len(items) > started[1]:
            record_throughput(section, name, ctx.device, len(items) - int(started[1]), time.perf_counter() - started[0])

    def run(self) -> list[dict[str, Any]]:
        if not self._checked:
            self.check_available()
        try:
            self.generate()
            self.score()
        finally:
            release_translators()
        return self.table()

    # ------------------------------------------------------------ output

    def table(self) -> list[dict[str, Any]]:
        """The tidy table: exactly the planned rows (model, scorer, prompt), in a deterministic order.

        A row without a value keeps ``score`` None and says why in ``missing_reason``; rows
        missing from the store with no reason are counted as unexplained in ``self.accounting``.
        The store is read once for generations and once for scores.
        """
        prompts = self.all_prompts()
        gens = self.store.get_generations(self._all_gkeys())
        scores = self.store.get_scores(self._all_skeys())
        acc = Accounting(planned=self.planned_rows())
        rows: list[dict[str, Any]] = []
        for model in self.plan.models:
            variant = self.host.models[model]
            gkeys = self.gkeys(model)
            for scorer in self.plan.scorers:
                metric = getattr(self.host.scorers[scorer], "metric", "reward")
                for p, gkey, skey in zip(prompts, gkeys, self.skeys(model, scorer)):
                    gen = gens.get(gkey)
                    got = scores.get(skey)
                    value, smeta = got if got is not None else (math.nan, {})
                    reason, explained = None, True
                    if gen is None:
                        reason, explained = "no generation in the store", False
                    elif generation_failure(gen[1]):
                        reason = f"{model}: generation failed ({generation_failure(gen[1])})"
                    elif got is None:
                        reason, explained = "no score in the store", False
                    elif value is None or value != value:  # NaN: the scorer could not score this row
                        value = math.nan
                        reason = f"{scorer}: {smeta.get('reason') or 'no value'}"
                    acc.add(reason, explained, (model, p.source, p.language, scorer))
                    rows.append(
                        {
                            "model": model,
                            "source": p.source,
                            "kind": p.kind,
                            "language": p.language,
                            "tier": self.plan.tier_of(p.language),
                            "prompt_id": p.prompt_id,
                            "prompt": p.text,
                            "response": gen[0] if gen is not None else None,
                            "scorer": scorer,
                            "score": value,
                            "family": variant.family,
                            "recipe": variant.recipe,
                            "metric": metric,
                            "translated": bool(p.meta.get("translated", False)),
                            "truncated": bool(smeta.get("truncated", False)),
                            "generation_key": gkey,
                            "missing_reason": reason,
                        }
                    )
        acc.rows = len(rows)
        self.accounting = acc
        return rows

    def fingerprints(self) -> dict[str, Any]:
        return {
            "models": {m: self.model_fp(m) for m in self.plan.models},
            "scorers": {s: self.scorer_fp(s) for s in self.plan.scorers},
            "data": dict(sorted(self.data_fingerprints.items())),
        }
