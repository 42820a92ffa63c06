"""The ``harness`` command line.

Every user-fixable problem (unknown name, malformed file, missing weights) is a
``HarnessError``: it prints as one line and exits with code 2, with no traceback.
Listing commands take ``--json`` and then print only JSON on stdout (warnings go to
stderr). Plugins add commands through the ``harness_register_commands`` hook.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from . import __version__, jsonout, plugin_errors
from .choices import split_csv, unknown
from .context import make_context
from .declared import declare_models
from .plugins import PluginError, PluginHost, strict_from_env
from .run_options import RunOptions, parse_batch_size
from .stat_failures import check_failed
from .suite import DEFAULT_SUITE, Suite, load_suite
from .types import Context, HarnessError

LISTING_KINDS = ("models", "sources", "scorers", "stats", "translators")


class OneLineError(click.ClickException):
    """How a HarnessError reaches the user: ``Error: <message>`` on stderr, exit code 2."""

    exit_code = 2


class CliState:
    """Shared by every command (``@click.pass_obj``): the plugin host and helpers around it."""

    def __init__(self, host: PluginHost) -> None:
        self.host = host

    def load_suite(self, name_or_path: str | None, overrides: list[str] | tuple[str, ...] = ()) -> Suite:
        return load_suite(name_or_path, list(overrides), self.host.components())

    def context(
        self,
        section: str,
        name: str,
        suite: Suite | None = None,
        run: RunOptions | None = None,
        cache: Any = None,
    ) -> Context:
        """The Context a run would give ``name`` of ``section`` (a model, source ...): the suite's options,
        ``run``'s settings (default: ``RunOptions.resolve()``), the default store unless ``cache``."""
        registry = self.host.registries.get(section, {})
        if name not in registry:
            raise unknown(section.rstrip("s"), name, registry)
        if cache is None:
            from .paths import default_store_path
            from .store import Store

            cache = Store(default_store_path())
        return make_context(self.host, suite, section, name, run, cache=cache)


def one_line_usage(exc: click.UsageError) -> OneLineError:
    """click's usage error (usage line, hint, message: three lines) as one line naming the command's help."""
    message = " ".join(exc.format_message().split())
    command = exc.ctx.command_path if exc.ctx is not None else "harness"
    return OneLineError(f"{message} (see '{command} --help')")


class CommandGroup(click.Group):
    """An unknown subcommand is one line with "did you mean" and the valid commands."""

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        name = click.utils.make_str(args[0]) if args else ""
        if args and self.get_command(ctx, name) is None and not name.startswith("-"):
            what = "command" if ctx.parent is None else f"{ctx.info_name} command"
            raise OneLineError(str(unknown(what, name, self.list_commands(ctx))))
        return super().resolve_command(ctx, args)


class HarnessGroup(CommandGroup):
    """Turns HarnessError and usage errors into one line with exit code 2, Ctrl-C into a resumable stop."""

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any):
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.UsageError as exc:
            raise one_line_usage(exc) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except HarnessError as exc:
            err = OneLineError(" ".join(str(exc).split()))
            err.exit_code = getattr(exc, "exit_code", OneLineError.exit_code)  # IncompleteRun: 3
            raise err from None
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.UsageError as exc:
            raise one_line_usage(exc) from None
        except KeyboardInterrupt:
            click.echo("interrupted: finished batches are saved; run the same command again to resume", err=True)
            ctx.exit(130)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:  # from a plugin's code: one line naming the plugin and the method
            state = ctx.obj
            line = None
            if isinstance(state, CliState) and not plugin_errors.debugging():
                line = plugin_errors.describe(state.host, exc)
            if line is None:
                raise
            raise OneLineError(line) from None


def _stop_on_second_interrupt() -> None:
    """Ctrl-C stops cleanly (KeyboardInterrupt, exit code 130); a second Ctrl-C during that stop exits
    at once with 130 too (the store commits whole batches, outputs are atomic: nothing is half written)."""

    def handler(signum: int, frame: Any) -> None:
        def again(signum: int, frame: Any) -> None:
            sys.stderr.flush()
            os._exit(130)

        signal.signal(signal.SIGINT, again)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, handler)


def _echo_json(value: Any) -> None:
    click.echo(jsonout.dumps(value, indent=2, ensure_ascii=False, default=str))


def _echo_rows(rows: list[dict[str, Any]], columns: list[str]) -> None:
    if not rows:
        click.echo("(none)")
        return
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns}
    widths[columns[-1]] = 0
    click.echo("  ".join(c.upper().ljust(widths[c]) for c in columns).rstrip())
    for r in rows:
        click.echo("  ".join(str(r.get(c, "")).ljust(widths[c]) for c in columns).rstrip())


def _warn_failures(host: PluginHost) -> None:
    for info in host.failures():
        click.echo(f"warning: {info.label()}: {info.error} (--strict-plugins makes this fatal)", err=True)


def _describe(kind: str, obj: Any) -> dict[str, Any]:
    base = {"name": obj.name, "plugin": obj.plugin, "description": obj.description}
    if kind == "models":
        base.update(family=obj.family, recipe=obj.recipe)
    elif kind == "sources":
        base.update(kinds=list(obj.kinds), options=dict(obj.default_options))
    elif kind == "scorers":
        base.update(metric=obj.metric, options=dict(obj.default_options))
    elif kind == "stats":
        base.update(options=dict(obj.default_options))
    elif kind == "translators":
        try:
            base.update(languages=obj.languages())
        except Exception as exc:  # a listing must not die on one object
            base.update(languages=None, error=str(exc))
    try:
        base.update(obj.describe() or {})
    except Exception as exc:
        base["error"] = f"describe() failed: {exc}"
    return base


def _default_scheme(schemes: dict[str, Any]) -> str:
    """The default suite's tier scheme, else the first registered one."""
    try:
        return load_suite(None).tier_scheme
    except HarnessError:
        return sorted(schemes)[0] if schemes else ""


# ------------------------------------------------------------------ the CLI


def build_cli(host: PluginHost) -> click.Group:
    """The click group for ``host``; tests build it around a host with chosen plugins."""

    @click.group(cls=HarnessGroup, context_settings={"help_option_names": ["-h", "--help"]})
    @click.version_option(__version__, prog_name="harness")
    @click.option("--strict-plugins", is_flag=True, help="Make a broken plugin fatal (or HARNESS_STRICT_PLUGINS=1).")
    @click.pass_context
    def cli(ctx: click.Context, strict_plugins: bool) -> None:
        """Evaluate the harmlessness/helpfulness trade-off of aligned LLMs across languages."""
        ctx.obj = CliState(host)
        if not ctx.resilient_parsing:
            _warn_failures(host)

    @cli.command("plugins")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON only.")
    @click.pass_obj
    def plugins_cmd(state: CliState, as_json: bool) -> None:
        """List plugins: distribution, version, hooks, what each registered, and errors."""
        from .plugin_listing import plugin_lines

        infos = [info for _, info in sorted(state.host.infos.items())]
        if as_json:
            _echo_json([info.as_dict() for info in infos])
            return
        for line in plugin_lines(infos):
            click.echo(line)

    def make_listing(kind: str) -> Callable[..., None]:
        @click.option("--json", "as_json", is_flag=True, help="Print JSON only.")
        @click.pass_obj
        def listing(state: CliState, as_json: bool, suite: str | None = None) -> None:
            if suite is not None:  # models: with the ones this suite declares
                declare_models(state.host, state.load_suite(suite))
            items = [_describe(kind, obj) for _, obj in sorted(state.host.registries[kind].items())]
            if as_json:
                _echo_json(items)
            else:
                cols = ["name", "plugin", "family", "recipe"] if kind == "models" else ["name", "plugin"]
                _echo_rows(items, [*cols, "description"])
                for it in items if kind == "translators" else []:  # the languages each covers, in full
                    langs = it.get("languages") or []
                    click.echo(f"{it['name']} covers {len(langs)}: {', '.join(langs)}")
                if kind == "models":
                    for b in sorted(state.host.registries["model_backends"].values(), key=lambda b: b.name):
                        click.echo(f"any model: --models {b.name}:{b.example}  ({b.description}; plugin {b.plugin})")

        listing.__doc__ = f"List registered {kind}."
        return listing

    for kind in ("models", "sources", "scorers", "translators"):
        listing = make_listing(kind)
        if kind == "models":
            listing = click.option("--suite", default=None, help="Also list the models this suite declares.")(listing)
        cli.command(kind)(listing)

    @cli.command("suites")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON only.")
    def suites_cmd(as_json: bool) -> None:
        """List the suites (`--suite NAME`): the built-in ones, or HARNESS_TASKS_DIR's, with their descriptions."""
        from .suite import suite_listing

        items = suite_listing()
        if as_json:
            _echo_json(items)
        else:
            _echo_rows(items, ["name", "description"])

    @cli.command("langs")
    @click.option("--tier", default=None, help="Only languages of this tier (comma-separated tiers allowed).")
    @click.option("--scheme", default=None, help="Tier scheme (default: the default suite's, joshi).")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON only.")
    @click.pass_obj
    def langs_cmd(state: CliState, tier: str | None, scheme: str | None, as_json: bool) -> None:
        """List languages with their resource tier under a scheme."""
        schemes = state.host.tier_schemes
        scheme_name = scheme or _default_scheme(schemes)
        if scheme_name not in schemes:
            if scheme is None and not schemes:
                scheme_obj = None
            else:
                raise unknown("tier scheme", scheme_name, schemes)
        else:
            scheme_obj = schemes[scheme_name]
        tiers = split_csv(tier)
        if tiers and scheme_obj is not None:
            valid = set(scheme_obj.tiers.values())
            for t in tiers:
                if t not in valid:
                    raise unknown(f"tier in scheme {scheme_name}", t, valid)
        items = []
        for code, lang in sorted(state.host.languages.items()):
            t = scheme_obj.tier_of(code) if scheme_obj else None
            if tiers and t not in tiers:
                continue
            items.append(
                {
                    "code": code,
                    "name": lang.name,
                    "tier": t,
                    "scheme": scheme_name,
                    "joshi_class": lang.joshi_class,
                    "tasks": list(lang.tasks),
                    "plugin": lang.plugin,
                }
            )
        if as_json:
            _echo_json(items)
        else:
            _echo_rows(items, ["code", "name", "tier", "plugin"])

    @cli.command("stats")
    @click.argument("table", required=False, type=click.Path(dir_okay=False))
    @click.option("--stats", "stat_names", default=None, help="Statistics to run (default: all registered).")
    @click.option("--set", "sets", multiple=True, help="Statistic option STAT.KEY=VALUE.")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON only.")
    @click.pass_obj
    def stats_cmd(
        state: CliState, table: str | None, stat_names: str | None, sets: tuple[str, ...], as_json: bool
    ) -> None:
        """Without TABLE, list statistics; with TABLE (csv/jsonl/parquet), run them on it."""
        if table is None:
            items = [_describe("stats", obj) for _, obj in sorted(state.host.stats.items())]
            _echo_json(items) if as_json else _echo_rows(items, ["name", "plugin", "description"])
            return
        from .report import run_stats, stats_json
        from .suite import apply_override
        from .table import read_table

        if stat_names is not None and not split_csv(stat_names):
            raise HarnessError(
                f"--stats is empty ({stat_names!r}): give NAME,NAME; valid: {', '.join(sorted(state.host.stats))}"
            )
        names = split_csv(stat_names) or sorted(state.host.stats)
        for n in names:
            if n not in state.host.stats:
                raise unknown("statistic", n, state.host.stats)
        opts: dict[str, Any] = {"stats": {n: {} for n in names}}
        for s in sets:
            apply_override(opts, s if s.split(".", 1)[0] == "stats" else f"stats.{s}")
        for n, options in opts["stats"].items():  # every option checked before the table is read
            if n not in names:
                raise unknown("statistic in --set", n, names)
            if not isinstance(options, dict):
                raise HarnessError(f"--set {n}=...: give STAT.KEY=VALUE, e.g. --set {n}.KEY=VALUE")
            state.host.stats[n].check_options(options)
        rows = read_table(table)
        results = run_stats(state.host, names, rows, opts["stats"])
        if as_json:
            _echo_json({name: value["data"] for name, value in stats_json(results).items()})
        else:
            for r in results:
                click.echo(f"## {r.title}\n\n{r.markdown.strip()}\n")
                for w in r.warnings:
                    click.echo(f"warning: {w}", err=True)
        check_failed(state.host, {r.name: r.error for r in results if r.error}, "the other statistics are printed")

    # -------------------------------------------------------------- run

    @cli.command("run")
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
    def run_cmd(
        state: CliState,
        suite_name,
        models,
        langs,
        sources,
        scorers,
        stat_names,
        sets,
        limit,
        batch_size,
        device,
        dtype,
        out,
        store_path,
        train_missing,
        dry_run,
        as_json,
        rehearse,
        no_progress,
        executor,
        **executor_settings,
    ) -> None:
        """Run the cross product model x (source, language) x scorer, then statistics and the report."""
        from .orchestrate import RunRequest, execute_run

        if as_json and not dry_run:
            raise HarnessError("--json goes with --dry-run (a run writes its results to the run directory)")
        given = click.get_current_context().get_parameter_source
        default = click.core.ParameterSource.DEFAULT
        request = RunRequest(
            suite_name=suite_name,
            models=models,
            langs=langs,
            sources=sources,
            scorers=scorers,
            stats=stat_names,
            sets=tuple(sets),
            out=out,
            store_path=store_path,
            dry_run=dry_run,
            as_json=as_json,
            rehearse=rehearse,
            progress=not no_progress,
            executor=executor,
            executor_settings=executor_settings,
            argv=("harness", *sys.argv[1:]),
            # --device and --batch-size left at their defaults take the suite's keys of the same names
            device=None if given("device") == default else device,
            dtype=dtype,
            batch_size=None if given("batch_size") == default else parse_batch_size(batch_size),
            train_missing=train_missing,
            limit=limit,
        )
        execute_run(state.host, request)

    for ex_name, ex in sorted(host.executors.items()):  # --NAME-OPTION flags of executor plugins
        for opt, help_text in ex.cli_options.items():
            flag = f"{ex_name}-{opt}".replace("_", "-")
            envvar = f"HARNESS_{flag.upper().replace('-', '_')}"
            run_cmd.params.append(click.Option([f"--{flag}"], default=None, envvar=envvar, help=help_text))

    @cli.group("store", cls=CommandGroup)
    def store_group() -> None:
        """Check a result store, or salvage what is readable of a damaged one."""

    store_option = click.option(
        "--store",
        "store_path",
        type=click.Path(dir_okay=False),
        default=None,
        help="Store file (default $HARNESS_HOME/store.sqlite).",
    )

    def chosen_store(store_path: str | None) -> Path:
        from .paths import default_store_path

        return Path(store_path) if store_path else default_store_path()

    @store_group.command("check")
    @store_option
    def store_check(store_path: str | None) -> None:
        """Integrity check and row counts; exit code 2 when the store is damaged."""
        from .storecheck import check

        path = chosen_store(store_path)
        result = check(path)
        counts = ", ".join(f"{n if n is not None else '?'} {t}" for t, n in result["counts"].items())
        if result["problems"]:
            raise HarnessError(
                f"store {str(path)!r} is damaged ({'; '.join(result['problems'][:2])}); "
                f"readable: {counts or 'nothing'}; run `harness store repair --store {path}` to keep what is readable"
            )
        click.echo(f"store {path}: ok ({counts})")

    @store_group.command("repair")
    @store_option
    def store_repair(store_path: str | None) -> None:
        """Copy every readable, consistent row into a new store in place; keep the damaged file aside."""
        from .storecheck import repair

        path = chosen_store(store_path)
        result = repair(path)
        kept = ", ".join(f"{n} {t}" for t, n in result["kept"].items())
        dropped = sum(result["dropped"].values())
        state = "damaged" if result["problems_before"] else "sound"
        click.echo(
            f"store {path} ({state}): kept {kept}; rejected {dropped} inconsistent row(s); "
            f"the old file is at {result['damaged_copy']}; the next run recomputes what is missing"
        )

    @cli.command("compare")
    @click.argument("run_a", type=click.Path(file_okay=False))
    @click.argument("run_b", type=click.Path(file_okay=False))
    @click.option("--json", "as_json", is_flag=True, help="Print JSON only.")
    def compare_cmd(run_a: str, run_b: str, as_json: bool) -> None:
        """How two runs of the same cells agree: responses, scores, verdict, statistics tables."""
        from .compare import compare_runs, format_comparison

        result = compare_runs(Path(run_a), Path(run_b))
        if as_json:
            _echo_json(result)
        else:
            for line in format_comparison(result):
                click.echo(line)

    @cli.command("report")
    @click.argument("run_dir", type=click.Path(file_okay=False))
    @click.pass_obj
    def report_cmd(state: CliState, run_dir: str) -> None:
        """Rebuild the report of RUN_DIR from its stored table; loads no model."""
        from .orchestrate import rebuild_report

        paths = rebuild_report(state.host, Path(run_dir))
        click.echo(f"report: {paths['md']}\nreport: {paths['html']}")

    @cli.command("export")
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
        from .orchestrate import run_table_path
        from .table import FORMATS, read_table, write_table

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

    from .scaffold import new_plugin_cmd

    cli.add_command(new_plugin_cmd)
    host.add_commands(cli)
    return cli


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: discover plugins, build the CLI, run it."""
    args = list(sys.argv[1:] if argv is None else argv)
    strict = strict_from_env() or "--strict-plugins" in args
    _stop_on_second_interrupt()
    try:
        host = PluginHost(strict=strict)
        cli = build_cli(host)
        cli.main(args=args, prog_name="harness")
    except PluginError as exc:
        click.echo(f"Error: {' '.join(str(exc).split())}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:  # before or after a command ran (plugin discovery, shutdown)
        click.echo("interrupted", err=True)
        sys.exit(130)
    finally:
        # Python resets a Python-level SIGINT handler to the default while it shuts down, so a Ctrl-C
        # arriving then killed the process (exit -2) after a clean stop; ignore it from here on.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
