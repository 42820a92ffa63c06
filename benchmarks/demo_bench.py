"""The demo suite end to end, as a user runs it: a first run (training included) and a cached re-run.

Both runs are the exact README command in a child process, in a fresh temporary HARNESS_HOME
and working directory (so nothing in the user's cache or the repository is touched). The peak
resident memory of each child is polled with psutil over the child's process tree (``os.wait4``'s
ru_maxrss is kept beside it, but Linux carries the forking parent's high-water mark into it).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from common import log

COMMAND = ["run", "--suite", "demo", "--models", "all", "--langs", "low,high"]


def harness_exe() -> list[str]:
    exe = shutil.which("harness")
    return [exe] if exe else [sys.executable, "-m", "harness.cli"]


def _poll_rss(pid: int, stop: threading.Event, peak: list[int]) -> None:
    try:
        import psutil
    except ImportError:
        return
    try:
        proc = psutil.Process(pid)
        while not stop.is_set():
            total = 0
            for p in [proc, *proc.children(recursive=True)]:
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
            peak[0] = max(peak[0], total)
            stop.wait(0.05)
    except psutil.Error:
        return


def run_child(args: list[str], cwd: Path, env: dict[str, str], log_path: Path, timeout: float) -> dict[str, Any]:
    """Run one harness command; wall seconds, exit code and peak RSS (MB)."""
    with open(log_path, "wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen([*harness_exe(), *args], cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        stop, peak = threading.Event(), [0]
        poller = threading.Thread(target=_poll_rss, args=(proc.pid, stop, peak), daemon=True)
        poller.start()
        deadline = t0 + timeout
        status, usage = 0, None
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.02)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        stop.set()
        poller.join(timeout=1)
    tail = log_path.read_text(errors="replace").strip().splitlines()[-3:]
    return {
        "seconds": round(wall, 2),
        "exit_code": proc.returncode,
        # psutil polling (every 50 ms) of the child and its descendants: the headline figure.
        "peak_rss_mb": round(peak[0] / 2**20, 1) if peak[0] else None,
        # wait4's ru_maxrss (Linux: KB) keeps the forking parent's high-water mark across exec, so it
        # over-reports when the benchmark process itself holds big models; kept for reference only.
        "ru_maxrss_mb": round(usage.ru_maxrss / 1024, 1) if usage else None,
        "log_tail": tail,
    }


def run_demo(threads: int, device: str, quick: bool = False, timeout: float = 900) -> dict[str, Any]:
    """First run fills a fresh HARNESS_HOME; the second must be a full cache hit."""
    root = Path(tempfile.mkdtemp(prefix="bench-demo-"))
    env = dict(os.environ)
    env.update(HARNESS_HOME=str(root / "home"), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads), TOKENIZERS_PARALLELISM="false")
    args = [*COMMAND, "--device", "cuda" if device.startswith("cuda") else "cpu", "--no-progress"]
    if quick:  # the base variant needs no training; the others' training dominates a first run
        args = [*args, "--set", "generation.max_new_tokens=8", "--limit", "2"]
        args[args.index("all")] = "tiny-opt"
    work = root / "cwd"
    work.mkdir()
    try:
        log(f"demo: first run ({' '.join(args)}) in {root}")
        first = run_child(args, work, env, root / "first.log", timeout)
        if first["exit_code"] != 0:
            raise RuntimeError(f"demo first run failed (exit {first['exit_code']}): {' | '.join(first['log_tail'])}")
        log(f"demo: first run {first['seconds']}s; cached re-run")
        second = run_child(args, work, env, root / "second.log", timeout)
        if second["exit_code"] != 0:
            raise RuntimeError(f"demo re-run failed (exit {second['exit_code']}): {' | '.join(second['log_tail'])}")
        manifests = sorted((work / "results").glob("*/manifest.json"))
        work_done = json.loads(manifests[0].read_text()).get("work", {}) if manifests else {}
        return {
            "command": "harness " + " ".join(args),
            "first_run_s": first["seconds"],
            "cached_rerun_s": second["seconds"],
            "peak_rss_mb": first["peak_rss_mb"],
            "first_run": first,
            "cached_rerun": second,
            "rerun_work": work_done,  # generated/scored must be 0 on the re-run
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)
