"""Scale-out: the ray executor against the local one, and rows/s with 1 and 2 replicas.

- ``overhead``: the demo suite (``harness run --suite demo --models all --langs low,high``),
  models already trained, each run into a fresh store: the local executor, then ``--executor
  ray --ray-replicas 1`` starting its own local Ray instance (what a laptop user gets), then
  the same joining an already running one-node cluster (Ray's start-up not counted), in turns,
  ``repeats`` times; ratios are medians of ray / local. Tables are checked byte-identical.
- ``replicas``: the fake suite (tests/core/fakeplug.py) with a simulated model cost of
  ``FAKE_SLOW`` seconds per generation batch (400 rows), on a running two-CPU cluster, with 1
  and 2 replicas: rows/s of the whole run (actors' start-up included).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import log

REPO = Path(__file__).resolve().parents[1]
DEMO = ["run", "--suite", "demo", "--models", "all", "--langs", "low,high", "--no-progress", "--device", "cpu"]
# one replica gets the machine's 2 CPUs, as the local run has (Ray sets OMP_NUM_THREADS to an actor's
# num_cpus); placement keys change no result, so both sides run the same command
WHOLE_MACHINE = [
    arg
    for name in ("tiny-opt", "tiny-opt-sft", "tiny-opt-dpo", "tiny-opt-sft-dpo", "tiny-reward", "lang-fidelity")
    for arg in ("--set", f"{name}.num_cpus=2")
]
FAKE = ["run", "--suite", "_fake", "--no-progress", "--batch-size", "2", "--set", "fake-prompts.n=25"]


def _harness(args: list[str], env: dict[str, str], timeout: float = 1800) -> float:
    t0 = time.perf_counter()
    res = subprocess.run(
        [sys.executable, "-c", "from harness.cli import main; main()", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
    )
    if res.returncode != 0:
        raise RuntimeError(f"harness {' '.join(args)} failed: {res.stderr[-1500:]}")
    return time.perf_counter() - t0


def _env(home: Path, threads: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAY_", "FAKE_"))}
    env.update(
        HARNESS_HOME=str(home),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
        OMP_NUM_THREADS=str(threads),
        MKL_NUM_THREADS=str(threads),
        RAY_AUTH_MODE="token",
    )
    env.update(extra)
    from importlib import metadata

    installed = any(ep.value == "harness_ray.plugin" for ep in metadata.entry_points(group="harness"))
    if not installed and "harness_ray.plugin" not in env.get("HARNESS_PLUGINS", ""):
        plugins = [p for p in env.get("HARNESS_PLUGINS", "").split(",") if p]
        env["HARNESS_PLUGINS"] = ",".join([*plugins, "harness_ray.plugin"])  # an install predating the plugin
    return env


def overhead(root: Path, threads: int, repeats: int, quick: bool) -> dict[str, Any]:
    from localcluster import LocalCluster

    home = root / "home"
    args = [*DEMO, *WHOLE_MACHINE, *(["--limit", "2", "--set", "generation.max_new_tokens=8"] if quick else [])]
    env = _env(home, threads)
    log("scale-out: training the demo models once (not timed)")
    _harness([*args, "--out", str(root / "warm")], env)
    times: dict[str, list[float]] = {"local": [], "ray_local_instance": [], "ray_joined": []}
    cluster = LocalCluster(nodes=1, cpus=2, env=env)
    try:
        joined_env = {**env, **{k: v for k, v in cluster.env.items() if k.startswith("RAY_AUTH")}}
        sides = {
            "local": ([], env),
            "ray_local_instance": (["--executor", "ray", "--ray-replicas", "1"], env),
            "ray_joined": (["--executor", "ray", "--ray-replicas", "1", "--ray-address", cluster.address], joined_env),
        }
        for r in range(repeats):
            for side, (extra, side_env) in sides.items():
                out = root / f"{side}-{r}"
                seconds = _harness(
                    [*args, *extra, "--store", str(root / f"{side}-{r}.sqlite"), "--out", str(out)], side_env
                )
                times[side].append(round(seconds, 2))
                log(f"scale-out: demo {side} run {r + 1}/{repeats}: {seconds:.1f}s")
                if (out / "table.jsonl").read_bytes() != (root / "local-0" / "table.jsonl").read_bytes():
                    raise RuntimeError(f"{side}: the table differs from the local executor's")
    finally:
        cluster.stop()
    med = {k: statistics.median(v) for k, v in times.items()}
    return {
        "command": "harness " + " ".join(args) + " [--executor ray --ray-replicas 1 [--ray-address ADDR]]",
        "seconds": times,
        "ray_local_instance_vs_local": round(med["ray_local_instance"] / med["local"], 3),
        "ray_joined_vs_local": round(med["ray_joined"] / med["local"], 3),
        "tables_identical": True,
    }


def replicas(root: Path, slow: float) -> dict[str, Any]:
    from localcluster import LocalCluster

    fake_env = {
        "PYTHONPATH": os.pathsep.join([str(REPO / "tests" / "core"), os.environ.get("PYTHONPATH", "")]),
        "HARNESS_NO_ENTRYPOINTS": "1",
        "HARNESS_PLUGINS": "fakeplug,harness_ray.plugin",
        "FAKE_SLOW": str(slow),
    }
    base = _env(root / "fake-home", 1, **fake_env)
    cluster = LocalCluster(nodes=1, cpus=2, env=base)
    out: dict[str, Any] = {"fake_slow_s_per_batch": slow, "command": "harness " + " ".join(FAKE)}
    try:
        env = {**base, **{k: v for k, v in cluster.env.items() if k.startswith("RAY_AUTH")}}
        for n in (1, 2):
            env["HARNESS_HOME"] = str(root / f"fake-home-{n}")
            args = [
                *FAKE,
                "--executor",
                "ray",
                "--ray-address",
                cluster.address,
                "--ray-env",
                "FAKE_SLOW",
                "--ray-replicas",
                str(n),
                "--out",
                str(root / f"fake-{n}"),
            ]
            seconds = _harness(args, env)
            manifest = json.loads((root / f"fake-{n}" / "manifest.json").read_text())
            rows = manifest["work"]["rows"]
            out[f"replicas_{n}"] = {
                "seconds": round(seconds, 2),
                "rows": rows,
                "rows_per_s": round(rows / seconds, 2),
                "used": manifest["executor"]["replicas"],
            }
            log(f"scale-out: fake suite, {n} replica(s): {rows / seconds:.1f} rows/s")
    finally:
        cluster.stop()
    out["speedup_2_vs_1"] = round(out["replicas_2"]["rows_per_s"] / out["replicas_1"]["rows_per_s"], 3)
    return out


def run_scaleout(threads: int, quick: bool = False, repeats: int | None = None) -> dict[str, Any]:
    """Both scale-out figures; needs the ``distributed`` extra (ray)."""
    import shutil

    root = Path(tempfile.mkdtemp(prefix="bench-scaleout-"))
    try:
        return {
            "overhead_one_replica": overhead(root, threads, repeats or (1 if quick else 2), quick),
            "replicas_fake": replicas(root, 0.1),
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)
