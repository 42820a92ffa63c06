"""A statistic whose ``compute`` raised: kept as a failed section, named in the report's banner.

The report is still written (nothing computed is lost); ``--strict-plugins`` then makes
``harness run`` and ``harness stats`` exit non-zero, naming the statistic, its plugin and the
method that raised.
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from . import plugin_errors
from .extras import extra_providing
from .types import HarnessError, StatResult

if TYPE_CHECKING:
    from .plugins import PluginHost


class StatisticFailed(HarnessError):
    """One or more statistics raised, under ``--strict-plugins`` (after the report is written)."""


def failed_stat(host: PluginHost, stat: object, name: str, exc: Exception) -> StatResult:
    """The result standing in for a statistic that raised; its warning names the plugin and the method,
    or the extra to install when the statistic's plugin lacks a module one of its extras provides."""
    info = host.infos.get(getattr(stat, "plugin", ""))
    extra = extra_providing(info.distribution if info else None, exc)
    if extra:
        line = f"needs the `{extra}` extra (no module {getattr(exc, 'name', None)!r})"
    else:
        line = plugin_errors.describe(host, exc) or f"statistic {name!r} raised {type(exc).__name__}: {exc}"
    tb = traceback.format_exc(limit=3)
    return StatResult(
        name=name,
        title=f"{name} (failed)",
        markdown=f"This statistic failed: `{type(exc).__name__}: {exc}`\n\n```\n{tb}\n```",
        warnings=[f"failed: {line}"],
        error=line,
    )


def failure_banners(results: Sequence[StatResult]) -> list[dict[str, str]]:
    """The report's banner naming each failed statistic (its section says why)."""
    failed = [r for r in results if r.error]
    if not failed:
        return []
    names = ", ".join(f"`{r.name}`" for r in failed)
    return [
        {
            "kind": "failed-stats",
            "markdown": f"**Failed statistics**: {names} raised an error; their sections below say why, "
            "and every other result stands.",
        }
    ]


def check_failed(host: PluginHost, errors: Mapping[str, str], kept: str = "the report is written") -> None:
    """Under ``--strict-plugins``, a failed statistic fails the command (its report is already written);
    ``errors`` maps each failed statistic to its one-line error; ``kept`` says what was not lost."""
    if errors and host.strict:
        raise StatisticFailed(
            f"{len(errors)} statistic(s) failed under --strict-plugins ({kept}): "
            + "; ".join(f"{name}: {error}" for name, error in errors.items())
        )
