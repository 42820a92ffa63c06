"""Building the Context a plugin object receives, from the suite and CLI options."""

from __future__ import annotations

from typing import Any

from .paths import data_dir, harness_home
from .plugins import PluginHost
from .run_options import RunOptions, run_options
from .suite import Suite
from .types import RESOURCE_KEYS, Cache, Context, GenerationSettings, HarnessError


def generation_settings(suite: Suite | None) -> GenerationSettings:
    gen = suite.generation if suite else {}
    settings = GenerationSettings(**gen)
    if settings.max_new_tokens < 1:
        raise HarnessError(f"generation.max_new_tokens must be >= 1, got {settings.max_new_tokens}")
    return settings


def split_resources(options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(plugin options, placement overrides): ``num_gpus``/``num_cpus``/``memory`` say where a
    component runs, not what it computes, so the plugin never sees them (nor its fingerprint)."""
    return (
        {k: v for k, v in options.items() if k not in RESOURCE_KEYS},
        {k: v for k, v in options.items() if k in RESOURCE_KEYS},
    )


def make_context(
    host: PluginHost,
    suite: Suite | None,
    section: str,
    name: str,
    run: RunOptions | None = None,
    *,
    cache: Cache | None = None,
    **settings: Any,
) -> Context:
    """Options are the object's ``default_options`` overlaid by the suite's ``[section.name]`` table;
    ``run`` holds the run-wide settings, already resolved. A script that builds one context by hand
    (a benchmark) may pass ``RunOptions.resolve``'s keywords (``device=``, ``batch_size=`` ...) instead."""
    run = run_options(run, settings)
    obj: Any = host.registries.get(section, {}).get(name)
    options = dict(getattr(obj, "default_options", {}) or {})
    if suite is not None:
        options.update(suite.options(section, name))
    options, resources = split_resources(options)
    data = suite.data if suite else {}
    return Context(
        options=options,
        resources=resources,
        generation=generation_settings(suite),
        device=run.device,
        dtype=run.dtype,
        batch_size=run.batch_size,
        seed=int(data.get("seed", 0)),
        home=harness_home(),
        data_dir=data_dir(data.get("data_dir")),
        train_missing=run.train_missing or bool(data.get("train_missing", False)),
        cache=cache,
        log=run.log,
        translators=host.translators,
        languages=host.languages,
        config=data,
        limit=run.limit,
    )
