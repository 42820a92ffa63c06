"""The content-addressed result store (SQLite, no server).

A generation is keyed by the model's fingerprint and the prompt text; a score by
the generation's key, the scorer's fingerprint and what else the scorer sees
(language, kind). Keys are digests, so two different models never share a cached
answer and a change of recipe, tokenizer, prompt format or generation settings
misses the cache by construction.

Writes happen one batch per transaction with ``INSERT OR IGNORE``: a run killed
with ``kill -9`` keeps every finished batch and a resume never duplicates a row.
WAL mode and a busy timeout let several runs share one store safely. Values are
plain text/JSON/REAL; nothing is pickled or executed when read.

Every SQLite error becomes a one-line ``HarnessError`` naming the file and what to
do (a damaged file: ``harness store repair``; a full disk; a read-only store). A
store that cannot be written is opened read-only, so a fully cached run still works.
"""

from __future__ import annotations

import json
import math
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .atomic import os_error
from .fingerprint import digest
from .types import Cache, HarnessError

SCHEMA = """
CREATE TABLE IF NOT EXISTS generations (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    model_fp TEXT NOT NULL,
    prompt_text TEXT NOT NULL,
    response TEXT NOT NULL,
    meta TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS scores (
    key TEXT PRIMARY KEY,
    generation_key TEXT NOT NULL,
    scorer TEXT NOT NULL,
    scorer_fp TEXT NOT NULL,
    value REAL,              -- NULL: the scorer could not score (NaN)
    meta TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS cache (
    namespace TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (namespace, key)
);
"""

_CHUNK = 500  # SQLite's variable limit is large, but keep IN (...) lists modest


def generation_key(model_fp: str, prompt_text: str) -> str:
    return digest("generation", model_fp, prompt_text)


def score_key(generation_key: str, scorer_fp: str, language: str, kind: str) -> str:
    return digest("score", generation_key, scorer_fp, language, kind)


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def _finite_score(scorer: str, value: Any, meta: Mapping[str, Any]) -> tuple[float | None, str]:
    meta = dict(meta)
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
        meta["reason"] = f"{scorer} returned {value!r}, not a number"
    if math.isinf(number):
        meta["reason"] = f"{scorer} returned {number!r}, not a finite number"
        number = math.nan
    return (None if math.isnan(number) else number), json.dumps(meta, sort_keys=True)


def _connect_read_only(path: Path) -> sqlite3.Connection:
    """Open ``path`` for reading only. A WAL store in a read-only folder cannot get its -shm file:
    then it is opened as immutable (nobody can be writing a store nobody can write)."""
    uri = path.resolve().as_uri()
    conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=60.0)
    try:
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        return conn
    except sqlite3.OperationalError:
        conn.close()
    return sqlite3.connect(f"{uri}?immutable=1", uri=True, timeout=60.0)


def _retry_locked(action: Any, attempts: int = 50) -> Any:
    """Run ``action``, retrying with a growing pause while another process holds the lock."""
    for attempt in range(attempts):
        try:
            return action()
        except sqlite3.OperationalError as exc:
            if ("locked" not in str(exc) and "busy" not in str(exc)) or attempt == attempts - 1:
                raise
            time.sleep(min(0.02 * (attempt + 1), 0.5))


DAMAGED = ("not a database", "malformed", "disk image", "no such table", "file is encrypted", "no such column")


def store_error(path: Path, exc: sqlite3.Error, read_only: bool = False) -> HarnessError:
    """One line naming the store file, what is wrong with it and what to do."""
    msg = str(exc)
    where = f"store {str(path)!r}"
    if any(s in msg for s in DAMAGED):
        return HarnessError(
            f"{where} is damaged ({msg}): run `harness store repair --store {path}` to keep what is readable, "
            "or move the file aside and run again (everything is then recomputed)"
        )
    if "I/O error" in msg:
        return HarnessError(
            f"{where}: disk I/O error (a full or failing disk); free some space or check the disk, then run again "
            "(finished batches are kept)"
        )
    if "full" in msg:
        return HarnessError(f"{where}: the disk is full; free some space and run again (finished batches are kept)")
    if "readonly" in msg or "read-only" in msg or read_only:
        return HarnessError(
            f"{where} is read-only and this command has results to store: make it (and its -wal/-shm files) "
            "writable, or pass --store with a writable path (a fully cached run reads a read-only store)"
        )
    if "unable to open" in msg:
        return HarnessError(f"cannot open {where}: check that its folder exists and is readable")
    if "locked" in msg or "busy" in msg:
        return HarnessError(f"{where} stayed locked by another process for over a minute; try again when it ends")
    return HarnessError(f"{where}: {msg}")


def _can_write(path: Path) -> bool:
    """Whether SQLite could write ``path`` (and its -wal/-shm files beside it): a cheap probe."""
    import os

    folder = path.parent
    for f in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):  # a read-only run may leave a 0444 -shm
        if f.exists() and not os.access(f, os.W_OK):
            return False
    try:
        probe = folder / f".{path.name}.probe-{os.getpid()}-{threading.get_ident()}"
        probe.touch()
        probe.unlink()
    except OSError:
        return False
    return True


class Store(Cache):
    """One SQLite file. Safe to share between processes; one connection per thread.

    ``read_only`` is True when the file (or its folder) cannot be written: reads work, a
    write is a one-line error.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        if self.path.is_dir():
            raise HarnessError(f"store {str(self.path)!r} is a folder; give the path of a store file (store.sqlite)")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise os_error(self.path.parent, exc, "create the store folder") from None
        self.read_only = not _can_write(self.path)
        if self.read_only and not self.path.is_file():
            raise HarnessError(
                f"cannot create store {str(self.path)!r}: its folder is not writable; pass --store with a "
                "writable path or set HARNESS_HOME"
            )
        with self._guard():
            conn = self._conn()
            if self.read_only:
                conn.execute("SELECT COUNT(*) FROM generations").fetchone()  # a damaged file fails here
            else:
                _retry_locked(lambda: conn.executescript(SCHEMA))

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """SQLite errors as one-line errors naming this store."""
        try:
            yield
        except sqlite3.Error as exc:
            raise store_error(self.path, exc, self.read_only) from None

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self.read_only:
                conn = _connect_read_only(self.path)
            else:
                conn = sqlite3.connect(self.path, timeout=60.0, isolation_level=None)
                conn.execute("PRAGMA busy_timeout=60000")
                # Switching a new file to WAL takes an exclusive lock and SQLite does not wait on the busy
                # handler for it: two runs creating one store at once see "database is locked". Retry.
                _retry_locked(lambda: conn.execute("PRAGMA journal_mode=WAL"))
                conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def _write(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        if self.read_only:
            raise store_error(self.path, sqlite3.OperationalError("attempt to write a readonly database"))
        with self._guard():
            self._write_rows(sql, rows)

    def _write_rows(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        conn = self._conn()
        for attempt in range(20):
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(sql, rows)
                conn.execute("COMMIT")
                return
            except sqlite3.OperationalError as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if "locked" not in str(exc) and "busy" not in str(exc) or attempt == 19:
                    raise
                time.sleep(0.05 * (attempt + 1))

    def _select(self, sql: str, keys: Sequence[str]) -> list[tuple[Any, ...]]:
        out: list[tuple[Any, ...]] = []
        with self._guard():
            conn = self._conn()
            for chunk in _chunks(list(keys)):
                marks = ",".join("?" * len(chunk))
                out.extend(conn.execute(sql.format(marks=marks), list(chunk)).fetchall())
        return out

    # ------------------------------------------------------------ generations

    def existing_generations(self, keys: Sequence[str]) -> set[str]:
        return {r[0] for r in self._select("SELECT key FROM generations WHERE key IN ({marks})", keys)}

    def put_generations(self, rows: Iterable[tuple[str, str, str, str, str, Mapping[str, Any]]]) -> None:
        """rows: (key, model, model_fp, prompt_text, response, meta)."""
        now = time.time()
        self._write(
            "INSERT OR IGNORE INTO generations VALUES (?,?,?,?,?,?,?)",
            [(k, m, fp, p, r, json.dumps(dict(meta), sort_keys=True), now) for k, m, fp, p, r, meta in rows],
        )

    def get_generations(self, keys: Sequence[str]) -> dict[str, tuple[str, dict[str, Any]]]:
        rows = self._select("SELECT key, response, meta FROM generations WHERE key IN ({marks})", keys)
        return {k: (r, json.loads(m)) for k, r, m in rows}

    # ------------------------------------------------------------ scores

    def existing_scores(self, keys: Sequence[str]) -> set[str]:
        return {r[0] for r in self._select("SELECT key FROM scores WHERE key IN ({marks})", keys)}

    def put_scores(self, rows: Iterable[tuple[str, str, str, str, float, Mapping[str, Any]]]) -> None:
        """rows: (key, generation_key, scorer, scorer_fp, value, meta).

        A value that is not a finite number is stored as missing (NULL) with the reason in its meta:
        an infinite reward would count as a pass and turn every estimate into nan.
        """
        now = time.time()
        self._write(
            "INSERT OR IGNORE INTO scores VALUES (?,?,?,?,?,?,?)",
            [(k, g, s, fp, *_finite_score(s, v, meta), now) for k, g, s, fp, v, meta in rows],
        )

    def get_scores(self, keys: Sequence[str]) -> dict[str, tuple[float, dict[str, Any]]]:
        rows = self._select("SELECT key, value, meta FROM scores WHERE key IN ({marks})", keys)
        return {k: (math.nan if v is None else v, json.loads(m)) for k, v, m in rows}

    # ------------------------------------------------------------ Cache

    def get(self, namespace: str, key: str) -> str | None:
        with self._guard():
            conn = self._conn()
            row = conn.execute("SELECT value FROM cache WHERE namespace=? AND key=?", (namespace, key)).fetchone()
        return row[0] if row else None

    def put_many(self, namespace: str, items: Mapping[str, str]) -> None:
        self._write("INSERT OR IGNORE INTO cache VALUES (?,?,?)", [(namespace, k, v) for k, v in items.items()])

    def counts(self) -> dict[str, int]:
        with self._guard():
            conn = self._conn()
            return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("generations", "scores")}


class ReadOnlyStore(Store):
    """Reads a store without creating or changing anything (``harness run --dry-run``).

    A store file that does not exist reads as empty (an in-memory database), so a plan never
    creates one; writing raises.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self.read_only = True
        if self.path.is_dir():
            raise HarnessError(f"store {str(self.path)!r} is a folder; give the path of a store file (store.sqlite)")

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self.path.is_file():
                conn = _connect_read_only(self.path)
            else:
                conn = sqlite3.connect(":memory:")
                conn.executescript(SCHEMA)
            self._local.conn = conn
        return conn
