"""Entry point: the ``hf`` model backend and the families of every recipe file no other built-in plugin
claims (the tiny llama/qwen2/gemma2/gpt_neox families, and any recipe whose ``base`` is a causal LM)."""

from __future__ import annotations

from typing import Any

from harness import hookimpl
from harness.paths import tasks_dir


def families() -> list[str]:
    """Recipe files in tasks/recipes/, less the OPT plugin's own families."""
    from harness_opt.plugin import FAMILIES as OPT_FAMILIES

    root = tasks_dir() / "recipes"
    names = sorted(p.stem for p in root.glob("*.toml")) if root.is_dir() else []
    return [n for n in names if n not in OPT_FAMILIES and not n.startswith("_")]


def variants() -> list[Any]:
    from harness_opt.recipes import family_variants, load_recipe_file

    from .architectures import ARCHITECTURES, tiny_family
    from .variants import HfFamilyVariant

    out: list[Any] = []
    for family in families():
        recipe_file = load_recipe_file(family)
        base = recipe_file.get("base", "")
        what = f"tiny {recipe_file.get('tiny', {}).get('model_type')} built locally" if base == "tiny" else str(base)
        model_type = str(recipe_file.get("architecture", ""))
        # a base from the hub or a folder: --rehearse runs the same recipe on a tiny family
        stand_in = None if base == "tiny" else tiny_family(model_type if model_type in ARCHITECTURES else "llama")
        out += family_variants(HfFamilyVariant, family, what, stand_in)
    return out


@hookimpl
def harness_register_models(register) -> None:
    for v in variants():
        register(v)


@hookimpl
def harness_register_model_backends(register) -> None:
    from .backend import HfBackend

    register(HfBackend())
