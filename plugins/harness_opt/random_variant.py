"""OPT-350M's real architecture with random weights from a fixed seed, for cost benchmarks.

Its outputs are noise; it exists so benchmarks measure the real model's memory and latency
without its weights. The tokenizer is facebook/opt-350m's when that is in the Hugging Face
cache (or the `tokenizer` option names a folder), else the tiny family's local byte-level BPE.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.fingerprint import digest
from harness.types import Context, LoadedModel, ModelVariant

from . import checkpoints as ck
from .builders import OPT_350M_CONFIG
from .prompting import check_format
from .recipes import effective_recipe


class RandomOptVariant(ModelVariant):
    default_options = {"seed": 0, "dtype": "auto", "engine": "auto", "tokenizer": ""}

    def __init__(self, name: str = "opt-350m-random") -> None:
        self.name = name
        self.family = "opt-350m-random"
        self.recipe = "base"
        self.description = "facebook/opt-350m architecture with random weights (benchmarks only)"

    def describe(self) -> dict[str, Any]:
        return {"family": self.family, "recipe": self.recipe,
                "checkpoint": "random init from options.seed (OPTConfig of facebook/opt-350m)",
                "options": sorted(self.default_options)}

    def _tokenizer(self, ctx: Context) -> tuple[str, str]:
        """(folder, identity) of the tokenizer to use."""
        spec = str(ctx.options.get("tokenizer") or "facebook/opt-350m")
        src = ck.resolve(spec)
        if src.path is not None and src.problem is None:
            return str(src.path), src.identity
        if Path(spec).expanduser().is_dir():
            return spec, f"local-tokenizer:{Path(spec).resolve()}"
        tiny = effective_recipe("tiny-opt", {})
        from .builders import tiny_key

        key = tiny_key(tiny["tiny"], int(tiny.get("seed", 0)))
        return "tiny", f"tiny:{key}"

    def fingerprint(self, ctx: Context) -> str:
        from harness.devices import resolve_device

        from .generation import generation_engine, model_dtype

        check_format(ctx.generation.prompt_format)
        device = resolve_device(ctx.device)
        _, tok_id = self._tokenizer(ctx)
        return digest("harness_opt/v1", self.name, OPT_350M_CONFIG, int(ctx.options.get("seed", 0)), tok_id,
                      ctx.generation.as_dict(), model_dtype(ctx), device, generation_engine(ctx, device))

    def load(self, ctx: Context) -> LoadedModel:
        from .builders import ensure_tiny_base, random_350m
        from .variants import load_causal_lm

        folder, tok_id = self._tokenizer(ctx)
        if folder == "tiny":
            tiny = effective_recipe("tiny-opt", {})
            folder = str(ensure_tiny_base(Path(ctx.home), tiny["tiny"], int(tiny.get("seed", 0)), log=ctx.log))
        model = random_350m(int(ctx.options.get("seed", 0)))
        return load_causal_lm(folder, ctx, info={"weights": "random", "tokenizer": tok_id},
                              tokenizer_source=folder, model=model)
