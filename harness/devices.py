"""Resolving ``--device auto`` once, for every plugin, without importing torch where it cannot matter.

Fingerprints need the concrete device (it fixes the dtype, so it changes outputs); importing
torch only to learn "cpu" on a machine with no NVIDIA driver would cost a fully cached re-run
about two seconds. torch is imported lazily, and only when a driver is present.
"""

from __future__ import annotations

import os

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
