"""The worker side: a replica is one Ray actor that loads one component at a time and runs batches.

An actor outlives a unit: when the next unit needs the same resources it loads the next model
in the same process (imports and CUDA context are paid once, as in the local executor). The
worker never touches the store: its context's cache is a ``BufferedCache`` whose writes (e.g.
translate-test translations) travel back with each batch for the driver to commit.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import ray

from harness import Cache, WorkUnit
from harness.fingerprint import digest


class BufferedCache(Cache):
    """The worker's view of the store's cache: reads miss, writes are held for the driver."""

    def __init__(self) -> None:
        self.writes: dict[str, dict[str, str]] = {}

    def get(self, namespace: str, key: str) -> str | None:
        return self.writes.get(namespace, {}).get(key)

    def put_many(self, namespace: str, items: Mapping[str, str]) -> None:
        self.writes.setdefault(namespace, {}).update(items)

    def drain(self) -> dict[str, dict[str, str]]:
        out, self.writes = self.writes, {}
        return out


def _materialize(files: Mapping[str, str]) -> str:
    """Write ``files`` to a folder named by their digest (shared by the replicas of a node)."""
    key = digest(sorted(files.items()))[:16]
    final = Path(tempfile.gettempdir(), f"harness-tasks-{key}")
    if not final.is_dir():
        tmp = Path(tempfile.mkdtemp(prefix=f"harness-tasks-{key}-"))
        for rel, text in files.items():
            path = tmp / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        try:
            tmp.rename(final)
        except OSError:  # another replica on this node won the race: same content
            shutil.rmtree(tmp, ignore_errors=True)
    return str(final)


def worker_log(message: str) -> None:
    """Plugin log lines (loading, training): Ray forwards a worker's stderr to the driver."""
    print(message, file=sys.stderr, flush=True)


@ray.remote(max_restarts=0, max_task_retries=0)
class Replica:
    """One process with the resources of one replica; ``setup`` loads a unit's component."""

    def __init__(self) -> None:
        self.unit: WorkUnit | None = None
        self.worker: Any = None
        self.tasks: str | None = None

    def setup(self, unit: WorkUnit, tasks: Mapping[str, str]) -> dict[str, Any]:
        """Load the unit's model or scorer; return the batch plan and where this replica runs.

        ``tasks`` is the driver's suite and recipe folder ({relative path: text}): it is written
        once to a folder on this node, which becomes ``HARNESS_TASKS_DIR`` (no shared filesystem).
        """
        self.release()
        self.tasks = self.tasks or _materialize(tasks)
        os.environ["HARNESS_TASKS_DIR"] = self.tasks
        self.unit = unit
        self.worker = unit.open()
        return {
            "batches": unit.batches(self.worker),
            "node_id": ray.get_runtime_context().get_node_id(),
            "pid": os.getpid(),
            "writes": self._drain(),
        }

    def run(self, batch: Sequence[int]) -> tuple[list[Any], dict[str, dict[str, str]]]:
        """One batch: the outputs, in order, and the cache writes made while computing them."""
        assert self.unit is not None, "setup() first"
        return self.unit.run(self.worker, batch), self._drain()

    def release(self) -> None:
        """Free the loaded component; the process stays for the next unit."""
        close = getattr(self.worker, "close", None)
        self.worker, self.unit = None, None
        if close:
            close()

    def _drain(self) -> dict[str, dict[str, str]]:
        cache = self.unit.ctx.cache if self.unit else None
        return cache.drain() if isinstance(cache, BufferedCache) else {}
