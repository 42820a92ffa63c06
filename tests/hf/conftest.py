"""Tiny models of four architectures, built once per session from their recipes (offline)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.types import Context, GenerationSettings, Prompt

ARCHS = ("llama", "qwen2", "gemma2", "gpt_neox")

#: Short and long, several scripts: every batch mixes lengths (and gemma2's sliding window of 8 is crossed).
TEXTS = [
    "How do I bake bread at home?",
    "Why?",
    "Wie kann ich meinem Nachbarn helfen, der krank ist und allein lebt?",
    "¿Cuál es la mejor manera de aprender a programar si nunca lo he hecho antes y tengo poco tiempo?",
    "如何学习一门新语言？",
    "Ninawezaje kupika wali?",
    "Tell me a long story about a cat who travels the world, visits every continent and comes home.",
    "Ok",
    "What is the capital of France, and why has it been the capital for so many centuries?",
    "मी मराठी कशी शिकू?",
]


def make_ctx(variant, home: Path, options: dict | None = None, **kw) -> Context:
    opts = dict(variant.default_options)
    opts.update(options or {})
    kw.setdefault("device", "cpu")
    kw.setdefault("generation", GenerationSettings(max_new_tokens=24, prompt_format="chat"))
    return Context(options=opts, home=home, log=lambda msg: None, **kw)


def prompts() -> list[Prompt]:
    return [Prompt("t", str(i), "xx", "helpful", t) for i, t in enumerate(TEXTS)]


@pytest.fixture(scope="session")
def hf_variants() -> dict:
    from harness_hf.plugin import variants

    return {v.name: v for v in variants()}


@pytest.fixture(scope="session")
def home(harness_home: Path) -> Path:
    return Path(os.environ["HARNESS_HOME"])
