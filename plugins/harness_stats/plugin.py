"""Entry point of the statistics plugin: registers the statistics and the `simulate` command.

Importing this module is cheap: statsmodels, pandas and matplotlib load inside compute().
"""

from __future__ import annotations

from typing import Any

from harness import hookimpl

from .fidelity import FidelityStatistic
from .paired import PairedStatistic
from .rates import RatesStatistic
from .tradeoff import TradeoffGlmmStatistic, TradeoffStatistic


@hookimpl
def harness_register_stats(register: Any) -> None:
    for stat in (
        RatesStatistic(),
        PairedStatistic(),
        TradeoffStatistic(),
        TradeoffGlmmStatistic(),
        FidelityStatistic(),
    ):
        register(stat)


@hookimpl
def harness_register_commands(cli: Any) -> None:
    import click

    @click.command("simulate")
    @click.option("--n-null", default=200, show_default=True, help="data sets with no three-way effect")
    @click.option("--n-effect", default=200, show_default=True, help="data sets with a planted three-way effect")
    @click.option("--effect", default=1.0, show_default=True, help="planted effect, reward points")
    @click.option("--seed", default=0, show_default=True)
    def simulate(n_null: int, n_effect: int, effect: float, seed: int) -> None:
        """Check the trade-off LRT by simulation: false-positive rate and power."""
        from .simulate import report

        click.echo(report(n_null, n_effect, effect, seed))

    cli.add_command(simulate)
