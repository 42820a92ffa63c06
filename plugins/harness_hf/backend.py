"""The ``hf`` model backend: ``--models hf:OWNER/NAME`` (a hub id) or ``hf:./folder`` (a local model).

References are checked here, before any work, as one line with "did you mean"; nothing is read
from the hub or loaded (that is the variant's fingerprint and load).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.types import HarnessError, ModelBackend, ModelVariant

_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?$")
EXAMPLE = "Qwen/Qwen2.5-0.5B-Instruct"


def is_path(ref: str) -> bool:
    return ref.startswith((".", "/", "~")) or Path(ref).expanduser().is_dir()


def _folder_problem(ref: str) -> str | None:
    path = Path(ref).expanduser()
    if path.is_dir():
        return None if (path / "config.json").is_file() else f"folder {ref!r} has no config.json: not a model folder"
    parent = path.parent if path.parent.is_dir() else None
    close = difflib.get_close_matches(path.name, [p.name for p in parent.iterdir() if p.is_dir()], n=1) \
        if parent is not None else []
    hint = f" (did you mean 'hf:{path.parent / close[0]}'?)" if close else ""
    return f"model folder {ref!r} does not exist{hint}"


def _hub_problem(ref: str) -> str | None:
    if _HUB_ID.match(ref) and ".." not in ref and "--" not in ref:
        return None
    cleaned = re.sub(r"[^A-Za-z0-9._/-]+", "-", ref.strip().strip("/")).strip("-")
    cleaned = "/".join(p.strip("-.") for p in cleaned.split("/") if p.strip("-."))
    hint = f" (did you mean 'hf:{cleaned}'?)" if cleaned and _HUB_ID.match(cleaned) and cleaned != ref else ""
    return (f"malformed model id 'hf:{ref}'{hint}: give a hub id OWNER/NAME (e.g. hf:{EXAMPLE}) "
            f"or a folder (hf:./my-model)")


class HfBackend(ModelBackend):
    name = "hf"
    description = "any Hugging Face causal LM, by hub id or local folder"
    example = "OWNER/NAME or hf:./folder"

    def declare(self, name: str, ref: str, options: Mapping[str, Any]) -> ModelVariant:
        from .variants import DeclaredVariant

        ref = ref.strip()
        if not ref:
            raise HarnessError(f"model {name!r}: 'hf:' needs a hub id or a folder, e.g. hf:{EXAMPLE} or hf:./my-model")
        problem = _folder_problem(ref) if is_path(ref) else _hub_problem(ref)
        if problem:
            raise HarnessError(problem)
        return DeclaredVariant(name, ref, dict(options))
