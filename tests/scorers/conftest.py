"""Shared fixtures for the scorer tests: real prompts/responses (full data or samples) and the tiny reward model."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from harness.types import Context, ScoreRequest

#: One sentence per XTREME-R script family, beyond what the shared data files hold.
EXTRA_SCRIPTS = {
    "ka": "გამარჯობა, როგორ ხარ?",  # Georgian
    "he": "שלום, מה שלומך היום?",  # Hebrew
    "my": "မင်္ဂလာပါ၊ နေကောင်းလား။",  # Burmese
    "ml": "നമസ്കാരം, സുഖമാണോ?",  # Malayalam
    "te": "నమస్కారం, మీరు ఎలా ఉన్నారు?",  # Telugu
    "gu": "નમસ્તે, તમે કેમ છો?",  # Gujarati
    "pa": "ਸਤ ਸ੍ਰੀ ਅਕਾਲ, ਤੁਸੀਂ ਕਿਵੇਂ ਹੋ?",  # Gurmukhi
    "ja": "こんにちは、お元気ですか？",  # Japanese
    "kk": "Сәлеметсіз бе, қалыңыз қалай?",  # Kazakh Cyrillic
    "fa": "سلام، حال شما چطور است؟",  # Persian
    "ur": "ہیلو، آپ کیسے ہیں؟",  # Urdu
    "mr": "नमस्कार, तुम्ही कसे आहात?",  # Marathi (Devanagari)
    "yo": "Ẹ kú àárọ̀, ṣé àlàáfíà ni?",  # Yoruba
    "wo": "Na nga def? Maa ngi fi rekk.",  # Wolof
}


@pytest.fixture(scope="session")
def multijail(sample_data: Path) -> list[dict[str, str]]:
    with open(sample_data / "multijail" / "MultiJail.csv", encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="session")
def study_responses(shared_data: Path) -> list[dict[str, str]]:
    rows = []
    for path in sorted((shared_data / "opt350m-paper" / "responses").glob("*.json")):
        kind = "harmful" if "harmful" in path.name else "helpful"
        for r in json.loads(path.read_text(encoding="utf-8")):
            rows.append({"prompt": r["prompt"], "response": r["response"], "kind": kind, "file": path.name})
    return rows


@pytest.fixture(scope="session")
def script_samples(sample_data: Path, multijail: list[dict[str, str]]) -> dict[str, str]:
    """Real text in as many XTREME-R languages/scripts as the data holds, plus EXTRA_SCRIPTS."""
    out = dict(EXTRA_SCRIPTS)
    for lang in ("en", "zh", "it", "vi", "ar", "ko", "th", "bn", "sw", "jv"):
        out[lang] = multijail[3][lang]
    for path in sorted((sample_data / "xquad").glob("xquad.*.json")):
        lang = path.name.split(".")[1]
        data = json.loads(path.read_text(encoding="utf-8"))
        out.setdefault(lang, data["data"][0]["paragraphs"][0]["qas"][0]["question"])
    for path in sorted((sample_data / "xcopa").glob("test.*.jsonl")):
        lang = path.name.split(".")[1]
        first = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
        out.setdefault(lang, first["premise"])
    return out


def _requests_from(rows: list[dict[str, str]], language: str = "en") -> list[ScoreRequest]:
    return [
        ScoreRequest(f"k{i}", r["prompt"], r["response"], r.get("language", language), r.get("kind", "harmful"))
        for i, r in enumerate(rows)
    ]


@pytest.fixture(scope="session")
def requests_from():
    """rows of {prompt, response[, language, kind]} -> ScoreRequests."""
    return _requests_from


@pytest.fixture(scope="session")
def torch_single_thread():
    import torch

    torch.set_num_threads(1)  # the test machine's CPUs are shared: one thread is the fastest
    return torch


@pytest.fixture(scope="session")
def tiny_ctx(harness_home: Path) -> Context:
    return Context(home=harness_home, device="cpu", log=lambda m: None)


@pytest.fixture(scope="session")
def tiny_dir(torch_single_thread, tiny_ctx: Context) -> Path:
    from harness_scorers.tiny_reward import ensure_built

    return ensure_built(tiny_ctx.home, tiny_ctx.log)


@pytest.fixture(scope="session")
def tiny_loaded(tiny_dir: Path, tiny_ctx: Context):
    from harness_scorers.tiny_reward import TinyRewardScorer

    loaded = TinyRewardScorer().load(tiny_ctx)
    yield loaded
    loaded.close()
