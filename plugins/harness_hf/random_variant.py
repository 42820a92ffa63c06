"""A Llama-architecture model of about OPT-350M's size with random weights from a fixed seed, for
the generation benchmark (the real cost of a non-OPT architecture without its weights).

Its outputs are noise. The tokenizer is the tiny Llama family's local byte-level BPE (the same
corpus as OPT's benchmark tokenizer offline), so prompts cost the same tokens as there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.fingerprint import digest
from harness.types import Context, LoadedModel, ModelVariant

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


class RandomLlamaVariant(ModelVariant):
    default_options = {"seed": 0, "dtype": "auto", "engine": "auto"}

    def __init__(self, name: str = "llama-350m-random") -> None:
        self.name = name
        self.family = name
        self.recipe = "base"
        self.description = "Llama architecture at OPT-350M's size with random weights (benchmarks only)"

    def _tokenizer_key(self) -> tuple[str, dict[str, Any], int]:
        from harness_opt.recipes import load_recipe_file

        from .architectures import tiny_key

        recipe = load_recipe_file("tiny-llama")
        return tiny_key(recipe["tiny"], int(recipe["seed"])), recipe["tiny"], int(recipe["seed"])

    def fingerprint(self, ctx: Context) -> str:
        from .variants import run_facts, settings_of

        return digest("harness_hf/v1", self.name, LLAMA_350M_CONFIG, int(ctx.options.get("seed", 0)),
                      self._tokenizer_key()[0], settings_of(ctx).as_dict(), *run_facts(ctx))

    def load(self, ctx: Context) -> LoadedModel:
        import torch
        from harness_opt.variants import load_causal_lm
        from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

        from .architectures import ensure_tiny_base
        from .loaded import LoadedCausalLM
        from .variants import settings_of

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
