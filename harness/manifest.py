"""The run manifest: enough to reproduce a run (config, versions, git revision, seeds, fingerprints)."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from . import atomic, jsonout
from .types import HarnessError

PACKAGES = (
    "alignment-harness",
    "torch",
    "transformers",
    "trl",
    "datasets",
    "accelerate",
    "peft",
    "tokenizers",
    "pluggy",
    "click",
    "statsmodels",
    "pandas",
    "numpy",
    "scipy",
    "matplotlib",
    "py3langid",
    "pyarrow",
)


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def package_versions() -> dict[str, str | None]:
    """Installed versions, read from metadata (never imports torch)."""
    out: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def git_revision() -> dict[str, Any]:
    root = Path(__file__).resolve().parents[1]
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = bool(
            subprocess.run(
                ["git", "status", "--porcelain", "--untracked-files=no"],
                cwd=root,
                capture_output=True,
                text=True,
                timeout=10,
            ).stdout.strip()
        )
        return {"revision": rev, "dirty": dirty}
    except (OSError, subprocess.SubprocessError):
        return {"revision": None, "dirty": None}


def base_manifest(argv: list[str]) -> dict[str, Any]:
    return {
        "harness_manifest": 1,
        "command": argv,
        "started": now(),
        "finished": None,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": package_versions(),
        "git": git_revision(),
    }


def write_manifest(run_dir: Path, manifest: dict[str, Any]) -> Path:
    text = jsonout.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n"
    return atomic.write_text(run_dir / "manifest.json", text)


def read_manifest(run_dir: Path, damaged_ok: bool = False) -> dict[str, Any]:
    """The run's manifest ({} when there is none). A damaged one is a one-line error, or with
    ``damaged_ok`` (a run that is about to rewrite it) a warning and {}: nothing in it is trusted."""
    path = run_dir / "manifest.json"
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "msg", None) or getattr(exc, "strerror", None) or str(exc)
        if damaged_ok:
            print(f"warning: {path} is damaged ({reason}); it is rewritten and the report rebuilt", file=sys.stderr)
            return {}
        raise HarnessError(
            f"{path} is damaged ({reason}): run the `harness run` command that made {run_dir} again "
            "(its results are cached) to rewrite it"
        ) from None
    return data
