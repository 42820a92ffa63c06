"""Running statistics on a tidy table and writing the report of a run directory.

The report is assembled from ``StatResult`` objects, whatever statistics produced
them: ``report.md`` (plots linked from ``plots/``), a self-contained
``report.html`` (plots inlined as base64), ``tables/*.csv`` and ``stats.json``.
"""

from __future__ import annotations

import base64
import html
import json
import math
import re
import sys
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import atomic
from .plugins import PluginHost
from .table import iter_markdown_table, write_table
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
            tb = traceback.format_exc(limit=3)
            print(f"warning: statistic {name} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            results.append(
                StatResult(
                    name=name,
                    title=f"{name} (failed)",
                    markdown=f"This statistic failed: `{type(exc).__name__}: {exc}`\n\n```\n{tb}\n```",
                    warnings=[f"{name} failed: {type(exc).__name__}: {exc}"],
                )
            )
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


# ------------------------------------------------------------------ markdown -> html


def _inline(text: str) -> str:
    text = html.escape(text)
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
    text = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<em>\1</em>", text)
    text = re.sub(r"(?<!\w)_(?!\s)(.+?)(?<!\s)_(?!\w)", r"<em>\1</em>", text)
    text = re.sub(r"`(.+?)`", r"<code>\1</code>", text)
    return text


def markdown_to_html(md: str, images: Mapping[str, bytes] | None = None) -> str:
    """A small converter for the markdown this harness writes (headings, lists, tables, code, images)."""
    images = images or {}
    out: list[str] = []
    lines = md.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            j = i + 1
            while j < len(lines) and not lines[j].startswith("```"):
                j += 1
            out.append("<pre>" + html.escape("\n".join(lines[i + 1 : j])) + "</pre>")
            i = j + 1
            continue
        m = re.match(r"^(#{1,6})\s+(.*)$", line)
        if m:
            n = len(m.group(1))
            out.append(f"<h{n}>{_inline(m.group(2))}</h{n}>")
            i += 1
            continue
        img = re.match(r"^!\[(.*?)\]\((.+?)\)\s*$", line)
        if img:
            alt, src = img.groups()
            data = images.get(Path(src).name)
            if data is not None:
                src = "data:image/png;base64," + base64.b64encode(data).decode()
            out.append(
                f'<figure><img alt="{html.escape(alt)}" src="{src}"><figcaption>'
                f"{html.escape(alt)}</figcaption></figure>"
            )
            i += 1
            continue
        if line.startswith("|"):
            block = []
            while i < len(lines) and lines[i].startswith("|"):
                block.append(lines[i])
                i += 1
            cells = [[c.strip() for c in re.split(r"(?<!\\)\|", b.strip().strip("|"))] for b in block]
            head, body = cells[0], [r for r in cells[1:] if not all(set(c) <= set("-: ") for c in r)]
            out.append("<table><thead><tr>" + "".join(f"<th>{_inline(c)}</th>" for c in head) + "</tr></thead>")
            out.append(
                "<tbody>"
                + "".join(
                    "<tr>" + "".join(f"<td>{_inline(c.replace(chr(92) + '|', '|'))}</td>" for c in r) + "</tr>"
                    for r in body
                )
                + "</tbody></table>"
            )
            continue
        if re.match(r"^\s*[-*]\s+", line):
            items = []
            while i < len(lines) and re.match(r"^\s*[-*]\s+", lines[i]):
                items.append(re.sub(r"^\s*[-*]\s+", "", lines[i]))
                i += 1
            out.append("<ul>" + "".join(f"<li>{_inline(x)}</li>" for x in items) + "</ul>")
            continue
        if not line.strip():
            i += 1
            continue
        para = []
        while i < len(lines) and lines[i].strip() and not re.match(r"^(#|\||```|!\[|\s*[-*]\s)", lines[i]):
            para.append(lines[i])
            i += 1
        out.append("<p>" + _inline(" ".join(para)) + "</p>")
    return "\n".join(out)


_CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:.9em}th,td{border:1px solid #ccc;padding:.25em .5em}
th{background:#f3f3f3}td{text-align:right}td:first-child{text-align:left}img{max-width:100%}
pre{background:#f6f6f6;padding:.5em;overflow:auto}.warn{color:#a40}"""


# ------------------------------------------------------------------ report


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def write_report(
    run_dir: Path,
    results: list[StatResult],
    manifest: Mapping[str, Any],
    rows: list[dict[str, Any]],
) -> dict[str, Path]:
    """Write report.md, report.html, tables/*.csv, plots/*.png and stats.json into ``run_dir``."""
    tables_dir, plots_dir = run_dir / "tables", run_dir / "plots"
    atomic.ensure_dir(tables_dir)
    atomic.ensure_dir(plots_dir)
    images: dict[str, bytes] = {}
    md: list[str] = []
    config = manifest.get("config", {})
    plan = manifest.get("plan", {})
    md.append(f"# Alignment report: {config.get('name', run_dir.name)}")
    md.append("")
    if config.get("description"):
        md += [str(config["description"]), ""]
    models = sorted({r["model"] for r in rows})
    langs = sorted({r["language"] for r in rows})
    scorers = sorted({r["scorer"] for r in rows})
    md.append(f"- rows: {len(rows)} scored generations")
    md.append(f"- models: {', '.join(models)}")
    md.append(f"- languages: {', '.join(langs)}")
    md.append(f"- scorers: {', '.join(scorers)}")
    if plan.get("tier_scheme"):
        md.append(f"- tier scheme: {plan['tier_scheme']}")
    if plan.get("skipped_langs"):
        md.append(f"- requested but not covered by any source: {', '.join(plan['skipped_langs'])}")
    git = manifest.get("git", {})
    if git.get("revision"):
        md.append(f"- harness revision: `{git['revision'][:12]}`{' (dirty)' if git.get('dirty') else ''}")
    if manifest.get("started"):
        md.append(f"- run: {manifest.get('started')} to {manifest.get('finished') or '?'}")
    if manifest.get("executor"):
        facts = {k: v for k, v in manifest["executor"].items() if k != "name"}
        extra = f" ({', '.join(f'{k}: {v}' for k, v in facts.items())})" if facts else ""
        md.append(f"- executor: {manifest['executor'].get('name')}{extra}")
    md.append("")
    all_warnings = [w for r in results for w in r.warnings]
    if all_warnings:
        md.append("## Warnings")
        md += [f"- {w}" for w in all_warnings]
        md.append("")
    for result in results:
        md.append(f"## {result.title}")
        md.append("")
        if result.markdown:
            md += [result.markdown.strip(), ""]
        for tname, trows in result.tables.items():
            fname = _safe_name(f"{result.name}__{tname}" if not tname.startswith(result.name) else tname)
            write_table(trows, tables_dir / f"{fname}.csv", "csv") if trows else None
            md += [f"**{tname}** (`tables/{fname}.csv`)", "", iter_markdown_table(trows), ""]
        for fig_name, data in result.figures.items():
            fname = _safe_name(fig_name if fig_name.endswith(".png") else fig_name + ".png")
            atomic.write_bytes(plots_dir / fname, data)
            images[fname] = data
            md += [f"![{fname}](plots/{fname})", ""]
    md_text = "\n".join(md).rstrip() + "\n"
    atomic.write_text(run_dir / "report.md", md_text)
    body = markdown_to_html(md_text, images)
    title = html.escape(str(config.get("name", run_dir.name)))
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Alignment report: {title}</title>"
        f"<style>{_CSS}</style></head><body>\n{body}\n</body></html>\n"
    )
    atomic.write_text(run_dir / "report.html", page)
    atomic.write_text(
        run_dir / "stats.json", json.dumps(stats_json(results), indent=2, sort_keys=True, default=str) + "\n"
    )
    return {"md": run_dir / "report.md", "html": run_dir / "report.html"}
