"""The runner's own cost per row, with a model and a scorer that cost nothing.

The fake suite (``tasks/_fake.toml`` with the fake plugin of ``tests/core``) is run in-process
at about 1,000, 10,000 and 40,000 rows in a fresh ``HARNESS_HOME``: planning, generation and
scoring bookkeeping, store writes and reads, the tidy table, statistics and the report. Then
a fully cached re-run and ``harness report``. Milliseconds per row that grow with the size
show a cost that grows faster than linearly.

    python benchmarks/overhead_bench.py [--sizes 1000,10000,40000]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
#: rows per fake prompt: 2 models x 4 languages (low, high) x 2 kinds x 1 scorer
ROWS_PER_PROMPT = 16
SIZES = (1000, 10000, 40000)


def _phases() -> tuple[dict[str, float], Any]:
    """Wrap the runner's phases with timers; returns (seconds per phase, undo)."""
    from harness import orchestrate, runner

    spent: dict[str, float] = {}
    undo = []

    def wrap(owner: Any, attr: str, label: str) -> None:
        real = getattr(owner, attr)

        def timed(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return real(*args, **kwargs)
            finally:
                spent[label] = spent.get(label, 0.0) + time.perf_counter() - t

        setattr(owner, attr, timed)
        undo.append((owner, attr, real))

    wrap(runner.Runner, "prompts", "prompts")
    wrap(runner.Runner, "generate", "generate")
    wrap(runner.Runner, "score", "score")
    wrap(runner.Runner, "table", "table")
    wrap(orchestrate, "write_table", "write_table")
    wrap(orchestrate, "_finish_report", "report")

    def restore() -> None:
        for owner, attr, real in undo:
            setattr(owner, attr, real)

    return spent, restore


def fake_plugin() -> Any:
    """The core tests' fake plugin, loaded from its file (tests/core is no package, and not on the path)."""
    if "fakeplug" not in sys.modules:
        spec = importlib.util.spec_from_file_location("fakeplug", REPO / "tests" / "core" / "fakeplug.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["fakeplug"] = module
        spec.loader.exec_module(module)
    return sys.modules["fakeplug"]


def _run_once(rows_wanted: int, home: Path) -> dict[str, Any]:
    from harness.orchestrate import RunRequest
    from harness.plugins import PluginHost

    n = max(1, math.ceil(rows_wanted / ROWS_PER_PROMPT))
    host = PluginHost(entry_points=False, modules=[], plugins=[("fakeplug", fake_plugin())])
    out = home / "run"
    request = RunRequest(
        suite_name="_fake", models=None, sets=(f"fake-prompts.n={n}",), batch_size=64, device="cpu", out=str(out),
        store_path=str(home / "store.sqlite"), progress=False, argv=("harness", "run"),
    )
    spent, restore = _phases()
    with contextlib.redirect_stdout(sys.stderr):  # the run's own lines; --json keeps stdout clean
        return _timed_runs(host, request, out, spent, restore)


def _timed_runs(host: Any, request: Any, out: Path, spent: dict[str, float], restore: Any) -> dict[str, Any]:
    from harness.orchestrate import execute_run, rebuild_report

    try:
        t, c = time.perf_counter(), time.process_time()
        execute_run(host, request)
        first, first_cpu = time.perf_counter() - t, time.process_time() - c
        phases = {k: round(v, 3) for k, v in spent.items()}
        spent.clear()
        t = time.perf_counter()
        execute_run(host, request)
        rerun = time.perf_counter() - t
    finally:
        restore()
    t = time.perf_counter()
    rebuild_report(host, out)
    report = time.perf_counter() - t
    rows = sum(1 for _ in (out / "table.jsonl").open(encoding="utf-8"))
    return {
        "load_average": round(os.getloadavg()[0], 2),
        "rows": rows,
        "run_s": round(first, 3),
        "cached_rerun_s": round(rerun, 3),
        "report_s": round(report, 3),
        "phases_s": phases,
        "ms_per_row": round(1000 * first / rows, 4),
        "cpu_ms_per_row": round(1000 * first_cpu / rows, 4),  # steadier than wall time on a shared machine
        "rerun_ms_per_row": round(1000 * rerun / rows, 4),
    }


def run_overhead(sizes: tuple[int, ...] = SIZES) -> dict[str, Any]:
    """Per size: rows, seconds (first run, cached re-run, report), phases and ms per row."""
    os.environ.setdefault("HARNESS_TASKS_DIR", str(REPO / "tasks"))
    out: dict[str, Any] = {}
    old_home = os.environ.get("HARNESS_HOME")
    try:
        for size in sizes:
            with tempfile.TemporaryDirectory(prefix="overhead-") as tmp:
                os.environ["HARNESS_HOME"] = tmp
                out[str(size)] = _run_once(size, Path(tmp))
                print(f"[bench] overhead {size} rows: {out[str(size)]}", file=sys.stderr, flush=True)
    finally:
        if old_home is None:
            os.environ.pop("HARNESS_HOME", None)
        else:
            os.environ["HARNESS_HOME"] = old_home
    return out


def overhead_keys(details: dict[str, Any]) -> dict[str, Any]:
    """The headline keys: ms of runner overhead per row at ~1k and ~40k rows (their ratio is the growth)."""
    small, large = details.get("1000", {}), details.get("40000", {})
    keys = {
        "overhead_ms_per_row_1k": small.get("ms_per_row"),
        "overhead_ms_per_row_40k": large.get("ms_per_row"),
    }
    if keys["overhead_ms_per_row_1k"] and keys["overhead_ms_per_row_40k"]:
        keys["overhead_growth_40k_vs_1k"] = round(keys["overhead_ms_per_row_40k"] / keys["overhead_ms_per_row_1k"], 2)
    return keys


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    args = p.parse_args(argv)
    details = run_overhead(tuple(int(s) for s in args.sizes.split(",")))
    print(json.dumps({**overhead_keys(details), "details": details}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
