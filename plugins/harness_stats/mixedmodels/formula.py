"""lme4-syntax random-effects terms: ``(1|item) + (1|language:item) + (0 + variant | language)``.

A small parser on purpose: the terms the trade-off model needs are an intercept or the
indicator columns of one factor (``0 + f``; ``1 + f`` gives intercept + treatment
contrasts) per level of a grouping factor or an interaction of factors (``a:b``);
``a/b`` expands to ``(1|a) + (1|a:b)`` as in lme4. Anything else is refused with the
accepted forms named, rather than half-understood.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: The extended model: item, language, and the language x item, language x variant
#: and language x variant x kind interactions a multilingual design has.
DEFAULT_RANDOM = "(1|item) + (1|language) + (1|language:item) + (1|language:variant) + (1|language:variant:kind)"
#: The model the harness fitted before (crossed random intercepts only).
SIMPLE_RANDOM = "(1|item) + (1|language)"
#: Without an explicit formula, the first of these the table has enough scores for is fitted.
DEFAULT_LADDER = (
    DEFAULT_RANDOM,
    "(1|item) + (1|language) + (1|language:item) + (1|language:variant)",
    "(1|item) + (1|language) + (1|language:item)",
    SIMPLE_RANDOM,
)

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")


class FormulaError(ValueError):
    """A random-effects formula the parser does not accept; the message shows what is valid."""


@dataclass(frozen=True)
class RandomTerm:
    """One ``(lhs | group)`` term: ``intercept`` and/or the levels of ``factor`` vary by ``group``."""

    group: tuple[str, ...]
    intercept: bool = True
    factor: str | None = None

    @property
    def group_name(self) -> str:
        return ":".join(self.group)

    @property
    def label(self) -> str:
        if self.factor is None:
            lhs = "1"
        else:
            lhs = ("1 + " if self.intercept else "0 + ") + self.factor
        return f"({lhs} | {self.group_name})"


def _split_terms(text: str) -> list[str]:
    terms, depth, cur = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise FormulaError(f"unbalanced ')' in random formula {text!r}")
        if ch == "+" and depth == 0:
            terms.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if depth:
        raise FormulaError(f"unbalanced '(' in random formula {text!r}")
    terms.append(cur.strip())
    return [t for t in terms if t]


def _names(text: str, sep: str, what: str, formula: str) -> list[str]:
    parts = [p.strip() for p in text.split(sep)]
    for p in parts:
        if not _NAME.match(p):
            raise FormulaError(f"{what} {p!r} in {formula!r} is not a column name")
    return parts


def parse_random(text: str, columns: set[str] | None = None) -> list[RandomTerm]:
    """Terms of an lme4 random-effects formula; ``columns`` (when given) must hold every name used."""
    accepted = "accepted: (1|g), (0 + f|g), (1 + f|g), g may be a:b or a/b, terms joined by '+'"
    terms: list[RandomTerm] = []
    for raw in _split_terms(text or ""):
        if not (raw.startswith("(") and raw.endswith(")")) or "|" not in raw:
            raise FormulaError(f"random term {raw!r} is not of the form (lhs | group); {accepted}")
        inner = raw[1:-1]
        if "||" in inner:
            raise FormulaError(f"uncorrelated terms '||' are not supported in {raw!r}; {accepted}")
        lhs, group = (s.strip() for s in inner.split("|", 1))
        pieces = [p.strip() for p in lhs.replace(" ", "").split("+") if p.strip()]
        intercept = "0" not in pieces and "-1" not in pieces
        factors = [p for p in pieces if p not in ("0", "1", "-1")]
        if len(factors) > 1:
            raise FormulaError(f"random term {raw!r} has more than one varying factor; {accepted}")
        factor = _names(factors[0], ":", "factor", raw)[0] if factors else None
        if factor is None and not intercept:
            raise FormulaError(f"random term {raw!r} has no columns; {accepted}")
        if "/" in group:
            nest = _names(group, "/", "grouping factor", raw)
            groups = [tuple(nest[: i + 1]) for i in range(len(nest))]
        else:
            groups = [tuple(_names(group, ":", "grouping factor", raw))]
        for g in groups:
            terms.append(RandomTerm(group=g, intercept=intercept, factor=factor))
    if not terms:
        raise FormulaError(f"empty random formula; {accepted}")
    if columns is not None:
        used = {n for t in terms for n in (*t.group, *([t.factor] if t.factor else []))}
        missing = sorted(used - columns)
        if missing:
            raise FormulaError(
                f"random formula names {', '.join(missing)}, not a column of the analysis frame "
                f"(columns: {', '.join(sorted(columns))})"
            )
    for t in terms:
        if t.factor is None:
            continue
        for u in terms:
            same_group = u.factor is None and set(u.group) == set(t.group)
            flat = u.factor is None and set(u.group) == {*t.group, t.factor}
            if same_group or flat:
                raise FormulaError(
                    f"{t.label} and {u.label} are not identifiable together: the slopes' covariance already "
                    f"contains {'an intercept per ' + t.group_name if same_group else 'a variance per level'}; "
                    "keep one of them"
                )
    labels = [t.label for t in terms]
    dupes = sorted({x for x in labels if labels.count(x) > 1})
    if dupes:
        raise FormulaError(f"random term(s) {', '.join(dupes)} given twice")
    return terms
