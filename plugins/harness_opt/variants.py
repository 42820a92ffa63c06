"""The registered model variants: a family (base weights + recipe file) and a recipe (base/sft/dpo/sft+dpo).

A trained variant's checkpoint lives in a folder keyed by a digest of its base weights, training
data, hyper-parameters and seed, so an unchanged recipe is a cache hit and a changed one can
never pick up a stale checkpoint. Nothing here imports torch at module import time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.fingerprint import digest
from harness.types import Context, HarnessError, LoadedModel, ModelVariant

from . import checkpoints as ck
from .prompting import check_format
from .recipes import effective_recipe
from .train_data import availability, data_fingerprint

RECIPES = ("base", "sft", "dpo", "sft+dpo")
SLUG = {"sft": "sft", "dpo": "dpo", "sft+dpo": "sft-dpo"}
FORMAT_VERSION = "harness_opt/v1"


@dataclass(frozen=True)
class Stage:
    """One training step of a variant's chain (SFT+DPO has two)."""

    recipe: str
    key: str
    folder: Path


@dataclass(frozen=True)
class Plan:
    """Everything resolved for one variant under one context."""

    recipe: dict[str, Any]
    base: ck.WeightsSource
    stages: tuple[Stage, ...]  # empty for base; last one is this variant's checkpoint
    override: ck.WeightsSource | None  # the `checkpoint` option, used instead of training

    @property
    def weights_identity(self) -> str:
        if self.override is not None:
            return self.override.identity
        if self.stages:
            return f"trained:{self.stages[-1].key}"
        return self.base.identity

    @property
    def folder(self) -> Path | None:
        """Where the weights to load are (None: a hub id to let transformers resolve)."""
        if self.override is not None:
            return self.override.path
        if self.stages:
            return self.stages[-1].folder
        return self.base.path


def _base_source(recipe: dict[str, Any], home: Path, hint: str) -> ck.WeightsSource:
    if recipe.get("base") == "tiny":
        from .builders import tiny_key

        key = tiny_key(recipe["tiny"], int(recipe.get("seed", 0)))
        folder = ck.store_root(home, recipe["family"]) / f"base-{key[:16]}"
        return ck.WeightsSource("tiny", folder, f"tiny:{key}", None)
    return ck.resolve(str(recipe["base"]), str(recipe.get("revision") or "main"), option_hint=hint)


class OptVariant(ModelVariant):
    """One (family, recipe) pair, e.g. ``opt-350m-sft`` or ``tiny-opt-sft-dpo``."""

    default_options = {"checkpoint": "", "dtype": "auto", "engine": "auto", "trust_remote_code": False}

    def __init__(self, name: str, family: str, recipe: str, description: str = "") -> None:
        assert recipe in RECIPES, recipe
        self.name = name
        self.family = family
        self.recipe = recipe
        self.description = description or f"{family} {recipe} ({'base weights' if recipe == 'base' else 'TRL'})"

    # ------------------------------------------------------------------ planning

    def plan(self, ctx: Context) -> Plan:
        opts = dict(ctx.options)
        recipe = effective_recipe(self.family, opts)
        recipe.setdefault("family", self.family)
        home = Path(ctx.home)
        hint = f"{self.name}.checkpoint" if self.recipe == "base" else f"{self.name}.base"
        base = self._base_source(recipe, home, hint)
        override = None
        if opts.get("checkpoint"):
            override = ck.resolve(str(opts["checkpoint"]), str(recipe.get("revision") or "main"),
                                  option_hint=f"{self.name}.checkpoint")
        stages: tuple[Stage, ...] = ()
        if self.recipe != "base":
            seed = int(recipe.get("seed", 0))
            data_fp = data_fingerprint(recipe["data"], ctx.data_dir)
            root = ck.store_root(home, recipe["family"])

            def stage(kind: str, start_id: str, section: str) -> Stage:
                key = digest(FORMAT_VERSION, kind, start_id, data_fp, recipe[section], seed)
                return Stage(kind, key, root / f"{SLUG[kind]}-{key[:16]}")

            if self.recipe == "sft":
                stages = (stage("sft", base.identity, "sft"),)
            elif self.recipe == "dpo":
                stages = (stage("dpo", base.identity, "dpo"),)
            else:
                sft = stage("sft", base.identity, "sft")
                stages = (sft, stage("sft+dpo", f"trained:{sft.key}", "dpo"))
        return Plan(recipe, base, stages, override)

    def _base_source(self, recipe: dict[str, Any], home: Path, hint: str) -> ck.WeightsSource:
        return _base_source(recipe, home, hint)

    def _load_weights(self, source: str, ctx: Context, info: dict[str, Any]) -> LoadedModel:
        return load_causal_lm(source, ctx, info=info)

    def describe(self) -> dict[str, Any]:
        return {
            "family": self.family,
            "recipe": self.recipe,
            "checkpoint": "recipe base weights" if self.recipe == "base"
            else f"trained by `harness train {self.name}` (HARNESS_HOME/opt/{self.family})",
            "recipe_file": f"tasks/recipes/{self.family}.toml",
            "options": sorted(self.default_options) + ["base", "seed", "data", "sft", "dpo", "recipe"],
        }

    # ------------------------------------------------------------------ contract

    def fingerprint(self, ctx: Context) -> str:
        from .generation import generation_engine, model_dtype

        check_format(ctx.generation.prompt_format)
        plan = self.plan(ctx)
        device = ctx.device
        return digest(
            FORMAT_VERSION, self.name, self.family, self.recipe, plan.weights_identity,
            ctx.generation.as_dict(), model_dtype(ctx), device, generation_engine(ctx, device),
        )

    def is_available(self, ctx: Context) -> str | None:
        plan = self.plan(ctx)
        return self._problem(plan, ctx)

    def _problem(self, plan: Plan, ctx: Context) -> str | None:
        if plan.override is not None:
            return plan.override.problem
        if not plan.stages:
            return plan.base.problem
        if ck.is_complete(plan.stages[-1].folder):
            return None
        if not ctx.train_missing:
            return (f"no {self.recipe} checkpoint for {self.name} (recipe key {plan.stages[-1].key[:12]}): "
                    f"run `harness train {self.name}` first, or pass --train-missing")
        return plan.base.problem or availability(plan.recipe["data"], ctx.data_dir)

    def ensure_trained(self, ctx: Context, plan: Plan | None = None) -> tuple[Path | None, list[dict]]:
        """Train every missing stage of this variant (SFT before SFT+DPO); return (folder, reports)."""
        plan = plan or self.plan(ctx)
        if plan.override is not None:
            if plan.override.problem:
                raise HarnessError(plan.override.problem)
            return plan.folder, []
        if plan.base.problem:
            raise HarnessError(plan.base.problem)
        reports: list[dict] = []
        start = self._base_path(plan, ctx)
        for st in plan.stages:
            if ck.is_complete(st.folder):
                ctx.log(f"{self.name}: {st.recipe} checkpoint {st.folder.name} is up to date (cache hit)")
                reports.append({"stage": st.recipe, "folder": str(st.folder), "cached": True})
            else:
                reports.append(self._train_stage(st, start, plan, ctx))
            start = str(st.folder)
        return plan.folder, reports

    def _base_path(self, plan: Plan, ctx: Context) -> str:
        if plan.recipe.get("base") == "tiny":
            from .builders import ensure_tiny_base

            return str(ensure_tiny_base(Path(ctx.home), plan.recipe["tiny"], int(plan.recipe.get("seed", 0)),
                                        log=ctx.log))
        return plan.base.load_from

    def _train_stage(self, st: Stage, start: str, plan: Plan, ctx: Context) -> dict:
        from .train_data import dpo_triples, load_pairs, sft_texts
        from .training import limit_threads, train_dpo, train_sft

        problem = availability(plan.recipe["data"], ctx.data_dir)
        if problem:
            raise HarnessError(problem)
        device = ctx.device
        if device == "cpu":
            limit_threads(int(plan.recipe.get("cpu_threads", 2)))
        ck.clear_temp(st.folder.parent)
        pairs = load_pairs(plan.recipe["data"], ctx.data_dir)
        seed = int(plan.recipe.get("seed", 0))
        trust = bool(ctx.options.get("trust_remote_code", False))
        info = {"variant": self.name, "family": self.family, "key": st.key, "recipe": plan.recipe,
                "base": plan.base.identity}
        ctx.log(f"{self.name}: training {st.recipe} -> {st.folder}")
        with ck.atomic_folder(st.folder) as tmp:
            if st.recipe == "sft":
                result = train_sft(start, tmp, plan.recipe["sft"], sft_texts(pairs), device=device, seed=seed,
                                   log=ctx.log, trust_remote_code=trust, info=info)
            else:
                result = train_dpo(start, tmp, plan.recipe["dpo"], dpo_triples(pairs), device=device,
                                   seed=seed, log=ctx.log, trust_remote_code=trust, info=info, stage=st.recipe)
            ck.write_marker(tmp, {"key": st.key, "stage": st.recipe, "variant": self.name,
                                  "seconds": result["seconds"]})
        ctx.log(f"{self.name}: {st.recipe} done in {result['seconds']:.1f}s, loss "
                f"{result['first_loss']} -> {result['last_loss']}")
        return {"stage": st.recipe, "folder": str(st.folder), "cached": False, **{
            k: result[k] for k in ("seconds", "steps", "first_loss", "last_loss")}}

    def load(self, ctx: Context) -> LoadedModel:
        plan = self.plan(ctx)
        problem = self._problem(plan, ctx)
        if problem:
            raise HarnessError(problem)
        if plan.stages or plan.override is not None:
            folder, _ = self.ensure_trained(ctx, plan)
            source = str(folder) if folder is not None else plan.override.load_from  # type: ignore[union-attr]
        else:
            source = self._base_path(plan, ctx)
        return self._load_weights(source, ctx, {"weights": plan.weights_identity})


def load_causal_lm(source: str, ctx: Context, info: dict[str, Any] | None = None,
                   tokenizer_source: str | None = None, model: Any = None, wrap: Any = None) -> LoadedModel:
    """Model + tokenizer onto the resolved device/dtype, wrapped for generation (by ``wrap(model,
    tokenizer, device, engine)`` when given, else as OPT)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from .generation import LoadedOpt, generation_engine, model_dtype
    from .training import quiet_libraries

    quiet_libraries()
    device = ctx.device
    dtype = getattr(torch, model_dtype(ctx))
    trust = bool(ctx.options.get("trust_remote_code", False))
    try:
        tok = AutoTokenizer.from_pretrained(tokenizer_source or source, trust_remote_code=trust)
        if model is None:
            model = AutoModelForCausalLM.from_pretrained(source, dtype=dtype, trust_remote_code=trust)
    except OSError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise HarnessError(f"cannot load {source}: {first}") from exc
    model = model.to(device=device, dtype=dtype).eval()
    if wrap is not None:
        return wrap(model, tok, device, generation_engine(ctx, device))
    return LoadedOpt(model, tok, device, ctx.generation, info, engine=generation_engine(ctx, device))
