"""`harness train VARIANT...`: train what is missing, SFT before SFT+DPO, cache hits for unchanged recipes."""

from __future__ import annotations

import json
import time

import click

from harness.choices import unknown as unknown_name
from harness.run_options import RunOptions
from harness.types import HarnessError


@click.command("train")
@click.argument("variants", nargs=-1, required=True)
@click.option("--suite", "suite_name", default=None, help="Suite whose [models.NAME] options apply.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a suite value, e.g. tiny-opt-sft.sft.epochs=1.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary of what was trained.")
@click.pass_obj
def train(state, variants, suite_name, overrides, device, as_json) -> None:
    """Train the checkpoints VARIANTS need (progress and loss on stderr; log and config saved beside them)."""
    suite = state.load_suite(suite_name, list(overrides))
    unknown = [v for v in variants if v not in state.host.models]
    if unknown:
        raise unknown_name("model variant", unknown[0], state.host.models)
    run = RunOptions.resolve(device=device, train_missing=True)
    summary = []
    for name in variants:
        variant = state.host.models[name]
        if not hasattr(variant, "ensure_trained"):
            raise HarnessError(f"{name} is not trainable by `harness train` (plugin {variant.plugin or '?'})")
        ctx = state.context("models", name, suite, run)
        ctx.log = lambda msg: click.echo(msg, err=True)
        plan = variant.plan(ctx)
        if not plan.stages:
            click.echo(f"{name}: nothing to train ({variant.recipe} weights: {plan.weights_identity})", err=True)
            summary.append({"variant": name, "stages": []})
            continue
        t0 = time.perf_counter()
        folder, reports = variant.ensure_trained(ctx, plan)
        summary.append({"variant": name, "checkpoint": str(folder), "stages": reports,
                        "seconds": round(time.perf_counter() - t0, 2)})
        click.echo(f"{name}: {folder}", err=True)
    if as_json:
        click.echo(json.dumps(summary, indent=2))
