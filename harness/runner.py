"""The runner: generate what is missing, score what is missing, then build the tidy table.

Order of work keeps memory and load time down: each model is loaded once and
generates all of its pending prompts (every source and language) in length-sorted
batches; then each scorer is loaded once and scores every pending generation. One
model is in memory at a time. Every batch is committed to the store as it finishes,
so an interrupted run resumes where it stopped. Execution goes through an
``Executor`` so a distributed one can replace the local one without touching this.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .context import make_context
from .executors import BarProgress, LocalExecutor, resources_of
from .plan import Plan
from .plugins import PluginHost
from .store import Store, generation_key, score_key
from .types import Context, Executor, HarnessError, Prompt, ScoreRequest, WorkUnit, batches_of

__all__ = ["Executor", "LocalExecutor", "RunStats", "Runner", "WorkUnit", "batches_of"]


@dataclass
class RunStats:
    generated: int = 0
    scored: int = 0
    cached_generations: int = 0
    cached_scores: int = 0
    loaded_models: list[str] = field(default_factory=list)
    loaded_scorers: list[str] = field(default_factory=list)


class Runner:
    """Executes a plan against a store; knows nothing about concrete plugins."""

    def __init__(
        self,
        host: PluginHost,
        plan: Plan,
        store: Store,
        *,
        device: str = "auto",
        batch_size: int | str = "auto",
        train_missing: bool = False,
        limit: int | None = None,
        executor: Executor | None = None,
        progress: bool = True,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.host, self.plan, self.store = host, plan, store
        self.device, self.batch_size, self.train_missing = device, batch_size, train_missing
        self.limit = limit
        self.executor = executor or LocalExecutor()
        self.show_progress = progress
        self.log = log or (lambda m: print(m, file=sys.stderr, flush=True))
        self.stats = RunStats()
        self._prompts: dict[tuple[str, str], list[Prompt]] | None = None
        self._model_fps: dict[str, str] = {}
        self._scorer_fps: dict[str, str] = {}
        self.data_fingerprints: dict[str, str] = {}
        self._checked = False

    def ctx(self, section: str, name: str) -> Context:
        return make_context(
            self.host,
            self.plan.suite,
            section,
            name,
            cache=self.store,
            device=self.device,
            batch_size=self.batch_size,
            train_missing=self.train_missing,
            log=self.log,
        )

    # ------------------------------------------------------------ inputs

    def prompts(self) -> dict[tuple[str, str], list[Prompt]]:
        """Prompts per (source, language), loaded once; ``--limit`` keeps the first N per kind."""
        if self._prompts is None:
            out: dict[tuple[str, str], list[Prompt]] = {}
            for source in self.plan.sources:
                ctx = self.ctx("sources", source)
                obj = self.host.sources[source]
                for lang in self.plan.langs_by_source.get(source, []):
                    prompts = list(obj.load(lang, ctx))
                    if self.limit is not None:
                        kept: list[Prompt] = []
                        per_kind: dict[str, int] = {}
                        for p in prompts:
                            if per_kind.get(p.kind, 0) < self.limit:
                                kept.append(p)
                                per_kind[p.kind] = per_kind.get(p.kind, 0) + 1
                        prompts = kept
                    out[(source, lang)] = prompts
                    self.data_fingerprints[f"{source}/{lang}"] = obj.fingerprint(lang, ctx)
            self._prompts = out
        return self._prompts

    def all_prompts(self) -> list[Prompt]:
        return [p for ps in self.prompts().values() for p in ps]

    def model_fp(self, model: str) -> str:
        if model not in self._model_fps:
            self._model_fps[model] = self.host.models[model].fingerprint(self.ctx("models", model))
        return self._model_fps[model]

    def scorer_fp(self, scorer: str) -> str:
        if scorer not in self._scorer_fps:
            self._scorer_fps[scorer] = self.host.scorers[scorer].fingerprint(self.ctx("scorers", scorer))
        return self._scorer_fps[scorer]

    # ------------------------------------------------------------ status

    def pending_generations(self, model: str) -> list[Prompt]:
        fp = self.model_fp(model)
        unique: dict[str, Prompt] = {}
        for p in self.all_prompts():
            unique.setdefault(generation_key(fp, p.text), p)
        done = self.store.existing_generations(list(unique))
        return [p for k, p in unique.items() if k not in done]

    def _score_requests(self, scorer: str) -> dict[str, tuple[ScoreRequest, str]]:
        """score key -> (request, generation key) for every generation of the plan (those stored)."""
        fp = self.scorer_fp(scorer)
        out: dict[str, tuple[ScoreRequest, str]] = {}
        for model in self.plan.models:
            mfp = self.model_fp(model)
            keys = {generation_key(mfp, p.text): p for p in self.all_prompts()}
            stored = self.store.get_generations(list(keys))
            for gkey, p in keys.items():
                if gkey not in stored:
                    continue
                skey = score_key(gkey, fp, p.language, p.kind)
                if skey not in out:
                    req = ScoreRequest(gkey, p.text, stored[gkey][0], p.language, p.kind)
                    out[skey] = (req, gkey)
        return out

    def status(self) -> list[dict[str, Any]]:
        """Per cell: how many rows are needed and how many are already in the store."""
        rows = []
        for model in self.plan.models:
            mfp = self.model_fp(model)
            for (source, lang), prompts in self.prompts().items():
                gkeys = [generation_key(mfp, p.text) for p in prompts]
                have_gen = self.store.existing_generations(gkeys)
                for scorer in self.plan.scorers:
                    sfp = self.scorer_fp(scorer)
                    skeys = [score_key(g, sfp, p.language, p.kind) for g, p in zip(gkeys, prompts)]
                    have = self.store.existing_scores(skeys)
                    rows.append(
                        {
                            "model": model,
                            "source": source,
                            "language": lang,
                            "tier": self.plan.tier_of(lang),
                            "scorer": scorer,
                            "prompts": len(prompts),
                            "generated": len(have_gen),
                            "scored": len(have),
                            "state": "cached" if len(have) == len(prompts) else "to do",
                        }
                    )
        return rows

    # ------------------------------------------------------------ work

    def check_available(self) -> None:
        """Fail before any work if a model with pending prompts cannot be loaded, or a placement is malformed."""
        for section, names in (("models", self.plan.models), ("scorers", self.plan.scorers)):
            for name in names:
                resources_of(self.host.registries[section][name], self.ctx(section, name))
        problems = []
        for model in self.plan.models:
            if self.pending_generations(model):
                reason = self.host.models[model].is_available(self.ctx("models", model))
                if reason:
                    problems.append(f"{model}: {reason}")
        if problems:
            raise HarnessError("; ".join(problems))
        self._checked = True

    def generate(self) -> None:
        for model in self.plan.models:
            pending = self.pending_generations(model)
            self.stats.cached_generations += len(self.all_prompts()) - len(pending)
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
        for scorer in self.plan.scorers:
            requests = self._score_requests(scorer)
            done = self.store.existing_scores(list(requests))
            pending = [req for key, (req, _) in requests.items() if key not in done]
            self.stats.cached_scores += len(requests) - len(pending)
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
        unit = WorkUnit(kind, name, obj, ctx, items, self.batch_size, resources_of(obj, ctx))
        loaded = self.stats.loaded_models if section == "models" else self.stats.loaded_scorers
        self.log(f"loading {section[:-1]} {name}")
        progress = BarProgress(len(items), f"{kind} {name}", self.show_progress, self.log, lambda: loaded.append(name))
        try:
            self.executor.execute(unit, sink, progress)
        finally:
            progress.close()

    def run(self) -> list[dict[str, Any]]:
        if not self._checked:
            self.check_available()
        self.generate()
        self.score()
        return self.table()

    # ------------------------------------------------------------ output

    def table(self) -> list[dict[str, Any]]:
        """The tidy table for this plan, from the store, in a deterministic order."""
        rows: list[dict[str, Any]] = []
        for model in self.plan.models:
            variant = self.host.models[model]
            mfp = self.model_fp(model)
            prompts = self.all_prompts()
            gkeys = [generation_key(mfp, p.text) for p in prompts]
            gens = self.store.get_generations(gkeys)
            for scorer in self.plan.scorers:
                sfp = self.scorer_fp(scorer)
                metric = getattr(self.host.scorers[scorer], "metric", "reward")
                skeys = [score_key(g, sfp, p.language, p.kind) for g, p in zip(gkeys, prompts)]
                scores = self.store.get_scores(skeys)
                for p, gkey, skey in zip(prompts, gkeys, skeys):
                    if gkey not in gens or skey not in scores:
                        continue
                    response, gmeta = gens[gkey]
                    value, smeta = scores[skey]
                    rows.append(
                        {
                            "model": model,
                            "source": p.source,
                            "kind": p.kind,
                            "language": p.language,
                            "tier": self.plan.tier_of(p.language),
                            "prompt_id": p.prompt_id,
                            "prompt": p.text,
                            "response": response,
                            "scorer": scorer,
                            "score": value,
                            "family": variant.family,
                            "recipe": variant.recipe,
                            "metric": metric,
                            "translated": bool(p.meta.get("translated", False)),
                            "truncated": bool(smeta.get("truncated", False)),
                            "generation_key": gkey,
                        }
                    )
        return rows

    def fingerprints(self) -> dict[str, Any]:
        return {
            "models": {m: self.model_fp(m) for m in self.plan.models},
            "scorers": {s: self.scorer_fp(s) for s in self.plan.scorers},
            "data": dict(sorted(self.data_fingerprints.items())),
        }
