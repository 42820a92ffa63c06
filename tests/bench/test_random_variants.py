"""The benchmark-only random-weight variants: a plugin of benchmarks/ that benchmarks add to their host,
never registered by the product."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from random_variants import PLUGIN, RandomLlamaVariant, RandomOptVariant, bench_host

from harness.plugins import PluginHost
from harness.types import Context, GenerationSettings

RANDOM = {"opt-350m-random", "llama-350m-random"}


def ctx(variant, home: Path, **options) -> Context:
    return Context(options={**variant.default_options, **options}, home=home, device="cpu",
                   generation=GenerationSettings(max_new_tokens=8, prompt_format="hh"), log=lambda m: None)


@pytest.fixture(scope="module")
def host() -> PluginHost:
    return PluginHost(modules=[PLUGIN], strict=True)


def test_the_benchmark_plugin_registers_both(host):
    assert RANDOM <= set(host.models)
    assert {host.models[name].plugin for name in RANDOM} == {PLUGIN}
    assert isinstance(host.models["opt-350m-random"], RandomOptVariant)
    assert isinstance(host.models["llama-350m-random"], RandomLlamaVariant)
    assert not host.infos[PLUGIN].errors
    assert "opt-350m" in host.models  # beside the product's own


def test_bench_host_adds_the_plugin_to_harness_plugins(monkeypatch):
    monkeypatch.delenv("HARNESS_PLUGINS", raising=False)
    assert RANDOM <= set(bench_host().models)


def test_the_product_does_not_list_them(harness_home):
    assert not RANDOM & set(PluginHost(modules=[]).models)
    env = {k: v for k, v in os.environ.items() if k not in ("HARNESS_PLUGINS", "HARNESS_NO_ENTRYPOINTS")}
    exe = Path(sys.executable).parent / "harness"
    cmd = [str(exe)] if exe.is_file() else [sys.executable, "-c", "from harness.cli import main; main()"]
    proc = subprocess.run([*cmd, "models", "--json"], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    names = {m["name"] for m in json.loads(proc.stdout)}
    assert "opt-350m" in names and not RANDOM & names


def test_opt350m_random_needs_no_hub(host, harness_home, tmp_path, monkeypatch):
    import huggingface_hub.constants as c

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(c, "HF_HUB_CACHE", str(tmp_path / "hf"))  # facebook/opt-350m's tokenizer absent
    v = host.models["opt-350m-random"]
    assert v.is_available(ctx(v, harness_home)) is None
    assert v.fingerprint(ctx(v, harness_home)) != v.fingerprint(ctx(v, harness_home, seed=1))


def test_llama350m_random_fingerprint_follows_its_seed(host, harness_home):
    v = host.models["llama-350m-random"]
    assert v.is_available(ctx(v, harness_home)) is None
    assert v.fingerprint(ctx(v, harness_home)) != v.fingerprint(ctx(v, harness_home, seed=1))
