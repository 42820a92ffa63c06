"""A loaded causal LM of any architecture: the OPT wrapper's generation with the packed engine for
every decoder-only model, a chat template when asked, and every end-of-turn token as an EOS."""

from __future__ import annotations

from typing import Any

from harness_opt.generation import LoadedOpt

from harness.types import Context, GenerationSettings, LoadedModel

from .chat import eos_ids, formatter


class LoadedCausalLM(LoadedOpt):
    def __init__(self, model: Any, tokenizer: Any, device: str, settings: GenerationSettings,
                 info: dict[str, Any], engine: str, system_prompt: str, what: str) -> None:
        self._format = formatter(settings.prompt_format, tokenizer, system_prompt, what)
        self.add_special_tokens = settings.prompt_format != "chat"  # a template writes its own BOS
        super().__init__(model, tokenizer, device, settings, info, engine=engine, eos_ids=eos_ids(model, tokenizer))
        if getattr(self._format, "fold", False):
            self.info["system_prompt"] = "folded into the first user turn (the template rejects a system role)"

    def packable(self, model: Any) -> bool:
        return not model.config.is_encoder_decoder and model.get_output_embeddings() is not None

    def format(self, text: str) -> str:
        return self._format(text)


def load(source: str, ctx: Context, settings: GenerationSettings, info: dict[str, Any], system_prompt: str,
         what: str) -> LoadedModel:
    """Weights and tokenizer from ``source`` onto the run's device and dtype (or into vLLM, ``engine = "vllm"``)."""
    if str(ctx.options.get("engine", "auto")) == "vllm":
        from . import vllm_engine

        return vllm_engine.load(source, ctx, settings, info, system_prompt, what)
    from harness_opt.variants import load_causal_lm

    def wrap(model: Any, tok: Any, device: str, engine: str) -> LoadedModel:
        return LoadedCausalLM(model, tok, device, settings, info, engine, system_prompt, what)

    return load_causal_lm(source, ctx, info=info, wrap=wrap)
