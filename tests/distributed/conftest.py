"""A two-node Ray cluster on 127.0.0.1 for the ray executor's tests, torn down to the last process.

Each node is ``ray start ... --block`` in a session of its own, so every process it spawns
(GCS, raylet, workers, actors) carries that session id; teardown stops the two ``ray start``
processes and then kills whatever is left in exactly those sessions. Nothing else on the
machine is touched (no ``ray stop``). Ray 2.60 needs ``RAY_AUTH_MODE=token`` and the same
token in every Ray process and in the driver: the fixture sets both.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

pytest.importorskip("ray")

HERE = Path(__file__).resolve().parent
CORE = HERE.parent / "core"
for path in (HERE, CORE):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def session_pids(sid: int) -> list[int]:
    """PIDs of the processes in session ``sid`` (from /proc)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[3]) == sid:  # state ppid pgrp session
            out.append(int(entry.name))
    return out


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


@dataclass
class Cluster:
    address: str
    env: dict[str, str]
    nodes: list[subprocess.Popen] = field(default_factory=list)

    def pids(self) -> list[int]:
        return [pid for node in self.nodes for pid in session_pids(node.pid)]

    def replica_pids(self) -> list[int]:
        """The processes of the executor's actors (their title starts with ray::Replica)."""
        return [pid for pid in self.pids() if cmdline(pid).startswith("ray::Replica")]

    def driver_env(self, home: Path, plugins: str = "fakeplug,harness_ray.plugin", **extra: str) -> dict[str, str]:
        from corehelp import plugin_env

        env = plugin_env(home, plugins, **extra)
        pythonpath = [str(HERE), *env["PYTHONPATH"].split(os.pathsep)]
        env.update(PYTHONPATH=os.pathsep.join(pythonpath), RAY_AUTH_MODE="token")
        env["RAY_AUTH_TOKEN"] = self.env["RAY_AUTH_TOKEN"]
        env.pop("RAY_ADDRESS", None)
        return env


def _wait_for_nodes(address: str, env: dict[str, str], n: int, timeout: float = 60) -> None:
    probe = (
        "import ray, sys; ray.init(address=sys.argv[1], logging_level='ERROR'); "
        "print(sum(1 for x in ray.nodes() if x['Alive']))"
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        res = subprocess.run([sys.executable, "-c", probe, address], env=env, capture_output=True, text=True)
        if res.returncode == 0 and res.stdout.strip() == str(n):
            return
        time.sleep(1)
    raise RuntimeError(f"the cluster did not reach {n} nodes: {res.stdout} {res.stderr[-2000:]}")


def _stop(cluster: Cluster) -> None:
    sids = [node.pid for node in cluster.nodes]
    for node in reversed(cluster.nodes):
        if node.poll() is None:
            node.send_signal(signal.SIGTERM)  # ray start --block stops its own processes
    for node in cluster.nodes:
        try:
            node.wait(timeout=20)
        except subprocess.TimeoutExpired:
            node.kill()
    deadline = time.monotonic() + 10
    while True:
        left = [pid for sid in sids for pid in session_pids(sid)]
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[Cluster]:
    """Head and one worker node on 127.0.0.1, one CPU each."""
    ray_exe = shutil.which("ray") or str(Path(sys.executable).parent / "ray")
    temp = Path(tempfile.mkdtemp(prefix="hray-", dir="/tmp"))  # short: Ray's socket paths have a length limit
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAY_", "HARNESS_", "FAKE_"))}
    env.pop("PYTHONPATH", None)  # the workers get the harness and the plugins from the driver, through Ray
    env.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(16), RAY_USAGE_STATS_ENABLED="0")
    port = _free_port()
    address = f"127.0.0.1:{port}"
    common = ["--num-cpus=1", "--object-store-memory=100000000", "--node-ip-address=127.0.0.1", "--block"]
    cluster = Cluster(address, env)
    try:
        head = [ray_exe, "start", "--head", f"--port={port}", f"--temp-dir={temp}", "--include-dashboard=false"]
        for args in ([*head, *common], [ray_exe, "start", f"--address={address}", *common]):
            log = open(temp / f"node{len(cluster.nodes)}.log", "w")  # noqa: SIM115 (kept open for the node)
            cluster.nodes.append(
                subprocess.Popen([*args], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            )
            _wait_for_nodes(address, env, len(cluster.nodes))
        yield cluster
    finally:
        _stop(cluster)
        assert not cluster.pids(), "Ray processes outlived the tests"
        shutil.rmtree(temp, ignore_errors=True)
