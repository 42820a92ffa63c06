"""Timing and environment helpers shared by the benchmark modules.

Every side of a comparison goes through the same helpers (same thread count, same
warm-up rule, same clock), so ratios compare like with like.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any


def log(message: str) -> None:
    """Progress goes to stderr so ``--json`` keeps stdout to the one JSON object."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def set_threads(n: int) -> None:
    """Pin torch's intra-op threads (and its children's, through the env) for every side alike."""
    import torch

    os.environ["OMP_NUM_THREADS"] = str(n)
    os.environ["MKL_NUM_THREADS"] = str(n)
    torch.set_num_threads(n)


def sync(device: str) -> None:
    """Wait for queued CUDA work so a timer never stops early."""
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def timed(fn: Callable[[], Any], device: str) -> tuple[float, Any]:
    """(seconds, result) of one call, with the device synchronised on both ends."""
    sync(device)
    t0 = time.perf_counter()
    out = fn()
    sync(device)
    return time.perf_counter() - t0, out


def timed_cpu(fn: Callable[[], Any], device: str) -> tuple[float, float, Any]:
    """(wall seconds, this process's CPU seconds, result) of one call: both clocks, one helper."""
    c0 = cpu_seconds()
    seconds, out = timed(fn, device)
    return seconds, cpu_seconds() - c0, out


def cpu_seconds() -> float:
    """User + system CPU seconds of this process, all threads (less sensitive to other jobs than wall time)."""
    import resource

    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def median(values: list[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def ratio(num: float | None, den: float | None) -> float | None:
    if not num or not den:
        return None
    return round(num / den, 3)


def rounded(x: float, nd: int = 3) -> float:
    return round(float(x), nd)


def machine_facts(device: str, threads: int) -> dict[str, Any]:
    """What the figures were measured on; load average matters on a shared CPU."""
    import platform

    import torch

    facts: dict[str, Any] = {
        "device": device,
        "torch_threads": threads,
        "cpu_count": os.cpu_count(),
        "loadavg_1m_at_start": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
        "torch": torch.__version__,
    }
    try:
        import transformers

        facts["transformers"] = transformers.__version__
    except ImportError:  # pragma: no cover
        pass
    if device.startswith("cuda"):
        facts["gpu"] = torch.cuda.get_device_name(0)
    return facts
