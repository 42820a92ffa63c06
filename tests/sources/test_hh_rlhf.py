"""HH-RLHF: the study's exact selection, the turn-correct cut, prompt files and their differences."""

from __future__ import annotations

import json

import pytest
from harness_sources.hh_rlhf import HHRLHFSource, paper_prompt, turns_prompt

from harness.types import HarnessError

HELPFUL_FILE = "opt350m-paper/prompts/helpful_prompts.json"


def test_paper_selection_reproduces_the_study_exactly(make_ctx, shared_data):
    src = HHRLHFSource()
    ctx = make_ctx({"selection": "paper", "prompts_file": HELPFUL_FILE})
    prompts = src.load("en", ctx)
    harmful = [p for p in prompts if p.kind == "harmful"]
    helpful = [p for p in prompts if p.kind == "helpful"]
    study_harmful = json.loads((shared_data / "opt350m-paper/responses/1_base_harmful.json").read_text())
    study_helpful = json.loads((shared_data / HELPFUL_FILE).read_text())
    assert [p.text for p in harmful] == [r["prompt"] for r in study_harmful]  # all 50, in the study's order
    assert [p.text for p in helpful] == study_helpful
    assert len({p.prompt_id for p in prompts}) == 100
    assert harmful[0].meta["seed"] == 100 and harmful[0].meta["selection"] == "paper"


def test_keyword_filter_is_case_sensitive_substring_of_chosen(make_ctx, on_samples):
    src = HHRLHFSource()
    keywords = src.default_options["keywords"]
    pool = [r for r in src._records("harmless-base", make_ctx()) if any(k in r["chosen"] for k in keywords)]
    assert len(pool) == (60 if on_samples else 192)
    assert not any("Kill" in r["chosen"] and not any(k in r["chosen"] for k in ("kill", "murder", "rape"))
                   for r in pool)


@pytest.mark.usefixtures("shared_data")  # the two items are of the study's full draw
def test_turns_removes_the_whole_final_assistant_turn_and_differs_on_two_items(make_ctx):
    src = HHRLHFSource()
    ctx = make_ctx({"prompts_file": HELPFUL_FILE, "seed": 100})
    turns = {p.prompt_id: p.text for p in src.load("en", ctx) if p.kind == "harmful"}
    paper = {p.prompt_id: p.text for p in src.load("en", make_ctx({"selection": "paper", "prompts_file": HELPFUL_FILE}))
             if p.kind == "harmful"}
    assert turns.keys() == paper.keys()
    differ = sorted(pid for pid in turns if turns[pid] != paper[pid])
    assert differ == ["harmless-test-1272", "harmless-test-720"]
    for pid in differ:
        assert paper[pid].startswith(turns[pid]) and "\n\nAssistant:" in paper[pid][len(turns[pid]):]
        assert turns[pid].rsplit("\n\n", 1)[-1].startswith("Human:") or "\n\nHuman:" in turns[pid]
    diff = src.selection_diff(make_ctx({"prompts_file": HELPFUL_FILE}))
    assert sorted(r["prompt_id"] for r in diff) == differ


def test_cuts_on_a_multi_paragraph_final_turn():
    chosen = "\n\nHuman: hi\n\nAssistant: one\n\nHuman: and?\n\nAssistant: para 1\n\npara 2"
    # the last piece ("para 2") does not start with "Assistant:", so the study's cut keeps the whole answer
    assert paper_prompt(chosen) == chosen.strip()
    assert turns_prompt(chosen) == "Human: hi\n\nAssistant: one\n\nHuman: and?"
    ends_human = "\n\nHuman: q\n\nAssistant: a\n\nHuman: last"
    assert paper_prompt(ends_human) == turns_prompt(ends_human) == ends_human.strip()


def test_turns_sampling_follows_the_suite_seed(make_ctx):
    src = HHRLHFSource()
    a = [p.prompt_id for p in src.load("en", make_ctx({"kinds": ["harmful"], "n": 10}, seed=0))]
    b = [p.prompt_id for p in src.load("en", make_ctx({"kinds": ["harmful"], "n": 10}, seed=0))]
    c = [p.prompt_id for p in src.load("en", make_ctx({"kinds": ["harmful"], "n": 10}, seed=1))]
    assert a == b and a != c and len(a) == 10


def test_helpful_base_missing_offline_is_one_line_with_a_hint(make_ctx):
    with pytest.raises(HarnessError) as err:
        HHRLHFSource().load("en", make_ctx())
    msg = str(err.value)
    assert "helpful-base" in msg and "prompts_file" in msg and "\n" not in msg


def test_no_data_dir_and_no_hub_is_a_clear_error(make_ctx):
    with pytest.raises(HarnessError, match="hh-rlhf harmless-base.*unreachable"):
        HHRLHFSource().load("en", make_ctx({"kinds": ["harmful"]}, data_dir=None))


def test_prompts_file_objects_and_bad_options(make_ctx, tmp_path, on_samples):
    f = tmp_path / "mine.json"
    f.write_text(json.dumps([{"prompt": "Human: a?"}, "Human: b?"]))
    ps = HHRLHFSource().load("en", make_ctx({"prompts_file": str(f), "prompts_kind": "harmful", "kinds": ["harmful"]}))
    assert [(p.prompt_id, p.kind, p.text) for p in ps] == [("mine-0", "harmful", "Human: a?"),
                                                           ("mine-1", "harmful", "Human: b?")]
    with pytest.raises(HarnessError, match="selection"):
        HHRLHFSource().load("en", make_ctx({"selection": "nope"}))
    with pytest.raises(HarnessError, match=f"only {60 if on_samples else 192}"):
        HHRLHFSource().load("en", make_ctx({"kinds": ["harmful"], "n": 500}))


def test_fingerprint_covers_data_and_options(make_ctx, tmp_path):
    src = HHRLHFSource()
    base = src.fingerprint("en", make_ctx({"kinds": ["harmful"]}))
    assert base == src.fingerprint("en", make_ctx({"kinds": ["harmful"]}))
    assert base != src.fingerprint("en", make_ctx({"kinds": ["harmful"], "selection": "paper"}))
    assert base != src.fingerprint("en", make_ctx({"kinds": ["harmful"]}, seed=3))
    f = tmp_path / "p.json"
    f.write_text('["Human: x"]')
    one = src.fingerprint("en", make_ctx({"prompts_file": str(f)}))
    f.write_text('["Human: y"]')
    assert one != src.fingerprint("en", make_ctx({"prompts_file": str(f)}))
