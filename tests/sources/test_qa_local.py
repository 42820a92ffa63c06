"""MLQA and TyDiQA-GoldP (hub only in this project) load files written in their upstream layout."""

from __future__ import annotations

import json

from harness_sources.qa import MLQASource, TyDiQASource


def squad(qas_by_context):
    return {"version": "1.1", "data": [{"title": "t", "paragraphs": [
        {"context": ctx, "qas": [{"id": qid, "question": q, "answers": [{"text": "x", "answer_start": 0}]}
                                 for qid, q in qas]}
        for ctx, qas in qas_by_context]}]}


def test_mlqa_upstream_layout(tmp_path, make_ctx):
    for lang, q in (("de", "Wer?"), ("hi", "कौन?")):
        path = tmp_path / "mlqa/MLQA_V1/test" / f"test-context-{lang}-question-{lang}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(squad([("Kontext eins.", [("a1", q), ("a2", q + "!")])]), ensure_ascii=False))
    src = MLQASource()
    ctx = make_ctx({"n": 0}, data_dir=tmp_path)
    assert set(src.languages(ctx)) == {"ar", "de", "en", "es", "hi", "vi", "zh"}
    de, hi = src.load("de", ctx), src.load("hi", ctx)
    assert [p.prompt_id for p in de] == [p.prompt_id for p in hi] == ["mlqa-a1", "mlqa-a2"]
    assert de[0].text == "Kontext eins.\n\nWer?" and de[0].kind == "helpful"
    assert src.fingerprint("de", ctx) != src.fingerprint("hi", ctx)


def test_tydiqa_single_upstream_file_split_by_language(tmp_path, make_ctx):
    path = tmp_path / "tydiqa/tydiqa-goldp-v1.1-dev.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(squad([
        ("Nairobi ni mji mkuu.", [("swahili-1-0", "Mji mkuu ni upi?"), ("swahili-2-0", "Ni nini?")]),
        ("Helsinki on pääkaupunki.", [("finnish-9-0", "Mikä on pääkaupunki?")]),
    ]), ensure_ascii=False), encoding="utf-8")
    src = TyDiQASource()
    ctx = make_ctx({"n": 0}, data_dir=tmp_path)
    sw = src.load("sw", ctx)
    assert [p.prompt_id for p in sw] == ["tydiqa-swahili-1-0", "tydiqa-swahili-2-0"]
    assert sw[0].text == "Nairobi ni mji mkuu.\n\nMji mkuu ni upi?"
    fi = src.load("fi", ctx)
    assert [p.text for p in fi] == ["Helsinki on pääkaupunki.\n\nMikä on pääkaupunki?"]
    assert len(src.load("sw", make_ctx({"n": 1}, data_dir=tmp_path))) == 1
