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

from . import atomic

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
    text = json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n"
    return atomic.write_text(run_dir / "manifest.json", text)


def read_manifest(run_dir: Path) -> dict[str, Any]:
    path = run_dir / "manifest.json"
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))
