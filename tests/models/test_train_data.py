"""Training data: HH transcripts split into DPO triples; local HH-RLHF files read by path."""

from __future__ import annotations

from harness_opt.train_data import data_fingerprint, dpo_triples, load_pairs, split_pair


def test_split_pair_shares_the_prompt_up_to_the_last_assistant_turn():
    chosen = "\n\nHuman: hi\n\nAssistant: hello\n\nHuman: help?\n\nAssistant: Sure."
    rejected = "\n\nHuman: hi\n\nAssistant: hello\n\nHuman: help?\n\nAssistant: No."
    t = split_pair(chosen, rejected)
    assert t == {"prompt": chosen[: -len(" Sure.")], "chosen": " Sure.", "rejected": " No."}
    assert split_pair(chosen, "\n\nHuman: other\n\nAssistant: No.") is None


def test_packaged_tiny_set_is_a_few_dozen_hh_pairs():
    pairs = load_pairs({"source": "tiny-prefs"}, None)
    assert 30 <= len(pairs) <= 100
    assert all(p["chosen"].startswith("\n\nHuman: ") and "\n\nAssistant: " in p["chosen"] for p in pairs)
    assert len(dpo_triples(pairs)) == len(pairs)


def test_local_hh_rlhf_files_are_read_by_path(sample_data, on_samples):
    sel = {"source": "hh-rlhf", "hub_id": "Anthropic/hh-rlhf", "subsets": ["harmless-base"], "split": "test",
           "limit": 0}
    pairs = load_pairs(sel, sample_data)
    assert len(pairs) == (160 if on_samples else 2312)  # the harmless-base test split (or its sample)
    triples = dpo_triples(pairs)
    assert len(triples) > 0.9 * len(pairs)
    assert all(t["prompt"].endswith("\n\nAssistant:") for t in triples)
    fp = data_fingerprint(sel, sample_data)
    assert fp != data_fingerprint(dict(sel, limit=100), sample_data)
    assert len(load_pairs(dict(sel, limit=100), sample_data)) == 100
