"""Executors: the local one (the default), the driver's progress display, and choosing one for a run.

Distribution is a plugin, as in pytest-xdist: ``harness run --executor NAME`` (or
``HARNESS_EXECUTOR=NAME``, or ``executor = "NAME"`` in a suite) picks an executor registered
through ``harness_register_executors``. ``local`` is the core's own and the default. Whatever
runs the batches, the driver commits them, so results never depend on the executor.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .choices import unknown
from .types import RESOURCE_KEYS, Executor, HarnessError, Resources, WorkProgress, WorkUnit

ENV_VAR = "HARNESS_EXECUTOR"
DEFAULT = "local"


class LocalExecutor(Executor):
    """In this process, batch after batch; each batch is committed before the next starts."""

    name = DEFAULT
    description = "this process, one component loaded at a time, batch after batch (the default)"
    plugin = "harness"

    def __init__(self) -> None:
        self.facts: dict[str, Any] = {}

    def start(self, options: Mapping[str, Any], log: Callable[[str], None], modules: Sequence[str]) -> None:
        self.facts = {}

    def execute(self, unit: WorkUnit, sink: Callable[..., None], progress: WorkProgress) -> None:
        worker = unit.open()
        try:
            batches = unit.batches(worker)
            progress.start()
            for batch in batches:
                outputs = unit.run(worker, batch)
                sink([unit.items[i] for i in batch], outputs)
                progress.update(len(batch))
        finally:
            facts = getattr(worker, "run_facts", lambda: None)()  # e.g. a server's token usage
            if facts:
                self.facts[unit.component] = facts
            close = getattr(worker, "close", None)
            if close:
                close()


    def run_facts(self) -> dict[str, Any]:
        return {"component_facts": self.facts} if self.facts else {}


class BarProgress(WorkProgress):
    """One bar per unit on stderr: items done of total and, with replicas, items/s per replica.

    The bar appears at ``start`` (after the first load) so load and training logs stay
    readable; with the bar off, a unit run by named replicas ends with one summary line.
    """

    def __init__(
        self, total: int, desc: str, enabled: bool, log: Callable[[str], None], on_start: Callable[[], None]
    ) -> None:
        self.total, self.desc, self.enabled, self.log, self.on_start = total, desc, enabled, log, on_start
        self.bar: Any = None
        self.t0 = 0.0
        self.done: dict[str, int] = {}

    def start(self) -> None:
        if self.t0:
            return
        self.t0 = time.perf_counter()
        self.on_start()
        if self.enabled:
            try:
                from tqdm import tqdm
            except ImportError:  # pragma: no cover
                return
            self.bar = tqdm(
                total=self.total, desc=self.desc, unit="item", file=sys.stderr, leave=True, dynamic_ncols=True
            )

    def rates(self) -> str:
        elapsed = max(time.perf_counter() - self.t0, 1e-9)
        return ", ".join(f"{r} {n / elapsed:.1f}/s" for r, n in sorted(self.done.items()))

    def update(self, n: int, replica: str = "local") -> None:
        self.start()
        self.done[replica] = self.done.get(replica, 0) + n
        if self.bar is not None:
            if replica != "local":
                self.bar.set_postfix_str(self.rates(), refresh=False)
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.done and set(self.done) != {"local"}:
            self.log(f"{self.desc}: {sum(self.done.values())}/{self.total} items; per replica {self.rates()}")


def choose_executor(registry: Mapping[str, Executor], name: str | None, suite_data: Mapping[str, Any]) -> Executor:
    """``--executor`` wins over ``HARNESS_EXECUTOR``, which wins over the suite's ``executor``."""
    chosen = name or os.environ.get(ENV_VAR) or str(suite_data.get("executor") or "") or DEFAULT
    if chosen not in registry:
        raise unknown("executor", chosen, registry)
    return registry[chosen]


def executor_options(executor: Executor, given: Mapping[str, Any]) -> dict[str, Any]:
    """The values of ``executor``'s own ``cli_options`` among everything ``harness run`` got."""
    prefix = f"{executor.name}_".replace("-", "_")
    return {key: given.get(f"{prefix}{key}") for key in executor.cli_options}


def stray_executor_options(registry: Mapping[str, Executor], chosen: Executor, given: Mapping[str, Any]) -> None:
    """Another executor's flag (e.g. with ``--executor local``) is a mistake worth one line, not a no-op."""
    for ex in registry.values():
        if ex is chosen:
            continue
        prefix = f"{ex.name}_".replace("-", "_")
        for key in ex.cli_options:
            if given.get(f"{prefix}{key}") not in (None, ""):
                flag = f"--{ex.name}-{key.replace('_', '-')}"
                raise HarnessError(f"{flag} applies to --executor {ex.name}, but the executor is {chosen.name!r}")


def _bytes(value: Any, where: str) -> int:
    """``16GiB``, ``4GB``, ``512MiB`` or a number of bytes."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    text = str(value).strip().lower().replace(" ", "")
    units = {"kib": 2**10, "mib": 2**20, "gib": 2**30, "kb": 10**3, "mb": 10**6, "gb": 10**9, "b": 1}
    for unit, factor in units.items():
        if text.endswith(unit):
            try:
                return int(float(text[: -len(unit)]) * factor)
            except ValueError:
                break
    raise HarnessError(f"{where} must be bytes or a size like 16GiB, 4GB, 512MiB; got {value!r}")


def resources_of(obj: Any, ctx: Any) -> Resources:
    """What one replica of ``obj`` needs: the plugin's declaration, then ``--set NAME.num_gpus=...``."""
    declared = obj.resources(ctx)
    values = declared.as_dict()
    for key, value in dict(ctx.resources).items():
        where = f"{obj.name}.{key}"
        if key == "memory":
            values[key] = _bytes(value, where)
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise HarnessError(f"{where} must be a number >= 0 (e.g. --set {where}=1), got {value!r}")
        values[key] = float(value)
    if values["memory"] < 0:
        raise HarnessError(f"{obj.name}.memory must be >= 0, got {values['memory']!r}")
    return Resources(**values)


__all__ = ["RESOURCE_KEYS", "BarProgress", "LocalExecutor", "choose_executor", "resources_of"]
