"""The plugin's commands, `harness simulate` and `harness power`: click commands at module level, the
work in simulation/; the stats extra is imported inside each command, so the plugin loads without it."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from harness.types import HarnessError


def _variances_from_table(path: str) -> dict[str, float]:
    """Variance components of an earlier run's table, fitted with the default random formula (the
    data-generating process has exactly its components)."""
    from harness.table import read_table

    from .statistics.tradeoff_model import NotEstimable, design_frames, fit_frame

    try:
        frame = design_frames(read_table(path), {})[0]
        return fit_frame(frame["frame"], None, check=False).variance_components()
    except NotEstimable as exc:
        raise HarnessError(f"--from-table {path}: {exc}") from None


@contextmanager
def _needs_stats_extra(command: str) -> Iterator[None]:
    """A core-only install running a statistics command: one line saying which extra to install."""
    try:
        yield
    except ModuleNotFoundError as exc:
        install = "pip install 'alignment-harness[stats]'"
        raise HarnessError(f"harness {command} needs the `stats` extra (no module {exc.name!r}): {install}") from None


def _sd_overrides(pairs: tuple[str, ...]) -> dict[str, float]:
    from harness.choices import unknown

    from .simulation.simulate import SD_NAMES

    out = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        if name not in SD_NAMES:
            raise unknown("variance component", name, {n: None for n in SD_NAMES})
        try:
            out[name] = float(value)
        except ValueError:
            out[name] = math.nan
        if not (math.isfinite(out[name]) and out[name] >= 0):
            raise HarnessError(f"--sd {pair}: the SD must be a number >= 0, e.g. --sd language:variant=0.3") from None
    return out


def _prompt_counts(state: Any, suite: Any, plan: Any) -> dict[str, int]:
    """Prompts per kind and language the planned sources give: their option ``n`` where it says, else one
    language's prompts counted (the same in every language)."""
    counts = {"harmful": 0, "helpful": 0}
    for name in plan.sources:
        codes = plan.langs_by_source.get(name)
        if not codes:
            continue
        source = state.host.sources[name]
        ctx = state.context("sources", name, suite)
        n = ctx.options.get("n")
        if n and len(source.kinds) == 1:  # n prompts per language, all of the source's one kind
            counts[source.kinds[0]] += int(n)
            continue
        try:  # n unset ("all") or two kinds: count one language's prompts (parallel across languages)
            prompts = source.load(codes[0], ctx)
        except Exception as exc:  # noqa: BLE001 - any loading problem becomes the same actionable message
            raise HarnessError(
                f"cannot count the prompts of source {name} ({exc}); give --items HARMFUL,HELPFUL"
            ) from None
        for prompt in prompts:
            counts[prompt.kind] = counts.get(prompt.kind, 0) + 1
    return counts


def _given_counts(items: str) -> dict[str, int]:
    """``--items HARMFUL,HELPFUL``."""
    try:
        harmful, helpful = (int(x) for x in items.split(","))
    except ValueError:
        harmful = helpful = 0
    if harmful < 1 or helpful < 1:
        raise HarnessError(f"--items {items}: expected two counts >= 1, e.g. --items 50,50") from None
    return {"harmful": harmful, "helpful": helpful}


def _plan_shape(
    state: Any, suite_name: str | None, langs: str | None, models: str | None, sets: tuple[str, ...], items: str | None
) -> tuple[int, dict[str, int], dict[str, int], list[str]]:
    """(models, items per kind, languages per tier, notes) of the run ``harness run`` would plan."""
    from harness.plan import build_plan

    from .statistics.table import as_list, ordered_tiers

    suite = state.load_suite(suite_name, sets)
    plan = build_plan(
        state.host,
        suite,
        models=models,
        langs=langs,
        context_for=lambda section, name: state.context(section, name, suite),
    )
    counts = _given_counts(items) if items else _prompt_counts(state, suite, plan)
    codes = sorted({c for v in plan.langs_by_source.values() for c in v})
    tiers = ordered_tiers(
        {plan.tier_of(c) for c in codes}, as_list(suite.options("stats", "tradeoff").get("tier_order"))
    )
    wanted = as_list(suite.options("stats", "tradeoff").get("tiers")) or (tiers[:1] + tiers[-1:] if tiers else [])
    if len(wanted) != 2 or wanted[0] == wanted[1]:
        raise HarnessError(f"the plan has languages of tier(s) {', '.join(tiers) or 'none'}; the trade-off needs two")
    langs_per = {
        "low": sum(plan.tier_of(c) == wanted[0] for c in codes),
        "high": sum(plan.tier_of(c) == wanted[1] for c in codes),
    }
    notes = [f"tiers {wanted[0]} (low) vs {wanted[1]} (high); models: {', '.join(plan.models)}"]
    if plan.skipped_langs:
        notes.append(f"skipped (no source covers them): {', '.join(plan.skipped_langs)}")
    return len(plan.models), counts, langs_per, notes


_random_opt = click.option(
    "--random", default=None, help="lme4 random-effects formula of the fitted model (default: the extended one)"
)
_count = click.IntRange(min=0)
_table_opt = click.option(
    "--from-table",
    "from_table",
    default=None,
    type=click.Path(exists=True, dir_okay=False),
    help="take the variance components from this earlier run's table (fitted with the default model)",
)


@click.command("simulate")
@click.option("--n-null", default=200, type=_count, show_default=True, help="data sets with no three-way effect")
@click.option(
    "--n-effect", default=200, type=_count, show_default=True, help="data sets with a planted three-way effect"
)
@click.option("--effect", default=0.6, show_default=True, help="planted effect on one variant, reward points")
@click.option("--seed", default=0, type=_count, show_default=True)
@click.option(
    "--models", "variants", default=4, type=click.IntRange(min=2), show_default=True,
    help="models, the base one included",
)
@click.option("--items", default=50, type=click.IntRange(min=1), show_default=True, help="items per kind")
@click.option("--low", "low", default=13, type=click.IntRange(min=1), show_default=True, help="low-tier languages")
@click.option(
    "--high", "high", default=20, type=click.IntRange(min=1), show_default=True, help="high-tier languages"
)
@click.option(
    "--sd",
    "sds",
    multiple=True,
    metavar="NAME=SD",
    help="a data-generating SD, e.g. --sd language:variant=0.3 (names: item, language, language:item, "
    "language:variant, language:variant:kind, residual)",
)
@_table_opt
@_random_opt
@click.option(
    "--test",
    type=click.Choice(["f", "lrt"]),
    default="f",
    show_default=True,
    help="f: Satterthwaite F test (the default test); lrt: likelihood-ratio test",
)
def simulate(
    n_null: int,
    n_effect: int,
    effect: float,
    seed: int,
    variants: int,
    items: int,
    low: int,
    high: int,
    sds: tuple[str, ...],
    from_table: str | None,
    random: str | None,
    test: str,
) -> None:
    """False-positive rate and power of the trade-off test on data with every variance component."""
    from dataclasses import replace

    from .statistics.options import check_formula

    if not math.isfinite(effect):
        raise HarnessError(f"--effect must be a finite number of reward points, got {effect!r}")
    if n_null + n_effect == 0:
        raise HarnessError("--n-null and --n-effect are both 0: nothing to simulate; give at least one data set")
    if random:
        check_formula("--random", random)
    with _needs_stats_extra("simulate"):
        from .simulation.simulate import SimDesign, design_from_variances, report
    design = SimDesign(variants=variants, items_per_kind=items, low_languages=low, high_languages=high)
    if from_table:
        design = design_from_variances(design, _variances_from_table(from_table))
    over = _sd_overrides(sds)
    if over:
        design = design_from_variances(
            design, {**{k: v**2 for k, v in design.sds().items()}, **{k: v**2 for k, v in over.items()}}
        )
    design = replace(design)
    click.echo(report(n_null, n_effect, effect, seed, design, random, test))


@click.command("power")
@click.option("--suite", "suite_name", default=None, help="suite to plan (default: the default suite)")
@click.option("--langs", default=None, help="languages or tiers, as for `harness run`")
@click.option("--models", default=None, help="models, as for `harness run`")
@click.option("--set", "sets", multiple=True, help="suite override, as for `harness run`")
@click.option("--items", default=None, help="HARMFUL,HELPFUL items per language (default: from the sources' n)")
@_table_opt
@_random_opt
@click.option(
    "--n", "n", default=50, type=click.IntRange(min=1), show_default=True, help="simulated data sets per effect"
)
@click.option("--seed", default=0, type=_count, show_default=True)
@click.pass_obj
def power(
    state: Any,
    suite_name: str | None,
    langs: str | None,
    models: str | None,
    sets: tuple[str, ...],
    items: str | None,
    from_table: str | None,
    random: str | None,
    n: int,
    seed: int,
) -> None:
    """Minimum three-way effect detectable at 80% power for a planned run, by simulation."""
    from .statistics.options import check_formula

    if random:
        check_formula("--random", random)
    with _needs_stats_extra("power"):
        from .simulation.power import describe, power_for_plan
    n_models, counts, per_tier, notes = _plan_shape(state, suite_name, langs, models, sets, items)
    variances = _variances_from_table(from_table) if from_table else None
    try:
        result = power_for_plan(n_models, counts, per_tier, variances, n=n, seed=seed, random=random)
    except ValueError as exc:
        raise HarnessError(str(exc)) from None
    for line in notes:
        click.echo(line)
    click.echo(f"variance components: {'from ' + from_table if from_table else 'assumed (simulation defaults)'}")
    click.echo(describe(result))

