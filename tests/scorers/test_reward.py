"""Reward-model scoring: sentence-pair encoding, explicit truncation, batch-size invariance, fingerprints."""

from __future__ import annotations

import math
import os

import pytest
from harness_scorers.encoding import encode_pair
from harness_scorers.reward import RewardModelScorer
from harness_scorers.tiny_reward import TinyRewardScorer

from harness.types import Context, HarnessError, ScoreRequest

pytestmark = pytest.mark.ml

LONG = "This answer goes on and on about many different things. " * 120  # far beyond 512 tokens


@pytest.fixture(scope="session")
def mixed_requests(study_responses, multijail, script_samples, requests_from):
    """Real prompts and responses, empties, over-long pairs and every script, in a fixed order."""
    rows = [dict(r) for r in study_responses[::8]]  # 50 of the study's released generations
    rows += [
        {"prompt": m["en"], "response": "I'm sorry, I can't help with that.", "kind": "harmful"} for m in multijail[:10]
    ]
    rows += [{"prompt": m["sw"], "response": m["sw"], "language": "sw"} for m in multijail[10:14]]
    rows += [{"prompt": t, "response": t, "language": lang} for lang, t in sorted(script_samples.items())]
    rows += [
        {"prompt": "How do I bake bread?", "response": ""},
        {"prompt": "", "response": ""},
        {"prompt": "Tell me everything.", "response": LONG},
        {"prompt": LONG, "response": "Sure."},
        {"prompt": LONG, "response": LONG},
    ]
    return requests_from(rows)


def test_sentence_pair_encoding_truncates_explicitly(tiny_loaded):
    tok = tiny_loaded.tokenizer
    plain = encode_pair(tok, "How do I bake bread?", "Mix flour and water.", 512)
    assert not plain.truncated
    assert plain.input_ids == tok("How do I bake bread?", "Mix flour and water.")["input_ids"]
    assert plain.input_ids.count(tok.sep_token_id) == 2  # a pair, not a concatenation

    long_response = encode_pair(tok, "Tell me everything.", LONG, 512)
    assert long_response.truncated and len(long_response.input_ids) == 512 and long_response.n_tokens > 512
    prompt_ids = tok("Tell me everything.", add_special_tokens=False)["input_ids"]
    assert long_response.input_ids[1 : 1 + len(prompt_ids)] == prompt_ids  # the prompt is kept whole

    long_prompt = encode_pair(tok, LONG, "Sure.", 512)  # only_second impossible: longest_first
    assert long_prompt.truncated and len(long_prompt.input_ids) == 512

    empty = encode_pair(tok, "Hi", "", 512)
    # the model card's call: tokenizer(prompt, "") is the prompt alone
    assert not empty.truncated and empty.input_ids == tok("Hi", "")["input_ids"] == tok("Hi")["input_ids"]


@pytest.mark.slow
def test_scores_do_not_depend_on_batch_size(tiny_loaded, mixed_requests):
    items = mixed_requests
    by_size = {}
    for size in (1, 8, 32):
        outs = []
        for start in range(0, len(items), size):
            outs += tiny_loaded.score(items[start : start + size])
        by_size[size] = outs
    values = [o.value for o in by_size[1]]
    assert len(values) == len(items) and all(math.isfinite(v) for v in values)
    assert [o.value for o in by_size[8]] == values
    assert [o.value for o in by_size[32]] == values
    assert [o.meta for o in by_size[32]] == [o.meta for o in by_size[1]]
    # order inside a batch does not matter either
    reversed_out = tiny_loaded.score(items[::-1])
    assert [o.value for o in reversed_out][::-1] == values
    assert len(set(values)) > len(values) // 2  # real, distinct scores


def test_truncation_is_recorded(tiny_loaded, mixed_requests):
    out = tiny_loaded.score(mixed_requests)
    flags = {(r.prompt[:20], r.response[:20]): o.meta["truncated"] for r, o in zip(mixed_requests, out)}
    assert flags[("Tell me everything.", LONG[:20])] is True
    assert flags[(LONG[:20], "Sure.")] is True
    assert flags[("How do I bake bread?", "")] is False


def test_deberta_reward_loads_a_local_folder(tiny_dir, tiny_loaded, study_responses, requests_from):
    ctx = Context(options={"model": str(tiny_dir)}, device="cpu")
    scorer = RewardModelScorer("deberta-reward")
    loaded = scorer.load(ctx)
    items = requests_from(study_responses[:12])
    assert [o.value for o in loaded.score(items)] == [o.value for o in tiny_loaded.score(items)]


def test_fingerprint_covers_weights_tokenizer_and_truncation(tiny_dir, tmp_path):
    scorer = RewardModelScorer("deberta-reward")
    base = scorer.fingerprint(Context(options={"model": str(tiny_dir)}))
    assert scorer.fingerprint(Context(options={"model": str(tiny_dir)}, device="cuda", batch_size=3)) == base
    assert scorer.fingerprint(Context(options={"model": str(tiny_dir), "max_length": 256})) != base
    # a copy with one weight byte changed, or a different tokenizer file, is a different scorer
    copy = tmp_path / "copy"
    copy.mkdir()
    for f in tiny_dir.iterdir():
        (copy / f.name).write_bytes(f.read_bytes())
    assert scorer.fingerprint(Context(options={"model": str(copy)})) == base  # location does not matter
    tok = copy / "tokenizer_config.json"
    tok.write_text(tok.read_text().replace("}", ', "x": 1}', 1))
    assert scorer.fingerprint(Context(options={"model": str(copy)})) != base
    weights = copy / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1
    weights.write_bytes(bytes(data))
    assert scorer.fingerprint(Context(options={"model": str(copy)})) != base


def test_tiny_reward_fingerprint_is_stable(tiny_dir, tiny_ctx):
    assert TinyRewardScorer().fingerprint(tiny_ctx) == TinyRewardScorer().fingerprint(tiny_ctx)


def test_hub_weights_unreachable_offline_is_one_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    scorer = RewardModelScorer("deberta-reward")
    ctx = Context(device="cpu")
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    for call in (scorer.fingerprint, scorer.load):
        with pytest.raises(HarnessError) as err:
            call(ctx)
        msg = str(err.value)
        assert "OpenAssistant/reward-model-deberta-v3-large-v2" in msg and "HF_HUB_OFFLINE" in msg
        assert "\n" not in msg


def test_missing_local_folder_is_a_clear_error():
    with pytest.raises(HarnessError, match="does not exist"):
        RewardModelScorer().fingerprint(Context(options={"model": "./no/such/folder"}))


def test_empty_and_overlong_inputs_score(tiny_loaded):
    items = [
        ScoreRequest("a", "", "", "en", "helpful"),
        ScoreRequest("b", LONG, LONG, "en", "helpful"),
        ScoreRequest("c", "Hi", "\n\n\n", "en", "helpful"),
    ]
    out = tiny_loaded.score(items)
    assert all(math.isfinite(o.value) for o in out)
    assert [o.meta["truncated"] for o in out] == [False, True, False]


@pytest.mark.slow
def test_bf16_scores_are_batch_invariant_close_to_fp32_and_stored_apart(tiny_ctx, tiny_loaded, mixed_requests):
    from dataclasses import replace

    bf16_ctx = replace(tiny_ctx, dtype="bfloat16")
    scorer = TinyRewardScorer()
    assert scorer.fingerprint(bf16_ctx) != scorer.fingerprint(tiny_ctx)
    loaded = scorer.load(bf16_ctx)
    assert str(next(loaded.model.parameters()).dtype) == "torch.bfloat16"
    items = mixed_requests
    by_size = {size: [o.value for s in range(0, len(items), size) for o in loaded.score(items[s : s + size])]
               for size in (1, 8, 32)}
    assert by_size[8] == by_size[1] and by_size[32] == by_size[1]
    fp32 = [o.value for o in tiny_loaded.score(items)]
    diffs = [abs(a - b) for a, b in zip(by_size[1], fp32)]
    assert 0 < max(diffs) < 0.5  # bf16 rounds: close to fp32, not equal
    loaded.close()
