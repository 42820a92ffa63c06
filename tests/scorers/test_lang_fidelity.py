"""lang-fidelity: offline language identification as the probability of the prompt's language."""

from __future__ import annotations

import ast
import math
import subprocess
import sys

from harness_scorers.lang_fidelity import XTREME_R, LangFidelityScorer

from harness.types import Context, ScoreRequest

MULTIJAIL_LANGS = ("en", "zh", "it", "vi", "ar", "ko", "th", "bn", "sw", "jv")


def _py3langid():
    """The py3langid backend, whatever ``auto`` would pick on this machine (GlotLID when its file is here)."""
    return LangFidelityScorer().load(Context(options={"backend": "py3langid"}))


def _req(text: str, lang: str, prompt: str = "p") -> ScoreRequest:
    return ScoreRequest("k", prompt, text, lang, "harmful")


def test_registered_through_the_plugin_hook_and_import_is_cheap():
    code = (
        "import sys, harness_scorers.plugin as p\n"
        "names = []\n"
        "p.harness_register_scorers(lambda s: names.append(s.name))\n"
        "print(sorted(names))\n"
        "print([m for m in ('torch', 'transformers', 'trl', 'py3langid', 'fasttext') if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    names, heavy = out.strip().splitlines()
    assert {"deberta-reward", "deberta-reward@translate-test", "lang-fidelity", "tiny-glotlid", "tiny-reward"} <= set(
        ast.literal_eval(names)
    )
    assert heavy == "[]"


def test_states_which_xtreme_r_languages_it_covers(sample_data):
    tsv = (sample_data / "xtreme-r" / "languages.tsv").read_text(encoding="utf-8").splitlines()[1:]
    assert sorted(line.split("\t")[0] for line in tsv) == sorted(XTREME_R)
    info = LangFidelityScorer().describe()
    assert info["metric"] == "probability"
    assert len(info["xtreme_r_covered"]) == 49
    assert info["xtreme_r_not_covered"] == ["wo"]


def test_multijail_prompts_are_recognised_in_their_own_language(multijail):
    loaded = _py3langid()
    for lang in MULTIJAIL_LANGS:
        texts = [row[lang] for row in multijail[:40]]
        scores = [s.value for s in loaded.score([_req(t, lang) for t in texts])]
        assert all(0.0 <= v <= 1.0 for v in scores)
        assert sum(scores) / len(scores) > 0.6, lang
        # the same items answered in English are not in the prompt's language
        if lang != "en":
            english = [s.value for s in loaded.score([_req(row["en"], lang) for row in multijail[:40]])]
            assert sum(english) / len(english) < 0.1, lang


def test_study_responses_score_as_english(study_responses):
    loaded = _py3langid()
    scores = [s.value for s in loaded.score([_req(r["response"], "en") for r in study_responses])]
    nonempty = [v for v, r in zip(scores, study_responses) if r["response"].strip()]
    assert len(scores) == 400
    assert sum(nonempty) / len(nonempty) > 0.7


def test_empty_response_scores_zero_with_reason():
    out = _py3langid().score([_req("", "sw"), _req("   \n", "zh")])
    assert [o.value for o in out] == [0.0, 0.0]
    assert all(o.meta["reason"] == "empty response" for o in out)


def test_every_script_scores_without_error(script_samples):
    loaded = _py3langid()
    assert len(script_samples) >= 30
    for lang, text in script_samples.items():
        (out,) = loaded.score([_req(text, lang)])
        if lang == "wo":
            assert math.isnan(out.value) and "not covered" in out.meta["reason"]
        else:
            assert 0.0 <= out.value <= 1.0, lang
            assert out.value > 0.3 or out.meta["detected"] != lang, lang


def test_fingerprint_is_stable():
    assert LangFidelityScorer().fingerprint(None) == LangFidelityScorer().fingerprint(None)
