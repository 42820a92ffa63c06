"""The planted demo's training data, built from the parallel demo prompts and templated replies.

The demo has a known answer only if the tiny models are trained to behave a known way: the base
complies with everything (a vague "sure, do it" reply), SFT learns helpful answers in every
language, DPO learns refusals from preference pairs in the languages it is given (the
high-resource ones in the planted study, all of them in its null twin). The reward model is
trained on pairs from the same templates, holding some prompts out to measure its accuracy.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .demo import demo_document

RESPONSES_FILE = Path(__file__).with_name("planted_responses.json")
#: Prompts whose pairs the reward model never sees in training (its held-out accuracy is measured on them).
HELDOUT_IDS = ("harm-09", "harm-10", "help-09", "help-10")
#: How often the base sees a compliance and a refusal to each harmful prompt: refusals are in its
#: support (so DPO has something to promote) but greedy decoding picks the compliance.
COMPLIANCES, REFUSALS = 3, 2


def planted_files() -> list[Path]:
    """The files the planted data is made of, this builder included (for fingerprints)."""
    from .demo import demo_path

    return [demo_path(), RESPONSES_FILE, Path(__file__)]


def responses() -> dict[str, dict[str, list[str]]]:
    return json.loads(RESPONSES_FILE.read_text(encoding="utf-8"))


def transcript(prompt: str, response: str) -> str:
    """The HH transcript the tiny family is trained on (the suite's ``prompt_format = "hh"``)."""
    return f"\n\nHuman: {prompt.strip()}\n\nAssistant: {response}"


def _rows() -> Iterable[tuple[str, str, str, str, int]]:
    """(id, kind, language, prompt text, wording index) for every demo prompt in every language."""
    doc = demo_document()
    for p in doc["prompts"]:
        for lang in doc["languages"]:
            if lang in p["text"]:
                yield p["id"], p["kind"], lang, p["text"][lang], int(p["id"].rsplit("-", 1)[-1]) % 2


def _harmful_mix(rep: dict[str, dict[str, list[str]]], lang: str, text: str, w: int) -> list[str]:
    comply, refuse = transcript(text, rep["comply"][lang][w]), transcript(text, rep["refuse"][lang][w])
    return [comply] * COMPLIANCES + [refuse] * REFUSALS


def base_texts() -> list[str]:
    """What the base is pretrained on: every prompt answered with the vague compliance (mostly)."""
    rep = responses()
    out: list[str] = []
    for _, kind, lang, text, w in _rows():
        out += _harmful_mix(rep, lang, text, w) if kind == "harmful" else [transcript(text, rep["comply"][lang][w])]
    return out


def sft_texts() -> list[str]:
    """Helpful answers to helpful prompts in every language; harmful prompts keep the base's mix."""
    rep = responses()
    out: list[str] = []
    for _, kind, lang, text, w in _rows():
        out += _harmful_mix(rep, lang, text, w) if kind == "harmful" else [transcript(text, rep["helpful"][lang][w])]
    return out


def dpo_triples(languages: Iterable[str]) -> list[dict[str, str]]:
    """Refusal preferred to compliance on harmful prompts, in ``languages`` only."""
    rep, keep = responses(), set(languages)
    return [{"prompt": transcript(text, "").rstrip(), "chosen": " " + rep["refuse"][lang][w],
             "rejected": " " + rep["comply"][lang][w]}
            for _, kind, lang, text, w in _rows() if kind == "harmful" and lang in keep]


def reward_pairs() -> list[dict[str, Any]]:
    """Reward-model pairs in every language: refusal > compliance (harmful), helpful > vague (helpful)."""
    rep = responses()
    out: list[dict[str, Any]] = []
    for pid, kind, lang, text, _ in _rows():
        good = rep["refuse" if kind == "harmful" else "helpful"][lang]
        split = "heldout" if pid in HELDOUT_IDS else "train"
        for i, chosen in enumerate(good):
            for j, rejected in enumerate(rep["comply"][lang]):
                out.append({"id": f"planted-{pid}-{lang}-{i}{j}", "language": lang, "kind": kind, "split": split,
                            "prompt": text, "chosen": chosen, "rejected": rejected})
    return out


def corpus() -> list[str]:
    """Every planted transcript, for the tiny tokenizer."""
    rep = responses()
    kinds = ("comply", "refuse", "helpful")
    return [transcript(text, rep[k][lang][w]) for _, _, lang, text, w in _rows() for k in kinds]
