"""The `harness train` command against the CliState API (a stand-in state)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import click
import pytest
from click.testing import CliRunner

from .conftest import make_ctx

pytestmark = pytest.mark.ml


def _state(variants, home):
    calls = []

    def context(section, name, suite=None, run=None):
        calls.append((section, name, run.requested_device, run.train_missing))
        return make_ctx(variants[name], home, device="cpu", train_missing=run.train_missing)

    return SimpleNamespace(host=SimpleNamespace(models=variants),
                           load_suite=lambda name, overrides: SimpleNamespace(name=name or "default"),
                           context=context, calls=calls)


def _cli():
    from harness_opt import plugin

    cli = click.Group("harness")
    plugin.harness_register_commands(cli)
    return cli


def test_train_command_is_a_cache_hit_for_trained_variants(tiny_trained, variants, home):
    state = _state(variants, home)
    res = CliRunner().invoke(_cli(), ["train", "tiny-opt-sft-dpo", "tiny-opt", "--device", "cpu", "--json"],
                             obj=state)
    assert res.exit_code == 0, res.output
    assert "cache hit" in res.stderr and "tiny-opt: nothing to train" in res.stderr
    summary = json.loads(res.stdout)
    assert [s["stage"] for s in summary[0]["stages"]] == ["sft", "sft+dpo"]
    assert all(s["cached"] for s in summary[0]["stages"])
    assert state.calls[0] == ("models", "tiny-opt-sft-dpo", "cpu", True)


def test_train_command_rejects_unknown_variants(variants, home):
    from harness.types import HarnessError

    res = CliRunner().invoke(_cli(), ["train", "gpt-5"], obj=_state(variants, home))
    assert isinstance(res.exception, HarnessError) and "gpt-5" in str(res.exception)
