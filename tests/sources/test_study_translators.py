"""nllb and madlad: every XTREME-R language, their offline stand-ins through the real loading code."""

from __future__ import annotations

import pytest
from harness_sources.languages import XTREME_R
from harness_sources.madlad import MADLAD_CODES, MadladTranslator
from harness_sources.multijail import MultiJailSource
from harness_sources.nllb import NLLB_CODES, NllbTranslator
from harness_sources.tiny_translators import TinyMadladTranslator, TinyNllbTranslator
from harness_sources.translators import M2M100Translator

from harness.types import HarnessError

from .conftest import MemoryCache

ALL = sorted(c for c, *_ in XTREME_R)


def test_coverage_of_the_xtreme_r_languages():
    assert NllbTranslator().languages() == ALL
    assert MadladTranslator().languages() == ALL
    m2m = M2M100Translator().describe()
    assert m2m["xtreme_r_not_covered"] == ["eu", "qu", "te"]
    nllb = NllbTranslator().describe()
    assert nllb["xtreme_r_not_covered"] == [] and nllb["licence"] == "CC-BY-NC-4.0"
    assert nllb["xtreme_r_covered"]["qu"] == "quy_Latn" and "Ayacucho" in nllb["notes"]["qu"]
    assert MadladTranslator().describe()["licence"] == "Apache-2.0"
    assert MADLAD_CODES["tl"] == "fil" and MADLAD_CODES["wo"] == "wo"


@pytest.mark.ml
def test_nllb_codes_are_flores_200_codes():
    from transformers.models.nllb.tokenization_nllb import FAIRSEQ_LANGUAGE_CODES

    assert set(NLLB_CODES.values()) <= set(FAIRSEQ_LANGUAGE_CODES)


def test_stand_in_fingerprints_need_no_build(make_ctx, monkeypatch):
    """A plan fingerprints the stand-ins without building them (the dry run builds nothing)."""
    def no_build(self, home):
        raise AssertionError("fingerprint must not build the model")

    for cls in (TinyNllbTranslator, TinyMadladTranslator):
        monkeypatch.setattr(cls, "build", no_build)
        a, b = cls().fingerprint(make_ctx()), cls().fingerprint(make_ctx({"max_new_tokens": 9}))
        assert a != b and len(a) == 64
    assert TinyNllbTranslator().fingerprint(make_ctx()) != TinyMadladTranslator().fingerprint(make_ctx())
    assert NllbTranslator.stand_in == "tiny-nllb" and MadladTranslator.stand_in == "tiny-madlad"


def test_hub_translators_offline_are_one_line_errors(make_ctx):
    for cls, model in ((NllbTranslator, "facebook/nllb-200-distilled-600M"), (MadladTranslator, "google/madlad400")):
        with pytest.raises(HarnessError) as err:
            cls().load(make_ctx())
        assert model in str(err.value) and "\n" not in str(err.value)


@pytest.fixture(scope="module")
def torch_one_thread():
    pytest.importorskip("torch").set_num_threads(1)


@pytest.mark.ml
def test_tiny_nllb_uses_the_real_nllb_tokenizer_layout(make_ctx, torch_one_thread):
    loaded = TinyNllbTranslator().load(make_ctx())
    inner = loaded.inner
    enc = inner.encode(["How do I bake bread?"], "en", "te")
    ids = enc["input_ids"][0].tolist()
    # NLLB's layout: the source code first, the text, then </s>; the target code is forced first
    assert ids[0] == inner.lang_id("en") and ids[-1] == 2
    assert inner.lang_id("te") != inner.lang_id("en")
    with pytest.raises(HarnessError, match="unknown language for translator tiny-nllb: 'xx'; valid: af"):
        inner.lang_id("xx")
    out = loaded.translate(["How do I bake bread?", "Hello there"], "en", "qu")
    assert all(o.startswith("[qu] ") for o in out) and len(set(out)) == 2


@pytest.mark.ml
def test_tiny_madlad_prefixes_the_target_token(make_ctx, torch_one_thread, harness_home):
    from harness_sources.tiny_translators import build_tiny_madlad
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(build_tiny_madlad(harness_home))
    for code in ("te", "eu", "ht", "wo", "qu", "fil"):
        assert len(tok.tokenize(f"<2{code}> Hello")) >= 2
        assert tok.convert_tokens_to_ids(f"<2{code}>") != tok.unk_token_id
    loaded = TinyMadladTranslator().load(make_ctx())
    enc = loaded.inner.encode(["Hello"], "en", "wo")
    assert enc["input_ids"][0].tolist()[0] == tok.convert_tokens_to_ids("<2wo>")
    assert loaded.inner.lang_id is None  # the target is in the input, nothing is forced
    texts = ["How do I bake bread?", "Short.", "A longer sentence with several words in it."]
    one = TinyMadladTranslator().load(make_ctx({"batch_size": 1})).translate(texts, "en", "tl")
    assert one == loaded.translate(texts, "en", "tl") and all(o.startswith("[tl] ") for o in one)


@pytest.mark.ml
def test_gaps_of_every_study_language_are_filled(make_ctx, torch_one_thread):
    ctx = make_ctx({"translate": "tiny-nllb", "n": 3}, translators={"tiny-nllb": TinyNllbTranslator()},
                   cache=MemoryCache())
    src = MultiJailSource()
    assert set(ALL) <= set(src.languages(ctx))
    te = src.load("te", ctx)
    assert len(te) == 3 and all(p.meta["translated"] and p.meta["translator"] == "tiny-nllb" for p in te)
