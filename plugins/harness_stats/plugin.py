"""Entry point of the statistics plugin: registers the statistics and the `simulate` and `power` commands.

Importing this module is cheap: statsmodels, pandas and matplotlib load inside compute().
"""

from __future__ import annotations

from typing import Any

from harness import hookimpl

from .statistics.agreement import AgreementStatistic
from .statistics.fidelity import FidelityStatistic
from .statistics.paired import PairedStatistic
from .statistics.rates import RatesStatistic
from .statistics.tradeoff import TradeoffStatistic
from .statistics.tradeoff_glmm import TradeoffGlmmStatistic
from .statistics.verdict import VerdictStatistic


@hookimpl
def harness_register_stats(register: Any) -> None:
    for stat in (
        VerdictStatistic(),
        RatesStatistic(),
        PairedStatistic(),
        TradeoffStatistic(),
        TradeoffGlmmStatistic(),
        FidelityStatistic(),
        AgreementStatistic(),
    ):
        register(stat)


@hookimpl
def harness_register_commands(cli: Any) -> None:
    from .commands import power, simulate

    cli.add_command(simulate)
    cli.add_command(power)
