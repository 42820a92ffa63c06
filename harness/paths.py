"""Where the harness keeps things: HARNESS_HOME for caches, the data directory for datasets."""

from __future__ import annotations

import os
from pathlib import Path


def harness_home() -> Path:
    """Root of everything cached outside a run directory (store, checkpoints, built models).

    ``HARNESS_HOME``, default ``~/.cache/harness``.
    """
    return Path(os.environ.get("HARNESS_HOME", "~/.cache/harness")).expanduser()


def default_store_path() -> Path:
    return harness_home() / "store.sqlite"


def data_dir(suite_value: str | None = None) -> Path | None:
    """The local dataset root (upstream file layout): the suite's ``data_dir``, else
    ``HARNESS_DATA_DIR``, else None (sources then try the Hugging Face hub)."""
    value = suite_value or os.environ.get("HARNESS_DATA_DIR")
    return Path(value).expanduser() if value else None


def tasks_dir() -> Path:
    """The folder of suite and recipe files: ``HARNESS_TASKS_DIR``, else the ``tasks/`` a wheel ships
    inside this package (setup.py puts it there), else the source tree's ``tasks/``."""
    env = os.environ.get("HARNESS_TASKS_DIR")
    if env:
        return Path(env).expanduser()
    installed = Path(__file__).resolve().parent / "tasks"
    return installed if installed.is_dir() else Path(__file__).resolve().parents[1] / "tasks"
