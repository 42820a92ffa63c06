"""The packed CPU engine: transformers' tokens, the same bits at any width, chunk or order."""

from __future__ import annotations

import json

import pytest

from harness.types import GenerationSettings, HarnessError, Prompt

from .conftest import make_ctx

pytestmark = pytest.mark.ml


@pytest.fixture(scope="module")
def mixed(sample_data) -> list[Prompt]:
    """40 of the study's prompts, long and short interleaved (every batch mixes lengths)."""
    texts = json.loads((sample_data / "opt350m-paper" / "prompts" / "helpful_prompts.json").read_text())
    ps = sorted((Prompt("helpful", str(i), "en", "helpful", t) for i, t in enumerate(texts)), key=lambda p: len(p.text))
    return ps[::5] + ps[1::5] + ps[2::5] + ps[3::5]


@pytest.fixture(scope="module")
def loaded_sft(tiny_trained, variants, home):
    v = variants["tiny-opt-sft"]
    loaded = v.load(make_ctx(v, home, generation=GenerationSettings(max_new_tokens=48, prompt_format="raw")))
    assert loaded.packed is not None  # auto on CPU
    yield loaded
    loaded.close()


def _ids(loaded, prompts):
    from harness_opt.prompting import format_prompt

    texts = [format_prompt(p.text, "raw") for p in prompts]
    return loaded.tokenizer(texts, truncation=True, max_length=loaded.max_prompt_tokens)["input_ids"]


def test_packed_engine_gives_the_padded_engines_responses(loaded_sft, variants, home, mixed):
    v = variants["tiny-opt-sft"]
    hf = v.load(make_ctx(v, home, {"engine": "hf"}, generation=GenerationSettings(max_new_tokens=48,
                                                                                     prompt_format="raw")))
    assert hf.packed is None
    ours = [o.response for o in loaded_sft.generate(mixed)]
    theirs = [o.response for i in range(0, len(mixed), 8) for o in hf.generate(mixed[i:i + 8])]
    assert ours == theirs
    assert len(set(ours)) > 5


@pytest.mark.parametrize("width", [1, 3, 7, 11, 40])
def test_new_tokens_are_the_same_at_every_width_including_gemm_sizes_the_blas_treats_apart(loaded_sft, mixed,
                                                                                           width):
    # Widths 1-11 are decode GEMMs whose row count the engine pads to an invariant size; a width below
    # the prompt count also exercises continuous batching (finished rows' slots are refilled).
    from harness_opt.packed import PackedGenerator

    ids = _ids(loaded_sft, mixed)
    eos = loaded_sft.tokenizer.eos_token_id
    ref = PackedGenerator(loaded_sft.model, eos, len(ids)).generate(ids, 48)
    assert PackedGenerator(loaded_sft.model, eos, width).generate(ids, 48) == ref
    assert PackedGenerator(loaded_sft.model, eos, width, prefill_tokens=37).generate(ids[::-1], 48) == ref[::-1]
    assert all(0 < len(n) <= 48 for n in ref)
    assert any(n[-1] == eos for n in ref), [len(n) for n in ref]
    assert any(eos not in n for n in ref), [len(n) for n in ref]  # both ways of ending occur


def test_rows_end_at_eos_or_the_token_budget(loaded_sft, mixed):
    from harness_opt.packed import PackedGenerator

    ids = _ids(loaded_sft, mixed[:6])
    gen = PackedGenerator(loaded_sft.model, loaded_sft.tokenizer.eos_token_id, 4)
    assert all(len(n) == 1 for n in gen.generate(ids, 1))
    assert gen.generate(ids, 0) == [[] for _ in ids]
    no_eos = PackedGenerator(loaded_sft.model, None, 4).generate(ids, 9)
    assert all(len(n) == 9 for n in no_eos)


def test_gemm_row_counts_are_padded_to_sizes_where_rows_do_not_interact(loaded_sft):
    import torch

    gen = loaded_sft.packed
    assert 1 <= gen.floor <= 41
    lin = loaded_sft.model.model.decoder.layers[0].fc1
    x = torch.randn(64, lin.in_features, generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        full = lin(x)
        for m in range(1, 20):
            rows = gen.rows_for(m)
            assert rows >= m and torch.equal(lin(x[:rows])[:m], full[:m]), m


def test_the_engine_is_an_option_in_the_fingerprint_and_a_bad_one_is_named(tiny_trained, variants, home):
    v = variants["tiny-opt-sft"]
    auto = v.fingerprint(make_ctx(v, home))
    assert auto == v.fingerprint(make_ctx(v, home, {"engine": "packed"}))  # auto is packed on CPU
    assert auto != v.fingerprint(make_ctx(v, home, {"engine": "hf"}))
    with pytest.raises(HarnessError, match=r"unknown generation engine .*'pakced'.*did you mean 'packed'"):
        v.fingerprint(make_ctx(v, home, {"engine": "pakced"}))


def test_the_model_keeps_its_own_attention_after_a_packed_call(loaded_sft, mixed):
    before = loaded_sft.model.config._attn_implementation
    loaded_sft.generate(mixed[:2])
    assert loaded_sft.model.config._attn_implementation == before


def test_a_memory_budget_narrows_decode_without_changing_tokens(loaded_sft, mixed):
    from harness_opt.packed import PackedGenerator

    ids = _ids(loaded_sft, mixed[:12])
    eos = loaded_sft.tokenizer.eos_token_id
    wide = PackedGenerator(loaded_sft.model, eos, 12)
    one_at_a_time = PackedGenerator(loaded_sft.model, eos, 12, kv_budget_bytes=1)  # room for one row: always let in
    per_token = wide.kv_budget_tokens * 1.0
    assert one_at_a_time.kv_budget_tokens == 1 and per_token > 1000
    assert one_at_a_time.generate(ids, 24) == wide.generate(ids, 24)


def test_an_over_long_prompt_is_cut_from_the_left_as_the_padded_engine_cuts_it(loaded_sft, variants, home, mixed):
    v = variants["tiny-opt-sft"]
    hf = v.load(make_ctx(v, home, {"engine": "hf"}, generation=GenerationSettings(max_new_tokens=48,
                                                                                     prompt_format="raw")))
    long = Prompt("helpful", "long", "en", "helpful", " ".join(p.text for p in mixed) * 3)
    batch = [mixed[0], long, mixed[1]]
    ours, theirs = loaded_sft.generate(batch), hf.generate(batch)
    assert len(loaded_sft.tokenizer(long.text)["input_ids"]) > loaded_sft.max_prompt_tokens
    assert [o.meta["truncated"] for o in ours] == [False, True, False]
    assert [o.response for o in ours] == [o.response for o in theirs]
