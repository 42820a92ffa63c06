"""Hub-only paths fail with one clear line naming what is missing and how to provide it."""

from __future__ import annotations

import pytest

from harness.types import HarnessError

from .conftest import make_ctx


@pytest.fixture
def empty_hf_cache(tmp_path, monkeypatch):
    import huggingface_hub.constants as c

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(c, "HF_HUB_CACHE", str(tmp_path / "hf"))
    return tmp_path / "hf"


def test_opt350m_offline_without_cache_names_files_and_fix(variants, home, empty_hf_cache):
    v = variants["opt-350m"]
    ctx = make_ctx(v, home)
    reason = v.is_available(ctx)
    assert reason and "\n" not in reason
    for needle in ("facebook/opt-350m", "config.json", "--set opt-350m.checkpoint=PATH", "HF_HUB_OFFLINE"):
        assert needle in reason
    with pytest.raises(HarnessError) as err:
        v.load(ctx)
    assert str(err.value) == reason


def test_trained_variant_without_checkpoint_names_the_train_command(variants, home, empty_hf_cache):
    v = variants["opt-350m-sft"]
    reason = v.is_available(make_ctx(v, home))
    assert "harness train opt-350m-sft" in reason and "--train-missing" in reason
    # With --train-missing, the reason is what training would need: the base weights.
    reason = v.is_available(make_ctx(v, home, train_missing=True))
    assert "facebook/opt-350m" in reason and "--set opt-350m-sft.base=PATH" in reason
    with pytest.raises(HarnessError, match="facebook/opt-350m"):
        v.load(make_ctx(v, home, train_missing=True))


def test_hh_train_split_offline_is_named(variants, home, tmp_path, empty_hf_cache):
    # A local (fake-complete) base folder, so the only thing missing is the training data.
    base = tmp_path / "base"
    base.mkdir()
    (base / "config.json").write_text("{}")
    (base / "model.safetensors").write_bytes(b"")
    v = variants["opt-350m-sft"]
    reason = v.is_available(make_ctx(v, home, {"base": str(base)}, train_missing=True))
    assert "HH-RLHF train split" in reason and "hh-rlhf/<subset>/train.jsonl.gz" in reason


def test_checkpoint_option_pointing_nowhere_is_explained(variants, home, tmp_path):
    v = variants["opt-350m-dpo"]
    reason = v.is_available(make_ctx(v, home, {"checkpoint": str(tmp_path / "nope")}))
    assert "is not a model folder" in reason and "config.json" in reason
