"""``harness store check`` and ``harness store repair``: find out whether a store is damaged, and keep
what is readable of a damaged one.

Repair never edits the damaged file: it copies every row it can read, and can check, into a
new store beside it, moves the damaged file (with its -wal/-shm) aside as
``NAME.damaged-TIME``, and renames the new store into place. A generation row is kept only
if its key is the digest of its model fingerprint and prompt text; every row's JSON must
parse. Whatever was lost is recomputed by the next run.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from .atomic import os_error
from .store import SCHEMA, Store, generation_key
from .types import HarnessError

TABLES = {
    "generations": "key, model, model_fp, prompt_text, response, meta, created",
    "scores": "key, generation_key, scorer, scorer_fp, value, meta, created",
    "cache": "namespace, key, value",
}
_STEP = 200


def _open(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=60.0)


def check(path: Path) -> dict[str, Any]:
    """Integrity of ``path`` and its row counts; ``problems`` is empty for a sound store."""
    if not path.is_file():
        raise HarnessError(f"store {str(path)!r} does not exist (it is created by the first `harness run`)")
    problems: list[str] = []
    counts: dict[str, int | None] = {}
    try:
        conn = _open(path)
    except sqlite3.Error as exc:
        return {"store": str(path), "problems": [str(exc)], "counts": counts}
    try:
        try:
            result = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
            if result != ["ok"]:
                problems += result[:5]
        except sqlite3.Error as exc:
            problems.append(str(exc))
        for table in TABLES:
            try:
                counts[table] = conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            except sqlite3.Error as exc:
                counts[table] = None
                if str(exc) not in problems:
                    problems.append(str(exc))
    finally:
        conn.close()
    return {"store": str(path), "problems": problems, "counts": counts}


def _rows(conn: sqlite3.Connection, table: str) -> tuple[list[tuple[Any, ...]], int]:
    """Every readable row of ``table``, read by rowid ranges so an unreadable page loses only its rows.

    Rows are inserted with growing rowids; the scan stops after a long run of ranges that give
    nothing (past the end, or a lost stretch of the file). Returns (rows, rowids that failed).
    """
    out: list[tuple[Any, ...]] = []
    lost = 0
    sql = f"SELECT {TABLES[table]} FROM {table} WHERE rowid > ? AND rowid <= ?"
    start, empty = 0, 0
    try:
        top = conn.execute(f"SELECT MAX(rowid) FROM {table}").fetchone()[0] or 0
    except sqlite3.Error:
        top = None
    while (top is not None and start < top) or (top is None and empty < 50):
        got: list[tuple[Any, ...]] = []
        try:
            got = conn.execute(sql, (start, start + _STEP)).fetchall()
        except sqlite3.Error:
            for rowid in range(start + 1, start + _STEP + 1):
                try:
                    got += conn.execute(f"SELECT {TABLES[table]} FROM {table} WHERE rowid = ?", (rowid,)).fetchall()
                except sqlite3.Error:
                    lost += 1
        empty = 0 if got else empty + 1
        out += got
        start += _STEP
    return out, lost


def _sound(table: str, row: tuple[Any, ...]) -> bool:
    try:
        if table == "generations":
            key, _model, model_fp, prompt, response, meta, _created = row
            json.loads(meta)
            return isinstance(response, str) and key == generation_key(model_fp, prompt)
        if table == "scores":
            key, gkey, _scorer, _fp, value, meta, _created = row
            json.loads(meta)
            return len(key) == 64 and len(gkey) == 64 and (value is None or isinstance(value, float | int))
        return all(isinstance(x, str) for x in row)
    except (ValueError, TypeError):
        return False


def _working_copy(path: Path, copy: Path) -> None:
    """A copy of ``path`` (and its WAL) cut to whole pages, its header's page count set to match: SQLite
    refuses a file shorter than its header says, so a truncated store would otherwise give up nothing."""
    data = path.read_bytes()
    page = int.from_bytes(data[16:18], "big") if len(data) >= 100 else 0
    page = 65536 if page == 1 else page
    if page >= 512 and page & (page - 1) == 0 and len(data) >= page:
        data = bytearray(data[: len(data) // page * page])
        data[28:32] = (len(data) // page).to_bytes(4, "big")  # the header's page count, as truncated
        data = bytes(data)
    copy.write_bytes(data)
    wal = Path(f"{path}-wal")
    if wal.is_file():
        Path(f"{copy}-wal").write_bytes(wal.read_bytes())


def repair(path: Path) -> dict[str, Any]:
    """Salvage ``path`` into a new store in its place; the damaged file is kept beside it."""
    before = check(path)
    kept: dict[str, int] = {}
    dropped: dict[str, int] = {}
    fresh = path.with_name(f".{path.name}.repair-{os.getpid()}")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{fresh}{suffix}").unlink(missing_ok=True)
    salvaged: dict[str, list[tuple[Any, ...]]] = {}
    work = path.with_name(f".{path.name}.salvage-{os.getpid()}")
    try:
        _working_copy(path, work)
        conn = sqlite3.connect(work, timeout=60.0)
        try:
            for table in TABLES:
                rows, lost = _rows(conn, table)
                good = [r for r in rows if _sound(table, r)]
                salvaged[table] = good
                kept[table] = len(good)
                dropped[table] = len(rows) - len(good)
                del lost  # rowids past the end read the same as lost ones: not a count worth showing
        finally:
            conn.close()
    except sqlite3.Error:
        salvaged = {t: [] for t in TABLES}
        kept = {t: 0 for t in TABLES}
    except OSError as exc:
        raise os_error(path, exc, "read") from None
    finally:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{work}{suffix}").unlink(missing_ok=True)
    try:
        new = sqlite3.connect(fresh, isolation_level=None)
        try:
            new.executescript(SCHEMA)
            new.execute("BEGIN")
            for table, rows in salvaged.items():
                marks = ",".join("?" * len(TABLES[table].split(",")))
                new.executemany(f"INSERT OR IGNORE INTO {table} ({TABLES[table]}) VALUES ({marks})", rows)
            new.execute("COMMIT")
        finally:
            new.close()
        aside = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
        for suffix in ("-wal", "-shm", ""):  # the WAL travels with its database
            old = Path(f"{path}{suffix}")
            if old.exists():
                os.replace(old, Path(f"{aside}{suffix}"))
        os.replace(fresh, path)
    except OSError as exc:
        Path(fresh).unlink(missing_ok=True)
        raise os_error(path, exc, "repair") from None
    Store(path).close()  # the repaired file opens as a store (WAL mode, schema)
    return {
        "store": str(path),
        "problems_before": before["problems"],
        "kept": kept,
        "dropped": dropped,
        "damaged_copy": str(aside),
    }
