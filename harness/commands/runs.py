"""Commands on finished run directories: ``report``, ``compare``, ``export``."""

from __future__ import annotations

from pathlib import Path

import click

from ..types import HarnessError
from .common import CliState, echo_json


@click.command("compare")
@click.argument("run_a", type=click.Path(file_okay=False))
@click.argument("run_b", type=click.Path(file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print JSON only.")
def compare_cmd(run_a: str, run_b: str, as_json: bool) -> None:
    """How two runs of the same cells agree: responses, scores, verdict, statistics tables."""
    from ..compare import compare_runs, format_comparison

    result = compare_runs(Path(run_a), Path(run_b))
    if as_json:
        echo_json(result)
    else:
        for line in format_comparison(result):
            click.echo(line)


@click.command("report")
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.pass_obj
def report_cmd(state: CliState, run_dir: str) -> None:
    """Rebuild the report of RUN_DIR from its stored table; loads no model."""
    from ..orchestrate import rebuild_report

    paths = rebuild_report(state.host, Path(run_dir))
    click.echo(f"report: {paths['md']}\nreport: {paths['html']}")


@click.command("export")
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "jsonl", "parquet"]),
    default=None,
    help="Table format (default: from -o's suffix, else csv).",
)
@click.option("-o", "--output", default=None, help="Output file (default RUN_DIR/table.FORMAT).")
def export_cmd(run_dir: str, fmt: str | None, output: str | None) -> None:
    """Write the tidy table of RUN_DIR as CSV, JSONL or Parquet."""
    from ..orchestrate import run_table_path
    from ..table import FORMATS, read_table, write_table

    suffix = Path(output).suffix.lstrip(".").lower() if output else ""
    if output and suffix not in FORMATS and fmt is None:
        raise HarnessError(
            f"-o {output!r}: cannot tell the format from its suffix; name it .csv, .jsonl or "
            ".parquet, or pass --format"
        )
    if output and suffix in FORMATS and fmt is not None and suffix != fmt:
        raise HarnessError(
            f"-o {output!r} ends in .{suffix} but --format is {fmt}; valid: name it .{fmt}, "
            f"or pass --format {suffix}"
        )
    fmt = fmt or (suffix if suffix in FORMATS else "csv")
    rows = read_table(run_table_path(Path(run_dir)))
    path = write_table(rows, Path(output) if output else Path(run_dir) / f"table.{fmt}", fmt)
    click.echo(str(path))
