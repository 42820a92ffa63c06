"""Helpers for a plugin's own tests: load just that plugin, strictly, and call the CLI.

Part of the public API (``harness new-plugin`` writes tests that use it). Nothing here
imports torch.

Example::

    from harness.testing import plugin_host, context

    def test_registers_its_scorer():
        host = plugin_host("my-plugin")          # the entry-point name; any mistake raises
        scorer = host.scorers["my-plugin-length"]
        loaded = scorer.load(context(scorer))
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from .hookspecs import PROJECT_NAME
from .plugins import PluginHost
from .types import Context, GenerationSettings


def entry_point_names() -> list[str]:
    """Every entry-point name in the ``harness`` group of this environment."""
    return sorted({ep.name for ep in metadata.entry_points(group=PROJECT_NAME)})


def plugin_host(entry_point: str, strict: bool = True) -> PluginHost:
    """A plugin host with only the plugin published under ``entry_point`` (every other one disabled).

    With ``strict`` (the default) any mistake of the plugin (a hook that is not one, a method whose
    signature does not match, a malformed object) raises ``PluginError`` naming it.
    """
    others = [name for name in entry_point_names() if name != entry_point]
    if entry_point not in entry_point_names():
        raise LookupError(f"no entry point {entry_point!r} in group {PROJECT_NAME!r}; is the plugin installed?")
    return PluginHost(disabled=others, modules=[], strict=strict)


def context(
    obj: Any,
    options: Mapping[str, Any] | None = None,
    *,
    home: Path | None = None,
    max_new_tokens: int = 8,
    seed: int = 0,
) -> Context:
    """The ``Context`` a run would hand ``obj``: its ``default_options`` with ``options`` over them, CPU, fp32."""
    merged = {**dict(getattr(obj, "default_options", {}) or {}), **dict(options or {})}
    return Context(
        options=merged,
        generation=GenerationSettings(max_new_tokens=max_new_tokens),
        seed=seed,
        home=home or Path(tempfile.mkdtemp(prefix="harness-test-home-")),
        log=lambda _message: None,
    )


def run_harness(
    args: Sequence[str],
    env: Mapping[str, str] | None = None,
    *,
    only: str | None = None,
    cwd: Path | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """Run the ``harness`` command line in a subprocess of this interpreter (stdout and stderr captured).

    ``only``: an entry-point name; every other plugin is disabled (``HARNESS_DISABLE_PLUGINS``).
    """
    full_env = {**os.environ, **dict(env or {})}
    if only is not None:
        full_env["HARNESS_DISABLE_PLUGINS"] = ",".join(n for n in entry_point_names() if n != only)
    code = "from harness.cli import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        env=full_env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
