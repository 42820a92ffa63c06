"""What every command shares: the state click passes them, one-line errors, plain and JSON output."""

from __future__ import annotations

from typing import Any

import click

from .. import jsonout
from ..choices import unknown
from ..context import make_context
from ..plugins import PluginHost
from ..run_options import RunOptions
from ..suite import Suite, load_suite
from ..types import Context


class OneLineError(click.ClickException):
    """How a HarnessError reaches the user: ``Error: <message>`` on stderr, exit code 2."""

    exit_code = 2


class CommandGroup(click.Group):
    """An unknown subcommand is one line with "did you mean" and the valid commands."""

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        name = click.utils.make_str(args[0]) if args else ""
        if args and self.get_command(ctx, name) is None and not name.startswith("-"):
            what = "command" if ctx.parent is None else f"{ctx.info_name} command"
            raise OneLineError(str(unknown(what, name, self.list_commands(ctx))))
        return super().resolve_command(ctx, args)


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
            from ..paths import default_store_path
            from ..store import Store

            cache = Store(default_store_path())
        return make_context(self.host, suite, section, name, run, cache=cache)


def echo_json(value: Any) -> None:
    click.echo(jsonout.dumps(value, indent=2, ensure_ascii=False, default=str))


def echo_rows(rows: list[dict[str, Any]], columns: list[str]) -> None:
    if not rows:
        click.echo("(none)")
        return
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns}
    widths[columns[-1]] = 0
    click.echo("  ".join(c.upper().ljust(widths[c]) for c in columns).rstrip())
    for r in rows:
        click.echo("  ".join(str(r.get(c, "")).ljust(widths[c]) for c in columns).rstrip())


def describe(kind: str, obj: Any) -> dict[str, Any]:
    """One registered object as a listing row (``--json`` prints these)."""
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
