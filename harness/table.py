"""The tidy table: one row per scored generation, the one interchange format.

Columns: ``model, source, kind, language, tier, prompt_id, prompt, response,
scorer, score`` (see ``harness.types.TABLE_COLUMNS``) plus optional metadata
columns. Readers accept CSV, JSONL and Parquet (Parquet needs pyarrow); writers
produce byte-identical output for identical rows.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from . import atomic
from .types import KINDS, TABLE_COLUMNS, HarnessError

FORMATS = ("csv", "jsonl", "parquet")
_NUMERIC = {"score"}
_BOOL = {"translated", "truncated"}


def columns_of(rows: list[dict[str, Any]]) -> list[str]:
    extra: list[str] = []
    for row in rows:
        for key in row:
            if key not in TABLE_COLUMNS and key not in extra:
                extra.append(key)
    return [*TABLE_COLUMNS, *extra]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ""
    return str(value)


def _json_value(value: Any) -> Any:
    """NaN (a scorer that could not score) is written as null: JSON has no NaN (nor infinities)."""
    return None if isinstance(value, float) and not math.isfinite(value) else value


def write_table(rows: list[dict[str, Any]], path: str | Path, fmt: str | None = None) -> Path:
    path = Path(path)
    fmt = fmt or path.suffix.lstrip(".")
    if fmt not in FORMATS:
        raise HarnessError(f"unknown table format {fmt!r}; valid: {', '.join(FORMATS)}")
    cols = columns_of(rows)
    if fmt == "parquet":
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise HarnessError("writing parquet needs pyarrow: pip install pyarrow") from None
        table = pa.Table.from_pylist([{c: _json_value(row.get(c)) for c in cols} for row in rows])
        with atomic.atomic_path(path) as tmp:
            pq.write_table(table, tmp)
        return path
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(cols)
        for row in rows:
            writer.writerow([_cell(row.get(c)) for c in cols])
        text = buf.getvalue()
    else:
        text = "".join(
            json.dumps({c: _json_value(row.get(c)) for c in cols}, ensure_ascii=False) + "\n" for row in rows
        )
    atomic.write_text(path, text)
    return path


def _coerce(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for key in _NUMERIC:
        value = out.get(key)
        if isinstance(value, str):
            out[key] = float(value) if value.strip() else math.nan
        elif value is None:
            out[key] = math.nan
    for key in _BOOL:
        value = out.get(key)
        if isinstance(value, str):
            out[key] = value.strip().lower() in ("true", "1", "yes")
    if out.get("missing_reason") == "":  # CSV has no null: an empty reason is no reason
        out["missing_reason"] = None
    for key in TABLE_COLUMNS:
        if key not in _NUMERIC and out.get(key) is not None and not isinstance(out[key], str):
            out[key] = str(out[key])
    return out


def _no_constant(token: str) -> Any:
    raise ValueError(f"bare {token} is not JSON; write null for a missing score")


def read_table(path: str | Path) -> list[dict[str, Any]]:
    """Read and validate a tidy table; errors name the file and what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise HarnessError(f"table file {str(path)!r} does not exist")
    fmt = path.suffix.lstrip(".").lower()
    try:
        if fmt == "csv":  # utf-8-sig: a spreadsheet's "CSV UTF-8" starts with a byte-order mark
            with open(path, encoding="utf-8-sig", newline="") as fh:
                rows = list(csv.DictReader(fh))
        elif fmt in ("jsonl", "ndjson"):
            rows = []
            with open(path, encoding="utf-8-sig") as fh:
                for n, line in enumerate(fh, 1):
                    if line.strip():
                        try:
                            rows.append(json.loads(line, parse_constant=_no_constant))
                        except json.JSONDecodeError as exc:
                            raise HarnessError(f"malformed table {path}: line {n} is not JSON ({exc.msg})") from None
                        except ValueError as exc:
                            raise HarnessError(f"malformed table {path}: line {n} is not JSON ({exc})") from None
        elif fmt == "parquet":
            try:
                import pyarrow.parquet as pq
            except ImportError:
                raise HarnessError("reading parquet needs pyarrow: pip install pyarrow") from None
            try:
                rows = pq.read_table(path).to_pylist()
            except Exception as exc:
                raise HarnessError(f"malformed table {path}: {exc}") from None
        else:
            raise HarnessError(f"unknown table format {path.suffix!r} for {path}; valid: .csv, .jsonl, .parquet")
    except UnicodeDecodeError as exc:
        raise HarnessError(f"malformed table {path}: not UTF-8 ({exc.reason})") from None
    if not rows:
        raise HarnessError(f"table {path} has no rows")
    missing = [c for c in TABLE_COLUMNS if c not in rows[0]]
    if missing:
        raise HarnessError(
            f"table {path} lacks column(s) {', '.join(missing)}; a tidy table has {', '.join(TABLE_COLUMNS)}"
        )
    out = []
    for n, row in enumerate(rows, 1):
        try:
            row = _coerce(row)
        except ValueError:
            raise HarnessError(f"table {path}: row {n} has a non-numeric score {row.get('score')!r}") from None
        score = row.get("score")
        if isinstance(score, float) and math.isinf(score):
            raise HarnessError(
                f"table {path}: row {n} has a non-finite score {score!r}; a score is a finite number, "
                "or empty (null) when the scorer could not score"
            )
        if row["kind"] not in KINDS:
            raise HarnessError(f"table {path}: row {n} has kind {row['kind']!r}; valid: {', '.join(KINDS)}")
        out.append(row)
    return out


def iter_markdown_table(rows: Iterable[dict[str, Any]], columns: list[str] | None = None) -> str:
    rows = list(rows)
    if not rows:
        return "_(no rows)_"
    cols = columns or list(rows[0].keys())

    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return "" if math.isnan(v) else f"{v:.4g}" if abs(v) < 1e-3 and v != 0 else f"{v:.2f}"
        return str(v).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(fmt(r.get(c, "")) for c in cols) + " |" for r in rows]
    return "\n".join(lines)
