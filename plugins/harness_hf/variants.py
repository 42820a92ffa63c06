"""Variants of any causal LM: a family trained from a recipe whose base is any hub id or folder, and a
model declared in a suite or on the command line (``hf:ID``) loaded as it is.

Both share the fingerprint's parts beyond OPT's: the prompt format (``chat`` included), the system
prompt and the chat template text, read from the model's files (no tokenizer is loaded to plan).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from harness_opt import checkpoints as ck
from harness_opt.variants import OptVariant

from harness.fingerprint import digest
from harness.types import Context, GenerationSettings, HarnessError, LoadedModel, ModelVariant

from .architectures import ensure_tiny_base, tiny_family, tiny_key
from .chat import check_format, no_template, template_text

FORMAT_VERSION = "harness_hf/v1"
#: options of every variant here that are not recipe values (``vllm_args``: extra ``vllm.LLM`` arguments)
CHAT_OPTIONS: dict[str, Any] = {"prompt_format": "", "system_prompt": "", "vllm_args": {}}


def settings_of(ctx: Context) -> GenerationSettings:
    """The run's generation settings with this model's own ``prompt_format`` when it sets one."""
    fmt = str(ctx.options.get("prompt_format") or ctx.generation.prompt_format)
    check_format(fmt)
    return dataclasses.replace(ctx.generation, prompt_format=fmt)


def chat_parts(ctx: Context, folder: Path | None, what: str) -> dict[str, Any]:
    """What formatting adds to a fingerprint; a chat format on a model with no template fails here."""
    settings = settings_of(ctx)
    parts: dict[str, Any] = {"generation": settings.as_dict()}
    if settings.prompt_format == "chat":
        template = template_text(folder)
        if template == "":
            raise no_template(what)
        parts["chat_template"] = template
        parts["system_prompt"] = str(ctx.options.get("system_prompt", ""))
    return parts


def engine_of(ctx: Context, device: str) -> list[Any]:
    """The ``engine`` option resolved: ``vllm`` (with its version and arguments) or an in-process engine."""
    from harness_opt.generation import ENGINES, generation_engine

    from .vllm_engine import ENGINE, version

    choice = str(ctx.options.get("engine", "auto"))
    if choice == ENGINE:
        return [ENGINE, version(), dict(ctx.options.get("vllm_args") or {})]
    if choice not in ENGINES:
        from harness.choices import unknown

        raise unknown("generation engine (option engine)", choice, (*ENGINES, ENGINE))
    return [generation_engine(ctx, device)]


def run_facts(ctx: Context) -> list[Any]:
    """dtype, device and engine, as OPT's fingerprint has them."""
    from harness_opt.generation import model_dtype

    device = ctx.device
    return [model_dtype(ctx), device, *engine_of(ctx, device)]


class HfFamilyVariant(OptVariant):
    """One (family, recipe) of a recipe file whose base is any causal LM (``tasks/recipes/FAMILY.toml``)."""

    default_options = {**OptVariant.default_options, **CHAT_OPTIONS}

    def _recipe_ctx(self, ctx: Context) -> Context:
        opts = {k: v for k, v in ctx.options.items() if k not in CHAT_OPTIONS}
        return dataclasses.replace(ctx, options=opts)

    def plan(self, ctx: Context):  # noqa: ANN201 - OptVariant's Plan
        return super().plan(self._recipe_ctx(ctx))

    def _base_source(self, recipe: dict[str, Any], home: Path, hint: str) -> ck.WeightsSource:
        if recipe.get("base") == "tiny":
            key = tiny_key(recipe["tiny"], int(recipe.get("seed", 0)))
            folder = ck.store_root(home, recipe["family"]) / f"base-{key[:16]}"
            return ck.WeightsSource("tiny", folder, f"tiny:{key}", None)
        return super()._base_source(recipe, home, hint)

    def _base_path(self, plan: Any, ctx: Context) -> str:
        if plan.recipe.get("base") == "tiny":
            return str(ensure_tiny_base(Path(ctx.home), plan.recipe["family"], plan.recipe["tiny"],
                                        int(plan.recipe.get("seed", 0)), log=ctx.log))
        return plan.base.load_from

    def fingerprint(self, ctx: Context) -> str:
        plan = self.plan(ctx)
        # a trained checkpoint keeps its base's tokenizer, so the template is read from the base (or the
        # checkpoint option); a tiny base's identity already covers its template
        folder = plan.override.path if plan.override is not None else plan.base.path
        tiny = plan.override is None and plan.recipe.get("base") == "tiny"
        parts = chat_parts(ctx, None if tiny else folder, self.name)
        return digest(FORMAT_VERSION, self.name, self.family, self.recipe, plan.weights_identity, parts,
                      *run_facts(ctx))

    def _load_weights(self, source: str, ctx: Context, info: dict[str, Any]) -> LoadedModel:
        from .loaded import load

        return load(source, ctx, settings_of(ctx), info, str(ctx.options.get("system_prompt", "")), self.name)


class DeclaredVariant(ModelVariant):
    """A causal LM named by hub id or folder, evaluated as it is (no training)."""

    default_options = {
        "model": "", "backend": "", "revision": "main", "dtype": "auto", "engine": "auto", "trust_remote_code": False,
        "architecture": "", "family": "", "recipe": "", **CHAT_OPTIONS,
    }

    def __init__(self, name: str, ref: str, options: dict[str, Any]) -> None:
        self.name = name
        self.ref = ref
        self.revision = str(options.get("revision") or "main")
        self.family = str(options.get("family") or name)
        self.recipe = str(options.get("recipe") or "base")
        self.architecture = str(options.get("architecture") or "")
        self.description = f"{ref} (declared; revision {self.revision})"

    def source(self) -> ck.WeightsSource:
        return ck.resolve(self.ref, self.revision, option_hint=f"{self.name}.model")

    @property
    def stand_in(self) -> str:
        """``--rehearse``: the tiny family of the same architecture (from the model's config when it is
        here, else the ``architecture`` option), tiny-llama when neither says."""
        arch = self.architecture
        folder = self.source().path
        if not arch and folder is not None and (folder / "config.json").is_file():
            arch = str(json.loads((folder / "config.json").read_text()).get("model_type", ""))
        from .architectures import ARCHITECTURES

        return tiny_family(arch if arch in ARCHITECTURES else "llama")

    def describe(self) -> dict[str, Any]:
        return {"family": self.family, "recipe": self.recipe, "model": self.ref, "revision": self.revision,
                "options": sorted(self.default_options)}

    def fingerprint(self, ctx: Context) -> str:
        src = self.source()
        folder = src.path if src.path is not None and src.path.is_dir() else None
        return digest(FORMAT_VERSION, "declared", src.identity, chat_parts(ctx, folder, self.ref), *run_facts(ctx))

    def is_available(self, ctx: Context) -> str | None:
        return self.source().problem

    def load(self, ctx: Context) -> LoadedModel:
        from .loaded import load

        src = self.source()
        if src.problem:
            raise HarnessError(src.problem)
        return load(src.load_from, ctx, settings_of(ctx), {"weights": src.identity},
                    str(ctx.options.get("system_prompt", "")), self.ref)
