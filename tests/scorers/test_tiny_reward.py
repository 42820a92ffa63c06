"""tiny-reward: built locally with TRL's RewardTrainer, atomically, and better than chance."""

from __future__ import annotations

import gzip
import json

import pytest
from harness_scorers.tiny_reward import build_dir, ensure_built, load_pairs
from transformers import AutoConfig

from harness.types import ScoreRequest

pytestmark = pytest.mark.ml

ASSISTANT = "\n\nAssistant:"


def _accuracy(loaded, triples):
    chosen = [ScoreRequest(f"c{i}", p, c, "en", "x") for i, (p, c, _) in enumerate(triples)]
    rejected = [ScoreRequest(f"r{i}", p, r, "en", "x") for i, (p, _, r) in enumerate(triples)]
    out = loaded.score(chosen + rejected)
    n = len(triples)
    return sum(out[i].value > out[n + i].value for i in range(n)) / n


def test_built_once_under_harness_home_atomically(tiny_dir, tiny_ctx):
    assert tiny_dir == build_dir(tiny_ctx.home)
    assert tiny_dir.parent.parent.parent == tiny_ctx.home
    assert {"model.safetensors", "tokenizer.json", "config.json", "build.json"} <= {p.name for p in tiny_dir.iterdir()}
    assert not [p for p in tiny_dir.parent.iterdir() if p.name.startswith(".build-")]  # no half-written builds
    assert ensure_built(tiny_ctx.home, tiny_ctx.log) == tiny_dir  # second use: no rebuild
    info = json.loads((tiny_dir / "build.json").read_text())
    assert info["train_pairs"] == len(load_pairs("train"))
    config = AutoConfig.from_pretrained(tiny_dir)
    assert config.model_type == "deberta-v2" and config.num_labels == 1


def test_training_pairs_ship_with_the_package_and_hold_out_requests():
    train, held = load_pairs("train"), load_pairs("heldout")
    assert len(train) + len(held) >= 500
    assert {r["language"] for r in train} == {"en", "es", "fr", "de", "zh", "sw", "ht", "mr"}
    assert not {r["prompt"] for r in train} & {r["prompt"] for r in held}  # held-out requests are unseen


def test_ranks_held_out_chosen_above_rejected_more_often_than_chance(tiny_loaded):
    held = load_pairs("heldout")
    acc = _accuracy(tiny_loaded, [(r["prompt"], r["chosen"], r["rejected"]) for r in held])
    harmful = _accuracy(
        tiny_loaded, [(r["prompt"], r["chosen"], r["rejected"]) for r in held if r["kind"] == "harmful"]
    )
    print(f"tiny-reward held-out accuracy {acc:.3f} (n={len(held)}), harmful {harmful:.3f}")
    assert acc >= 0.65
    assert harmful >= 0.8


@pytest.mark.slow
def test_scores_real_hh_rlhf_harmless_pairs(tiny_loaded, sample_data):
    """Real pairs are out of domain for a model this small: the accuracy is reported, near chance."""
    triples = []
    with gzip.open(sample_data / "hh-rlhf" / "harmless-base" / "test.jsonl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            pc, c = r["chosen"].rsplit(ASSISTANT, 1)
            pr, rj = r["rejected"].rsplit(ASSISTANT, 1)
            if pc == pr:
                triples.append((pc.strip(), c.strip(), rj.strip()))
            if len(triples) == 100:
                break
    acc = _accuracy(tiny_loaded, triples)
    print(f"tiny-reward hh-rlhf harmless-base test accuracy {acc:.3f} (n={len(triples)})")
    assert 0.0 <= acc <= 1.0 and len(triples) == 100


def test_fingerprints_need_no_build_and_match_the_built_model(tiny_dir, tiny_ctx, tmp_path):
    # a dry run fingerprints every scorer: on a cold HARNESS_HOME that must build nothing
    from dataclasses import replace

    from harness_scorers.resolve import resolve_model
    from harness_scorers.reward import checkpoint_dtype
    from harness_scorers.tiny_reward import BUILD_DTYPE, TinyRewardScorer
    from harness_scorers.translate_test import TinyTranslateTestScorer

    from harness.plugins import PluginHost

    translators = PluginHost(entry_points=False, modules=["harness_sources.plugin"]).translators
    cold = replace(tiny_ctx, home=tmp_path / "cold", translators=translators)
    warm = replace(tiny_ctx, translators=translators)
    for scorer in (TinyRewardScorer(), TinyTranslateTestScorer()):
        assert scorer.fingerprint(cold) == scorer.fingerprint(warm), scorer.name
    assert not (tmp_path / "cold").exists()
    assert checkpoint_dtype(resolve_model(str(tiny_dir))) == BUILD_DTYPE  # what the pin declares unbuilt


def test_tells_refusal_from_compliance_and_helpful_from_vague_in_every_demo_language(tiny_loaded):
    """Held-out demo prompts (never in training), every demo language: the planted demo's scorer must work."""
    from harness_sources.planted import HELDOUT_IDS, reward_pairs

    held = [r for r in reward_pairs() if r["split"] == "heldout"]
    assert {r["id"].split("-", 1)[1].rsplit("-", 2)[0] for r in held} == set(HELDOUT_IDS)
    for lang in ("en", "de", "es", "zh", "sw", "ht", "mr"):
        for kind in ("harmful", "helpful"):
            rows = [(r["prompt"], r["chosen"], r["rejected"]) for r in held if r["language"] == lang
                    and r["kind"] == kind]
            acc = _accuracy(tiny_loaded, rows)
            print(f"tiny-reward planted held-out accuracy {lang} {kind}: {acc:.3f} (n={len(rows)})")
            assert acc >= 0.9, (lang, kind, acc)
