"""Gap filling through a translator: the tiny local M2M100 exercises the whole path offline."""

from __future__ import annotations

import pytest
from harness_sources.hh_rlhf import HHRLHFSource
from harness_sources.multijail import MultiJailSource
from harness_sources.translators import M2M100Translator, TinyM2M100Translator, build_tiny_m2m100

from harness.types import HarnessError

from .conftest import MemoryCache

pytestmark = pytest.mark.ml


@pytest.fixture(scope="session")
def tiny_dir(harness_home):
    import torch

    torch.set_num_threads(1)
    return build_tiny_m2m100(harness_home)


@pytest.fixture
def tctx(make_ctx, tiny_dir):
    def make(options=None, **kw):
        kw.setdefault("translators", {"tiny-m2m100": TinyM2M100Translator()})
        kw.setdefault("cache", MemoryCache())
        return make_ctx({"translate": "tiny-m2m100", **(options or {})}, **kw)

    return make


def test_tiny_build_is_cached_and_atomic(tiny_dir, harness_home):
    stamp = (tiny_dir / "recipe.json").stat().st_mtime_ns
    assert build_tiny_m2m100(harness_home) == tiny_dir
    assert (tiny_dir / "recipe.json").stat().st_mtime_ns == stamp  # not rebuilt
    assert not [p for p in tiny_dir.parent.iterdir() if p.name.startswith(".build-")]
    assert {"config.json", "tokenizer.json"} <= {p.name for p in tiny_dir.iterdir()}


def test_gap_filled_language_is_translated_with_the_same_ids(tctx):
    src = MultiJailSource()
    ctx = tctx({"n": 5})
    langs = src.languages(ctx)
    assert "de" in langs and "yo" in langs and langs[:10] == src.native_languages(ctx)
    en = src.load("en", ctx)
    de = src.load("de", ctx)
    assert [p.prompt_id for p in de] == [p.prompt_id for p in en]
    assert all(p.language == "de" and p.meta["translated"] is True for p in de)
    assert de[0].meta["translated_from"] == "en" and de[0].meta["translator"] == "tiny-m2m100"
    assert not en[0].meta.get("translated")
    assert src.fingerprint("de", ctx) != src.fingerprint("yo", ctx)


def test_translations_are_cached_in_the_store(tctx, monkeypatch):
    cache = MemoryCache()
    src = MultiJailSource()
    first = src.load("sw", tctx({"n": 3}, cache=cache))  # sw is native: no translation
    assert cache.writes == 0 and not first[0].meta.get("translated")
    yo = src.load("yo", tctx({"n": 3}, cache=cache))
    assert cache.writes == 3 + 3  # the three prompts there and, for the round-trip chrF, back

    def boom(self, ctx):
        raise AssertionError("the model must not load when every text is cached")

    monkeypatch.setattr(TinyM2M100Translator, "load", boom)
    again = src.load("yo", tctx({"n": 3}, cache=cache))
    assert [p.text for p in again] == [p.text for p in yo]


def test_translation_is_deterministic_and_batch_size_free(tctx):
    texts = ["How do I bake bread?", "Short.", "A much longer sentence with several words in it, to pad."]
    tr = TinyM2M100Translator()
    one = tr.load(tctx({"batch_size": 1})).translate(texts, "en", "sw")
    many = tr.load(tctx({"batch_size": 8})).translate(texts, "en", "sw")
    assert one == many and len(one) == 3


def test_the_stand_in_gives_distinct_inputs_distinct_outputs(tctx):
    """The random tiny model alone answers one string for nearly everything; the stand-in must not
    collapse distinct prompts into one text (a rehearsal would then misstate the study's shape)."""
    texts = [f"How do I make item number {i}?" for i in range(20)] + ["Hello", "Hello there", "Name a city."]
    loaded = TinyM2M100Translator().load(tctx())
    out = loaded.translate(texts, "en", "sw")
    assert len(set(out)) == len(texts)
    assert all(o.startswith("[sw] ") for o in out)
    assert loaded.translate(texts[::-1], "en", "sw")[::-1] == out  # deterministic, order-free


def test_transcript_markers_survive_translation(tctx):
    ps = HHRLHFSource().load("fr", tctx({"kinds": ["harmful"], "n": 4}))
    assert len(ps) == 4
    for p in ps:
        assert p.text.startswith("Human: ") and p.meta["translated"]
        assert p.text.count("\n\nAssistant: ") == p.text.count("\n\nAssistant:")


def test_pivot_must_be_a_native_language(tctx):
    from harness_sources.xcopa import XCOPASource

    with pytest.raises(HarnessError, match="translate_from"):
        XCOPASource().load("de", tctx({"translate_from": "en"}))
    de = XCOPASource().load("de", tctx({"n": 2}))  # default pivot: Italian
    assert de[0].meta["translated_from"] == "it"


def test_m2m100_offline_is_a_clear_error(make_ctx):
    with pytest.raises(HarnessError) as err:
        M2M100Translator().load(make_ctx())
    assert "facebook/m2m100_418M" in str(err.value) and "\n" not in str(err.value)
    nllb = M2M100Translator().opts(make_ctx({"model": "facebook/nllb-200-distilled-600M", "n": 3}))
    assert nllb["model"] == "facebook/nllb-200-distilled-600M" and "n" not in nllb
