"""The ``vllm`` engine for any causal LM variant (``engine = "vllm"``): offline ``LLM.generate`` with greedy
sampling, for GPUs. vllm is imported only when a model with this engine is loaded.

The prompts reach vLLM as token ids made exactly as the in-process engines make them (the same prompt
format or chat template, the same special tokens, over-long prompts cut from the left to the same
budget), and its new token ids are read back the same way (cut at the first end-of-turn token, decoded by
the model's tokenizer), so only the engine differs between the two. vLLM's greedy tokens do not promise to
be independent of the batch (its kernels batch differently), which the manifest's engine name records.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import metadata
from typing import Any

from harness.types import Context, GenerationOutput, GenerationSettings, HarnessError, LoadedModel, Prompt

ENGINE = "vllm"


def version() -> str:
    """vllm's installed version, read without importing it ("" when absent): part of the fingerprint."""
    try:
        return metadata.version("vllm")
    except metadata.PackageNotFoundError:
        return ""


def sampling_kwargs(settings: GenerationSettings, eos_ids: Sequence[int], seed: int) -> dict[str, Any]:
    """``vllm.SamplingParams`` arguments for greedy decoding to ``max_new_tokens``, stopping at every
    end-of-turn token (the tokenizer's own EOS is vLLM's default stop; the others are listed)."""
    return {"n": 1, "temperature": 0.0, "top_p": 1.0, "seed": int(seed),
            "max_tokens": int(settings.max_new_tokens), "stop_token_ids": [int(t) for t in eos_ids],
            "skip_special_tokens": True, "detokenize": False}


def token_prompts(ids: Sequence[Sequence[int]]) -> list[dict[str, list[int]]]:
    """vLLM's ``TokensPrompt`` form (a plain dict): the harness's own tokenization is what the model sees."""
    return [{"prompt_token_ids": [int(t) for t in x]} for x in ids]


def new_token_ids(result: Any) -> tuple[list[int], str | None]:
    """(token ids, finish reason) of one ``RequestOutput``: its first completion."""
    first = result.outputs[0]
    return [int(t) for t in first.token_ids], getattr(first, "finish_reason", None)


class LoadedVllm(LoadedModel):
    """Batches go to ``llm.generate`` whole; vLLM schedules them itself."""

    def __init__(self, llm: Any, sampling: Any, tokenizer: Any, formatter: Any, add_special_tokens: bool,
                 eos_ids: Sequence[int], max_prompt_tokens: int, info: dict[str, Any] | None = None) -> None:
        self.llm, self.sampling, self.tokenizer, self.format = llm, sampling, tokenizer, formatter
        self.add_special_tokens = add_special_tokens
        self.eos_ids = list(eos_ids)
        self.max_prompt_tokens = int(max_prompt_tokens)
        self.info = info or {}

    def prompt_ids(self, prompts: Sequence[Prompt]) -> tuple[list[list[int]], list[bool]]:
        """Token ids of each formatted prompt, cut from the left to the budget; whether each was cut."""
        texts = [self.format(p.text) for p in prompts]
        full = self.tokenizer(texts, padding=False, truncation=False, verbose=False,
                              add_special_tokens=self.add_special_tokens)["input_ids"]
        ids, cut = [], []
        for text, f in zip(texts, full):
            over = len(f) > self.max_prompt_tokens
            if over:  # as the padded path: the tokenizer cuts from the left (truncation_side)
                f = self.tokenizer(text, truncation=True, max_length=self.max_prompt_tokens, verbose=False,
                                   add_special_tokens=self.add_special_tokens)["input_ids"]
            ids.append(list(f))
            cut.append(over)
        return ids, cut

    def outputs(self, results: Sequence[Any], truncated: Sequence[bool]) -> list[GenerationOutput]:
        """Responses read back as the in-process engines read theirs."""
        eos = set(self.eos_ids)
        out = []
        for result, was_cut in zip(results, truncated):
            ids, finish = new_token_ids(result)
            stop = next((i for i, t in enumerate(ids) if t in eos), None)
            ids = ids[:stop] if stop is not None else ids
            out.append(GenerationOutput(self.tokenizer.decode(ids, skip_special_tokens=True), {
                "n_new_tokens": len(ids), "stopped_at_eos": stop is not None or finish == "stop",
                "truncated": bool(was_cut)}))
        return out

    def generate(self, prompts: Sequence[Prompt]) -> list[GenerationOutput]:
        if not prompts:
            return []
        ids, cut = self.prompt_ids(prompts)
        results = self.llm.generate(token_prompts(ids), self.sampling, use_tqdm=False)
        return self.outputs(results, cut)

    def item_lengths(self, prompts: Sequence[Prompt]) -> list[int]:
        return [len(x) for x in self.prompt_ids(prompts)[0]]

    def auto_batch_size(self, prompts: Sequence[Prompt]) -> int:
        return max(1, len(prompts))  # vLLM batches and pages memory itself: give it everything

    def close(self) -> None:
        import gc

        self.llm = None
        gc.collect()


def load(source: str, ctx: Context, settings: GenerationSettings, info: dict[str, Any], system_prompt: str,
         what: str) -> LoadedModel:
    """``vllm.LLM`` over ``source`` with the run's dtype and seed, and the model's own tokenizer for the prompts."""
    try:
        import vllm
    except ImportError:
        raise HarnessError(f"model {what}: engine 'vllm' needs vllm (pip install vllm, on a machine with a GPU "
                           f"it supports); engine 'auto' runs in process") from None
    from harness_opt.generation import model_dtype
    from transformers import AutoConfig, AutoTokenizer, GenerationConfig

    from .chat import eos_ids, formatter

    trust = bool(ctx.options.get("trust_remote_code", False))
    tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=trust)
    tokenizer.truncation_side = "left"
    try:
        generation_config = GenerationConfig.from_pretrained(source)
    except OSError:
        generation_config = None
    holder = type("Holder", (), {"generation_config": generation_config})()
    stops = eos_ids(holder, tokenizer)
    llm = vllm.LLM(model=source, tokenizer=source, dtype=model_dtype(ctx), seed=int(ctx.seed),
                   trust_remote_code=trust, **dict(ctx.options.get("vllm_args") or {}))
    config = AutoConfig.from_pretrained(source, trust_remote_code=trust)
    max_positions = int(getattr(config, "max_position_embeddings", 2048))  # the in-process engines' budget
    fmt = formatter(settings.prompt_format, tokenizer, system_prompt, what)
    return LoadedVllm(llm, vllm.SamplingParams(**sampling_kwargs(settings, stops, ctx.seed)), tokenizer, fmt,
                      settings.prompt_format != "chat", stops, max(8, max_positions - settings.max_new_tokens),
                      {**info, "engine": f"vllm {version()}"})
