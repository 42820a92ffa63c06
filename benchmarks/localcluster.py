"""A throwaway Ray cluster on this machine (tests, benchmarks), stopped down to its last process.

Each node is ``ray start ... --block`` in a session of its own, so every process it spawns
(GCS, raylet, workers, actors) carries that session id; ``stop`` ends the ``ray start``
processes, then kills whatever is left in exactly those sessions. Nothing else on the machine
is touched (no ``ray stop``). Ray 2.60 needs ``RAY_AUTH_MODE=token`` and one token in every
Ray process and the driver: ``LocalCluster.env`` carries both.
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
from pathlib import Path


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
        if int(stat[stat.rindex(")") + 2 :].split()[3]) == sid:  # state ppid pgrp session
            out.append(int(entry.name))
    return out


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


class LocalCluster:
    """``nodes`` nodes on 127.0.0.1 with ``cpus`` CPUs each; ``address`` to pass as --ray-address."""

    def __init__(self, nodes: int = 2, cpus: int = 1, env: dict[str, str] | None = None) -> None:
        self.temp = Path(tempfile.mkdtemp(prefix="hray-", dir="/tmp"))  # short: socket paths have a limit
        base = dict(os.environ if env is None else env)
        for key in [k for k in base if k.startswith("RAY_")]:
            del base[key]
        base.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(16), RAY_USAGE_STATS_ENABLED="0")
        self.env = base
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.address = f"127.0.0.1:{port}"
        self.procs: list[subprocess.Popen] = []
        ray = shutil.which("ray") or str(Path(sys.executable).parent / "ray")
        common = [f"--num-cpus={cpus}", "--object-store-memory=100000000", "--node-ip-address=127.0.0.1", "--block"]
        head = [ray, "start", "--head", f"--port={port}", f"--temp-dir={self.temp}", "--include-dashboard=false"]
        try:
            for i in range(nodes):
                args = [*head, *common] if i == 0 else [ray, "start", f"--address={self.address}", *common]
                with open(self.temp / f"node{i}.log", "w") as log:
                    self.procs.append(
                        subprocess.Popen(
                            args, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
                        )
                    )
                self._wait_for(i + 1)
        except BaseException:
            self.stop()
            raise

    def _wait_for(self, n: int, timeout: float = 60) -> None:
        probe = (
            "import ray, sys; ray.init(address=sys.argv[1], logging_level='ERROR'); "
            "print(sum(1 for x in ray.nodes() if x['Alive']))"
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            res = subprocess.run(
                [sys.executable, "-c", probe, self.address], env=self.env, capture_output=True, text=True
            )
            if res.returncode == 0 and res.stdout.strip() == str(n):
                return
            time.sleep(1)
        raise RuntimeError(f"the local Ray cluster did not reach {n} node(s): {res.stderr[-2000:]}")

    def pids(self) -> list[int]:
        return [pid for proc in self.procs for pid in session_pids(proc.pid)]

    def replica_pids(self) -> list[int]:
        """The processes of the ray executor's actors (their title starts with ray::Replica)."""
        return [pid for pid in self.pids() if cmdline(pid).startswith("ray::Replica")]

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)  # ray start --block stops its own processes
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        deadline = time.monotonic() + 10
        while self.pids() and time.monotonic() < deadline:
            time.sleep(0.2)
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(self.temp, ignore_errors=True)
