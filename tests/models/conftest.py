"""Shared fixtures for the OPT plugin tests: a context factory and the tiny family trained once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.types import Context, GenerationSettings


def make_ctx(variant, home: Path, options: dict | None = None, **kw) -> Context:
    opts = dict(variant.default_options)
    opts.update(options or {})
    kw.setdefault("device", "cpu")
    kw.setdefault("generation", GenerationSettings(max_new_tokens=12, prompt_format="hh"))
    return Context(options=opts, home=home, log=lambda msg: None, **kw)


@pytest.fixture(scope="session")
def variants() -> dict:
    from harness_opt.plugin import variants as all_variants

    return {v.name: v for v in all_variants()}


@pytest.fixture(scope="session")
def home(harness_home: Path) -> Path:
    return Path(os.environ["HARNESS_HOME"])


@pytest.fixture(scope="session")
def tiny_trained(variants, home) -> dict:
    """Train tiny-opt-sft, -dpo and -sft-dpo once (the SFT+DPO chain reuses the SFT checkpoint)."""
    import torch

    torch.set_num_threads(1)  # tiny models: one thread is fastest, and polite
    reports = {}
    for name in ("tiny-opt-sft", "tiny-opt-dpo", "tiny-opt-sft-dpo"):
        v = variants[name]
        folder, rep = v.ensure_trained(make_ctx(v, home, train_missing=True))
        reports[name] = {"folder": folder, "reports": rep}
    return reports
