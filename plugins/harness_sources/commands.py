"""`harness prompts`: print exactly the prompts a run would ask, or where two hh-rlhf selections differ."""

from __future__ import annotations

import difflib
import json
from dataclasses import replace
from typing import Any

import click

from harness.choices import unknown
from harness.types import KINDS, HarnessError, Prompt


def expand_langs(value: str | None, source: Any, ctx: Any, scheme: Any) -> list[str]:
    """Comma-separated codes or tier names (of the suite's tier scheme) -> codes the source covers."""
    covered = source.languages(ctx)
    if not value:
        native = getattr(source, "native_languages", None)
        return list(native(ctx)) if native else covered
    out: list[str] = []
    for token in (t.strip() for t in value.split(",") if t.strip()):
        if scheme is not None and token in scheme.order:
            codes = [c for c in scheme.languages_in(token) if c in covered]
        elif token in covered:
            codes = [token]
        else:
            raise HarnessError(f"source {source.name} has no {token!r} prompts; it covers {', '.join(covered)}")
        out += [c for c in codes if c not in out]
    return out


def prompt_record(p: Prompt) -> dict[str, Any]:
    return {"prompt_id": p.prompt_id, "language": p.language, "kind": p.kind, "text": p.text, "source": p.source}


@click.command("prompts")
@click.option("--source", "source_name", required=True, help="Prompt source name (see `harness sources`).")
@click.option("--lang", "lang", default=None, help="Comma-separated language codes or tier names.")
@click.option("--kind", type=click.Choice(KINDS), default=None, help="Only this kind of prompt.")
@click.option("--suite", default=None, help="Suite name or TOML path whose options apply.")
@click.option("--set", "overrides", multiple=True, help="Override an option: SOURCE.KEY=VALUE.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@click.option("--diff", is_flag=True, help="hh-rlhf: show the prompts where selection=paper and turns differ.")
@click.pass_obj
def prompts_command(state: Any, source_name: str, lang: str | None, kind: str | None, suite: str | None,
                    overrides: tuple[str, ...], as_json: bool, diff: bool) -> None:
    """Print the prompts a source yields with the suite's options, so you see exactly what a run asks."""
    sources = state.host.sources
    if source_name not in sources:
        raise unknown("source", source_name, sources)
    source = sources[source_name]
    suite_obj = state.load_suite(suite, list(overrides))
    ctx = state.context("sources", source_name, suite_obj)
    if kind and "kinds" in (source.default_options or {}):
        # a source asked for one kind must not need the other kind's data (hh-rlhf's helpful-base)
        ctx = replace(ctx, options={**ctx.options, "kinds": [kind]})
    if diff:
        _print_diff(source, ctx, kind, as_json)
        return
    scheme_name = (getattr(suite_obj, "data", {}) or {}).get("tier_scheme", "joshi")
    scheme = state.host.tier_schemes.get(scheme_name)
    prompts = [p for code in expand_langs(lang, source, ctx, scheme) for p in source.load(code, ctx)
               if kind is None or p.kind == kind]
    if as_json:
        click.echo(json.dumps([prompt_record(p) for p in prompts], ensure_ascii=False, indent=1))
        return
    for p in prompts:
        flag = " (translated)" if p.meta.get("translated") else ""
        click.echo(f"--- {p.source} {p.language} {p.kind} {p.prompt_id}{flag}")
        click.echo(p.text)
    click.echo(f"{len(prompts)} prompt(s)", err=True)


def _print_diff(source: Any, ctx: Any, kind: str | None, as_json: bool) -> None:
    if not hasattr(source, "selection_diff"):
        raise HarnessError(f"--diff needs a source with several selections (hh-rlhf), not {source.name}")
    rows = [r for r in source.selection_diff(ctx) if kind is None or r["kind"] == kind]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    for r in rows:
        click.echo(f"=== {r['prompt_id']} ({r['kind']})")
        lines = difflib.unified_diff(r["paper"].splitlines(), r["turns"].splitlines(),
                                     "selection=paper", "selection=turns", lineterm="")
        click.echo("\n".join(lines))
    click.echo(f"{len(rows)} prompt(s) differ between selection=paper and selection=turns", err=True)
