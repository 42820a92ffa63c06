"""Synthetic tidy tables and reports for the report tests and the browser benchmark: known counts, no model.

``table()`` builds models x languages x sources x kinds x prompts samples; the scorer ``reward``
scores every one, ``fidelity`` only source ``alpha`` and leaves language ``yo`` without a score
(with a ``missing_reason``), so each filter of the sample browser has a count to check.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import Any

MODELS = ("base", "sft", "dpo")
LANGS = {"en": "high", "de": "high", "sw": "low", "yo": "low"}
SOURCES = ("alpha", "beta")
KINDS = ("harmful", "helpful")
PLANTED = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">PLANTED'
NEEDLE = "zebra-42 is the unique needle"
_WORDS = "the a model answer prompt safe help language low high because which never always sure".split()


def _text(seed: int, words: int) -> str:
    out, x = [], seed * 2654435761 % 2**32
    for _ in range(words):
        x = (x * 1103515245 + 12345) % 2**31
        out.append(_WORDS[x % len(_WORDS)])
    return " ".join(out)


def reward(i: int) -> float:
    return ((i * 37) % 100) / 10 - 5.0


def table(
    models: tuple[str, ...] = MODELS,
    langs: dict[str, str] = LANGS,
    prompts: int = 5,
    long_texts: bool = False,
    extra_scorers: tuple[str, ...] = (),
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    samples = []
    for model in models:
        for lang, tier in langs.items():
            for source in SOURCES:
                for kind in KINDS:
                    for p in range(prompts):
                        i = len(samples)
                        pid = f"{source}-{kind}-{p:03d}"
                        prompt = f"[{lang}] {kind} prompt {p} of {source}" + (
                            ": " + _text(zlib.crc32(f"{lang}{pid}".encode()), 25) if long_texts else ""
                        )
                        response = f"{model} answers {pid} in {lang}" + (": " + _text(i, 55) if long_texts else "")
                        if (model, lang, source, kind, p) == ("dpo", "sw", "beta", "helpful", 3):
                            response = NEEDLE
                        if (model, lang, source, kind, p) == ("sft", "de", "alpha", "harmful", 1):
                            response = PLANTED
                            prompt = "<b>not bold</b> " + prompt
                        base = {
                            "model": model,
                            "source": source,
                            "kind": kind,
                            "language": lang,
                            "tier": tier,
                            "prompt_id": pid,
                            "prompt": prompt,
                            "response": response,
                            "family": "fam",
                            "recipe": "base" if model == "base" else model,
                            "translated": lang != "en" and source == "beta",
                            "truncated": False,
                            "generation_key": f"g{i}",
                        }
                        if lang == "sw" and source == "alpha":  # e.g. a translate-test scorer's translation
                            base["response_translation"] = f"in English: {response}"
                        samples.append(base)
    for scorer in ("reward", "fidelity", *extra_scorers):
        for i, s in enumerate(samples):
            if scorer == "fidelity" and s["source"] != "alpha":
                continue
            row = {**s, "scorer": scorer, "metric": "probability" if scorer == "fidelity" else "reward"}
            if scorer == "fidelity":
                row["score"] = None if s["language"] == "yo" else (i % 10) / 10
                row["missing_reason"] = "identifier cannot score yo" if s["language"] == "yo" else ""
            else:
                row["score"] = reward(i)
                row["missing_reason"] = ""
            rows.append(row)
    return rows


def png(width: int = 40, height: int = 20) -> bytes:
    """A small valid PNG (a grey gradient), without matplotlib."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + bytes((x * 255 // width) for x in range(width)) for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def synthetic_results() -> list[Any]:
    from harness.types import StatResult

    long_table = [
        {"model": m, "language": lang, "value": float(i)}
        for i, (m, lang) in enumerate((m, lang) for m in MODELS for lang in LANGS for _ in range(3))
    ]
    return [
        StatResult(
            name="means",
            title="Mean reward",
            markdown="Mean reward per model; **bold** and a [link](https://example.org).",
            tables={"means_by_language": long_table, "means": long_table[:3]},
            figures={"means.png": png()},
        ),
        StatResult(
            name="verdict",
            title="The verdict",
            markdown="The trade-off test in detail.",
            headline="**dpo vs base**: the harmlessness gain is 1.2 points smaller in low-tier languages.",
            headline_figure="interaction.png",
            figures={"forest.png": png(30, 30), "interaction.png": png(60, 30)},
            warnings=["the fit did not converge <script>window.__pwned = 3</script>"],
        ),
        StatResult(
            name="hostile",
            title="Hostile <script>window.__pwned = 4</script> title",
            markdown='Text with <script>window.__pwned = 5</script> and <img src=x onerror="window.__pwned = 6">.',
        ),
    ]


def write_synthetic_report(out: Path, rows: list[dict[str, Any]], manifest: dict[str, Any] | None = None) -> Path:
    from harness.report import write_report

    out.mkdir(parents=True, exist_ok=True)
    manifest = (
        manifest
        if manifest is not None
        else {
            "config": {"name": "synthetic", "description": "A synthetic table with known counts."},
            "plan": {"tier_scheme": "joshi"},
        }
    )
    write_report(out, synthetic_results(), manifest, rows)
    return out
