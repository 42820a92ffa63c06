"""Fixtures for the core tests: the fake plugins (tests/core is on pytest's pythonpath), an isolated home,
CliRunner invocation.

Every test gets its own HARNESS_HOME (store) so cached results never leak between tests.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from corehelp import plugin_env  # tests/core is on pytest's pythonpath (pyproject.toml)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def env(home: Path) -> dict[str, str]:
    return plugin_env(home)


@pytest.fixture
def invoke(home: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """Run the CLI in-process through click's CliRunner around a host with the given test plugins."""
    from click.testing import CliRunner

    from harness.cli import build_cli
    from harness.plugins import PluginHost

    monkeypatch.setenv("HARNESS_HOME", str(home))
    for name in ("HARNESS_DISABLE_PLUGINS", "HARNESS_STRICT_PLUGINS", "HARNESS_PLUGINS", "FAKE_SLOW", "FAKE_LOAD_LOG"):
        monkeypatch.delenv(name, raising=False)

    def _invoke(args: list[str], modules: list[str] | None = None, **host_kwargs: Any):
        host = PluginHost(entry_points=False, modules=modules or ["fakeplug"], **host_kwargs)
        return CliRunner().invoke(build_cli(host), args, catch_exceptions=False)

    return _invoke
