"""Several runs creating the same new store at once: none may fail with "database is locked".

Switching a fresh SQLite file to WAL takes an exclusive lock that the busy timeout does not cover;
this race once failed the two-concurrent-runs test in CI.
"""

from __future__ import annotations

import multiprocessing as mp
import os

import pytest

from harness.store import Store


def _open_and_write(path: str, queue) -> None:
    try:
        store = Store(path)
        store.put_scores([(f"k{os.getpid()}", "g", "s", "fp", 1.0, {})])
        queue.put("ok")
    except Exception as exc:  # reported to the parent, which asserts
        queue.put(repr(exc))


@pytest.mark.slow
def test_many_processes_create_one_store_at_once(tmp_path):
    ctx = mp.get_context("fork")
    results = []
    for trial in range(100):
        path = str(tmp_path / f"store{trial}.sqlite")
        queue = ctx.Queue()
        procs = [ctx.Process(target=_open_and_write, args=(path, queue)) for _ in range(6)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
        results += [queue.get(timeout=10) for _ in procs]
        assert Store(path).counts()["scores"] == 6
    assert results == ["ok"] * len(results)
