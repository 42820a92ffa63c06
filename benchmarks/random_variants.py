"""Random-weight models of real sizes for cost benchmarks, as a plugin the product does not ship.

``opt-350m-random`` is OPT-350M's real architecture and ``llama-350m-random`` a Llama architecture of
the same size, both with random weights from a fixed seed: their outputs are noise, they exist so
benchmarks measure a real model's memory and latency without its weights. Benchmarks and tests add
this module to a plugin host like any third-party plugin (``PluginHost(modules=[..., "random_variants"])``
or ``HARNESS_PLUGINS=random_variants`` with benchmarks/ importable); ``harness models`` never lists them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from harness import hookimpl
from harness.fingerprint import digest
from harness.types import Context, LoadedModel, ModelVariant

#: The plugin name this module registers under (a module name, as HARNESS_PLUGINS takes it).
PLUGIN = "random_variants"

#: facebook/opt-350m's config.json (architecture only).
OPT_350M_CONFIG: dict[str, Any] = {
    "vocab_size": 50272,
    "hidden_size": 1024,
    "num_hidden_layers": 24,
    "ffn_dim": 4096,
    "num_attention_heads": 16,
    "max_position_embeddings": 2048,
    "word_embed_proj_dim": 512,
    "do_layer_norm_before": False,
    "activation_function": "relu",
    "dropout": 0.1,
    "attention_dropout": 0.0,
    "layerdrop": 0.0,
    "init_std": 0.02,
    "enable_bias": True,
    "layer_norm_elementwise_affine": True,
    "pad_token_id": 1,
    "bos_token_id": 2,
    "eos_token_id": 2,
}


#: 24 layers of width 1024 like OPT-350M, a SwiGLU MLP of the same weight count (3 x 1024 x 2816 against
#: 2 x 1024 x 4096), grouped-query attention (4 KV heads), OPT's vocabulary size: ~405M parameters.
LLAMA_350M_CONFIG: dict[str, Any] = {
    "vocab_size": 50272,
    "hidden_size": 1024,
    "intermediate_size": 2816,
    "num_hidden_layers": 24,
    "num_attention_heads": 16,
    "num_key_value_heads": 4,
    "max_position_embeddings": 2048,
    "tie_word_embeddings": False,
}


def random_350m(seed: int):
    """OPT-350M's architecture with weights drawn from ``seed`` (float32, CPU)."""
    import torch
    from transformers import OPTConfig, OPTForCausalLM

    torch.manual_seed(seed)
    return OPTForCausalLM(OPTConfig(**OPT_350M_CONFIG))


class RandomOptVariant(ModelVariant):
    """OPT-350M's architecture, random weights. The tokenizer is facebook/opt-350m's when that is in the
    Hugging Face cache (or the ``tokenizer`` option names a folder), else the tiny family's local BPE."""

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
        from harness_opt import checkpoints as ck
        from harness_opt.builders import tiny_key
        from harness_opt.recipes import effective_recipe

        spec = str(ctx.options.get("tokenizer") or "facebook/opt-350m")
        src = ck.resolve(spec)
        if src.path is not None and src.problem is None:
            return str(src.path), src.identity
        if Path(spec).expanduser().is_dir():
            return spec, f"local-tokenizer:{Path(spec).resolve()}"
        tiny = effective_recipe("tiny-opt", {})
        return "tiny", f"tiny:{tiny_key(tiny['tiny'], int(tiny.get('seed', 0)))}"

    def fingerprint(self, ctx: Context) -> str:
        from harness_opt.generation import generation_engine, model_dtype
        from harness_opt.prompting import check_format

        check_format(ctx.generation.prompt_format)
        _, tok_id = self._tokenizer(ctx)
        return digest("harness_opt/v1", self.name, OPT_350M_CONFIG, int(ctx.options.get("seed", 0)), tok_id,
                      ctx.generation.as_dict(), model_dtype(ctx), ctx.device, generation_engine(ctx, ctx.device))

    def load(self, ctx: Context) -> LoadedModel:
        from harness_opt.builders import ensure_tiny_base
        from harness_opt.recipes import effective_recipe
        from harness_opt.variants import load_causal_lm

        folder, tok_id = self._tokenizer(ctx)
        if folder == "tiny":
            tiny = effective_recipe("tiny-opt", {})
            folder = str(ensure_tiny_base(Path(ctx.home), tiny["tiny"], int(tiny.get("seed", 0)), log=ctx.log))
        model = random_350m(int(ctx.options.get("seed", 0)))
        return load_causal_lm(folder, ctx, info={"weights": "random", "tokenizer": tok_id},
                              tokenizer_source=folder, model=model)


class RandomLlamaVariant(ModelVariant):
    """A Llama architecture of OPT-350M's size (the real cost of a non-OPT architecture through the general
    packed path). The tokenizer is the tiny Llama family's local BPE (the same corpus as OPT's benchmark
    tokenizer offline), so prompts cost the same tokens as there."""

    default_options = {"seed": 0, "dtype": "auto", "engine": "auto"}

    def __init__(self, name: str = "llama-350m-random") -> None:
        self.name = name
        self.family = name
        self.recipe = "base"
        self.description = "Llama architecture at OPT-350M's size with random weights (benchmarks only)"

    def _tokenizer_key(self) -> tuple[str, dict[str, Any], int]:
        from harness_hf.architectures import tiny_key
        from harness_opt.recipes import load_recipe_file

        recipe = load_recipe_file("tiny-llama")
        return tiny_key(recipe["tiny"], int(recipe["seed"])), recipe["tiny"], int(recipe["seed"])

    def fingerprint(self, ctx: Context) -> str:
        from harness_hf.variants import run_facts, settings_of

        return digest("harness_hf/v1", self.name, LLAMA_350M_CONFIG, int(ctx.options.get("seed", 0)),
                      self._tokenizer_key()[0], settings_of(ctx).as_dict(), *run_facts(ctx))

    def load(self, ctx: Context) -> LoadedModel:
        import torch
        from harness_hf.architectures import ensure_tiny_base
        from harness_hf.loaded import LoadedCausalLM
        from harness_hf.variants import settings_of
        from harness_opt.variants import load_causal_lm
        from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

        key, tiny, seed = self._tokenizer_key()
        folder = str(ensure_tiny_base(Path(ctx.home), "tiny-llama", tiny, seed, log=ctx.log))
        torch.manual_seed(int(ctx.options.get("seed", 0)))
        model = LlamaForCausalLM(LlamaConfig(**LLAMA_350M_CONFIG, pad_token_id=1, bos_token_id=2, eos_token_id=2))
        model.generation_config = GenerationConfig(eos_token_id=2, pad_token_id=1, bos_token_id=2)
        settings = settings_of(ctx)
        info = {"weights": "random", "tokenizer": f"tiny:{key}"}

        def wrap(m: Any, tok: Any, device: str, engine: str) -> LoadedModel:
            return LoadedCausalLM(m, tok, device, settings, info, engine, "", self.name)

        return load_causal_lm(folder, ctx, info=info, tokenizer_source=folder, model=model, wrap=wrap)


@hookimpl
def harness_register_models(register) -> None:
    register(RandomOptVariant())
    register(RandomLlamaVariant())


def bench_host() -> Any:
    """A plugin host as the CLI builds it (entry points, HARNESS_PLUGINS) with this plugin added."""
    from harness.plugins import PluginHost

    named = [m.strip() for m in os.environ.get("HARNESS_PLUGINS", "").split(",") if m.strip()]
    return PluginHost(modules=[*named, *([] if PLUGIN in named else [PLUGIN])])
