"""lang-fidelity's GlotLID backend: label mapping, backend choice, and the tiny fastText stand-in offline."""

from __future__ import annotations

import math
from importlib import metadata

import pytest
from harness_scorers.glotlid import LANGUAGE_LABELS, build_tiny_glotlid, covered
from harness_scorers.lang_fidelity import (
    ALIASES,
    VARIETIES,
    XTREME_R,
    LangFidelityScorer,
    TinyGlotlidScorer,
    _model_file,
)

from harness.fingerprint import digest, file_digest
from harness.types import Context, HarnessError, ScoreRequest

needs_fasttext = pytest.mark.skipif(not any(d.metadata["Name"] == "fasttext" for d in metadata.distributions()),
                                    reason="fasttext is not installed (the `langid` extra)")


def _req(text: str, lang: str) -> ScoreRequest:
    return ScoreRequest("k", "p", text, lang, "helpful")


def test_every_xtreme_r_language_is_mapped_and_labels_are_read_per_language():
    assert sorted(LANGUAGE_LABELS) == sorted(XTREME_R)
    known = covered(["__label__quy_Latn", "__label__qve_Latn", "__label__quc_Latn", "__label__wol_Latn",
                     "__label__cmn_Hani", "__label__eng_Latn"])
    assert known == {"qu": ["__label__quy_Latn", "__label__qve_Latn"], "wo": ["__label__wol_Latn"],
                     "zh": ["__label__cmn_Hani"], "en": ["__label__eng_Latn"]}  # quc is K'iche', not Quechua
    info = LangFidelityScorer().describe()
    assert info["glotlid"]["xtreme_r_not_covered"] == [] and info["xtreme_r_not_covered"] == ["wo"]


def test_py3langid_fingerprint_is_unchanged_so_earlier_scores_stay_cached():
    old = digest("lang-fidelity/v1", metadata.version("py3langid"), file_digest(_model_file()),
                 sorted(VARIETIES.items()), sorted(ALIASES.items()))
    assert LangFidelityScorer().fingerprint(Context(options={"backend": "py3langid"})) == old


def test_bad_backend_and_missing_file_are_one_line_errors(tmp_path):
    with pytest.raises(HarnessError, match="backend.*'glotlidd'.*did you mean 'glotlid'"):
        LangFidelityScorer().check_options({"backend": "glotlidd"})
    with pytest.raises(HarnessError, match="does not exist"):
        LangFidelityScorer().fingerprint(Context(options={"backend": "glotlid", "model_file": str(tmp_path / "x")}))


@needs_fasttext
def test_glotlid_offline_without_a_file_says_what_to_do(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(HarnessError) as err:
        LangFidelityScorer().fingerprint(Context(options={"backend": "glotlid", "repo": "no-such/glotlid-copy"}))
    assert "model_file" in str(err.value) and "backend=py3langid" in str(err.value) and "\n" not in str(err.value)


@pytest.fixture(scope="module")
def tiny_file(harness_home):
    pytest.importorskip("fasttext")
    return build_tiny_glotlid(harness_home)


@needs_fasttext
def test_tiny_glotlid_is_built_once_and_deterministically(tiny_file, tmp_path):
    stamp = tiny_file.stat().st_mtime_ns
    assert build_tiny_glotlid(tiny_file.parents[3]) == tiny_file and tiny_file.stat().st_mtime_ns == stamp
    assert file_digest(build_tiny_glotlid(tmp_path)) == file_digest(tiny_file)  # same bytes from scratch


@needs_fasttext
def test_tiny_glotlid_scores_its_languages_and_names_the_others(tiny_file, harness_home):
    scorer = TinyGlotlidScorer()
    loaded = scorer.load(Context(options={}, home=harness_home))
    texts = {"en": "How do I bake bread at home?", "de": "Wie backe ich Brot zu Hause?",
             "zh": "我怎样在家烤面包？", "mr": "मी घरी भाकरी कशी बनवू?"}
    for lang, text in texts.items():
        (out,) = loaded.score([_req(text, lang)])
        assert out.value > 0.5, (lang, out)
    (wrong,) = loaded.score([_req(texts["de"], "en")])
    assert wrong.value < 0.5
    wo, qu = loaded.score([_req("Naka nga def?", "wo"), _req("Imaynallam kachkanki?", "qu")])
    assert math.isnan(wo.value) and wo.meta["reason"].startswith("language 'wo' not covered by tiny-glotlid")
    assert math.isnan(qu.value) and "que/qub/qud/..." in qu.meta["reason"]
    assert loaded.score([_req(" ", "en")])[0].value == 0.0
    assert scorer.describe()["xtreme_r_covered"] == ["de", "en", "es", "ht", "mr", "sw", "zh"]


@needs_fasttext
def test_glotlid_backend_loads_a_local_file_and_auto_picks_it(tiny_file, harness_home):
    """The real backend's code on the tiny model file (GlotLID's format): what `model_file` users get."""
    ctx = Context(options={"backend": "glotlid", "model_file": str(tiny_file)}, home=harness_home)
    scorer = LangFidelityScorer()
    loaded = scorer.load(ctx)
    (out,) = loaded.score([_req("Wie backe ich Brot zu Hause?", "de")])
    assert out.value > 0.5 and out.meta["detected"] == "deu_Latn"
    auto = Context(options={"model_file": str(tiny_file)}, home=harness_home)
    assert scorer.backend(auto) == "glotlid" and scorer.fingerprint(auto) == scorer.fingerprint(ctx)
    assert scorer.fingerprint(ctx) != scorer.fingerprint(Context(options={"backend": "py3langid"}))
    assert LangFidelityScorer().stand_in == "tiny-glotlid"


@needs_fasttext
def test_tiny_fingerprint_needs_no_build(monkeypatch, tmp_path):
    import harness_scorers.lang_fidelity as lf

    monkeypatch.setattr(lf, "build_tiny_glotlid", lambda home: pytest.fail("a fingerprint must not train"))
    assert len(TinyGlotlidScorer().fingerprint(Context(options={}, home=tmp_path))) == 64
