"""Training recipes as data: tasks/recipes/<family>.toml merged with a suite's [models.NAME] options.

Keeping hyper-parameters in files (not code) lets a suite change one value and get a new
checkpoint key, while an unchanged recipe always maps to the same stored checkpoint.
"""

from __future__ import annotations

import copy
import difflib
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from harness.paths import tasks_dir
from harness.types import HarnessError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

#: Options of a variant that are not recipe values.
VARIANT_OPTIONS = ("checkpoint", "dtype", "engine", "trust_remote_code", "recipe", "tokenizer")
#: Top-level recipe keys a suite may override.
RECIPE_KEYS = ("base", "revision", "seed", "cpu_threads", "tiny", "data", "sft", "dpo")
#: a family's four variants: recipe -> suffix of the variant's name
SUFFIX = {"base": "", "sft": "-sft", "dpo": "-dpo", "sft+dpo": "-sft-dpo"}


def family_variants(make: Callable[..., Any], family: str, what: str, stand_in: str | None = None) -> list[Any]:
    """The base, SFT, DPO and SFT+DPO variants of one recipe family, ``make(name, family, recipe, description)``
    each; ``stand_in``: the family whose same recipe stands in for these under ``--rehearse``."""
    out = []
    for recipe, suffix in SUFFIX.items():
        desc = what if recipe == "base" else f"{what} + {recipe.upper()} (TRL, tasks/recipes/{family}.toml)"
        variant = make(family + suffix, family, recipe, desc)
        if stand_in:
            variant.stand_in = stand_in + suffix
        out.append(variant)
    return out


def recipe_path(name: str) -> Path:
    """A recipe name (``opt-350m``) or a path to a TOML file."""
    p = Path(name).expanduser()
    if p.suffix == ".toml" and p.is_file():
        return p
    return tasks_dir() / "recipes" / f"{name}.toml"


def load_recipe_file(name: str) -> dict[str, Any]:
    path = recipe_path(name)
    if not path.is_file():
        raise HarnessError(f"recipe file {path} not found: add it or set the variant option recipe=PATH")
    with open(path, "rb") as fh:
        return tomllib.load(fh)


def _deep_merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _nest(options: Mapping[str, Any]) -> dict[str, Any]:
    """Turn dotted keys (``sft.epochs`` from ``--set``) into nested dicts."""
    nested: dict[str, Any] = {}
    for key, value in options.items():
        parts = key.split(".")
        cur = nested
        for part in parts[:-1]:
            cur = cur.setdefault(part, {})
        if isinstance(value, Mapping) and isinstance(cur.get(parts[-1]), dict):
            cur[parts[-1]] = _deep_merge(cur[parts[-1]], value)
        else:
            cur[parts[-1]] = value
    return nested


def effective_recipe(family: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """The recipe file for ``family`` (or ``options['recipe']``) with the suite's overrides applied."""
    nested = _nest(options)
    recipe = load_recipe_file(str(nested.get("recipe") or family))
    overrides = {k: v for k, v in nested.items() if k in RECIPE_KEYS}
    unknown = sorted(set(nested) - set(RECIPE_KEYS) - set(VARIANT_OPTIONS))
    if unknown:
        raise HarnessError(
            f"unknown option(s) {', '.join(unknown)} for {family} variants; "
            f"known: {', '.join(VARIANT_OPTIONS + RECIPE_KEYS)}"
        )
    for section, value in overrides.items():
        known = recipe.get(section)
        if isinstance(value, Mapping) and isinstance(known, Mapping):
            for key in value:
                if key not in known:
                    close = difflib.get_close_matches(key, list(known), n=1)
                    hint = f" (did you mean {section}.{close[0]}?)" if close else ""
                    raise HarnessError(
                        f"unknown recipe key {section}.{key} for {family} variants{hint}; "
                        f"known: {', '.join(f'{section}.{k}' for k in sorted(known))}"
                    )
    merged = _deep_merge(recipe, overrides)
    for section in ("sft", "dpo"):
        if not isinstance(merged.get(section), dict):
            raise HarnessError(f"recipe for {family} has no [{section}] table")
    return merged
