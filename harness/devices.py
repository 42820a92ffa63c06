"""Resolving ``--device auto`` once, for every plugin, without importing torch where it cannot matter.

Fingerprints need the concrete device (it fixes the dtype, so it changes outputs); importing
torch only to learn "cpu" on a machine with no NVIDIA driver would cost a fully cached re-run
about two seconds. torch is imported lazily, and only when a driver is present.
"""

from __future__ import annotations

import functools
import os

from .types import HarnessError

AUTO = ("auto", "", None)


def no_nvidia_driver() -> bool:
    """True when this machine certainly has no usable NVIDIA GPU, decided without importing torch."""
    if os.environ.get("CUDA_VISIBLE_DEVICES") in ("", "-1"):
        return True
    return not (os.path.exists("/proc/driver/nvidia") or any(os.path.exists(f"/dev/nvidia{i}") for i in range(8)))


def resolve_device(device: str | None) -> str:
    """``auto`` -> ``cuda`` when torch sees a GPU, else ``cpu``; anything else is returned as given."""
    if device not in AUTO:
        return str(device)
    if no_nvidia_driver():
        return "cpu"
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


@functools.cache
def _cuda_problem() -> str | None:
    if no_nvidia_driver():
        return "this machine has no NVIDIA GPU driver"
    try:
        import torch
    except ImportError:
        return "torch is not installed"
    if not torch.cuda.is_available():
        return f"torch {torch.__version__} sees no CUDA device"
    return None


def check_device(device: str | None) -> None:
    """Fail in one line, before any work, when an explicitly requested GPU does not exist here."""
    if device in AUTO or not str(device).startswith("cuda"):
        return
    problem = _cuda_problem()
    if problem:
        raise HarnessError(f"--device {device}: {problem}; use --device cpu or --device auto")
