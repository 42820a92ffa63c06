"""Helpers shared by the core tests: running `harness` as a subprocess, reading a store, checking errors.

Nothing here imports torch.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]

#: A valid suite on the fake plugin that the bad-input tests break one way at a time.
GOOD_SUITE = """
name = "mine"
seed = 0
langs = ["low", "high"]
tier_scheme = "joshi"
[generation]
max_new_tokens = 8
[models.fake-base]
[sources.fake-prompts]
[scorers.fake-reward]
[stats.mean-score]
"""


def harness_exe() -> list[str]:
    """The `harness` console script of the running interpreter (a tox env's, not a system one)."""
    exe = Path(sys.executable).parent / "harness"
    if exe.is_file():
        return [str(exe)]
    found = shutil.which("harness")
    if found:
        return [found]
    return [sys.executable, "-c", "from harness.cli import main; main()"]


def plugin_env(home: Path, plugins: str = "fakeplug", **extra: str) -> dict[str, str]:
    """Environment for a subprocess: only the named test plugins, no entry points, an isolated home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HARNESS_", "FAKE_"))}
    pythonpath = [str(HERE), *(p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p)]
    env.update(
        HARNESS_NO_ENTRYPOINTS="1",
        HARNESS_PLUGINS=plugins,
        HARNESS_HOME=str(home),
        PYTHONPATH=os.pathsep.join(pythonpath),
        HF_HUB_OFFLINE="1",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def run_harness(
    args: Iterable[str], env: dict[str, str], timeout: float = 60, cwd: Path = REPO
) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*harness_exe(), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def popen_harness(args: Iterable[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*harness_exe(), *args],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def store_rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Everything in a store except timestamps, sorted: equal stores give equal dicts."""
    if not path.exists():
        return {"generations": [], "scores": []}
    conn = sqlite3.connect(path, timeout=30)
    try:
        return {
            "generations": sorted(
                conn.execute("SELECT key, model, model_fp, prompt_text, response, meta FROM generations")
            ),
            "scores": sorted(conn.execute("SELECT key, generation_key, scorer, scorer_fp, value, meta FROM scores")),
        }
    finally:
        conn.close()


def store_counts(path: Path) -> dict[str, int]:
    rows = store_rows(path)
    return {k: len(v) for k, v in rows.items()}


def assert_one_line_error(stderr: str, *needles: str) -> None:
    """A user error: exactly one non-empty stderr line, no traceback, naming the problem."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got:\n{stderr}"
    assert "Traceback" not in stderr
    for needle in needles:
        assert needle in lines[0], f"{needle!r} not in {lines[0]!r}"
