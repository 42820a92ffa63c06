"""The listing commands: ``plugins``, ``models``, ``sources``, ``scorers``, ``translators``, ``suites``, ``langs``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from ..choices import split_csv, unknown
from ..declared import declare_models
from ..suite import load_suite
from ..types import HarnessError
from .common import CliState, describe, echo_json, echo_rows


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON only.")
@click.pass_obj
def plugins_cmd(state: CliState, as_json: bool) -> None:
    """List plugins: distribution, version, hooks, what each registered, and errors."""
    from ..plugin_listing import plugin_lines

    infos = [info for _, info in sorted(state.host.infos.items())]
    if as_json:
        echo_json([info.as_dict() for info in infos])
        return
    for line in plugin_lines(infos):
        click.echo(line)


def _listing(kind: str) -> Callable[..., None]:
    @click.option("--json", "as_json", is_flag=True, help="Print JSON only.")
    @click.pass_obj
    def listing(state: CliState, as_json: bool, suite: str | None = None) -> None:
        if suite is not None:  # models: with the ones this suite declares
            declare_models(state.host, state.load_suite(suite))
        items = [describe(kind, obj) for _, obj in sorted(state.host.registries[kind].items())]
        if as_json:
            echo_json(items)
        else:
            cols = ["name", "plugin", "family", "recipe"] if kind == "models" else ["name", "plugin"]
            echo_rows(items, [*cols, "description"])
            for it in items if kind == "translators" else []:  # the languages each covers, in full
                langs = it.get("languages") or []
                click.echo(f"{it['name']} covers {len(langs)}: {', '.join(langs)}")
            if kind == "models":
                for b in sorted(state.host.registries["model_backends"].values(), key=lambda b: b.name):
                    click.echo(f"any model: --models {b.name}:{b.example}  ({b.description}; plugin {b.plugin})")

    listing.__doc__ = f"List registered {kind}."
    return listing


def listing_commands() -> list[click.Command]:
    """``models`` (with ``--suite``), ``sources``, ``scorers``, ``translators``."""
    commands = []
    for kind in ("models", "sources", "scorers", "translators"):
        listing = _listing(kind)
        if kind == "models":
            listing = click.option("--suite", default=None, help="Also list the models this suite declares.")(listing)
        commands.append(click.command(kind)(listing))
    return commands


@click.command("suites")
@click.option("--json", "as_json", is_flag=True, help="Print JSON only.")
def suites_cmd(as_json: bool) -> None:
    """List the suites (`--suite NAME`): the built-in ones, or HARNESS_TASKS_DIR's, with their descriptions."""
    from ..suite import suite_listing

    items = suite_listing()
    if as_json:
        echo_json(items)
    else:
        echo_rows(items, ["name", "description"])


def _default_scheme(schemes: dict[str, Any]) -> str:
    """The default suite's tier scheme, else the first registered one."""
    try:
        return load_suite(None).tier_scheme
    except HarnessError:
        return sorted(schemes)[0] if schemes else ""


@click.command("langs")
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
        echo_json(items)
    else:
        echo_rows(items, ["code", "name", "tier", "plugin"])
