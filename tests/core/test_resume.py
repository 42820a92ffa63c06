"""Interrupted and concurrent runs, as real subprocesses: kill -9, Ctrl-C, two runs on one store."""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from pathlib import Path

import pytest
from corehelp import plugin_env, popen_harness, run_harness, store_counts

RUN = ["run", "--suite", "_fake", "--no-progress"]


def _wait_for_generations(store: Path, at_least: int, proc, timeout: float = 30) -> int:
    """Poll the store (as another reader would) until the running process has committed some batches."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the run ended early: {proc.communicate()}"
        if store.exists():
            try:
                n = store_counts(store)["generations"]
            except sqlite3.OperationalError:  # the schema is being created
                n = 0
            if n >= at_least:
                return n
        time.sleep(0.05)
    raise AssertionError("no generations were committed in time")


def _integrity(store: Path) -> str:
    conn = sqlite3.connect(store)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def _reference_table(tmp_path: Path, args: list[str], name: str) -> bytes:
    """The table of the same command, uninterrupted, in a fresh store."""
    out = tmp_path / f"ref-{name}"
    result = run_harness([*RUN, *args, "--out", str(out)], plugin_env(tmp_path / f"ref-home-{name}"))
    assert result.returncode == 0, result.stderr
    return (out / "table.jsonl").read_bytes()


@pytest.mark.slow
def test_kill_9_then_resume_gives_the_uninterrupted_table(home, tmp_path):
    store = home / "store.sqlite"
    out = tmp_path / "run"
    args = ["--batch-size", "2", "--out", str(out)]
    proc = popen_harness([*RUN, *args], plugin_env(home, FAKE_SLOW="0.3"))
    try:
        _wait_for_generations(store, 4, proc)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    kept = store_counts(store)
    assert 4 <= kept["generations"] < 80 and kept["scores"] == 0
    assert kept["generations"] % 2 == 0  # whole batches only
    assert not (out / "table.jsonl").exists()

    log = tmp_path / "loads.log"
    resumed = run_harness([*RUN, *args], plugin_env(home, FAKE_LOAD_LOG=str(log)))
    assert resumed.returncode == 0, resumed.stderr
    assert f"generated {80 - kept['generations']} (cached {kept['generations']})" in resumed.stderr
    assert (out / "table.jsonl").read_bytes() == _reference_table(tmp_path, ["--batch-size", "2"], "kill")
    assert store_counts(store) == {"generations": 80, "scores": 80}  # no duplicate rows
    assert _integrity(store) == "ok"


@pytest.mark.slow
def test_ctrl_c_exits_130_and_keeps_finished_batches(home, tmp_path):
    store = home / "store.sqlite"
    out = tmp_path / "run"
    proc = popen_harness([*RUN, "--batch-size", "2", "--out", str(out)], plugin_env(home, FAKE_SLOW="0.3"))
    try:
        _wait_for_generations(store, 2, proc)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1] == (
        "interrupted: finished batches are saved; run the same command again to resume"
    )
    assert "Traceback" not in stderr
    kept = store_counts(store)["generations"]
    assert kept >= 2
    resumed = run_harness([*RUN, "--batch-size", "2", "--out", str(out)], plugin_env(home))
    assert resumed.returncode == 0, resumed.stderr
    assert f"(cached {kept})" in resumed.stderr
    assert (out / "table.jsonl").read_bytes() == _reference_table(tmp_path, ["--batch-size", "2"], "int")


@pytest.mark.slow
def test_two_runs_on_one_store_at_once(home, tmp_path):
    store = home / "store.sqlite"
    plans = {
        "a": ["--models", "fake-base,fake-dpo", "--langs", "low", "--batch-size", "1"],
        "b": ["--models", "fake-dpo", "--langs", "low,high", "--batch-size", "1"],
    }
    env = plugin_env(home, FAKE_SLOW="0.03")
    procs = {k: popen_harness([*RUN, *args, "--out", str(tmp_path / k)], env) for k, args in plans.items()}
    for k, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 0, f"{k}: {stderr}"
    assert _integrity(store) == "ok"
    # fake-base x low (20) + fake-dpo x all four languages (40), each once
    assert store_counts(store) == {"generations": 60, "scores": 60}
    for k, args in plans.items():
        assert (tmp_path / k / "table.jsonl").read_bytes() == _reference_table(tmp_path, args, k)
