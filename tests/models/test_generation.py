"""Greedy generation: new tokens only, stop at EOS, identical for every batch size, fingerprinted settings."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from harness.types import GenerationSettings, Prompt

from .conftest import make_ctx

pytestmark = pytest.mark.ml


@pytest.fixture(scope="session")
def prompts(sample_data) -> list[Prompt]:
    """The study's 50 helpful prompts (varied lengths, `Human:` transcripts), sorted by length like the runner."""
    texts = json.loads((sample_data / "opt350m-paper" / "prompts" / "helpful_prompts.json").read_text())
    ps = [Prompt("helpful", str(i), "en", "helpful", t) for i, t in enumerate(texts)]
    return sorted(ps, key=lambda p: len(p.text))


def _run(loaded, prompts, bs):
    out = []
    for i in range(0, len(prompts), bs):
        out.extend(loaded.generate(prompts[i:i + bs]))
    return [(o.response, o.meta["n_new_tokens"], o.meta["stopped_at_eos"]) for o in out]


def test_generations_do_not_depend_on_batch_size(tiny_trained, variants, home, prompts):
    # 40 prompts of very different lengths: batches of 8 and 32 pad most of them heavily.
    v = variants["tiny-opt-sft"]
    loaded = v.load(make_ctx(v, home, generation=GenerationSettings(max_new_tokens=16, prompt_format="hh")))
    subset = prompts[::5] + prompts[1::5] + prompts[2::5] + prompts[3::5]  # 40, mixed lengths per batch
    ref = _run(loaded, subset, 1)
    assert _run(loaded, subset, 8) == ref
    assert _run(loaded, subset, 32) == ref
    assert all(0 < n <= 16 for _, n, _ in ref)
    assert len({r[0] for r in ref}) > 1
    loaded.close()


def test_raw_and_hh_formats_feed_different_inputs(tiny_trained, variants, home, prompts):
    v = variants["tiny-opt-sft"]
    gen = GenerationSettings(max_new_tokens=8, prompt_format="raw")
    raw = v.load(make_ctx(v, home, generation=gen))
    hh = v.load(make_ctx(v, home, generation=replace(gen, prompt_format="hh")))
    a, b = _run(raw, prompts[:8], 8), _run(hh, prompts[:8], 8)
    assert a != b


class _Tok:
    """A stand-in tokenizer: ids are characters' code points; eos=2, pad=1."""

    eos_token_id, pad_token_id, bos_token_id, eos_token = 2, 1, 2, "</s>"
    padding_side = truncation_side = "right"

    def __call__(self, texts, return_tensors=None, padding=False, truncation=False, max_length=None, **kw):
        import torch

        ids = [[ord(c) for c in t] for t in texts]
        if return_tensors is None:
            return {"input_ids": ids}
        width = max(map(len, ids))
        pad = [[1] * (width - len(x)) + x for x in ids]
        mask = [[0] * (width - len(x)) + [1] * len(x) for x in ids]

        class Enc(dict):
            def to(self, device):
                return self

        return Enc(input_ids=torch.tensor(pad), attention_mask=torch.tensor(mask))

    def decode(self, ids, skip_special_tokens=True):
        return "".join(chr(i) for i in ids if i > 2)


class _Model:
    """Echoes the prompt, then answers 'ok' + EOS + junk: the loaded model must return only 'ok'."""

    class config:
        max_position_embeddings = 2048

    def generate(self, input_ids, attention_mask, generation_config):
        import torch

        assert generation_config.do_sample is False and generation_config.max_new_tokens == 5
        new = torch.tensor([[ord("o"), ord("k"), 2, ord("x"), 1]] * input_ids.shape[0])
        return torch.cat([input_ids, new], dim=1)


def test_response_is_the_new_tokens_only_cut_at_eos():
    from harness_opt.generation import LoadedOpt

    loaded = LoadedOpt(_Model(), _Tok(), "cpu", GenerationSettings(max_new_tokens=5, prompt_format="hh"))
    outs = loaded.generate([Prompt("s", "1", "en", "helpful", "Hello there"), Prompt("s", "2", "en", "helpful", "x")])
    assert [o.response for o in outs] == ["ok", "ok"]
    assert all(o.meta["stopped_at_eos"] and o.meta["n_new_tokens"] == 2 for o in outs)
    assert _Tok.padding_side == "right" and loaded.tokenizer.padding_side == "left"


def test_fingerprint_covers_weights_format_generation_dtype_device(tiny_trained, variants, home, tmp_path):
    v = variants["tiny-opt-sft"]
    base = v.fingerprint(make_ctx(v, home))
    assert base == v.fingerprint(make_ctx(v, home))
    gen = GenerationSettings(max_new_tokens=12, prompt_format="hh")
    assert base != v.fingerprint(make_ctx(v, home, generation=replace(gen, prompt_format="raw")))
    assert base != v.fingerprint(make_ctx(v, home, generation=replace(gen, max_new_tokens=13)))
    assert base != v.fingerprint(make_ctx(v, home, {"dtype": "bfloat16"}))
    assert base != v.fingerprint(make_ctx(v, home, device="cuda"))
    assert base != v.fingerprint(make_ctx(v, home, {"sft.learning_rate": 1e-4}))
    other = tiny_trained["tiny-opt-dpo"]["folder"]
    assert base != v.fingerprint(make_ctx(v, home, {"checkpoint": str(other)}))
    assert base != variants["tiny-opt-sft-dpo"].fingerprint(make_ctx(variants["tiny-opt-sft-dpo"], home))


def test_checkpoint_option_loads_a_local_folder(tiny_trained, variants, home, prompts):
    v = variants["tiny-opt-dpo"]
    folder = tiny_trained["tiny-opt-sft"]["folder"]
    ctx = make_ctx(v, home, {"checkpoint": str(folder)})
    assert v.is_available(ctx) is None
    as_dpo = _run(v.load(ctx), prompts[:4], 4)
    s = variants["tiny-opt-sft"]
    assert as_dpo == _run(s.load(make_ctx(s, home)), prompts[:4], 4)


def test_cpu_auto_batch_size_is_capped(tiny_trained, variants, home, prompts):
    from harness_opt.generation import CPU_BATCH_CAP

    v = variants["tiny-opt"]
    loaded = v.load(make_ctx(v, home))
    assert loaded.auto_batch_size(prompts * 2) == CPU_BATCH_CAP
    assert loaded.auto_batch_size(prompts[:3]) == 3


@pytest.mark.parametrize("engine", ["packed", "hf"])
def test_bf16_generations_are_identical_for_every_batch_size(tiny_trained, variants, home, prompts, engine):
    # bf16 attention over a padded row rounds differently from the row alone: the packed engine never
    # pads, and transformers' generate gets ragged attention (what a GPU run uses in half precision).
    v = variants["tiny-opt-sft"]
    loaded = v.load(make_ctx(v, home, {"engine": engine}, dtype="bfloat16",
                             generation=GenerationSettings(max_new_tokens=16, prompt_format="hh")))
    assert str(next(loaded.model.parameters()).dtype) == "torch.bfloat16"
    assert (loaded.packed is not None) == (engine == "packed") and loaded.ragged == (engine == "hf")
    subset = prompts[::5] + prompts[1::5] + prompts[2::5] + prompts[3::5]
    ref = _run(loaded, subset, 1)
    assert _run(loaded, subset, 8) == ref
    assert _run(loaded, subset, 32) == ref
    assert len({r[0] for r in ref}) > 1
    loaded.close()


@pytest.mark.parametrize("engine", ["packed", "hf"])
def test_both_engines_give_transformers_own_tokens(tiny_trained, variants, home, prompts, engine):
    import torch

    v = variants["tiny-opt-sft"]
    loaded = v.load(make_ctx(v, home, {"engine": engine},
                             generation=GenerationSettings(max_new_tokens=12, prompt_format="hh")))
    batch = prompts[::6][:8]
    ours = [o.response for o in loaded.generate(batch)]
    tok = loaded.tokenizer
    from harness_opt.prompting import format_prompt

    enc = tok([format_prompt(p.text, "hh") for p in batch], return_tensors="pt", padding=True, truncation=True,
              max_length=loaded.max_prompt_tokens)
    with torch.inference_mode():
        out = loaded.model.generate(**enc, generation_config=loaded._gen_config())  # transformers' own cache
    eos = tok.eos_token_id
    plain = []
    for ids in out[:, enc["input_ids"].shape[1]:].tolist():
        plain.append(tok.decode(ids[: ids.index(eos)] if eos in ids else ids, skip_special_tokens=True))
    assert ours == plain


def test_run_dtype_is_in_the_fingerprint_and_an_option_overrides_it(tiny_trained, variants, home):
    v = variants["tiny-opt-sft"]
    fp32 = v.fingerprint(make_ctx(v, home))
    bf16 = v.fingerprint(make_ctx(v, home, dtype="bfloat16"))
    assert fp32 != bf16
    assert v.fingerprint(make_ctx(v, home, {"dtype": "bf16"})) == bf16  # short and long names agree
    assert v.fingerprint(make_ctx(v, home, {"dtype": "float32"}, dtype="bfloat16")) == fp32
