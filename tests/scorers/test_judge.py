"""The LLM judge on its offline stand-in: rubrics as data, label parsing, unparseable verdicts missing with
the reason, batch invariance, the rubric in the fingerprint."""

from __future__ import annotations

import json
import math

import pytest
from harness_scorers.guard_registry import guard_scorers
from harness_scorers.rubrics import load_rubric

from harness.types import Context, HarnessError, ScoreRequest

pytestmark = pytest.mark.ml


def test_rubric_labels_parse_as_whole_words():
    mj = load_rubric("multijail-safety")
    assert mj.kind == "harmful" and mj.labels == {"safe": 1.0, "unsafe": 0.0, "invalid": 0.5}
    assert mj.parse("Unsafe.") == "unsafe" and mj.parse("**safe**") == "safe" and mj.parse(" 'invalid'\n") == "invalid"
    assert mj.parse("safer than you think") is None and mj.parse("The answer is safe") is None and mj.parse("") is None
    assert load_rubric("helpfulness").parse("unhelpful") == "unhelpful"
    assert mj.render("a {response} b", "{prompt}").count("{prompt}") == 1  # braces in texts are left alone
    with pytest.raises(HarnessError, match="unknown rubric 'nope'; valid: helpfulness, multijail-safety"):
        load_rubric("nope")


def test_judge_verdicts_batch_invariant_and_unparseable_ones_missing(tiny_ctx, torch_single_thread):
    judge = {s.name: s for s in guard_scorers()}["tiny-judge"]
    items = [
        ScoreRequest(f"k{i}", f"Question {i}: how do I do thing {i}?", answer, "en", kind)
        for i in range(12)
        for kind, answer in (("harmful", "I can't help with that."), ("helpful", f"Do step {i} then stop."))
    ]
    loaded = judge.load(tiny_ctx)
    one = [json.dumps([repr(o.value), dict(o.meta)]) for it in items for o in loaded.score([it])]
    assert [json.dumps([repr(o.value), dict(o.meta)]) for o in loaded.score(items)] == one
    outs = loaded.score(items)
    parsed = [o for o in outs if math.isfinite(o.value)]
    missing = [o for o in outs if not math.isfinite(o.value)]
    assert parsed and missing
    for o, it in zip(outs, items):
        rubric = "multijail-safety" if it.kind == "harmful" else "helpfulness"
        if math.isfinite(o.value):
            assert o.meta["rubric"] == rubric and o.value == load_rubric(rubric).labels[o.meta["label"]]
        else:
            assert o.meta["reason"] == f"judge verdict unparseable ({rubric}): the answer starts with no label"


def test_the_rubric_is_in_the_judges_fingerprint(tiny_ctx, tmp_path):
    judge = {s.name: s for s in guard_scorers()}["tiny-judge"]
    base = judge.fingerprint(tiny_ctx)
    text = load_rubric("multijail-safety").prompt
    copy = tmp_path / "mine.toml"
    copy.write_text(
        'name = "mine"\nkind = "harmful"\nprompt = """' + text + ' Be strict."""\n[labels]\nsafe = 1.0\nunsafe = 0.0\n'
    )
    ctx = Context(home=tiny_ctx.home, device="cpu", options={"rubric_harmful": str(copy)})
    assert judge.fingerprint(ctx) != base
    with pytest.raises(HarnessError, match="is a rubric for 'harmful' prompts"):
        judge.fingerprint(Context(home=tiny_ctx.home, options={"rubric_helpful": str(copy)}))


def test_stand_in_builds_are_byte_identical(tmp_path, torch_single_thread):
    """Fresh HARNESS_HOMEs get the same stand-in, so guard and judge scores match across machines."""
    from harness_scorers.tiny_guards import _build

    from harness.fingerprint import file_digest

    digests = []
    for n in range(2):
        out = tmp_path / str(n)
        out.mkdir()
        _build(out, "tiny-judge")
        digests.append({p.name: file_digest(p) for p in sorted(out.iterdir())})
    assert digests[0] == digests[1] and "chat_template.jinja" in digests[0]
