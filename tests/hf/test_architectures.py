"""Greedy tokens of four architectures: transformers' own ``generate`` one prompt at a time, the harness at
batch 1 and at its batch size (every prompt in flight), all equal."""

from __future__ import annotations

import pytest

from harness.types import GenerationSettings

from .conftest import ARCHS, make_ctx, prompts

pytestmark = pytest.mark.ml


def _ids(loaded, texts: list[str]) -> list[list[int]]:
    return [loaded.tokenizer(loaded.format(t), add_special_tokens=loaded.add_special_tokens)["input_ids"]
            for t in texts]


def _cut(new: list[int], eos: set[int]) -> list[int]:
    """Up to and including the first EOS (what the packed engine returns)."""
    cut = next((i for i, t in enumerate(new) if t in eos), None)
    return new if cut is None else new[: cut + 1]


def _reference(loaded, texts: list[str], max_new: int) -> tuple[list[tuple[str, int]], list[list[int]]]:
    """transformers' generate on each rendered prompt alone: (decoded response, its length) and token ids."""
    import torch

    out, tokens = [], []
    eos = set(loaded.eos_ids)
    for text in texts:
        ids = loaded.tokenizer(loaded.format(text), add_special_tokens=loaded.add_special_tokens,
                               return_tensors="pt")["input_ids"]
        with torch.inference_mode():
            gen = loaded.model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=max_new,
                                        do_sample=False, eos_token_id=list(eos),
                                        pad_token_id=loaded.tokenizer.pad_token_id)
        new = gen[0, ids.shape[1]:].tolist()
        cut = next((i for i, t in enumerate(new) if t in eos), len(new))
        out.append((loaded.tokenizer.decode(new[:cut], skip_special_tokens=True), cut))
        tokens.append(_cut(new, eos))
    return out, tokens


@pytest.mark.parametrize("arch", ARCHS)
def test_tokens_equal_generate_at_batch_one_and_at_the_harness_batch(arch, hf_variants, home):
    import torch

    torch.set_num_threads(1)
    v = hf_variants["tiny-" + arch.replace("_", "-")]
    loaded = v.load(make_ctx(v, home, {"system_prompt": "You are helpful."}))
    try:
        assert loaded.packed is not None  # the packed engine runs every architecture on CPU
        ps = prompts()
        width = loaded.auto_batch_size(ps)
        assert width == len(ps)
        together = [(g.response, g.meta["n_new_tokens"]) for g in loaded.generate(ps)]
        alone = [(g.response, g.meta["n_new_tokens"]) for p in ps for g in loaded.generate([p])]
        ref, ref_tokens = _reference(loaded, [p.text for p in ps], 24)
        assert together == alone == ref
        ids = _ids(loaded, [p.text for p in ps])
        for width in (1, 3, len(ps)):  # the engine's own tokens, at several widths
            assert loaded.packed.generate(ids, 24, width=width) == ref_tokens
        assert len({tuple(t) for t in ref_tokens}) > 1 and any(len(t) == 24 for t in ref_tokens)
    finally:
        loaded.close()


def test_gemma_template_gets_the_system_prompt_folded_into_the_user_turn(hf_variants, home):
    v = hf_variants["tiny-gemma2"]
    loaded = v.load(make_ctx(v, home, {"system_prompt": "Be brief."}))
    try:
        assert loaded.format("Hi") == "<|user|>Be brief.\n\nHi<|end|><|assistant|>"
        assert "folded" in loaded.info["system_prompt"]
    finally:
        loaded.close()
    v = hf_variants["tiny-llama"]
    loaded = v.load(make_ctx(v, home, {"system_prompt": "Be brief."}))
    try:
        assert loaded.format("Hi") == "<|system|>Be brief.<|end|><|user|>Hi<|end|><|assistant|>"
    finally:
        loaded.close()


def test_hh_and_raw_formats_keep_their_text(hf_variants, home):
    v = hf_variants["tiny-qwen2"]
    loaded = v.load(make_ctx(v, home, generation=GenerationSettings(max_new_tokens=4, prompt_format="hh")))
    try:
        assert loaded.format("Hi") == "\n\nHuman: Hi\n\nAssistant:"
        assert loaded.add_special_tokens
    finally:
        loaded.close()
