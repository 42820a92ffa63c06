"""MultiJail, XQuAD, XCOPA and the demo prompts on the real files: counts, parallel ids, seeded sampling."""

from __future__ import annotations

import json
import shutil

import pytest
from harness_sources.demo import DemoSource
from harness_sources.languages import tier_schemes
from harness_sources.multijail import MultiJailSource
from harness_sources.qa import XQuADSource
from harness_sources.xcopa import QUESTIONS, XCOPASource

from harness.types import HarnessError

COUNTS = [  # upstream documentation: MultiJail 315 prompts, XQuAD 1,190 questions, XCOPA 500 test items
    (MultiJailSource, 315, {"en", "zh", "it", "vi", "ar", "ko", "th", "bn", "sw", "jv"}),
    (XQuADSource, 1190, {"ar", "de", "el", "en", "es", "hi", "ro", "ru", "th", "tr", "vi", "zh"}),
    (XCOPASource, 500, {"et", "ht", "id", "it", "qu", "sw", "ta", "th", "tr", "vi", "zh"}),
]


@pytest.mark.parametrize(("cls", "count", "langs"), COUNTS, ids=lambda v: getattr(v, "name", None))
@pytest.mark.usefixtures("shared_data")
def test_full_counts_and_parallel_ids(cls, count, langs, make_ctx):
    src = cls()
    ctx = make_ctx({"n": 0})
    assert set(src.languages(ctx)) == langs
    ids = None
    for lang in sorted(langs):
        prompts = src.load(lang, ctx)
        assert len(prompts) == count
        assert {p.kind for p in prompts} == set(src.kinds)
        assert all(p.language == lang and p.text.strip() for p in prompts)
        lang_ids = [p.prompt_id for p in prompts]
        assert len(set(lang_ids)) == count
        ids = ids or lang_ids
        assert lang_ids == ids  # same items, same order, in every language


@pytest.mark.parametrize("cls", [MultiJailSource, XQuADSource, XCOPASource])
def test_default_sample_is_seeded_recorded_and_parallel(cls, make_ctx):
    src = cls()
    langs = src.languages(make_ctx())
    first = [p.prompt_id for p in src.load(langs[0], make_ctx())]
    assert len(first) == 50
    assert [p.prompt_id for p in src.load(langs[-1], make_ctx())] == first
    assert [p.prompt_id for p in src.load(langs[0], make_ctx(seed=7))] != first
    assert [p.prompt_id for p in src.load(langs[0], make_ctx({"seed": 7}))] == \
        [p.prompt_id for p in src.load(langs[0], make_ctx(seed=7))]
    meta = src.load(langs[0], make_ctx(seed=7))[0].meta
    assert meta["seed"] == 7 and meta["n"] == 50
    json.dumps(meta)  # meta must be JSON-serialisable


def test_multijail_reads_the_bom_header_and_texts(make_ctx):
    by_lang = {lang: MultiJailSource().load(lang, make_ctx({"n": 0})) for lang in ("en", "sw")}
    assert by_lang["en"][0].prompt_id == "multijail-0"
    assert by_lang["en"][0].text.startswith("How much money should I sell")
    assert by_lang["sw"][0].text.startswith("Je, ninapaswa")
    assert by_lang["en"][0].meta["origin"] == "anthropics"


def test_xquad_prompt_is_context_then_question(make_ctx, sample_data):
    data = json.loads((sample_data / "xquad/xquad.de.json").read_text(encoding="utf-8"))
    para = data["data"][0]["paragraphs"][0]
    qa = para["qas"][0]
    p = {p.prompt_id: p for p in XQuADSource().load("de", make_ctx({"n": 0}))}[f"xquad-{qa['id']}"]
    assert p.text == f"{para['context'].strip()}\n\n{qa['question'].strip()}"


def test_xcopa_question_is_phrased_in_the_items_language(make_ctx):
    for lang in ("ht", "zh", "qu"):
        prompts = XCOPASource().load(lang, make_ctx({"n": 0}))
        first = prompts[0]  # idx 0 is a "cause" item
        assert first.prompt_id == "xcopa-0" and first.meta["question"] == "cause"
        assert QUESTIONS[lang][0] in first.text and "\n1. " in first.text and "\n2. " in first.text
        assert any(QUESTIONS[lang][1] in p.text for p in prompts)
    assert set(QUESTIONS) >= set(XCOPASource().languages(make_ctx()))


def test_demo_prompts_are_parallel_in_three_high_and_three_low_languages(make_ctx):
    src = DemoSource()
    ctx = make_ctx(data_dir=None)  # shipped with the package: no data directory needed
    joshi = {s.name: s for s in tier_schemes()}["joshi"]
    langs = src.languages(ctx)
    assert len([c for c in langs if joshi.tier_of(c) == "high" and c != "en"]) >= 3
    assert len([c for c in langs if joshi.tier_of(c) == "low"]) >= 3
    per_lang = {lang: src.load(lang, ctx) for lang in langs}
    ids = [p.prompt_id for p in per_lang["en"]]
    for prompts in per_lang.values():
        assert [p.prompt_id for p in prompts] == ids
        assert sum(p.kind == "harmful" for p in prompts) >= 10
        assert sum(p.kind == "helpful" for p in prompts) >= 10
        assert len({p.text for p in prompts}) == len(prompts)
    for i in range(len(ids)):  # real translations: no language repeats another's text
        assert len({per_lang[lang][i].text for lang in langs}) == len(langs)


def test_fingerprint_follows_data_bytes(make_ctx, sample_data, tmp_path):
    root = tmp_path / "data"
    (root / "xcopa").mkdir(parents=True)
    shutil.copy(sample_data / "xcopa/test.ht.jsonl", root / "xcopa/test.ht.jsonl")
    src = XCOPASource()
    before = src.fingerprint("ht", make_ctx(data_dir=root))
    assert before == src.fingerprint("ht", make_ctx())  # same bytes, another folder
    with open(root / "xcopa/test.ht.jsonl", "a", encoding="utf-8") as fh:
        fh.write('{"premise": "x", "choice1": "a", "choice2": "b", "question": "cause", "label": 0, "idx": 999}\n')
    assert src.fingerprint("ht", make_ctx(data_dir=root)) != before
    assert src.fingerprint("ht", make_ctx({"n": 10}, data_dir=root)) != src.fingerprint("ht", make_ctx(data_dir=root))


def test_missing_language_without_translator_says_how_to_fill_it(make_ctx):
    with pytest.raises(HarnessError, match="translate"):
        MultiJailSource().load("de", make_ctx())
    with pytest.raises(HarnessError, match="unknown translator"):
        MultiJailSource().languages(make_ctx({"translate": "nope"}))


def test_too_many_requested_is_an_error(make_ctx, on_samples):
    with pytest.raises(HarnessError, match=f"only {60 if on_samples else 500}"):
        XCOPASource().load("ht", make_ctx({"n": 600}))
