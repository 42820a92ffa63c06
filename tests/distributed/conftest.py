"""A two-node Ray cluster on 127.0.0.1 (one CPU each) for the ray executor's tests.

``benchmarks/localcluster.py`` (on pytest's pythonpath, shared with the scale-out benchmark) starts each
node in its own session and tears down exactly the processes of those sessions; the fixture checks that
none outlives the tests.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("ray")

from localcluster import LocalCluster  # noqa: E402

HERE = Path(__file__).resolve().parent


class DriverCluster(LocalCluster):
    def driver_env(self, home: Path, plugins: str = "fakeplug,harness_ray.plugin", **extra: str) -> dict[str, str]:
        """A driver's environment: the test plugins, an isolated home, the cluster's auth token."""
        from corehelp import plugin_env

        env = plugin_env(home, plugins, **extra)
        env["PYTHONPATH"] = os.pathsep.join([str(HERE), *env["PYTHONPATH"].split(os.pathsep)])
        env.update({k: v for k, v in self.env.items() if k.startswith("RAY_AUTH")})
        env.pop("RAY_ADDRESS", None)
        return env


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[DriverCluster]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HARNESS_", "FAKE_"))}
    env.pop("PYTHONPATH", None)  # the workers get the harness and the plugins from the driver, through Ray
    cluster = DriverCluster(nodes=2, cpus=1, env=env)
    try:
        yield cluster
    finally:
        cluster.stop()
        assert not cluster.pids(), "Ray processes outlived the tests"
