"""A small in-process memo of model fits, so a statistic that reuses another's fit does not refit it.

`verdict` reads the `tradeoff` LMM; run together (``harness run``, ``harness stats``) they would fit
the same model twice on the same table. The key is a digest of what the fit sees: the analysis
frames (design_frames' output: every row, column, factor level and label) and the options the
frames do not already encode. A hit returns a deep copy, so no caller sees another's edits; the memo
keeps the last few entries only (least recently used out), so memory does not grow with the tables.
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

#: entries kept: one table's fits per statistic (the verdict's per-tier fits are one more), with room for
#: a few suites or option sets
MAX_ENTRIES = 8


def frames_digest(frames: Sequence[Mapping[str, Any]], options: Mapping[str, Any]) -> str:
    """Digest of analysis frames (their DataFrame under ``frame``, everything else as JSON) and options."""
    h = hashlib.sha256()
    h.update(json.dumps(options, sort_keys=True, default=repr).encode())
    for frame in frames:
        h.update(json.dumps({k: v for k, v in frame.items() if k != "frame"}, sort_keys=True, default=repr).encode())
        df = frame["frame"]
        for name in df.columns:
            col = df[name]
            h.update(f"\0{name}\0{col.dtype}\0{len(col)}\0".encode())
            if col.dtype.name == "category":  # the level order is the coding: part of the key
                h.update(json.dumps([str(c) for c in col.cat.categories]).encode())
                h.update(col.cat.codes.to_numpy().tobytes())
            elif col.dtype.kind in "biuf":
                h.update(col.to_numpy().tobytes())
            else:
                h.update("\0".join(map(str, col)).encode())
    return h.hexdigest()


class LruMemo:
    """key -> value, the ``size`` most recently used entries; values go in and come out as deep copies."""

    def __init__(self, size: int = MAX_ENTRIES) -> None:
        self.size = size
        self._entries: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def get_or_compute(self, key: str, compute: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return copy.deepcopy(self._entries[key])
        value = compute()
        with self._lock:
            self._entries[key] = copy.deepcopy(value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return value


#: the fits of the mixed-model statistics (tradeoff.py), shared by every caller in this process
FITS = LruMemo()
