"""Entry point: registers the OPT variants and the `harness train` command (imports stay cheap)."""

from __future__ import annotations

from typing import Any

from harness import hookimpl

FAMILIES = {
    "opt-350m": "facebook/opt-350m",
    "tiny-opt": "a tiny OPT built locally (offline tests)",
    "tiny-planted": "a tiny OPT trained on the planted demo (refusal pairs in high-resource languages only)",
    "tiny-planted-null": "the planted demo's null twin (refusal pairs in every language)",
}


def variants() -> list[Any]:
    from .recipes import family_variants
    from .variants import OptVariant

    out: list[Any] = []
    for family, what in FAMILIES.items():
        # opt-350m needs the hub; --rehearse runs the same recipe on the tiny family
        out += family_variants(OptVariant, family, what, "tiny-opt" if family == "opt-350m" else None)
    return out


@hookimpl
def harness_register_models(register) -> None:
    for v in variants():
        register(v)


@hookimpl
def harness_register_commands(cli) -> None:
    from .commands import train

    cli.add_command(train)
