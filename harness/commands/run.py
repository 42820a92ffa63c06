"""``harness run``: its options, gathered into one ``RunRequest`` for ``orchestrate.execute_run``."""

from __future__ import annotations

import sys
from typing import Any

import click

from ..plugins import PluginHost
from ..run_options import parse_batch_size
from ..suite import DEFAULT_SUITE
from ..types import HarnessError
from .common import CliState

#: options that stay None when left at their default, so the suite's keys of the same name apply
SUITE_DEFAULTS = ("device", "batch_size")


def run_command(host: PluginHost) -> click.Command:
    """The ``run`` command; the executors registered on ``host`` add their ``--NAME-OPTION`` flags."""

    @click.command("run")
    @click.option(
        "--suite", "suite_name", default=None, help=f"Suite name in tasks/ or a TOML file (default {DEFAULT_SUITE})."
    )
    @click.option("--models", default="all", show_default=True, help="'all' (the suite's) or NAME,NAME.")
    @click.option("--langs", default=None, help="Tiers and codes, mixed: low,high or sw,zh (default: the suite's).")
    @click.option("--sources", default=None, help="Sources (default: the suite's).")
    @click.option("--scorers", default=None, help="Scorers (default: the suite's).")
    @click.option("--stats", "stat_names", default=None, help="Statistics (default: the suite's).")
    @click.option("--set", "sets", multiple=True, help="Override a suite value KEY=VALUE (repeatable).")
    @click.option(
        "--limit", type=click.IntRange(min=1), default=None, help="At most N prompts per kind per source/language."
    )
    @click.option("--batch-size", default="auto", show_default=True, help="N or auto.")
    @click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
    @click.option(
        "--dtype",
        type=click.Choice(["auto", "fp32", "bf16", "fp16"]),
        default="auto",
        show_default=True,
        help="Models' and scorers' dtype; auto: fp32 on CPU, the checkpoint's on a GPU.",
    )
    @click.option(
        "--out", type=click.Path(file_okay=False), default=None, help="Run directory (default results/SUITE-HASH)."
    )
    @click.option(
        "--store",
        "store_path",
        type=click.Path(dir_okay=False),
        default=None,
        help="Store file (default $HARNESS_HOME/store.sqlite).",
    )
    @click.option("--train-missing", is_flag=True, help="Train model variants that have no checkpoint yet.")
    @click.option("--dry-run", is_flag=True, help="Print the plan and the work it needs, then stop (loads no model).")
    @click.option("--json", "as_json", is_flag=True, help="With --dry-run: print the plan as JSON only.")
    @click.option(
        "--rehearse", is_flag=True, help="Offline dress rehearsal: every hub component replaced by its stand-in."
    )
    @click.option("--no-progress", is_flag=True, help="No progress bars.")
    @click.option(
        "--executor",
        default=None,
        help=f"Where batches run: {', '.join(sorted(host.executors))} "
        "(or HARNESS_EXECUTOR; default: the suite's `executor`, else local).",
    )
    @click.pass_obj
    def run_cmd(state: CliState, **given: Any) -> None:
        """Run the cross product model x (source, language) x scorer, then statistics and the report."""
        from ..orchestrate import execute_run

        execute_run(state.host, run_request(given, click.get_current_context(), own))

    own = {p.name for p in run_cmd.params}
    for ex_name, ex in sorted(host.executors.items()):  # --NAME-OPTION flags of executor plugins
        for opt, help_text in ex.cli_options.items():
            flag = f"{ex_name}-{opt}".replace("_", "-")
            envvar = f"HARNESS_{flag.upper().replace('-', '_')}"
            run_cmd.params.append(click.Option([f"--{flag}"], default=None, envvar=envvar, help=help_text))
    return run_cmd


def run_request(given: dict[str, Any], ctx: click.Context, own: set[str | None]) -> Any:
    """The command line's values as a ``RunRequest``; what is not one of ``run``'s own options is an
    executor's setting. ``--device`` and ``--batch-size`` left at their defaults take the suite's."""
    from ..orchestrate import RunRequest

    if given["as_json"] and not given["dry_run"]:
        raise HarnessError("--json goes with --dry-run (a run writes its results to the run directory)")
    for name in SUITE_DEFAULTS:
        if ctx.get_parameter_source(name) == click.core.ParameterSource.DEFAULT:
            given[name] = None
    if given["batch_size"] is not None:
        given["batch_size"] = parse_batch_size(given["batch_size"])
    return RunRequest(
        suite_name=given.pop("suite_name"),
        stats=given.pop("stat_names"),
        sets=tuple(given.pop("sets")),
        progress=not given.pop("no_progress"),
        argv=("harness", *sys.argv[1:]),
        executor_settings={k: given.pop(k) for k in list(given) if k not in own},
        **given,
    )
