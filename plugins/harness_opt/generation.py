"""Greedy, batched generation whose tokens do not depend on the batch size.

Two engines give the same tokens: on CPU the packed engine (``packed.py``: no padding,
per-row caches, wide decode, invariant by construction); elsewhere transformers' ``generate``
over a left-padded batch (OPT derives position ids from the attention mask, so left padding
keeps each prompt's positions). The response is the decode of the new tokens only, cut at
the first EOS.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.types import Context, GenerationOutput, GenerationSettings, LoadedModel, Prompt

from .fastpath import RAGGED, left_pads, preallocated_cache, register_ragged
from .prompting import format_prompt

#: Rows per call on CPU: the packed engine decodes them all at once. A CPU decode step is bound
#: by reading the weights, so 64 rows cost about as much per step as 16 (measured: 0.28 s against
#: 0.20 s a step on OPT-350M, fp32, 2 cores), and packing means width costs no padding.
CPU_BATCH_CAP = 64

ENGINES = ("auto", "packed", "hf")


#: The dtype OPT checkpoints are published in: what ``auto`` means on a GPU.
CHECKPOINT_DTYPE = "float16"


def model_dtype(ctx: Context) -> str:
    """The variant's ``dtype`` option when set, else the run's ``--dtype``; ``auto``: fp32 on CPU,
    float16 (OPT's checkpoint dtype) on CUDA. Part of the fingerprint."""
    from harness.dtypes import component_dtype

    return component_dtype(ctx.options.get("dtype"), ctx.dtype, ctx.device, CHECKPOINT_DTYPE)


def generation_engine(ctx: Context, device: str) -> str:
    """The variant's ``engine`` option resolved: ``packed`` on CPU, transformers' ``hf`` elsewhere.
    Part of the fingerprint: the engines agree on tokens, but are not the same computation."""
    choice = str(ctx.options.get("engine", "auto"))
    if choice not in ENGINES:
        from harness.choices import unknown

        raise unknown("generation engine (option engine)", choice, ENGINES)
    if choice == "auto":
        return "packed" if device == "cpu" else "hf"
    return choice


def half_precision(dtype: str) -> bool:
    return dtype in ("bfloat16", "float16")


def use_ragged_attention(model: Any) -> bool:
    """Half precision: switch the model to ragged attention (batch-invariant tokens, see fastpath)."""
    import torch

    cfg = model.config
    if next(model.parameters()).dtype not in (torch.bfloat16, torch.float16):
        return False
    if getattr(cfg, "num_key_value_heads", None) not in (None, getattr(cfg, "num_attention_heads", None)):
        return False
    if getattr(cfg, "attn_logit_softcapping", None) or getattr(cfg, "sliding_window", None):
        return False  # ragged attention is plain SDPA: no soft-capping, no window
    register_ragged()
    model.set_attn_implementation(RAGGED)
    return True


class LoadedOpt(LoadedModel):
    #: whether tokenizing a formatted prompt adds the tokenizer's special tokens (a chat template
    #: writes its own, so a subclass rendering one turns this off)
    add_special_tokens = True

    def __init__(self, model: Any, tokenizer: Any, device: str, settings: GenerationSettings,
                 info: dict[str, Any] | None = None, engine: str = "hf", eos_ids: Sequence[int] = ()) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.device = device
        self.settings = settings
        self.info = info or {}
        tokenizer.padding_side = "left"
        tokenizer.truncation_side = "left"  # keep the end of an over-long prompt (the question)
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        self.eos_ids = list(eos_ids) or [tokenizer.eos_token_id]  # the first is the tokenizer's own
        self.max_positions = int(getattr(model.config, "max_position_embeddings", 2048))
        self.max_prompt_tokens = max(8, self.max_positions - settings.max_new_tokens)
        self.fast = hasattr(model, "set_attn_implementation")  # a transformers model: fastpath applies
        self.packed = None
        if engine == "packed" and self.fast and self.packable(model):
            from .packed import PackedGenerator

            self.packed = PackedGenerator(model, self.eos_ids, CPU_BATCH_CAP)
        self.ragged = self.packed is None and self.fast and use_ragged_attention(model)

    def packable(self, model: Any) -> bool:
        """Whether the packed engine runs this model (OPT's decoder here; a subclass may widen it)."""
        return hasattr(getattr(model, "model", None), "decoder")

    def format(self, text: str) -> str:
        """A prompt's text as the model's input string."""
        return format_prompt(text, self.settings.prompt_format)

    def _gen_config(self):
        from transformers import GenerationConfig

        return GenerationConfig(
            max_new_tokens=self.settings.max_new_tokens,
            do_sample=False,
            num_beams=1,
            eos_token_id=self.eos_ids[0] if len(self.eos_ids) == 1 else list(self.eos_ids),
            pad_token_id=self.tokenizer.pad_token_id,
            bos_token_id=self.tokenizer.bos_token_id,
        )

    def generate(self, prompts: Sequence[Prompt]) -> list[GenerationOutput]:
        import torch

        if not prompts:
            return []
        texts = [self.format(p.text) for p in prompts]
        special = self.add_special_tokens
        full = self.tokenizer(texts, padding=False, truncation=False, verbose=False,
                              add_special_tokens=special)["input_ids"]
        if self.packed is not None:  # the padded path's token ids, without the padding
            ids = list(full)
            over = [i for i, f in enumerate(full) if len(f) > self.max_prompt_tokens]
            if over:  # only over-long prompts are tokenized again, cut from the left as the padded path does
                cut = self.tokenizer([texts[i] for i in over], truncation=True, max_length=self.max_prompt_tokens,
                                     verbose=False, add_special_tokens=special)["input_ids"]
                for i, c in zip(over, cut):
                    ids[i] = c
            return self._outputs(self.packed.generate(ids, self.settings.max_new_tokens, width=len(prompts)), full)
        enc = self.tokenizer(texts, return_tensors="pt", padding=True, truncation=True,
                             max_length=self.max_prompt_tokens, add_special_tokens=special).to(self.device)
        width = int(enc["input_ids"].shape[1])
        pads = (width - enc["attention_mask"].sum(dim=1)).tolist()
        extra = {"past_key_values": preallocated_cache(self.model, width + self.settings.max_new_tokens)} \
            if self.fast else {}
        with torch.inference_mode(), left_pads(pads):
            out = self.model.generate(**enc, generation_config=self._gen_config(), **extra)
        return self._outputs(out[:, enc["input_ids"].shape[1]:].tolist(), full)

    def _outputs(self, new: list[list[int]], full: list[list[int]]) -> list[GenerationOutput]:
        """Responses from new token ids: cut at the first EOS, decoded, with their counts."""
        eos = set(self.eos_ids)
        results = []
        for ids, n_full in zip(new, (len(f) for f in full)):
            cut = next((i for i, t in enumerate(ids) if t in eos), None)
            stopped = cut is not None
            ids = ids[:cut] if stopped else ids
            text = self.tokenizer.decode(ids, skip_special_tokens=True)
            results.append(GenerationOutput(text, {
                "n_new_tokens": len(ids),
                "stopped_at_eos": stopped,
                "truncated": n_full > self.max_prompt_tokens,
            }))
        return results

    def item_lengths(self, prompts: Sequence[Prompt]) -> list[int]:
        """Prompt tokens as generation will see them (formatted, cut to the budget): batches of
        similar token counts, whatever the script."""
        texts = [self.format(p.text) for p in prompts]
        ids = self.tokenizer(texts, truncation=True, max_length=self.max_prompt_tokens, verbose=False,
                             add_special_tokens=self.add_special_tokens)["input_ids"]
        return [len(x) for x in ids]

    def auto_batch_size(self, prompts: Sequence[Prompt]) -> int:
        """CPU: a fixed cap. CUDA: the largest power of two whose KV cache and logits fit in half the
        free memory, estimated from the longest prompt."""
        n = max(1, len(prompts))
        if not self.device.startswith("cuda"):
            return min(CPU_BATCH_CAP, n)
        import torch

        cfg = self.model.config
        longest = max((len(self.tokenizer(self.format(p.text), add_special_tokens=self.add_special_tokens)
                            ["input_ids"]) for p in prompts), default=64)
        seq = min(self.max_positions, longest + self.settings.max_new_tokens)
        elt = next(self.model.parameters()).element_size()
        ffn = getattr(cfg, "ffn_dim", None) or getattr(cfg, "intermediate_size", 4 * cfg.hidden_size)
        per_seq = elt * seq * (2 * cfg.num_hidden_layers * cfg.hidden_size + 4 * ffn) \
            + 4 * cfg.vocab_size * 2
        free, _ = torch.cuda.mem_get_info()
        fit = max(1, int(free * 0.5 // per_seq))
        size = 1
        while size * 2 <= min(fit, 256):
            size *= 2
        return min(size, n) if n < size else size

    def close(self) -> None:
        import gc

        self.model = None
        gc.collect()
        try:
            import torch

            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        except Exception:  # noqa: BLE001 - freeing memory must never fail a run
            pass
