"""The driver side of ``--executor ray``: replicas, longest batch first to whichever is free, retries.

For each work unit the driver puts the unit (the plugin object, its context, the pending
items) in Ray's object store once, starts as many replicas (actors with the resources one
replica declares) as the cluster holds, and feeds them batch indices: the longest batch goes
to whichever replica is free, found with ``ray.wait`` on the futures in flight; there is no
other scheduler. The first replica loads alone and returns the batch plan, so a model that
trains on first use trains once per node cache, not once per replica at the same time.
Each finished batch is committed by the driver (the store's only writer) as it arrives. A
replica that dies (process or node) loses only its batch, which goes back to the head of the
queue for another replica; a replacement is started. A plugin that raises on a worker stops
the run with one line naming the plugin and the batch; committed batches stay.

Plugins reach the workers through Ray: the packages of the harness, of this plugin and of
the unit's plugin objects are shipped as the actors' ``py_modules``; ``HARNESS_*``, ``HF_*``,
``TRANSFORMERS_*`` and ``TOKENIZERS_*`` variables (and those named by ``--ray-env``) as
``env_vars``. A shared filesystem is optional.
"""

from __future__ import annotations

import collections
import logging
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from harness import Executor, HarnessError, Resources, WorkProgress, WorkUnit

ENV_PREFIXES = ("HARNESS_", "HF_", "TRANSFORMERS_", "TOKENIZERS_")
MAX_ATTEMPTS = 3  # a batch whose replica died this many times stops the run (it is what kills them)
WAIT_NOTICE_S = 30.0


@dataclass
class _Replica:
    handle: Any
    id: int
    node: str = ""
    node_id: str = ""
    ready: bool = False
    batch: int | None = None

    @property
    def label(self) -> str:
        return f"r{self.id}@{self.node}" if self.node_id else f"r{self.id}"


@dataclass
class _Pool:
    """Live actors of one resource shape and runtime env; reused by the next unit with the same."""

    key: tuple[Any, ...] | None = None
    replicas: list[_Replica] = field(default_factory=list)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def _tasks_snapshot() -> dict[str, str]:
    """The suite and recipe files the driver reads ({path relative to the tasks folder: text})."""
    from harness.paths import tasks_dir

    root = tasks_dir()
    if not root.is_dir():
        return {}
    return {str(p.relative_to(root)): p.read_text(encoding="utf-8") for p in sorted(root.rglob("*.toml"))}


def _top_module_path(module_name: str) -> str | None:
    """The file or package folder of ``module_name``'s top-level package, to ship to the workers."""
    top = sys.modules.get(module_name.split(".")[0])
    if top is None:
        return None
    paths = list(getattr(top, "__path__", []) or [])
    if len(paths) == 1:
        return paths[0]
    file = getattr(top, "__file__", None)
    return file if file and file.endswith(".py") else None


class RayExecutor(Executor):
    name = "ray"
    description = "Ray actors on a local Ray instance, or on an existing cluster with --ray-address"
    cli_options = {
        "address": "Ray cluster to join: auto or HOST:PORT (default: start a local Ray instance, stop it at the end).",
        "replicas": "At most N replicas per component (default: as many as the cluster holds).",
        "env": "Driver environment variables to set on the workers, comma-separated "
        "(HARNESS_*, HF_*, TRANSFORMERS_*, TOKENIZERS_* always are).",
    }

    def __init__(self) -> None:
        self._reset({}, lambda m: print(m, file=sys.stderr, flush=True))

    def _reset(self, options: Mapping[str, Any], log: Callable[[str], None]) -> None:
        self.options = dict(options)
        self.log = log
        self.ray: Any = None
        self.started_local = False
        self.pool = _Pool()
        self.next_id = 0
        self.facts: dict[str, Any] = {}
        self.modules: list[str] = ["harness", __name__]
        self.node_ips: dict[str, str] = {}
        self.tasks_ref: Any = None

    # ------------------------------------------------------------ lifecycle

    def start(self, options: Mapping[str, Any], log: Callable[[str], None], modules: Sequence[str]) -> None:
        """Only remembers the options: Ray starts on the first unit, so a fully cached run starts nothing."""
        self._reset(options, log)
        self.modules = ["harness", __name__, *modules]
        self.max_replicas = self._replicas_option(options.get("replicas"))

    @staticmethod
    def _replicas_option(value: Any) -> int | None:
        if value in (None, ""):
            return None
        try:
            n = int(value)
            if n < 1:
                raise ValueError
        except ValueError:
            raise HarnessError(f"--ray-replicas must be a positive integer, got {value!r}") from None
        return n

    def _connect(self) -> Any:
        if self.ray is not None:
            return self.ray
        try:
            import ray
        except ImportError:
            raise HarnessError(
                "--executor ray needs Ray: pip install 'alignment-harness[distributed]' (ray==2.60.0)"
            ) from None
        address = self.options.get("address") or None
        joining = bool(address or os.environ.get("RAY_ADDRESS"))
        kwargs: dict[str, Any] = {
            "logging_level": logging.WARNING,
            "log_to_driver": True,
            "runtime_env": self._runtime_env(),
        }
        if not joining:
            kwargs["include_dashboard"] = False
        try:
            ray.init(address=address if joining else "local", **kwargs)  # "local": never a stray cluster
        except Exception as exc:  # ConnectionError, auth, bad address: one line, nothing lost
            where = (
                f"the Ray cluster at {address or os.environ.get('RAY_ADDRESS')}" if joining else "a local Ray instance"
            )
            hint = ""
            if joining and os.environ.get("RAY_AUTH_MODE") != "token":
                hint = (
                    "; a cluster started with RAY_AUTH_MODE=token needs it (and the token) in the driver's environment"
                )
            raise HarnessError(f"could not connect to {where}: {_first_line(exc)}{hint}") from None
        self.ray, self.started_local = ray, not joining
        self.tasks_ref = ray.put(_tasks_snapshot())
        nodes = [n for n in ray.nodes() if n.get("Alive")]
        self.facts = {
            "address": address or os.environ.get("RAY_ADDRESS") or "local instance",
            "nodes": len(nodes),
            "replicas": {},
        }
        self.log(
            f"ray: {'joined ' + self.facts['address'] if joining else 'started a local instance'}, "
            f"{len(nodes)} node(s), {self._describe(ray.cluster_resources())}"
        )
        return ray

    def close(self) -> None:
        ray, self.ray = self.ray, None
        if ray is None:
            return
        for rep in self.pool.replicas:
            try:
                ray.kill(rep.handle)
            except Exception:  # already dead
                pass
        self.pool = _Pool()
        ray.shutdown()  # stops the local instance we started; only disconnects from a cluster

    def run_facts(self) -> dict[str, Any]:
        return dict(self.facts)

    # ------------------------------------------------------------ placement

    @staticmethod
    def _describe(resources: Mapping[str, float]) -> str:
        parts = [f"{resources.get(k, 0):g} {k}" for k in ("CPU", "GPU") if resources.get(k)]
        if resources.get("memory"):
            parts.append(f"{resources['memory'] / 2**30:.1f} GiB memory")
        return ", ".join(parts) or "no resources"

    @staticmethod
    def _wants(res: Resources) -> dict[str, float]:
        wants = {"CPU": res.num_cpus, "GPU": res.num_gpus, "memory": float(res.memory)}
        return {k: v for k, v in wants.items() if v}

    def _capacity(self, unit: WorkUnit) -> int:
        """How many replicas of ``unit`` the cluster's alive nodes hold (by their total resources)."""
        wants = self._wants(unit.resources)
        if not wants:
            return sys.maxsize
        total = 0
        for node in self.ray.nodes():
            if node.get("Alive"):
                have = node.get("Resources", {})
                total += min(int(have.get(k, 0) / v + 1e-9) for k, v in wants.items())
        if total == 0:
            need = ", ".join(f"{k}={v:g}" for k, v in unit.resources.as_dict().items() if v)
            raise HarnessError(
                f"no node of the Ray cluster can hold one replica of {unit.component} ({need}; "
                f"cluster: {self._describe(self.ray.cluster_resources())}); lower it, e.g. "
                f"--set {unit.component}.num_gpus=0"
            )
        return total

    def _runtime_env(self) -> dict[str, Any]:
        """The job's runtime env: the harness and every plugin as ``py_modules``, the driver's settings."""
        modules = sorted({p for p in map(_top_module_path, self.modules) if p})
        wanted = [v.strip() for v in str(self.options.get("env") or "").split(",") if v.strip()]
        env = {k: v for k, v in os.environ.items() if k.startswith(ENV_PREFIXES) or k in wanted}
        return {"py_modules": modules, "env_vars": env, "excludes": ["__pycache__", "*.pyc"]}

    def _pool_for(self, unit: WorkUnit) -> None:
        key = (unit.resources,)
        if self.pool.key != key:
            for rep in list(self.pool.replicas):
                self._drop(rep)
            self.pool = _Pool(key)

    def _node_ip(self, node_id: str) -> str:
        """The address a node joined with (what ``ray status`` shows), for replica labels."""
        if node_id not in self.node_ips:
            self.node_ips = {n["NodeID"]: n.get("NodeManagerAddress", "?") for n in self.ray.nodes()}
        return self.node_ips.get(node_id, node_id[:8])

    def _spawn(self, unit: WorkUnit) -> _Replica:
        from .replica import Replica

        res = unit.resources
        handle = Replica.options(
            num_cpus=res.num_cpus,
            num_gpus=res.num_gpus,
            memory=res.memory or None,
        ).remote()
        rep = _Replica(handle, self.next_id)
        self.next_id += 1
        self.pool.replicas.append(rep)
        return rep

    def _drop(self, rep: _Replica) -> None:
        if rep in self.pool.replicas:
            self.pool.replicas.remove(rep)
        try:
            self.ray.kill(rep.handle)
        except Exception:
            pass

    # ------------------------------------------------------------ the run

    def execute(self, unit: WorkUnit, sink: Callable[..., None], progress: WorkProgress) -> None:
        _UnitRun(self, unit, sink, progress).run()


class _UnitRun:
    """One work unit on the cluster: the first replica loads and returns the batch plan, then the head of
    the queue (longest batch first) goes to each free replica, and each finished future is committed."""

    def __init__(self, ex: RayExecutor, unit: WorkUnit, sink: Callable[..., None], progress: WorkProgress) -> None:
        self.ex, self.unit, self.sink, self.progress = ex, unit, sink, progress
        self.ray = ray = ex._connect()
        from .replica import BufferedCache, worker_log

        self.store_cache = unit.ctx.cache
        shipped = replace(unit, ctx=replace(unit.ctx, cache=BufferedCache(), log=worker_log))
        self.unit_ref = ray.put(shipped)
        ex._pool_for(unit)
        self.limit = min(ex._capacity(unit), ex.max_replicas or sys.maxsize)
        self.retryable = (
            ray.exceptions.RayActorError,
            ray.exceptions.WorkerCrashedError,
            ray.exceptions.NodeDiedError,
            ray.exceptions.ObjectLostError,
            ray.exceptions.OutOfMemoryError,
            ray.exceptions.LocalRayletDiedError,
        )
        self.plan: list[list[int]] | None = None
        self.queue: collections.deque[int] = collections.deque()
        self.attempts: collections.Counter[int] = collections.Counter()
        self.setups: dict[Any, _Replica] = {}
        self.inflight: dict[Any, _Replica] = {}
        self.worked: dict[int, str] = {}  # replica id -> node id, for replicas that committed a batch
        self.idle = list(ex.pool.replicas)  # live actors from the previous unit of the same shape
        for rep in self.idle:
            rep.ready, rep.batch = False, None
        per_batch = unit.batch_size if isinstance(unit.batch_size, int) else 1
        while len(self.idle) < min(self.limit, -(-unit.size // per_batch)):
            self.idle.append(ex._spawn(unit))  # processes start while the first replica loads
        self.deaths_in_setup = 0

    def run(self) -> None:
        ex, unit = self.ex, self.unit
        self._add_replica()  # the first loads alone: it returns the batch plan (and trains, if it must)
        waiting_since = time.monotonic()
        while self.plan is None or self.queue or self.inflight:
            self._dispatch()
            done, _ = self.ray.wait([*self.setups, *self.inflight], num_returns=1, timeout=WAIT_NOTICE_S)
            if not done:
                if not any(r.ready for r in ex.pool.replicas) and time.monotonic() - waiting_since >= WAIT_NOTICE_S:
                    ex.log(
                        f"ray: waiting for the cluster to place a replica of {unit.component} "
                        f"({ex._describe(ex._wants(unit.resources))})"
                    )
                    waiting_since = time.monotonic()
                continue
            if done[0] in self.setups:
                self._loaded(done[0])
            else:
                self._finished(done[0])
        for rep in ex.pool.replicas:
            rep.handle.release.remote()  # free the model; the process stays for the next unit
        worked = self.worked
        ex.facts["replicas"][unit.component] = {"replicas": len(worked), "nodes": len(set(worked.values()))}

    def _wanted(self) -> int:
        return min(self.limit, len(self.plan)) if self.plan is not None else 1

    def _add_replica(self) -> None:
        rep = self.idle.pop(0) if self.idle else self.ex._spawn(self.unit)
        rep.ready, rep.batch = False, None
        self.setups[rep.handle.setup.remote(self.unit_ref, self.ex.tasks_ref)] = rep

    def _dispatch(self) -> None:
        """The head of the queue to each free replica; replicas started up to what the plan can use."""
        if self.plan is not None:
            for rep in [r for r in self.ex.pool.replicas if r.ready and r.batch is None]:
                if not self.queue:
                    break
                rep.batch = self.queue.popleft()
                self.inflight[rep.handle.run.remote(self.plan[rep.batch])] = rep
            alive = sum(1 for r in self.ex.pool.replicas if r.ready) + len(self.setups)
            while alive < self._wanted() and (self.queue or self.plan is None):
                self._add_replica()
                alive += 1
        if not self.setups and not self.inflight:
            self._add_replica()

    def _commit_writes(self, writes: Mapping[str, Mapping[str, str]]) -> None:
        for namespace, items in writes.items():
            if self.store_cache is not None and items:
                self.store_cache.put_many(namespace, items)

    def _fail(self, rep: _Replica, exc: BaseException, what: str) -> HarnessError:
        unit = self.unit
        cause = getattr(exc, "cause", None) or exc
        return HarnessError(
            f"{unit.kind} {unit.component} (plugin {unit.plugin}) raised {what} on replica {rep.label}: "
            f"{_first_line(cause)}"
        )

    def _loaded(self, ref: Any) -> None:
        """A replica's setup finished: it is ready (the first one brings the batch plan), or it died."""
        ray, unit, ex = self.ray, self.unit, self.ex
        rep = self.setups.pop(ref)
        try:
            info = ray.get(ref)
        except self.retryable as exc:
            self.deaths_in_setup += 1
            ex._drop(rep)
            ex.log(f"ray: replica {rep.label} of {unit.component} died while loading ({_first_line(exc)})")
            if self.deaths_in_setup > MAX_ATTEMPTS * max(1, self._wanted()):
                raise HarnessError(
                    f"{unit.component} (plugin {unit.plugin}): {self.deaths_in_setup} replicas died while "
                    f"loading; last: {_first_line(exc)}"
                ) from None
            return
        except ray.exceptions.RayTaskError as exc:
            raise self._fail(rep, exc, "while loading") from None
        except ray.exceptions.RayError as exc:  # runtime env setup, scheduling: not the plugin's
            msg = f"ray could not start a replica of {unit.component}: {_first_line(exc)}"
            raise HarnessError(msg) from None
        rep.node, rep.node_id, rep.ready = ex._node_ip(info["node_id"]), info["node_id"], True
        self._commit_writes(info["writes"])
        if self.plan is None:
            self.plan = info["batches"]
            self.queue.extend(range(len(self.plan)))
            self.progress.start()

    def _finished(self, ref: Any) -> None:
        """A batch came back: commit it, or put it back at the head of the queue if its replica died."""
        ray, unit, ex, plan = self.ray, self.unit, self.ex, self.plan
        rep = self.inflight.pop(ref)
        number = rep.batch
        assert number is not None and plan is not None
        try:
            outputs, writes = ray.get(ref)
        except self.retryable as exc:
            self.attempts[number] += 1
            ex._drop(rep)
            where = unit.describe_batch(plan[number], number + 1, len(plan))
            if self.attempts[number] >= MAX_ATTEMPTS:
                raise HarnessError(
                    f"{unit.kind} {unit.component} (plugin {unit.plugin}): {where} lost its replica "
                    f"{self.attempts[number]} times; last: {_first_line(exc)}"
                ) from None
            self.queue.appendleft(number)
            ex.log(f"ray: replica {rep.label} died ({_first_line(exc)}); {where} goes to another replica")
            return
        except ray.exceptions.RayTaskError as exc:
            raise self._fail(rep, exc, f"on {unit.describe_batch(plan[number], number + 1, len(plan))}") from None
        except ray.exceptions.RayError as exc:
            raise HarnessError(f"ray could not run {unit.component}: {_first_line(exc)}") from None
        rep.batch = None
        self.worked[rep.id] = rep.node_id
        self._commit_writes(writes)
        self.sink([unit.items[i] for i in plan[number]], outputs)
        self.progress.update(len(plan[number]), rep.label)
