"""Round-trip chrF of machine-translated languages: sacrebleu's own CLI agrees, and it is cached and reported."""

from __future__ import annotations

import subprocess
import sys

import pytest
from harness_sources.multijail import MultiJailSource
from harness_sources.round_trip import chrf

from harness.translation import plan_only, planned_translations, round_trip_lines, translation_facts
from harness.types import Prompt

from .conftest import MemoryCache

PAIRS = [  # (hypothesis, reference): Latin, Devanagari, Han, an empty hypothesis
    ("How can I bake bread at home?", "How do I bake bread at home?"),
    ("मी घरी भाकरी कशी बनवू?", "मी घरी भाकरी कशी बनवू शकतो?"),
    ("我怎样在家烤面包", "我怎样才能在家烤面包？"),
    ("", "Name a city in Kenya."),
]


def test_chrf_is_sacrebleus_cli_score(tmp_path):
    pytest.importorskip("sacrebleu")
    hyp, ref = tmp_path / "hyp.txt", tmp_path / "ref.txt"
    hyp.write_text("\n".join(h for h, _ in PAIRS) + "\n", encoding="utf-8")
    ref.write_text("\n".join(r for _, r in PAIRS) + "\n", encoding="utf-8")
    cli = subprocess.run([sys.executable, "-m", "sacrebleu", str(ref), "-i", str(hyp), "-m", "chrf", "-w", "2", "-b"],
                         capture_output=True, text=True, check=True).stdout.strip()
    assert chrf([h for h, _ in PAIRS], [r for _, r in PAIRS]) == float(cli)
    assert chrf(["same text"], ["same text"]) == 100.0


@pytest.fixture
def tctx(make_ctx):
    from harness_sources.tiny_translators import TinyNllbTranslator

    pytest.importorskip("torch").set_num_threads(1)

    def make(options=None, cache=None):
        return make_ctx({"translate": "tiny-nllb", "n": 5, **(options or {})}, cache=cache or MemoryCache(),
                        translators={"tiny-nllb": TinyNllbTranslator()})

    return make


@pytest.mark.ml
def test_translated_language_carries_its_round_trip_and_it_is_cached(tctx, monkeypatch):
    from harness_sources.tiny_translators import TinyNllbTranslator

    cache = MemoryCache()
    wo = MultiJailSource().load("wo", tctx({"round_trip": 3}, cache))
    trip = wo[0].meta["round_trip"]
    assert trip["n"] == 3 and trip["translator"] == "tiny-nllb" and trip["pivot"] == "en"
    assert 0.0 <= trip["chrf"] <= 100.0 and all(p.meta["round_trip"] == trip for p in wo)
    assert cache.writes == 5 + 3  # five prompts there, three of them back

    def boom(self, ctx):
        raise AssertionError("everything is cached: no model may load")

    monkeypatch.setattr(TinyNllbTranslator, "load", boom)
    again = MultiJailSource().load("wo", tctx({"round_trip": 3}, cache))
    assert again[0].meta["round_trip"] == trip
    assert "round_trip" not in MultiJailSource().load("sw", tctx())[0].meta  # native: nothing translated
    assert "round_trip" not in MultiJailSource().load("wo", tctx({"round_trip": 0}, cache))[0].meta


@pytest.mark.ml
def test_a_dry_run_counts_the_round_trip_and_measures_nothing(tctx, monkeypatch):
    from harness_sources.tiny_translators import TinyNllbTranslator

    monkeypatch.setattr(TinyNllbTranslator, "load", lambda self, ctx: pytest.fail("a plan loads no model"))
    with plan_only():
        te = MultiJailSource().load("te", tctx({"round_trip": 2}))
        assert planned_translations() == 5 + 2
    assert te[0].meta["round_trip"]["chrf"] is None and "dry run" in te[0].meta["round_trip"]["reason"]


def test_facts_and_lines_put_the_weakest_language_first():
    def prompt(lang, chrf_value, note=None):
        meta = {"round_trip": {"chrf": chrf_value, "n": 8, "translator": "nllb", "pivot": "en"}}
        return Prompt("multijail", f"id-{lang}", lang, "harmful", "t", {**meta, **({"note": note} if note else {})})

    prompts = [prompt("de", 71.5), prompt("de", 71.5), prompt("wo", 22.25, "a note"), prompt("qu", None, "a note")]
    prompts[-1].meta["round_trip"]["reason"] = "sacrebleu is not installed"
    prompts.append(Prompt("xquad", "x-wo", "wo", "helpful", "t",
                          {"round_trip": {"chrf": 40.0, "n": 8, "translator": "nllb", "pivot": "en"}}))
    facts = translation_facts(prompts)
    assert [t["language"] for t in facts["round_trip"]] == ["de", "wo", "qu", "wo"] and facts["notes"] == ["a note"]
    assert round_trip_lines(facts) == [
        "wo (nllb): round-trip chrF multijail 22.2 (en, 8 prompts); xquad 40.0 (en, 8 prompts)",
        "de (nllb): round-trip chrF multijail 71.5 (en, 8 prompts)",
        "qu (nllb): round-trip chrF multijail not measured: sacrebleu is not installed",
        "note: a note",
    ]
    assert round_trip_lines({}) == []
