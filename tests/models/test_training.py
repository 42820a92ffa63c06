"""`harness train` semantics on the tiny family: the same TRL paths, cache hits, logs beside checkpoints."""

from __future__ import annotations

import json
import time

import pytest

from .conftest import make_ctx

pytestmark = [pytest.mark.ml, pytest.mark.slow]  # trains tiny models


def test_each_trained_variant_has_weights_log_and_config(tiny_trained):
    for name, r in tiny_trained.items():
        folder = r["folder"]
        for f in ("config.json", "model.safetensors", "tokenizer.json", "train_log.jsonl", "train_config.json",
                  "harness_checkpoint.json"):
            assert (folder / f).is_file(), (name, f)
        cfg = json.loads((folder / "train_config.json").read_text())
        assert cfg["variant"] == name and cfg["steps"] > 0
        losses = [json.loads(x)["loss"] for x in (folder / "train_log.jsonl").read_text().splitlines()
                  if "loss" in json.loads(x)]
        assert losses, name
    assert not list(tiny_trained["tiny-opt-sft"]["folder"].parent.glob(".tmp-*"))


def test_sft_lowers_the_loss(tiny_trained):
    cfg = json.loads((tiny_trained["tiny-opt-sft"]["folder"] / "train_config.json").read_text())
    assert cfg["last_loss"] < cfg["first_loss"] - 0.5


def test_dpo_saves_a_lora_adapter_with_the_recipe_settings(tiny_trained):
    for name in ("tiny-opt-dpo", "tiny-opt-sft-dpo"):
        adapter = json.loads((tiny_trained[name]["folder"] / "adapter" / "adapter_config.json").read_text())
        assert adapter["r"] == 8 and adapter["lora_alpha"] == 16 and adapter["lora_dropout"] == 0.05
        assert sorted(adapter["target_modules"]) == ["q_proj", "v_proj"]


def test_sft_dpo_trains_from_the_sft_checkpoint(tiny_trained):
    sft_folder = tiny_trained["tiny-opt-sft"]["folder"]
    cfg = json.loads((tiny_trained["tiny-opt-sft-dpo"]["folder"] / "train_config.json").read_text())
    assert cfg["start"] == str(sft_folder)
    stages = tiny_trained["tiny-opt-sft-dpo"]["reports"]
    assert [s["stage"] for s in stages] == ["sft", "sft+dpo"]
    assert stages[0]["cached"] is True  # the SFT run of tiny-opt-sft was reused


def test_unchanged_recipe_is_a_cache_hit(tiny_trained, variants, home):
    for name in tiny_trained:
        v = variants[name]
        t0 = time.perf_counter()
        folder, reports = v.ensure_trained(make_ctx(v, home, train_missing=True))
        assert folder == tiny_trained[name]["folder"]
        assert all(r["cached"] for r in reports)
        assert time.perf_counter() - t0 < 2.0
        assert v.is_available(make_ctx(v, home)) is None


def test_train_missing_trains_a_changed_recipe_on_load(tiny_trained, variants, home):
    v = variants["tiny-opt-sft"]
    opts = {"sft.epochs": 1, "data.limit": 8}
    assert "harness train tiny-opt-sft" in v.is_available(make_ctx(v, home, opts))
    loaded = v.load(make_ctx(v, home, opts, train_missing=True))
    loaded.close()
    folder = v.plan(make_ctx(v, home, opts)).folder
    assert folder != tiny_trained["tiny-opt-sft"]["folder"] and (folder / "train_log.jsonl").is_file()
    assert json.loads((folder / "train_config.json").read_text())["n_examples"] == 8
