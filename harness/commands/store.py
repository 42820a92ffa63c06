"""``harness store check|repair``: the store's integrity, and salvage of a damaged one."""

from __future__ import annotations

from pathlib import Path

import click

from ..types import HarnessError
from .common import CommandGroup

store_option = click.option(
    "--store",
    "store_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Store file (default $HARNESS_HOME/store.sqlite).",
)


def _chosen_store(store_path: str | None) -> Path:
    from ..paths import default_store_path

    return Path(store_path) if store_path else default_store_path()


@click.group("store", cls=CommandGroup)
def store_group() -> None:
    """Check a result store, or salvage what is readable of a damaged one."""


@store_group.command("check")
@store_option
def store_check(store_path: str | None) -> None:
    """Integrity check and row counts; exit code 2 when the store is damaged."""
    from ..storecheck import check

    path = _chosen_store(store_path)
    result = check(path)
    counts = ", ".join(f"{n if n is not None else '?'} {t}" for t, n in result["counts"].items())
    if result["problems"]:
        raise HarnessError(
            f"store {str(path)!r} is damaged ({'; '.join(result['problems'][:2])}); "
            f"readable: {counts or 'nothing'}; run `harness store repair --store {path}` to keep what is readable"
        )
    click.echo(f"store {path}: ok ({counts})")


@store_group.command("repair")
@store_option
def store_repair(store_path: str | None) -> None:
    """Copy every readable, consistent row into a new store in place; keep the damaged file aside."""
    from ..storecheck import repair

    path = _chosen_store(store_path)
    result = repair(path)
    kept = ", ".join(f"{n} {t}" for t, n in result["kept"].items())
    dropped = sum(result["dropped"].values())
    state = "damaged" if result["problems_before"] else "sound"
    click.echo(
        f"store {path} ({state}): kept {kept}; rejected {dropped} inconsistent row(s); "
        f"the old file is at {result['damaged_copy']}; the next run recomputes what is missing"
    )
