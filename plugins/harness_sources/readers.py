"""Reading upstream data files, with every failure turned into a one-line HarnessError.

A truncated gzip, a file in the wrong encoding, an empty file or a missing column
all surface as ``HarnessError`` naming the file, so a user sees which download to
repeat instead of a traceback from deep inside ``json`` or ``gzip``.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import socket
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from harness.types import HarnessError


def read_text(path: Path) -> str:
    """The file's text (UTF-8, gzip when the name ends in .gz, a BOM dropped)."""
    if not path.is_file():
        raise HarnessError(f"data file not found: {path}")
    try:
        raw = gzip.open(path, "rb").read() if path.suffix == ".gz" else path.read_bytes()
    except (EOFError, OSError, zlib.error) as exc:
        raise HarnessError(f"cannot read {path}: corrupt or truncated file ({exc}); download it again") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise HarnessError(f"cannot read {path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    if not text.strip():
        raise HarnessError(f"cannot read {path}: the file is empty")
    return text


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """One JSON object per non-blank line."""
    records = []
    for n, line in enumerate(read_text(path).splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise HarnessError(f"cannot read {path}: line {n} is not valid JSON ({exc.msg})") from exc
        if not isinstance(rec, dict):
            raise HarnessError(f"cannot read {path}: line {n} is not a JSON object")
        records.append(rec)
    return records


def read_json(path: Path) -> Any:
    try:
        return json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise HarnessError(f"cannot read {path}: not valid JSON ({exc.msg} at line {exc.lineno})") from exc


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """Header (BOM stripped) and rows of a CSV file."""
    reader = csv.DictReader(io.StringIO(read_text(path), newline=""))
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise HarnessError(f"cannot read {path}: malformed CSV ({exc})") from exc
    return [h.strip() for h in (reader.fieldnames or [])], rows


def require_columns(path: Path | str, have: Iterable[str], need: Iterable[str], where: str = "") -> None:
    """Raise naming the file when a column/key the loader relies on is missing."""
    have = set(have)
    missing = [c for c in need if c not in have]
    if missing:
        at = f" ({where})" if where else ""
        raise HarnessError(f"cannot read {path}: missing column(s) {', '.join(missing)}{at}")


def squad_items(path: Path, data: Any) -> list[dict[str, str]]:
    """Flatten SQuAD v1.1 JSON (XQuAD, MLQA, TyDiQA-GoldP) into {id, context, question} rows."""
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise HarnessError(f"cannot read {path}: not SQuAD-format JSON (no 'data' list)")
    items = []
    try:
        for article in data["data"]:
            for para in article["paragraphs"]:
                for qa in para["qas"]:
                    items.append({"id": str(qa["id"]), "context": para["context"], "question": qa["question"]})
    except (KeyError, TypeError) as exc:
        raise HarnessError(f"cannot read {path}: missing SQuAD field {exc}") from exc
    if not items:
        raise HarnessError(f"cannot read {path}: no questions in the file")
    return items


def hub_reachable(host: str = "huggingface.co", timeout: float = 3.0) -> bool:
    """A fast probe, so an offline machine fails in seconds instead of after the hub client's retries.

    HF_HUB_OFFLINE=1 counts as unreachable unless the dataset is in the local HF cache, which
    `datasets` then finds by itself; so with the variable set we let `datasets` try.
    """
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on"):
        return True
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False


def load_hub(path: str, *, name: str | None = None, split: str, data_dir: str | None = None,
             what: str, local: Path | None, hint: str = "") -> list[dict[str, Any]]:
    """Rows of a hub dataset, or a one-line error when neither the local file nor the hub can be read."""
    try:
        import datasets
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise HarnessError(f"{what}: {local or 'no local data'} not found and `datasets` is not installed") from exc
    where = f"{local} not found" if local else "no local data (set HARNESS_DATA_DIR)"
    if not hub_reachable():
        raise HarnessError(
            f"{what}: {where} and the Hugging Face hub is unreachable (offline), so {path}"
            f"{'/' + name if name else ''} cannot be downloaded{hint}"
        )
    kwargs: dict[str, Any] = {"split": split}
    if name:
        kwargs["name"] = name
    if data_dir:
        kwargs["data_dir"] = data_dir
    try:
        ds = datasets.load_dataset(path, **kwargs)
    except Exception as exc:  # the hub raises many types (offline, 404, gated)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise HarnessError(
            f"{what}: {where} and the hub dataset {path}{'/' + name if name else ''} is unreachable "
            f"({first[:160]}){hint}"
        ) from exc
    return [dict(r) for r in ds]
