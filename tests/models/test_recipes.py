"""Recipes are data: overrides change the checkpoint key, an unchanged recipe keeps it."""

from __future__ import annotations

import pytest
from harness_opt.recipes import effective_recipe

from harness.types import HarnessError

from .conftest import make_ctx


def test_opt350m_recipe_is_the_studys():
    r = effective_recipe("opt-350m", {})
    assert r["base"] == "facebook/opt-350m"
    assert (r["sft"]["epochs"], r["sft"]["learning_rate"], r["sft"]["max_length"]) == (2, 2e-5, 512)
    assert (r["sft"]["per_device_batch_size"], r["sft"]["gradient_accumulation_steps"]) == (2, 4)
    d = r["dpo"]
    assert (d["lora_r"], d["lora_alpha"], d["lora_dropout"], d["beta"], d["epochs"]) == (8, 16, 0.05, 0.1, 1)
    assert d["lora_target_modules"] == ["q_proj", "v_proj"] and d["lora_bias"] == "none"


def test_nested_and_dotted_overrides_merge():
    a = effective_recipe("tiny-opt", {"sft": {"epochs": 1}})
    b = effective_recipe("tiny-opt", {"sft.epochs": 1})
    assert a == b and a["sft"]["epochs"] == 1
    assert a["sft"]["learning_rate"] == effective_recipe("tiny-opt", {})["sft"]["learning_rate"]


def test_unknown_option_is_a_user_error():
    with pytest.raises(HarnessError, match="unknown option"):
        effective_recipe("tiny-opt", {"learning_rate": 1.0})


def _key(variants, home, name, options=None):
    v = variants[name]
    return v.plan(make_ctx(v, home, options)).stages[-1].key


def test_checkpoint_key_tracks_the_recipe(variants, home):
    k = _key(variants, home, "tiny-opt-sft")
    assert k == _key(variants, home, "tiny-opt-sft")
    assert k != _key(variants, home, "tiny-opt-sft", {"sft.learning_rate": 1e-4})
    assert k != _key(variants, home, "tiny-opt-sft", {"seed": 1})
    assert k != _key(variants, home, "tiny-opt-sft", {"data.limit": 10})
    # DPO hyper-parameters do not touch the SFT checkpoint, but do change SFT+DPO.
    assert k == _key(variants, home, "tiny-opt-sft", {"dpo.beta": 0.5})
    sd = _key(variants, home, "tiny-opt-sft-dpo")
    assert sd != _key(variants, home, "tiny-opt-sft-dpo", {"dpo.beta": 0.5})
    assert sd != _key(variants, home, "tiny-opt-sft-dpo", {"sft.epochs": 1})


def test_sft_dpo_chain_starts_from_the_sft_checkpoint(variants, home):
    sft = variants["tiny-opt-sft"].plan(make_ctx(variants["tiny-opt-sft"], home)).stages
    chain = variants["tiny-opt-sft-dpo"].plan(make_ctx(variants["tiny-opt-sft-dpo"], home)).stages
    assert [s.recipe for s in chain] == ["sft", "sft+dpo"]
    assert chain[0] == sft[0]


def test_misspelt_recipe_key_is_a_user_error_with_a_suggestion():
    with pytest.raises(HarnessError, match=r"sft\.epochz.*did you mean sft\.epochs"):
        effective_recipe("tiny-opt", {"sft.epochz": 1})
    with pytest.raises(HarnessError, match=r"dpo\.betta"):
        effective_recipe("opt-350m", {"dpo": {"betta": 0.2}})
