"""``harness compare RUN_A RUN_B``: how far two runs of the same cells agree (e.g. bf16 against fp32).

Rows are matched on (model, source, language, kind, prompt_id, scorer). It reports the share of
identical responses, per scorer the correlation and the largest difference of scores, whether
the report's verdict changes (its sentences with the numbers masked, so "no evidence" turning
into "evidence" or "larger" into "smaller" shows, a moved p-value alone does not), and for every
statistics table both runs wrote (``tables/*.csv``: rates, paired tests ...) how many figures moved
and by how much. Nothing here knows a concrete statistic.
"""

from __future__ import annotations

import csv
import difflib
import math
import re
from pathlib import Path
from typing import Any

from .orchestrate import run_table_path
from .table import read_table

CELL = ("model", "source", "language", "kind", "prompt_id")
NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?%?")


def _float(value: Any) -> float | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def pearson(xs: list[float], ys: list[float]) -> float | None:
    n = len(xs)
    if n < 2:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    return sxy / math.sqrt(sxx * syy) if sxx > 0 and syy > 0 else None


def verdict_lines(run_dir: Path) -> list[str]:
    """The sentences of report.md's opening verdict section (empty when the report has none)."""
    path = run_dir / "report.md"
    if not path.is_file():
        return []
    lines, inside = [], False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            if inside:
                break
            inside = line.strip().lower() == "## verdict"
            continue
        if inside and line.strip() and not line.startswith("!["):
            lines.append(line.strip())
    return lines


def _table_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def compare_tables(a: Path, b: Path) -> dict[str, Any]:
    """Per statistics table both runs have: figures compared, figures changed, the largest change."""
    out: dict[str, Any] = {}
    names = sorted({p.name for p in (a / "tables").glob("*.csv")} & {p.name for p in (b / "tables").glob("*.csv")})
    for name in names:
        ra, rb = _table_rows(a / "tables" / name), _table_rows(b / "tables" / name)
        if not ra:
            continue
        cols = list(ra[0])
        numeric = [c for c in cols if all(_float(r.get(c)) is not None or r.get(c) in ("", None) for r in ra)
                   and any(_float(r.get(c)) is not None for r in ra)]
        keys = [c for c in cols if c not in numeric]
        index = {tuple(r.get(k, "") for k in keys): r for r in rb}
        compared = changed = 0
        largest: dict[str, Any] = {"change": 0.0}
        for r in ra:
            other = index.get(tuple(r.get(k, "") for k in keys))
            for c in numeric:
                x, y = _float(r.get(c)), _float(other.get(c)) if other else None
                if x is None or y is None:
                    continue
                compared += 1
                if x != y:
                    changed += 1
                    if abs(y - x) > largest["change"]:
                        where = {k: r[k] for k in keys if r.get(k) and not NUMBER.fullmatch(r[k])}
                        largest = {"change": abs(y - x), "column": c, "a": x, "b": y, "row": where}
        out[name[:-4]] = {"figures": compared, "changed": changed, "largest": largest if changed else None}
    return out


def compare_runs(a: Path, b: Path) -> dict[str, Any]:
    rows_a, rows_b = read_table(run_table_path(a)), read_table(run_table_path(b))
    key = (*CELL, "scorer")
    index_b = {tuple(str(r.get(k, "")) for k in key): r for r in rows_b}
    responses: dict[tuple[str, ...], tuple[str, str]] = {}
    scores: dict[str, tuple[list[float], list[float]]] = {}
    same_input: dict[str, list[float]] = {}  # |A-B| where both runs scored the same response
    matched = 0
    for r in rows_a:
        other = index_b.get(tuple(str(r.get(k, "")) for k in key))
        if other is None:
            continue
        matched += 1
        responses[tuple(str(r.get(k, "")) for k in CELL)] = (str(r.get("response")), str(other.get("response")))
        x, y = _float(r.get("score")), _float(other.get("score"))
        if x is not None and y is not None:
            xs, ys = scores.setdefault(str(r.get("scorer")), ([], []))
            xs.append(x)
            ys.append(y)
            if r.get("response") == other.get("response"):
                same_input.setdefault(str(r.get("scorer")), []).append(abs(x - y))
    by_model: dict[str, list[int]] = {}
    for cell, (ra, rb) in responses.items():
        counts = by_model.setdefault(cell[0], [0, 0])
        counts[0] += ra == rb
        counts[1] += 1
    same = sum(c[0] for c in by_model.values())
    va, vb = verdict_lines(a), verdict_lines(b)
    masked = [NUMBER.sub("#", s) for s in va] != [NUMBER.sub("#", s) for s in vb]
    changed = changed_sentences(va, vb) if masked else []
    return {
        "runs": [str(a), str(b)],
        "rows": [len(rows_a), len(rows_b)],
        "matched_rows": matched,
        "responses": {
            "cells": len(responses),
            "identical": same,
            "identical_share": round(same / len(responses), 4) if responses else None,
            "by_model": {m: round(c[0] / c[1], 4) for m, c in sorted(by_model.items())},
        },
        "scores": {
            s: {
                "n": len(xs),
                "pearson_r": None if (r := pearson(xs, ys)) is None else round(r, 6),
                "max_abs_diff": round(max(abs(x - y) for x, y in zip(xs, ys)), 6),
                "mean_abs_diff": round(sum(abs(x - y) for x, y in zip(xs, ys)) / len(xs), 6),
                "same_response_n": len(same_input.get(s, [])),
                "same_response_max_abs_diff": round(max(same_input.get(s, [0.0])), 6),
            }
            for s, (xs, ys) in sorted(scores.items())
        },
        "verdict": {
            "same_text": va == vb,
            "changed": masked,
            "changed_sentences": changed,
            "a": va,
            "b": vb,
        },
        "tables": compare_tables(a, b),
    }


def changed_sentences(va: list[str], vb: list[str]) -> list[dict[str, Any]]:
    """The verdict sentences whose words (numbers masked) differ, paired by position, each with the
    words that changed: "'5.0 percentage points larger' -> 'the same'" says more than two paragraphs."""
    out: list[dict[str, Any]] = []
    for i in range(max(len(va), len(vb))):
        sa, sb = (va[i] if i < len(va) else ""), (vb[i] if i < len(vb) else "")
        wa, wb = NUMBER.sub("#", sa).split(), NUMBER.sub("#", sb).split()
        if wa == wb:
            continue
        ops = difflib.SequenceMatcher(a=wa, b=wb, autojunk=False).get_opcodes()
        words = [(" ".join(wa[i1:i2]), " ".join(wb[j1:j2])) for tag, i1, i2, j1, j2 in ops if tag != "equal"]
        out.append({"sentence": i + 1, "a": sa, "b": sb, "words": words})
    return out


def format_comparison(c: dict[str, Any]) -> list[str]:
    r = c["responses"]
    lines = [
        f"A: {c['runs'][0]}  B: {c['runs'][1]}",
        f"matched rows: {c['matched_rows']} (A has {c['rows'][0]}, B has {c['rows'][1]})",
        f"identical responses: {r['identical']}/{r['cells']} cells ({100 * (r['identical_share'] or 0):.1f}%); "
        + ", ".join(f"{m} {100 * v:.1f}%" for m, v in r["by_model"].items()),
    ]
    for name, s in c["scores"].items():
        lines.append(f"scores {name}: n {s['n']}, Pearson r {s['pearson_r']}, largest |A-B| {s['max_abs_diff']}, "
                      f"mean |A-B| {s['mean_abs_diff']}; on the {s['same_response_n']} identical responses "
                     f"largest |A-B| {s['same_response_max_abs_diff']}")
    v = c["verdict"]
    if not v["a"] and not v["b"]:
        lines.append("verdict: neither report has one")
    elif v["changed"]:
        n = len(v["changed_sentences"])
        lines.append(f"verdict: CHANGED in {n} of {max(len(v['a']), len(v['b']))} sentence(s) "
                     "(wording differs beyond its numbers; # stands for a number)")
        for ch in v["changed_sentences"]:
            words = "; ".join(f"'{x}' -> '{y}'" for x, y in ch["words"])
            lines += [f"  sentence {ch['sentence']}: {words}", f"    A: {ch['a']}", f"    B: {ch['b']}"]
    else:
        lines.append("verdict: unchanged" + ("" if v["same_text"] else " (only its numbers moved)"))
    for name, t in c["tables"].items():
        big = t["largest"]
        tail = "" if big is None else (f"; largest {big['column']} {big['a']} -> {big['b']} "
                                       f"({', '.join(f'{k}={x}' for k, x in big['row'].items())})")
        lines.append(f"table {name}: {t['changed']}/{t['figures']} figures changed{tail}")
    return lines
