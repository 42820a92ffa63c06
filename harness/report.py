"""Running statistics on a tidy table and writing the report of a run directory.

The report is assembled from ``StatResult`` objects, whatever statistics produced them, with
Jinja2 templates (``harness/templates``): ``report.md`` and ``report.html`` open with the verdict
(every result's ``headline``, then one figure), then the run's facts, the results with their
tables, the diagnostics, and, in the html, the sample browser over ``samples.js``. Also written:
``tables/*.csv``, ``plots/*.png`` and ``stats.json``. Markdown becomes HTML through markdown-it-py
with raw HTML off, and the html template escapes every value: table texts are untrusted.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections import Counter
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from markdown_it import MarkdownIt
from markupsafe import Markup

from . import atomic, jsonout
from .plugins import PluginHost
from .samples import samples_js, samples_payload
from .stat_failures import failed_stat, failure_banners
from .table import iter_markdown_table, write_table
from .translation import round_trip_lines
from .types import StatResult


def run_stats(
    host: PluginHost, names: list[str], rows: list[dict[str, Any]], options: Mapping[str, Mapping[str, Any]]
) -> list[StatResult]:
    """Run each statistic; one that crashes yields a result carrying the error, not a lost report."""
    results = []
    for name in names:
        stat = host.stats[name]
        opts = {**dict(getattr(stat, "default_options", {}) or {}), **dict(options.get(name, {}))}
        try:
            results.append(stat.compute(rows, opts))
        except Exception as exc:  # keep everything else: the report must still be written
            results.append(failed_stat(host, stat, name, exc))
    return results


SIGNIFICANT_DIGITS = 6


def _rounded(value: Any) -> Any:
    """Floats to 6 significant digits: iterative fits (VB, REML) can differ run to run in the 8th digit
    through numpy's alignment-dependent summation; 6 digits keep the JSON byte-identical."""
    if isinstance(value, float):
        return float(f"{value:.{SIGNIFICANT_DIGITS}g}") if math.isfinite(value) else value
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_rounded(v) for v in value]
    return value


def stats_json(results: list[StatResult]) -> dict[str, Any]:
    return {r.name: {"title": r.title, "data": _rounded(r.data), "warnings": r.warnings} for r in results}


# ------------------------------------------------------------------ rendering

#: tables longer than this fold away (``<details>``) in report.html
FOLD_ROWS = 12


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def markdown_to_html(md: str, inline: bool = False) -> Markup:
    """Markdown to safe HTML: raw HTML in the text is shown as text, never interpreted."""
    parser = _markdown()
    return Markup(parser.renderInline(md) if inline else parser.render(md))


@lru_cache(maxsize=1)
def _templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("harness", "templates"),
        autoescape=lambda name: not (name or "").endswith(".md.j2"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = lambda text, inline=False: markdown_to_html(str(text), inline)
    return env


def _asset(name: str) -> Markup:
    """A stylesheet or script inlined into report.html as it is (our own file, not data)."""
    return Markup(resources.files("harness").joinpath("templates", name).read_text(encoding="utf-8"))


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def _png_uri(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


def _no_score(row: Mapping[str, Any]) -> bool:
    score = row.get("score")
    return score is None or (isinstance(score, float) and not math.isfinite(score))


# ------------------------------------------------------------------ the parts of the report


def _banners(manifest: Mapping[str, Any], rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    """What the reader must know before reading a number: a rehearsal with stand-ins, a partial run."""
    out = []
    rehearsal = manifest.get("rehearsal")
    if rehearsal:
        stand_ins = (rehearsal.get("stand_ins") or {}) if isinstance(rehearsal, Mapping) else {}
        pairs = ", ".join(
            f"`{real}` replaced by `{v if isinstance(v, str) else json.dumps(v, sort_keys=True)}`"
            for real, v in sorted(stand_ins.items())
        )
        out.append(
            {
                "kind": "rehearsal",
                "markdown": "**Rehearsal with offline stand-ins"
                + (f"** ({pairs}). " if pairs else ".** ")
                + "It shows that the study runs at this shape; its numbers say nothing about the real models.",
            }
        )
    accounting = manifest.get("accounting")
    if isinstance(accounting, Mapping) and accounting:
        planned, complete = int(accounting.get("planned", 0)), int(accounting.get("complete", 0))
        missing = dict(accounting.get("missing") or {})
        unexplained = accounting.get("unexplained") or 0
        if not isinstance(unexplained, int):  # a list of cells, each with its number of rows
            unexplained = sum(int(cell.get("rows", 1)) for cell in unexplained)
    else:
        planned, complete = len(rows), sum(not _no_score(r) for r in rows)
        missing = dict(Counter(str(r.get("missing_reason") or "no score") for r in rows if _no_score(r)))
        unexplained = 0
    if complete < planned or unexplained:
        reasons = "; ".join(f"{reason}: {n}" for reason, n in sorted(missing.items(), key=lambda kv: (-kv[1], kv[0])))
        text = f"**Partial results**: {complete} of {planned} planned rows have a score"
        text += f" (missing: {reasons})" if reasons else ""
        text += f"; {unexplained} rows are missing without a reason." if unexplained else "."
        out.append({"kind": "partial", "markdown": text})
    return out


def _facts(manifest: Mapping[str, Any], rows: list[dict[str, Any]]) -> list[str]:
    config, plan = manifest.get("config", {}), manifest.get("plan", {})
    tiers: dict[str, list[str]] = {}
    for lang, tier in sorted({(str(r["language"]), str(r.get("tier") or "")) for r in rows}):
        tiers.setdefault(tier or "?", []).append(lang)
    scored = sum(not _no_score(r) for r in rows)
    facts = [f"suite: `{config['name']}`"] if config.get("name") else []
    facts.append(f"rows: {len(rows)} in the tidy table" + (f", {scored} with a score" if scored < len(rows) else ""))
    facts.append(f"models: {', '.join(sorted({str(r['model']) for r in rows}))}")
    facts.append(f"languages: {', '.join(sorted({str(r['language']) for r in rows}))}")
    facts.append("tiers: " + "; ".join(f"{tier} ({', '.join(langs)})" for tier, langs in sorted(tiers.items())))
    facts.append(f"sources: {', '.join(sorted({str(r['source']) for r in rows}))}")
    facts.append(f"scorers: {', '.join(sorted({str(r['scorer']) for r in rows}))}")
    if plan.get("tier_scheme"):
        facts.append(f"tier scheme: {plan['tier_scheme']}")
    if plan.get("skipped_langs"):
        facts.append(f"requested but not covered by any source: {', '.join(plan['skipped_langs'])}")
    git = manifest.get("git", {})
    if git.get("revision"):
        facts.append(f"harness revision: `{git['revision'][:12]}`{' (dirty)' if git.get('dirty') else ''}")
    if manifest.get("started"):
        facts.append(f"run: {manifest.get('started')} to {manifest.get('finished') or '?'}")
    if manifest.get("executor"):
        options = {k: v for k, v in manifest["executor"].items() if k != "name"}
        extra = f" ({', '.join(f'{k}: {v}' for k, v in options.items())})" if options else ""
        facts.append(f"executor: {manifest['executor'].get('name')}{extra}")
    return facts


def _figure_file(name: str) -> str:
    return _safe_name(name if name.endswith(".png") else name + ".png")


def _verdict(results: list[StatResult]) -> tuple[list[dict[str, str]], dict[str, str] | None]:
    """Every result's headline, and one figure: the first ``headline_figure`` named, else the first
    figure of a result that has a headline."""
    heads = [r for r in results if r.headline.strip()]
    figure = None
    for r in heads:
        if r.headline_figure and r.headline_figure in r.figures:
            figure = (r.headline_figure, r.figures[r.headline_figure])
            break
    if figure is None:
        figure = next(((name, data) for r in heads for name, data in r.figures.items()), None)
    headlines = [{"title": r.title, "markdown": r.headline.strip()} for r in heads]
    return headlines, ({"file": _figure_file(figure[0]), "uri": _png_uri(figure[1])} if figure else None)


def _anchor(title: str, used: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "result"
    anchor, n = base, 2
    while anchor in used:
        anchor, n = f"{base}-{n}", n + 1
    used.add(anchor)
    return anchor


def write_report(
    run_dir: Path,
    results: list[StatResult],
    manifest: Mapping[str, Any],
    rows: list[dict[str, Any]],
) -> dict[str, Path]:
    """Write report.md, report.html, samples.js, tables/*.csv, plots/*.png and stats.json into ``run_dir``."""
    tables_dir, plots_dir = run_dir / "tables", run_dir / "plots"
    atomic.ensure_dir(tables_dir)
    atomic.ensure_dir(plots_dir)
    sections, used = [], {"verdict", "run", "results", "diagnostics", "samples"}
    for result in results:
        figures = []
        for fig_name, data in result.figures.items():
            fname = _figure_file(fig_name)
            atomic.write_bytes(plots_dir / fname, data)
            figures.append({"file": fname, "uri": _png_uri(data)})
        tables = []
        for tname, trows in result.tables.items():
            fname = _safe_name(f"{result.name}__{tname}" if not tname.startswith(result.name) else tname) + ".csv"
            if trows:
                write_table(trows, tables_dir / fname, "csv")
            tables.append(
                {
                    "name": tname,
                    "file": fname,
                    "n": len(trows),
                    "fold": len(trows) > FOLD_ROWS,
                    "markdown": iter_markdown_table(trows),
                }
            )
        sections.append(
            {
                "anchor": _anchor(result.title, used),
                "title": result.title,
                "markdown": result.markdown.strip(),
                "figures": figures,
                "tables": tables,
            }
        )
    headlines, headline_figure = _verdict(results)
    diagnostics = [{"title": r.title, "warnings": r.warnings} for r in results if r.warnings]
    n_warnings = sum(len(d["warnings"]) for d in diagnostics)
    translation = round_trip_lines(manifest.get("translation") or {})
    if translation:  # not a statistic's warning: machine-translation quality, weakest language first
        diagnostics.append({"title": "Machine translation: round trip (chrF against the original)",
                            "warnings": translation})
    config = manifest.get("config", {})
    payload = samples_payload(rows)
    context = {
        "title": str(config.get("name", run_dir.name)),
        "description": str(config.get("description") or ""),
        "banners": _banners(manifest, rows) + failure_banners(results),
        "headlines": headlines,
        "headline_figure": headline_figure,
        "n_warnings": n_warnings,
        "facts": _facts(manifest, rows),
        "sections": sections,
        "diagnostics": diagnostics,
        "samples": {
            "rows": len(rows),
            "samples": len(payload["samples"]),
            "scorers": payload["scorers"],
        },
    }
    env = _templates()
    md_text = env.get_template("report.md.j2").render(context)
    md_text = re.sub(r"\n{3,}", "\n\n", md_text).rstrip() + "\n"
    page = env.get_template("report.html.j2").render(context, css=_asset("report.css"), js=_asset("browser.js"))
    atomic.write_text(run_dir / "samples.js", samples_js(payload))
    atomic.write_text(run_dir / "report.md", md_text)
    atomic.write_text(run_dir / "report.html", page)
    stats = jsonout.dumps(stats_json(results), indent=2, sort_keys=True, default=str) + "\n"
    atomic.write_text(run_dir / "stats.json", stats)
    return {"md": run_dir / "report.md", "html": run_dir / "report.html", "samples": run_dir / "samples.js"}
