"""``--executor ray`` on a two-node cluster: identical tables, a killed worker, a killed driver, a plugin error."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from corehelp import harness_exe, run_harness, store_counts

pytestmark = pytest.mark.slow  # a two-node Ray cluster per session, processes killed on purpose

RUN = ["run", "--suite", "_fake", "--no-progress", "--batch-size", "2"]
OUTPUTS = ("table.jsonl", "table.csv", "stats.json")


def _ray_args(cluster, *extra: str) -> list[str]:
    return ["--executor", "ray", "--ray-address", cluster.address, "--ray-env", "FAKE_SLOW", *extra]


def _reference(tmp_path: Path, cluster, name: str = "ref", args: tuple[str, ...] = ()) -> Path:
    """The same command on the local executor, in a fresh store."""
    out = tmp_path / name
    res = run_harness([*RUN, *args, "--out", str(out)], cluster.driver_env(tmp_path / f"{name}-home"))
    assert res.returncode == 0, res.stderr
    return out


def _same_outputs(a: Path, b: Path) -> None:
    for name in OUTPUTS:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def _no_duplicates(out: Path) -> None:
    rows = [json.loads(line) for line in (out / "table.jsonl").read_text().splitlines()]
    keys = [(r["model"], r["generation_key"], r["language"], r["kind"], r["scorer"]) for r in rows]
    assert len(rows) == 80 and len(set(keys)) == 80


def _popen(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([*harness_exe(), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_generations(store: Path, proc: subprocess.Popen, at_least: int, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the run ended early: {proc.communicate()}"
        try:
            n = store_counts(store)["generations"] if store.exists() else 0
        except sqlite3.OperationalError:
            n = 0
        if n >= at_least:
            return n
        time.sleep(0.05)
    raise AssertionError("no generations were committed in time")


def test_cluster_run_gives_the_local_table_using_both_nodes(ray_cluster, tmp_path):
    ref = _reference(tmp_path, ray_cluster)
    out = tmp_path / "ray"
    env = ray_cluster.driver_env(tmp_path / "home", FAKE_SLOW="0.1")
    res = run_harness([*RUN, *_ray_args(ray_cluster), "--out", str(out)], env, timeout=120)
    assert res.returncode == 0, res.stderr
    _same_outputs(ref, out)
    facts = json.loads((out / "manifest.json").read_text())["executor"]
    assert facts["name"] == "ray" and facts["nodes"] == 2 and facts["address"] == ray_cluster.address
    assert facts["replicas"]["fake-dpo"] == {"replicas": 2, "nodes": 2}  # batches landed on both nodes
    assert "- executor: ray" in (out / "report.md").read_text()


def test_worker_killed_mid_run_loses_only_its_batch(ray_cluster, tmp_path):
    ref = _reference(tmp_path, ray_cluster)
    home, out = tmp_path / "home", tmp_path / "ray"
    proc = _popen([*RUN, *_ray_args(ray_cluster), "--out", str(out)], ray_cluster.driver_env(home, FAKE_SLOW="0.3"))
    try:
        _wait_for_generations(home / "store.sqlite", proc, 4)
        victims = ray_cluster.replica_pids()
        assert victims, "no replica process found"
        os.kill(victims[0], signal.SIGKILL)
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    assert "died" in stderr and "goes to another replica" in stderr
    _same_outputs(ref, out)
    _no_duplicates(out)
    assert store_counts(home / "store.sqlite") == {"generations": 80, "scores": 80}


def test_driver_killed_then_rerun_resumes_with_the_same_table(ray_cluster, tmp_path):
    ref = _reference(tmp_path, ray_cluster)
    home, out = tmp_path / "home", tmp_path / "ray"
    args = [*RUN, *_ray_args(ray_cluster), "--out", str(out)]
    env = ray_cluster.driver_env(home, FAKE_SLOW="0.2")
    proc = _popen(args, env)
    try:
        _wait_for_generations(home / "store.sqlite", proc, 4)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    kept = store_counts(home / "store.sqlite")
    assert 4 <= kept["generations"] < 80 and kept["scores"] == 0
    assert not (out / "table.jsonl").exists()
    # Ray ends the dead driver's actors: no replica is left running for it
    deadline = time.monotonic() + 30
    while ray_cluster.replica_pids() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not ray_cluster.replica_pids()

    resumed = run_harness(args, env, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert f"(cached {kept['generations']})" in resumed.stderr
    _same_outputs(ref, out)
    _no_duplicates(out)


def test_plugin_error_on_a_worker_is_one_line_naming_plugin_and_batch(ray_cluster, tmp_path):
    home = tmp_path / "home"
    env = ray_cluster.driver_env(home, "fakeplug,raiseplug,harness_ray.plugin")
    args = [*RUN, "--scorers", "brittle-reward", *_ray_args(ray_cluster), "--out", str(tmp_path / "ray")]
    res = run_harness(args, env, timeout=120)
    assert res.returncode == 2, res.stderr
    errors = [line for line in res.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, res.stderr
    assert "score brittle-reward (plugin raiseplug) raised on batch " in errors[0]
    assert "ValueError: cannot score Swahili" in errors[0] and "/sw" not in errors[0]
    assert "Traceback" not in res.stderr.split(errors[0])[1]
    assert store_counts(home / "store.sqlite")["generations"] == 80  # the generations are kept


def _processes_with_env(marker: str) -> list[int]:
    """PIDs whose environment holds ``marker`` (every process a driver starts inherits its env)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if marker.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_no_address_starts_a_local_instance_and_stops_it(ray_cluster, tmp_path):
    ref = _reference(tmp_path, ray_cluster, args=("--limit", "1"))
    home, out = tmp_path / "home", tmp_path / "ray"
    res = run_harness([*RUN, "--limit", "1", "--executor", "ray", "--out", str(out)], ray_cluster.driver_env(home), 120)
    assert res.returncode == 0, res.stderr
    assert "ray: started a local instance" in res.stderr
    _same_outputs(ref, out)
    assert json.loads((out / "manifest.json").read_text())["executor"]["address"] == "local instance"
    deadline = time.monotonic() + 20
    while _processes_with_env(f"HARNESS_HOME={home}") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _processes_with_env(f"HARNESS_HOME={home}"), "the local Ray instance outlived the run"
