"""The run-wide settings every component's Context is built from, resolved once.

``--device``, ``--dtype``, ``--batch-size``, ``--train-missing``, ``--limit`` and the log
travel together from the command line to each ``Context``: one value instead of the same
keywords through every signature on the way. The device is resolved here, once (``auto``
becomes ``cpu`` or ``cuda``), so every plugin reads the concrete one from ``ctx.device``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .devices import check_device, resolve_device
from .dtypes import run_dtype
from .types import HarnessError

DEVICES = ("auto", "cpu", "cuda")


def stderr_log(message: str) -> None:
    """The default log: one progress line on stderr."""
    print(message, file=sys.stderr, flush=True)


def parse_batch_size(value: Any, what: str = "--batch-size") -> int | str:
    """``auto`` or a positive integer, else one line saying what is valid."""
    if value == "auto":
        return "auto"
    try:
        size = int(value)
        if size < 1:
            raise ValueError
    except (TypeError, ValueError):
        raise HarnessError(f"{what} must be a positive integer or 'auto', got {value!r}") from None
    return size


@dataclass(frozen=True)
class RunOptions:
    """What a run asked for (``requested_device``, ``requested_dtype``: as recorded in the manifest)
    and what it resolved to (``device``: concrete; ``dtype``: the run's dtype on that device)."""

    requested_device: str = "auto"
    requested_dtype: str = "auto"
    device: str = "cpu"
    dtype: str = "float32"
    batch_size: int | str = "auto"
    train_missing: bool = False
    limit: int | None = None
    log: Callable[[str], None] = field(default=stderr_log, compare=False)

    @classmethod
    def resolve(
        cls,
        device: str = "auto",
        dtype: str = "auto",
        batch_size: int | str = "auto",
        train_missing: bool = False,
        limit: int | None = None,
        log: Callable[[str], None] | None = None,
    ) -> RunOptions:
        """Check and resolve the settings: an explicitly requested GPU that is absent fails here, in one line."""
        check_device(device)
        concrete = resolve_device(device)
        return cls(
            requested_device=device,
            requested_dtype=dtype,
            device=concrete,
            dtype=run_dtype(dtype, concrete),
            batch_size=parse_batch_size(batch_size),
            train_missing=train_missing,
            limit=limit,
            log=log or stderr_log,
        )

    @classmethod
    def from_suite(
        cls, data: Mapping[str, Any], device: str | None, batch_size: int | str | None, **rest: Any
    ) -> RunOptions:
        """The suite's ``device`` and ``batch_size`` keys are the defaults of ``--device`` and ``--batch-size``
        (None: not given on the command line); either is checked here, in one line."""
        if device is None:
            device = str(data.get("device", "auto"))
            if device not in DEVICES and not device.startswith("cuda:"):
                raise HarnessError(f"suite key device = {device!r} is not a device; valid: {', '.join(DEVICES)}")
        if batch_size is None:
            batch_size = parse_batch_size(data.get("batch_size", "auto"), "suite key batch_size")
        return cls.resolve(device=device, batch_size=batch_size, **rest)


def run_options(run: RunOptions | None, settings: Mapping[str, Any]) -> RunOptions:
    """``run``, or one resolved from ``settings`` (``RunOptions.resolve``'s keywords); never both."""
    if run is not None and settings:
        raise TypeError(f"give RunOptions or its settings, not both (got {', '.join(sorted(settings))})")
    return run if run is not None else RunOptions.resolve(**settings)
