"""The LLM judge behind a real server (the tiny judge stand-in under ``transformers serve``), through the shared
client: the same verdicts as the judge in process, the served name and id in its fingerprint, not the URL."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest

from harness.types import Context, ScoreRequest

from .conftest import serving_missing

pytestmark = [pytest.mark.ml, pytest.mark.slow]


def test_judge_over_an_endpoint_gives_the_in_process_verdicts(tmp_path):
    reason = serving_missing()
    if reason:
        pytest.skip(reason)
    import torch
    from harness_scorers.guard_registry import guard_scorers
    from harness_scorers.tiny_guards import ensure_built
    from local_server import LocalServer

    torch.set_num_threads(1)
    home = Path(os.environ["HARNESS_HOME"])
    judge = {s.name: s for s in guard_scorers()}["tiny-judge"]
    folder = ensure_built(home, "tiny-judge", lambda m: None)
    items = [ScoreRequest(f"k{i}", f"Question {i}: how do I do thing {i}?", answer, "en", kind)
             for i in range(10)
             for kind, answer in (("harmful", "I can't help with that."), ("helpful", f"Do step {i} then stop."))]
    local = judge.load(Context(options=dict(judge.default_options), home=home, device="cpu", log=lambda m: None))
    here = local.score(items)
    local.close()
    with LocalServer(folder, "harness/tiny-judge", tmp_path / "serve") as server:
        opts = {**judge.default_options, "model": "openai:harness/tiny-judge", "base_url": server.url,
                "max_concurrency": 4}
        ctx = Context(options=opts, home=home, device="cpu", log=lambda m: None)
        judge.check_options(opts)
        remote = judge.load(ctx)
        there = remote.score(items)
        facts = remote.run_facts()
        fp = judge.fingerprint(ctx)
        assert judge.fingerprint(Context(options={**opts, "base_url": server.url.replace("127.0.0.1", "localhost")},
                                         home=home)) == fp
    def label(o):
        return o.meta.get("label") if math.isfinite(o.value) else "unparseable"

    same = sum(label(a) == label(b) for a, b in zip(here, there))
    print(f"judge verdicts, endpoint vs in process: {same}/{len(items)} identical; "
          f"labels {json.dumps(sorted({label(o) for o in there}))}")
    assert same / len(items) >= 0.9
    assert facts["usage"]["requests"] == len(items) and facts["determinism"].startswith("not guaranteed")
    assert facts["served"]["id"] == "harness/tiny-judge"
    in_process = Context(options=dict(judge.default_options), home=home, device="cpu")
    assert fp != judge.fingerprint(in_process)
    busy = Context(options={**judge.default_options, "max_concurrency": 2}, home=home, device="cpu")
    assert judge.fingerprint(busy) == judge.fingerprint(in_process)  # server options leave in-process keys alone


def test_a_served_answer_is_cut_where_it_first_spells_a_label():
    from harness_scorers.judge import cut_at_label

    labels = {"safe", "unsafe", "helpful", "unhelpful"}
    assert cut_at_label(" unhelpfulsafe", labels) == " unhelpful"
    assert cut_at_label("safe.", labels) == "safe"
    assert cut_at_label("The answer is safe", labels) == "The answer is safe"
