"""Find a reward model's weights (local folder or hub id) and pin them for the fingerprint.

A hub id is pinned to its commit (read from the local cache first, so offline runs work);
a local folder is pinned to a hash of its weight and tokenizer files. Either way a changed
model changes the scorer's fingerprint and nothing else does.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from harness.fingerprint import digest, file_digest
from harness.types import HarnessError

WEIGHT_PATTERNS = ("*.safetensors", "*.bin", "*.pt", "*.pth")
TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "spm.model",
    "vocab.txt",
    "vocab.json",
    "merges.txt",
    "added_tokens.json",
    "chat_template.jinja",
)

_DIGESTS: dict[tuple[str, int, int], str] = {}


@dataclass(frozen=True)
class ResolvedModel:
    """Where to load from and what pins it."""

    source: str  # local folder or hub id, as passed to from_pretrained
    revision: str | None  # hub commit for hub ids, None for local folders
    weights: str  # commit sha or weights digest
    tokenizer: str  # commit sha or tokenizer-files digest
    dtype: str | None = None  # the checkpoint's dtype where known without its files (a model built from a recipe)


def _cached_file_digest(path: Path) -> str:
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _DIGESTS:
        _DIGESTS[key] = file_digest(path)
    return _DIGESTS[key]


def _files_digest(paths: list[Path], root: Path) -> str:
    return digest([[str(p.relative_to(root)), _cached_file_digest(p)] for p in sorted(paths)])


def offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes", "on")


def resolve_model(model: str, revision: str | None = None) -> ResolvedModel:
    """Pin ``model`` (a folder or a hub id); HarnessError when it cannot be found."""
    folder = Path(model).expanduser()
    if folder.is_dir():
        weights = [p for pat in WEIGHT_PATTERNS for p in folder.glob(pat) if p.is_file()]
        if not weights:
            raise HarnessError(f"model folder {folder} has no weight files (*.safetensors or *.bin)")
        tok = [folder / n for n in TOKENIZER_FILES if (folder / n).is_file()]
        config = [folder / "config.json"] if (folder / "config.json").is_file() else []
        return ResolvedModel(
            str(folder.resolve()), None, _files_digest(weights + config, folder), _files_digest(tok, folder)
        )
    if model.startswith((".", "/", "~")) or model.count("/") > 1:
        raise HarnessError(f"model folder {model} does not exist")
    sha = _cached_commit(model, revision)
    if sha is None:
        if offline():
            raise HarnessError(
                f"weights of {model} are not in the local Hugging Face cache and HF_HUB_OFFLINE=1: "
                "download them once online or set the scorer's `model` option to a local folder"
            )
        sha = _remote_commit(model, revision)
    return ResolvedModel(model, sha, sha, sha)


def _cached_commit(model: str, revision: str | None) -> str | None:
    from huggingface_hub import snapshot_download

    try:
        path = snapshot_download(model, revision=revision, local_files_only=True)
    except Exception:  # any failure means "not cached"
        return None
    folder = Path(path)
    has_weights = any(p for pat in WEIGHT_PATTERNS for p in folder.glob(pat))
    return folder.name if has_weights else None


def _remote_commit(model: str, revision: str | None) -> str:
    from huggingface_hub import HfApi

    try:
        info = HfApi().model_info(model, revision=revision)
    except Exception as exc:
        raise HarnessError(
            f"cannot reach model {model} on the Hugging Face hub ({type(exc).__name__}): "
            "check the id and network, or set the scorer's `model` option to a local folder"
        ) from None
    return str(info.sha)
