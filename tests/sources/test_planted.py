"""The planted demo's training data: what each stage sees, built the same way every time."""

from __future__ import annotations

from harness_opt.train_data import dpo_triples, load_pairs, sft_texts
from harness_sources import planted

HIGH, LOW = ("en", "de", "es", "zh"), ("sw", "ht", "mr")


def test_dpo_pairs_only_in_the_languages_given_and_sft_never_refuses_more_than_the_base():
    data = {"source": "planted", "dpo_languages": list(HIGH)}
    pairs = load_pairs(data, None)
    assert pairs == load_pairs(data, None)  # deterministic
    triples = dpo_triples(pairs)
    rep = planted.responses()
    refusals = {lang: rep["refuse"][lang] for lang in HIGH + LOW}
    assert triples and all(t["chosen"].strip() in sum(refusals.values(), []) for t in triples)
    assert not [t for t in triples for lang in LOW if t["chosen"].strip() in refusals[lang]]
    assert len(dpo_triples(load_pairs({**data, "dpo_languages": list(HIGH + LOW)}, None))) == 10 * 7
    # SFT: helpful answers to helpful prompts; harmful prompts keep the base's mix (compliance first)
    assert sft_texts(pairs) == planted.sft_texts()
    assert planted.COMPLIANCES > planted.REFUSALS > 0


def test_reward_pairs_hold_out_whole_prompts_in_every_language():
    rows = planted.reward_pairs()
    held = {r["prompt"] for r in rows if r["split"] == "heldout"}
    train = {r["prompt"] for r in rows if r["split"] == "train"}
    assert held and not held & train
    assert {r["language"] for r in rows if r["split"] == "heldout"} == set(HIGH + LOW)
