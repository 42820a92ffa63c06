"""What `harness models` shows: names, families, recipes; and that the entry point stays cheap to import."""

from __future__ import annotations

import subprocess
import sys

from harness.types import ModelVariant


def test_registers_every_variant_with_family_and_recipe(variants):
    expected = {
        "opt-350m": ("opt-350m", "base"), "opt-350m-sft": ("opt-350m", "sft"),
        "opt-350m-dpo": ("opt-350m", "dpo"), "opt-350m-sft-dpo": ("opt-350m", "sft+dpo"),
        "tiny-opt": ("tiny-opt", "base"), "tiny-opt-sft": ("tiny-opt", "sft"),
        "tiny-opt-dpo": ("tiny-opt", "dpo"), "tiny-opt-sft-dpo": ("tiny-opt", "sft+dpo"),
    }
    for family in ("tiny-planted", "tiny-planted-null"):  # the planted demo and its null twin
        expected.update({family + suffix: (family, recipe) for recipe, suffix in
                         (("base", ""), ("sft", "-sft"), ("dpo", "-dpo"), ("sft+dpo", "-sft-dpo"))})
    assert set(variants) == set(expected)
    for name, (family, recipe) in expected.items():
        v = variants[name]
        assert isinstance(v, ModelVariant)
        d = v.describe()
        assert (d["family"], d["recipe"]) == (family, recipe)
        assert (v.family, v.recipe) == (family, recipe)
        assert d["checkpoint"]


def test_hook_registers_through_register_callback():
    from harness_opt import plugin

    got = []
    plugin.harness_register_models(got.append)
    assert [v.name for v in got][:4] == ["opt-350m", "opt-350m-sft", "opt-350m-dpo", "opt-350m-sft-dpo"]


def test_plugin_import_does_not_import_the_ml_stack():
    code = (
        "import sys, harness_opt.plugin as p; p.variants(); "
        "heavy = [m for m in ('torch', 'transformers', 'trl', 'datasets', 'peft') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_train_command_is_added():
    import click
    from harness_opt import plugin

    cli = click.Group("harness")
    plugin.harness_register_commands(cli)
    assert "train" in cli.commands
