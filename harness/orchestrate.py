"""What ``harness run`` and ``harness report`` do, end to end, outside click.

A run directory holds ``manifest.json``, the tidy table (``table.jsonl`` and
``table.csv``), ``report.md``/``report.html`` with the sample browser's ``samples.js``,
``tables/``, ``plots/`` and ``stats.json``. The default directory name is derived from the resolved
configuration, so running the same command again resumes into the same folder.
The report is cached by the digest of the table and the statistics' config: a
fully cached re-run rebuilds nothing.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from . import atomic, jsonout
from .context import make_context
from .declared import declare_models
from .devices import check_device
from .dtypes import SHORT, canonical, dtype_note
from .executors import choose_executor, executor_options, stray_executor_options
from .fingerprint import digest, file_digest
from .manifest import base_manifest, now, read_manifest, write_manifest
from .paths import default_store_path
from .plan import Plan, build_plan, check_set_targets
from .planview import format_summary, plan_summary
from .plugins import PluginHost
from .rehearsal import rehearsal_names, rehearsal_suite
from .report import run_stats, write_report
from .run_options import RunOptions
from .runner import Runner
from .stat_failures import check_failed
from .store import ReadOnlyStore, Store
from .suite import TOP_KEYS, Suite, load_suite
from .table import read_table, write_table
from .translation import LOADS as TRANSLATOR_LOADS
from .translation import plan_only, translation_facts
from .types import Executor, HarnessError


def run_table_path(run_dir: Path) -> Path:
    for name in ("table.jsonl", "table.csv", "table.parquet"):
        if (run_dir / name).is_file():
            return run_dir / name
    if not run_dir.is_dir():
        raise HarnessError(f"run directory {str(run_dir)!r} does not exist")
    raise HarnessError(f"{run_dir} has no table.jsonl: it is not a finished run directory (run `harness run` first)")


def _stat_options(suite_data: dict[str, Any], names: list[str]) -> dict[str, dict[str, Any]]:
    return {n: dict(suite_data.get("stats", {}).get(n, {})) for n in names}


def _report_key(host: PluginHost, table_path: Path, names: list[str], options: dict[str, Any]) -> str:
    infos = {host.stats[n].plugin: host.infos[host.stats[n].plugin] for n in names}
    plugins = {name: [info.version, info.code] for name, info in infos.items()}  # an edited statistic re-runs
    return digest("report", file_digest(table_path), names, options, plugins)


def _finish_report(
    host: PluginHost,
    run_dir: Path,
    manifest: dict[str, Any],
    rows: list[dict[str, Any]],
    names: list[str],
    options: dict[str, Any],
    force: bool = False,
) -> dict[str, Path]:
    key = _report_key(host, run_dir / "table.jsonl", names, options)
    recorded = read_manifest(run_dir, damaged_ok=True)
    paths = {"md": run_dir / "report.md", "html": run_dir / "report.html", "samples": run_dir / "samples.js"}
    report_files = dict(recorded.get("report_outputs") or {})
    if not force and recorded.get("report_key") == key and _intact(run_dir, report_files, paths.values()):
        manifest["report_key"], manifest["report_outputs"] = key, report_files
        return paths
    results = run_stats(host, names, rows, options)
    for r in results:
        for w in r.warnings:
            click.echo(f"warning: {r.name}: {w}", err=True)
    with atomic.recording() as written:
        paths = write_report(run_dir, results, manifest, rows)
    # a report with a failed statistic is not cached: the next run tries the statistic again
    failed = any(r.error for r in results)
    manifest["report_key"], manifest["report_outputs"] = (None if failed else key), _digests(run_dir, written)
    manifest["failed_stats"] = {r.name: r.error for r in results if r.error}
    return paths


def _digests(run_dir: Path, paths: list[Path]) -> dict[str, str]:
    """sha256 of each file written, by its path relative to the run directory."""
    return {p.relative_to(run_dir).as_posix(): file_digest(p) for p in sorted(set(paths))}


def _intact(run_dir: Path, digests: dict[str, str], required: Any) -> bool:
    """Every recorded output still has the bytes the manifest says (a truncated or emptied file does not)."""
    if not all(p.relative_to(run_dir).as_posix() in digests for p in required):
        return False
    for rel, want in digests.items():
        path = run_dir / rel
        try:
            if not path.is_file() or file_digest(path) != want:
                return False
        except OSError:
            return False
    return True


def default_run_dir(plan_desc: dict[str, Any], suite_data: dict[str, Any], limit: int | None, tag: str = "") -> Path:
    config = {k: v for k, v in suite_data.items() if k != "executor"}  # where it runs never changes results
    key = digest(plan_desc, config, limit)[:10]
    return Path("results") / f"{plan_desc['suite']}{tag}-{key}"


@dataclass(frozen=True)
class RunRequest:
    """What ``harness run`` was asked, as given on the command line (None: the suite's, else the default).

    ``device`` and ``batch_size`` default to the suite's keys of the same names; everything the
    components see is resolved from this once, into one ``RunOptions``, right after the suite is read.
    """

    suite_name: str | None = None
    models: str | None = "all"
    langs: str | None = None
    sources: str | None = None
    scorers: str | None = None
    stats: str | None = None
    sets: tuple[str, ...] = ()
    out: str | None = None
    store_path: str | None = None
    dry_run: bool = False
    as_json: bool = False
    rehearse: bool = False
    progress: bool = True
    executor: str | None = None
    executor_settings: Mapping[str, Any] = field(default_factory=dict)
    argv: tuple[str, ...] = ()
    device: str | None = None
    dtype: str = "auto"
    batch_size: int | str | None = None
    train_missing: bool = False
    limit: int | None = None


@dataclass
class PreparedRun:
    """A run planned and ready: the suite with its resolved options, the executor, the store and the runner."""

    request: RunRequest
    suite: Suite
    options: RunOptions
    executor: Executor
    swaps: dict[str, str]
    store: Store
    plan: Plan
    runner: Runner

    def run_dir(self) -> Path:
        if self.request.out:
            return Path(self.request.out)
        dtype = canonical(self.options.requested_dtype)
        tag = ("-rehearsal" if self.request.rehearse else "") + ("" if dtype == "auto" else f"-{SHORT[dtype]}")
        return default_run_dir(self.plan.describe(), self.suite.data, self.options.limit, tag)


def prepare_run(host: PluginHost, request: RunRequest) -> PreparedRun:
    """Suite, declared models, executor, rehearsal swaps, store and plan: every bad input fails here."""
    if request.device is not None:
        check_device(request.device)  # an absent GPU asked for fails before anything is read
    sets = list(request.sets)
    suite = load_suite(request.suite_name, sets, host.components())
    options = RunOptions.from_suite(
        suite.data, request.device, request.batch_size,
        dtype=request.dtype, train_missing=request.train_missing, limit=request.limit,
    )
    declare_models(host, suite, request.models)
    chosen = choose_executor(host.executors, request.executor, suite.data)
    stray_executor_options(host.executors, chosen, request.executor_settings)
    models, scorers, swaps = request.models, request.scorers, {}
    if request.rehearse:
        suite, swaps = rehearsal_suite(host, suite)
        models = rehearsal_names(models, swaps, host, "models")
        scorers = rehearsal_names(scorers, swaps, host, "scorers")
        swaps = dict(sorted(swaps.items()))
    path = Path(request.store_path) if request.store_path else default_store_path()
    store = ReadOnlyStore(path) if request.dry_run else Store(path)  # a plan creates no store file
    plan = build_plan(
        host, suite, models=models, langs=request.langs, sources=request.sources, scorers=scorers,
        stats=request.stats,
        context_for=lambda section, name: make_context(host, suite, section, name, options, cache=store),
    )
    check_set_targets(host, plan, sets, TOP_KEYS)
    runner = Runner(host, plan, store, options, executor=chosen, progress=request.progress)
    return PreparedRun(request, suite, options, chosen, swaps, store, plan, runner)


def execute_run(host: PluginHost, request: RunRequest) -> Path | None:
    """``harness run``: plan, then (unless a dry run) generate, score, write the table, the report and the manifest."""
    t0 = time.perf_counter()
    loads_before = dict(TRANSLATOR_LOADS)
    manifest = base_manifest(list(request.argv))
    run = prepare_run(host, request)
    if request.dry_run:
        _print_plan(run, t0)
        return None
    run_dir = _open_run(host, run, manifest)
    run.executor.start(executor_options(run.executor, request.executor_settings), run.runner.log, host.plugin_modules())
    try:
        rows = run.runner.run()
    finally:
        run.executor.close()
    _record_work(run, manifest, rows, loads_before)
    with atomic.recording() as written:
        write_table(rows, run_dir / "table.jsonl", "jsonl")
        write_table(rows, run_dir / "table.csv", "csv")
    manifest["outputs"] = _digests(run_dir, written)
    options = _stat_options(run.suite.data, run.plan.stats)
    manifest["finished"] = now()
    paths = _finish_report(host, run_dir, manifest, rows, run.plan.stats, options)
    manifest["wall_seconds"] = round(time.perf_counter() - t0, 3)
    write_manifest(run_dir, manifest)
    _print_done(run, manifest, run_dir, paths)
    run.runner.accounting.check()  # unexplained missing rows: everything is written, but the run fails naming them
    check_failed(host, manifest.get("failed_stats") or {}, "the report is written and its banner names them")
    return run_dir


def _print_plan(run: PreparedRun, t0: float) -> None:
    """``--dry-run``: the plan and the work it needs, as text or JSON; translators load nothing."""
    run.runner.plan_only = True
    with plan_only():  # translators count what they would translate and load nothing
        summary = plan_summary(run.runner, run.swaps or None)
    summary["plan_seconds"] = round(time.perf_counter() - t0, 2)
    if run.request.as_json:
        click.echo(jsonout.dumps(summary, indent=2, ensure_ascii=False))
    else:
        for line in format_summary(summary):
            click.echo(line)


def _open_run(host: PluginHost, run: PreparedRun, manifest: dict[str, Any]) -> Path:
    """Checks that need the store, the run directory, the opening summary and the manifest written at the start."""
    runner, store, options = run.runner, run.store, run.options
    runner.check_available()  # fail before printing or doing anything, in one line
    summary = plan_summary(runner, run.swaps or None)
    if getattr(store, "read_only", False):
        work = runner.work()
        todo = sum(w["needed"] - w["cached"] for section in ("models", "scorers") for w in work[section].values())
        if todo:
            raise HarnessError(
                f"store {str(store.path)!r} is read-only and {todo} item(s) are not in it: make it writable, "
                "or pass --store with a writable path (a fully cached run reads a read-only store)"
            )
    run_dir = run.run_dir()
    atomic.ensure_dir(run_dir)  # an unusable --out fails here, in one line, before any work
    atomic.sweep_temps(run_dir)  # what a killed run left behind
    for line in format_summary(summary):
        click.echo(line, err=True)
    note = dtype_note(options.dtype, options.device)
    if note:
        click.echo(note, err=True)
    manifest.update(
        config=run.suite.data,
        suite_file=str(run.suite.path) if run.suite.path else None,
        plan=run.plan.describe(),
        options={
            "batch_size": options.batch_size,
            "device": options.requested_device,
            "dtype": options.requested_dtype,
            "limit": options.limit,
            "train_missing": options.train_missing,
            "executor": run.executor.name,
            "rehearse": run.request.rehearse,
        },
        seeds={"suite": run.suite.seed},
        store=str(store.path),
        plugins={n: i.as_dict() for n, i in sorted(host.infos.items())},
    )
    if run.swaps:
        manifest["rehearsal"] = {"stand_ins": run.swaps}
    old = read_manifest(run_dir, damaged_ok=True)
    for carried in ("report_key", "report_outputs"):  # the report cache stays valid until checked
        if old.get(carried):
            manifest[carried] = old[carried]
    write_manifest(run_dir, manifest)
    return run_dir


def _record_work(run: PreparedRun, manifest: dict[str, Any], rows: list[dict[str, Any]], loads_before: dict) -> None:
    """What the run did, into the manifest: executor facts, fingerprints, translation facts, accounting, work."""
    runner = run.runner
    manifest["executor"] = {"name": run.executor.name, **run.executor.run_facts()}
    assert runner.accounting is not None
    manifest["fingerprints"] = runner.fingerprints()
    manifest["translation"] = translation_facts(runner.all_prompts())  # round-trip chrF per language, notes
    manifest["accounting"] = runner.accounting.as_dict()
    loads = {n: c - loads_before.get(n, 0) for n, c in sorted(TRANSLATOR_LOADS.items()) if c > loads_before.get(n, 0)}
    manifest["work"] = {
        "generated": runner.stats.generated,
        "scored": runner.stats.scored,
        "cached_generations": runner.stats.cached_generations,
        "cached_scores": runner.stats.cached_scores,
        "loaded_models": runner.stats.loaded_models,
        "loaded_scorers": runner.stats.loaded_scorers,
        "translator_loads": loads,
        "rows": len(rows),
    }


def _print_done(run: PreparedRun, manifest: dict[str, Any], run_dir: Path, paths: dict[str, Path]) -> None:
    w = manifest["work"]
    click.echo(
        f"done in {manifest['wall_seconds']:.1f}s: generated {w['generated']} (cached {w['cached_generations']}), "
        f"scored {w['scored']} (cached {w['cached_scores']}) distinct items",
        err=True,
    )
    assert run.runner.accounting is not None
    click.echo(run.runner.accounting.summary(), err=True)
    click.echo(f"run directory: {run_dir}")
    click.echo(f"report: {paths['md']}\nreport: {paths['html']}")


def rebuild_report(host: PluginHost, run_dir: Path) -> dict[str, Path]:
    table = run_table_path(run_dir)
    rows = read_table(table)
    manifest = read_manifest(run_dir)
    if table.name != "table.jsonl":
        write_table(rows, run_dir / "table.jsonl", "jsonl")
    config = manifest.get("config", {})
    names = manifest.get("plan", {}).get("stats") or list(config.get("stats", {})) or sorted(host.stats)
    missing = [n for n in names if n not in host.stats]
    if missing:
        print(f"warning: statistics not registered, left out: {', '.join(missing)}", file=sys.stderr)
        names = [n for n in names if n in host.stats]
    paths = _finish_report(host, run_dir, manifest, rows, names, _stat_options(config, names), force=True)
    if manifest:
        write_manifest(run_dir, manifest)
    return paths
