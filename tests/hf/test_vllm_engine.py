"""The ``vllm`` engine without vLLM (none is installed here, and it needs a GPU): vllm is imported only when the
engine is used, greedy sampling parameters, the prompts as the harness's own token ids, results read back as
the in-process engines read theirs, and the option's wiring (fingerprint, errors). A stand-in ``vllm`` module
that decodes with transformers checks the request building and result mapping end to end; it measures
nothing about vLLM itself."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest

from harness.types import GenerationSettings, HarnessError

from .conftest import make_ctx, prompts


def test_harness_hf_never_imports_vllm_until_the_engine_is_used():
    code = ("import sys, harness_hf.plugin, harness_hf.variants, harness_hf.loaded, harness_hf.vllm_engine; "
            "sys.exit(1 if 'vllm' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_sampling_is_greedy_to_max_new_tokens_stopping_at_every_end_of_turn():
    from harness_hf.vllm_engine import sampling_kwargs, token_prompts

    kw = sampling_kwargs(GenerationSettings(max_new_tokens=50), [2, 7], seed=3)
    assert kw == {"n": 1, "temperature": 0.0, "top_p": 1.0, "seed": 3, "max_tokens": 50, "stop_token_ids": [2, 7],
                  "skip_special_tokens": True, "detokenize": False}
    assert token_prompts([[1, 2], [3]]) == [{"prompt_token_ids": [1, 2]}, {"prompt_token_ids": [3]}]


def test_results_are_cut_at_the_first_end_of_turn_and_decoded_by_the_tokenizer():
    from harness_hf.vllm_engine import LoadedVllm

    tok = SimpleNamespace(decode=lambda ids, skip_special_tokens: "|".join(map(str, ids)))
    loaded = LoadedVllm(None, None, tok, str, True, eos_ids=[2, 9], max_prompt_tokens=100)

    def result(ids, finish):
        return SimpleNamespace(outputs=[SimpleNamespace(token_ids=ids, finish_reason=finish)])

    outs = loaded.outputs([result([5, 6, 9], "stop"), result([5, 6, 7], "length"), result([2], "stop")],
                          [False, True, False])
    assert [o.response for o in outs] == ["5|6", "5|6|7", ""]
    assert [dict(o.meta) for o in outs] == [
        {"n_new_tokens": 2, "stopped_at_eos": True, "truncated": False},
        {"n_new_tokens": 3, "stopped_at_eos": False, "truncated": True},
        {"n_new_tokens": 0, "stopped_at_eos": True, "truncated": False}]


def _declared(home: Path, hf_variants, engine: str):
    from harness_hf.backend import HfBackend

    v = hf_variants["tiny-llama"]
    folder = v._base_path(v.plan(make_ctx(v, home)), make_ctx(v, home))
    variant = HfBackend().declare("llama-folder", str(folder), {})
    return variant, make_ctx(variant, home, {"engine": engine})


@pytest.mark.ml
def test_engine_option_wiring(hf_variants, home):
    variant, ctx = _declared(home, hf_variants, "vllm")
    auto = variant.fingerprint(make_ctx(variant, home))
    assert variant.fingerprint(ctx) != auto
    assert variant.fingerprint(make_ctx(variant, home, {"engine": "vllm", "vllm_args": {"max_model_len": 64}})) \
        != variant.fingerprint(ctx)
    with pytest.raises(HarnessError, match=r"unknown generation engine \(option engine\) 'vlm' \(did you mean 'vllm'"):
        variant.fingerprint(make_ctx(variant, home, {"engine": "vlm"}))
    import importlib.util

    if importlib.util.find_spec("vllm") is None:
        with pytest.raises(HarnessError, match="engine 'vllm' needs vllm"):
            variant.load(ctx)


class _StandInLLM:
    """``vllm.LLM``'s interface over transformers' greedy ``generate``, one prompt at a time (test only)."""

    def __init__(self, model, tokenizer, dtype, seed, trust_remote_code, **kw):
        import torch
        from transformers import AutoModelForCausalLM

        self.model = AutoModelForCausalLM.from_pretrained(model, dtype=getattr(torch, dtype)).eval()
        self.seen: list = []

    def generate(self, requests, params, use_tqdm=True):
        import torch

        assert params.kw["temperature"] == 0.0 and not use_tqdm
        out = []
        for r in requests:
            ids = torch.tensor([r["prompt_token_ids"]])
            self.seen.append(r["prompt_token_ids"])
            with torch.inference_mode():
                seq = self.model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=False,
                                          max_new_tokens=params.kw["max_tokens"], pad_token_id=0,
                                          eos_token_id=params.kw["stop_token_ids"])
            new = seq[0, ids.shape[1]:].tolist()  # vLLM keeps the stop token in token_ids
            finish = "stop" if new and new[-1] in params.kw["stop_token_ids"] else "length"
            out.append(SimpleNamespace(outputs=[SimpleNamespace(token_ids=new, finish_reason=finish)]))
        return out


@pytest.mark.ml
@pytest.mark.parametrize("fmt", ["chat", "hh"])
def test_requests_and_results_through_a_stand_in_vllm_match_the_in_process_engine(hf_variants, home, monkeypatch,
                                                                                   fmt):
    fake = ModuleType("vllm")
    fake.LLM = _StandInLLM
    fake.SamplingParams = lambda **kw: SimpleNamespace(kw=kw)
    monkeypatch.setitem(sys.modules, "vllm", fake)
    variant, _ = _declared(home, hf_variants, "vllm")
    settings = GenerationSettings(max_new_tokens=24, prompt_format=fmt)
    via_vllm = variant.load(make_ctx(variant, home, {"engine": "vllm"}, generation=settings))
    in_process = variant.load(make_ctx(variant, home, {"engine": "hf"}, generation=settings))
    ps = prompts()
    got, want = via_vllm.generate(ps), in_process.generate(ps)
    assert via_vllm.item_lengths(ps) == in_process.item_lengths(ps)  # the same token ids reach both engines
    assert [o.response for o in got] == [o.response for o in want]
    assert [o.meta["n_new_tokens"] for o in got] == [o.meta["n_new_tokens"] for o in want]
