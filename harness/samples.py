"""The sample browser's data: every row of the tidy table, grouped into one sample per generation.

A sample is one (model, source, kind, language, tier, prompt_id) with its prompt, its response
and the score of every scorer, so the browser shows each generation once with all its scores.
It is written as ``samples.js`` beside ``report.html`` (``window.HARNESS_SAMPLES = {...}``) and
loaded by a ``<script src>``: a page opened from ``file://`` may load a sibling script but, in
Chromium, may not ``fetch()`` a sibling file, and a separate file keeps ``report.html`` light so
the verdict paints before 40,000 rows are parsed. Texts are stored once each (prompts repeat
across models, responses across scorers); every ``<`` is written as ``\\u003c`` so no text can
close a script element even if the data is ever inlined.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

#: the filterable dimensions, in the order each sample array starts with
DIMS: tuple[str, ...] = ("model", "source", "kind", "language", "tier")
#: optional table columns the browser shows as translations when a row carries them
TRANSLATION_COLUMNS: tuple[str, ...] = ("prompt_translation", "response_translation")
TRANSLATED, TRUNCATED = 1, 2


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


class _Interner:
    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.values: list[str] = []

    def __call__(self, value: Any) -> int:
        text = "" if value is None else str(value)
        found = self.index.get(text)
        if found is None:
            found = self.index[text] = len(self.values)
            self.values.append(text)
        return found


def samples_payload(rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Group tidy rows into samples. Each sample is the array
    ``[model, source, kind, language, tier, prompt_id, prompt, response, flags, scores, translations]``:
    the first five index ``values[dim]``, prompt/response index ``texts``; ``scores`` has one entry per
    scorer: a number, ``null`` when the scorer has no row for it, or a string (the row's
    ``missing_reason``) when the row is there without a score. ``translations`` is ``0`` or
    ``[prompt translation, response translation]`` as text indexes (-1 for none)."""
    rows = list(rows)
    scorers = list(dict.fromkeys(str(r["scorer"]) for r in rows))
    scorer_at = {s: i for i, s in enumerate(scorers)}
    dims = {d: _Interner() for d in DIMS}
    texts = _Interner()
    samples: list[list[Any]] = []
    by_key: dict[tuple[Any, ...], list[Any]] = {}
    for row in rows:
        key = (*(row.get(d) for d in DIMS), row.get("prompt_id"), row.get("prompt"), row.get("response"))
        sample = by_key.get(key)
        if sample is None:
            sample = [dims[d](row.get(d)) for d in DIMS]
            sample += [str(row.get("prompt_id", "")), texts(row.get("prompt")), texts(row.get("response")), 0]
            sample += [[None] * len(scorers), 0]
            by_key[key] = sample
            samples.append(sample)
        flags = (TRANSLATED if row.get("translated") else 0) | (TRUNCATED if row.get("truncated") else 0)
        sample[8] |= flags
        score = row.get("score")
        if _missing(score):
            sample[9][scorer_at[str(row["scorer"])]] = str(row.get("missing_reason") or "no score")
        elif not math.isfinite(float(score)):
            sample[9][scorer_at[str(row["scorer"])]] = f"non-finite score {score}"
        else:
            sample[9][scorer_at[str(row["scorer"])]] = float(score)
        extra = [row.get(c) for c in TRANSLATION_COLUMNS]
        if any(extra) and not sample[10]:
            sample[10] = [texts(v) if v else -1 for v in extra]
    return {
        "version": 1,
        "rows": len(rows),
        "dims": list(DIMS),
        "values": {d: dims[d].values for d in DIMS},
        "scorers": scorers,
        "texts": texts.values,
        "samples": samples,
    }


def samples_js(payload: dict[str, Any]) -> str:
    """``samples.js``: the payload as one JavaScript assignment, deterministic for identical rows."""
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    data = data.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return f"window.HARNESS_SAMPLES={data};\n"
