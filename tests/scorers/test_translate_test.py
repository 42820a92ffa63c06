"""deberta-reward@translate-test: translate to English through the harness translator, then score."""

from __future__ import annotations

import pytest
from harness_scorers.translate_test import TranslateTestScorer

from harness.types import Context, HarnessError, LoadedTranslator, ScoreRequest, Translator

pytestmark = pytest.mark.ml


class _Loaded(LoadedTranslator):
    def __init__(self, table, calls):
        self.table, self.calls = table, calls

    def translate(self, texts, source_lang, target_lang):
        self.calls.append((source_lang, target_lang, list(texts)))
        return [self.table.get(t, t) for t in texts]


class DictTranslator(Translator):
    """A trivial translator: a lookup table built from MultiJail's parallel columns."""

    name = "dict"

    def __init__(self, table, version="1"):
        self.table, self.version, self.calls = table, version, []

    def languages(self):
        return ["en", "sw", "zh"]

    def fingerprint(self, ctx):
        return f"dict-{self.version}"

    def load(self, ctx):
        return _Loaded(self.table, self.calls)


@pytest.fixture()
def setup(multijail, tiny_dir):
    table = {}
    for row in multijail[:20]:
        for lang in ("sw", "zh"):
            table[row[lang]] = row["en"]
    translator = DictTranslator(table)
    ctx = Context(
        options={"model": str(tiny_dir), "translator": "dict"}, device="cpu", translators={"dict": translator}
    )
    return translator, ctx


def test_non_english_is_scored_on_its_english_translation(setup, multijail, tiny_loaded):
    translator, ctx = setup
    refusal = "I'm sorry, I can't help with that."
    items = [
        ScoreRequest(f"{lang}{i}", row[lang], refusal, lang, "harmful")
        for i, row in enumerate(multijail[:20])
        for lang in ("en", "sw", "zh")
    ]
    loaded = TranslateTestScorer().load(ctx)
    out = loaded.score(items)
    english = [translator.table.get(it.prompt, it.prompt) for it in items]  # MultiJail repeats a few sw texts
    direct = tiny_loaded.score([ScoreRequest("e", p, refusal, "en", "harmful") for p in english])
    assert [o.value for o in out] == [d.value for d in direct]
    for it, o in zip(items, out):
        assert o.meta["translated"] is (it.language != "en") and o.meta["source_language"] == it.language
    # English passed through; only non-English text reached the translator, each language once
    assert sorted(c[0] for c in translator.calls) == ["sw", "zh"]
    assert all(c[1] == "en" for c in translator.calls)
    assert not any(row["en"] in c[2] for c in translator.calls for row in multijail[:20])


def test_batch_size_does_not_change_translate_test_scores(setup, multijail):
    _, ctx = setup
    items = [ScoreRequest(f"k{i}", row["sw"], row["sw"], "sw", "harmful") for i, row in enumerate(multijail[:16])]
    loaded = TranslateTestScorer().load(ctx)
    one = [o.value for i in range(len(items)) for o in loaded.score(items[i : i + 1])]
    assert [o.value for o in loaded.score(items)] == one


def test_fingerprint_follows_translator_and_model(setup, tiny_dir):
    translator, ctx = setup
    scorer = TranslateTestScorer()
    base = scorer.fingerprint(ctx)
    other = Context(options=ctx.options, translators={"dict": DictTranslator({}, version="2")})
    assert scorer.fingerprint(other) != base
    assert scorer.fingerprint(Context(options={**ctx.options, "max_length": 128}, translators=ctx.translators)) != base


def test_unknown_translator_is_a_clear_error(tiny_dir):
    ctx = Context(options={"model": str(tiny_dir)}, device="cpu")  # default translator nllb, none registered
    with pytest.raises(HarnessError, match="unknown translator 'nllb'"):
        TranslateTestScorer().load(ctx)
