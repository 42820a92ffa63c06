"""What statistic options must hold beyond their types, checked in ``check_options`` before any work:
`harness run` and `harness stats` stop with one line (exit 2) instead of a warning after the work.

Types, finiteness and unknown keys are the core's check (``check_option_types``); this adds ranges,
choices and the random-effects formula, which otherwise failed only inside ``compute``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from harness.types import HarnessError

#: option -> (valid?, what is valid)
RANGES: dict[str, tuple[Callable[[float], bool], str]] = {
    "alpha": (lambda v: 0 < v < 1, "a level between 0 and 1, exclusive (e.g. 0.05)"),
    "bootstrap_reps": (lambda v: v >= 0, "a count >= 0 (0: no bootstrap interval)"),
    "seed": (lambda v: v >= 0, "an integer >= 0"),
}
CORRECTIONS = ("holm", "bh", "fdr", "benjamini-hochberg")
FORMULA_COLUMNS = {"item", "language", "variant", "kind", "tier"}


def check_formula(where: str, formula: str) -> None:
    """An lme4 random-effects formula over the analysis frame's columns; raises with the parser's reason."""
    from ..mixedmodels import FormulaError, parse_random

    try:
        parse_random(str(formula), FORMULA_COLUMNS)
    except FormulaError as exc:
        raise HarnessError(f"{where}: {exc}") from None


def check_values(stat: str, options: Mapping[str, Any], ranges: Mapping[str, Any] = RANGES) -> None:
    for key, value in options.items():
        if key in ranges and isinstance(value, (int, float)) and not isinstance(value, bool):
            valid, what = ranges[key]
            if not valid(value):
                raise HarnessError(f"option {stat}.{key} must be {what}, got {value!r}")
    correction = options.get("correction")
    if correction is not None and str(correction).lower() not in CORRECTIONS:
        raise HarnessError(
            f"option {stat}.correction must be holm or bh (also fdr, benjamini-hochberg), got {correction!r}"
        )
    if options.get("random"):
        check_formula(f"option {stat}.random", options["random"])


class CheckedOptions:
    """Mixin for a Statistic: the core's type checks, then ``check_values`` with the class's ``ranges``."""

    name: str
    ranges: Mapping[str, tuple[Callable[[float], bool], str]] = RANGES

    def check_options(self, options: Mapping[str, Any]) -> None:
        super().check_options(options)  # type: ignore[misc]
        check_values(self.name, options, self.ranges)
