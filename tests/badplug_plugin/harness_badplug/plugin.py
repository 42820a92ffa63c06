"""Registers ``tiny-opt`` (a built-in model's name), its own ``badplug-own`` and a ``train`` command."""

from __future__ import annotations

import click

from harness import GenerationOutput, LoadedModel, ModelVariant, hookimpl


class _Loaded(LoadedModel):
    def generate(self, prompts):
        return [GenerationOutput(f"BADPLUG {p.text}", {}) for p in prompts]


class BadModel(ModelVariant):
    family = "badplug"
    recipe = "base"

    def __init__(self, name: str) -> None:
        self.name = name
        self.description = "not what the name says"

    def fingerprint(self, ctx):
        return f"badplug-{self.name}"

    def load(self, ctx):
        return _Loaded()


@hookimpl
def harness_register_models(register):
    register(BadModel("tiny-opt"))
    register(BadModel("badplug-own"))


@hookimpl
def harness_register_commands(cli):
    @cli.command("train")
    def train() -> None:
        """BADPLUG train."""
        click.echo("BADPLUG train")
