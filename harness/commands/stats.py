"""``harness stats [TABLE]``: list the statistics, or run them on any tidy table."""

from __future__ import annotations

from typing import Any

import click

from ..choices import split_csv, unknown
from ..stat_failures import check_failed
from ..types import HarnessError
from .common import CliState, describe, echo_json, echo_rows


@click.command("stats")
@click.argument("table", required=False, type=click.Path(dir_okay=False))
@click.option("--stats", "stat_names", default=None, help="Statistics to run (default: all registered).")
@click.option("--set", "sets", multiple=True, help="Statistic option STAT.KEY=VALUE.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON only.")
@click.pass_obj
def stats_cmd(state: CliState, table: str | None, stat_names: str | None, sets: tuple[str, ...], as_json: bool) -> None:
    """Without TABLE, list statistics; with TABLE (csv/jsonl/parquet), run them on it."""
    if table is None:
        items = [describe("stats", obj) for _, obj in sorted(state.host.stats.items())]
        echo_json(items) if as_json else echo_rows(items, ["name", "plugin", "description"])
        return
    from ..report import run_stats, stats_json
    from ..table import read_table

    names = _chosen(state, stat_names)
    options = _checked_options(state, names, sets)
    rows = read_table(table)
    results = run_stats(state.host, names, rows, options)
    if as_json:
        echo_json({name: value["data"] for name, value in stats_json(results).items()})
    else:
        for r in results:
            click.echo(f"## {r.title}\n\n{r.markdown.strip()}\n")
            for w in r.warnings:
                click.echo(f"warning: {w}", err=True)
    check_failed(state.host, {r.name: r.error for r in results if r.error}, "the other statistics are printed")


def _chosen(state: CliState, stat_names: str | None) -> list[str]:
    if stat_names is not None and not split_csv(stat_names):
        raise HarnessError(
            f"--stats is empty ({stat_names!r}): give NAME,NAME; valid: {', '.join(sorted(state.host.stats))}"
        )
    names = split_csv(stat_names) or sorted(state.host.stats)
    for n in names:
        if n not in state.host.stats:
            raise unknown("statistic", n, state.host.stats)
    return names


def _checked_options(state: CliState, names: list[str], sets: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """Each statistic's ``--set`` options, every one checked before the table is read."""
    from ..suite import apply_override

    opts: dict[str, Any] = {"stats": {n: {} for n in names}}
    for s in sets:
        apply_override(opts, s if s.split(".", 1)[0] == "stats" else f"stats.{s}")
    for n, options in opts["stats"].items():
        if n not in names:
            raise unknown("statistic in --set", n, names)
        if not isinstance(options, dict):
            raise HarnessError(f"--set {n}=...: give STAT.KEY=VALUE, e.g. --set {n}.KEY=VALUE")
        state.host.stats[n].check_options(options)
    return opts["stats"]
