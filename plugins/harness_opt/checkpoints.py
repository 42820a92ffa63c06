"""Where weights come from and where trained/built ones are kept.

Everything the plugin writes lives under HARNESS_HOME/opt/<family>/, one folder per
digest of what produced it, written to a temp folder and moved into place with
``os.replace`` so an interrupted or concurrent build never leaves half a model.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from harness.fingerprint import digest, file_digest

#: Written last into every finished folder; its presence marks a complete checkpoint.
MARKER = "harness_checkpoint.json"
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json",
                "pytorch_model.bin.index.json")
TOKENIZER_FILES = ("tokenizer.json", "vocab.json")

_DIGESTS: dict[tuple[str, int, int], str] = {}


def store_root(home: Path, family: str) -> Path:
    return Path(home) / "opt" / family


def is_complete(folder: Path) -> bool:
    return (folder / MARKER).is_file()


def read_marker(folder: Path) -> dict:
    return json.loads((folder / MARKER).read_text())


@contextlib.contextmanager
def atomic_folder(final: Path) -> Iterator[Path]:
    """Yield a temp folder beside ``final``; on success move it into place (first writer wins)."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f".tmp-{final.name}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        yield tmp
        try:
            os.replace(tmp, final)
        except OSError:
            if not is_complete(final):
                raise
            shutil.rmtree(tmp, ignore_errors=True)  # a concurrent build finished first
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_marker(folder: Path, info: dict) -> None:
    (folder / MARKER).write_text(json.dumps(info, indent=2, sort_keys=True, default=str))


def hub_offline() -> bool:
    return any(
        os.environ.get(v, "").strip().lower() in ("1", "true", "yes", "on")
        for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


def _has_weights(folder: Path) -> bool:
    return (folder / "config.json").is_file() and any((folder / f).is_file() for f in WEIGHT_FILES)


def local_digest(folder: Path) -> str:
    """Content digest of a local checkpoint folder's config, weights and tokenizer (memoised by stat)."""
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in (".json", ".safetensors",
                                                                               ".bin", ".txt", ".model"))
    parts = []
    for p in files:
        st = p.stat()
        key = (str(p.resolve()), st.st_size, st.st_mtime_ns)
        if key not in _DIGESTS:
            _DIGESTS[key] = file_digest(p)
        parts.append((p.name, _DIGESTS[key]))
    return digest(parts)


@dataclass(frozen=True)
class WeightsSource:
    """A resolved place to load weights from: a local folder or a hub id (maybe cached)."""

    spec: str  # what the user/recipe said
    path: Path | None  # a local folder, or the cached snapshot folder of a hub id
    identity: str  # what goes into fingerprints and recipe keys
    problem: str | None  # one-line reason it cannot be loaded, or None

    @property
    def load_from(self) -> str:
        return str(self.path) if self.path is not None else self.spec


def _hub_snapshot(repo_id: str, revision: str) -> tuple[Path | None, str | None, list[str]]:
    """(snapshot folder, commit, missing files) for ``repo_id`` in the Hugging Face cache."""
    from huggingface_hub import try_to_load_from_cache

    found: dict[str, Path] = {}
    for name in ("config.json", *WEIGHT_FILES, *TOKENIZER_FILES, "merges.txt"):
        hit = try_to_load_from_cache(repo_id, name, revision=revision)
        if isinstance(hit, str):
            found[name] = Path(hit)
    missing = []
    if "config.json" not in found:
        missing.append("config.json")
    if not any(f in found for f in WEIGHT_FILES):
        missing.append("pytorch_model.bin or model.safetensors")
    if not any(f in found for f in TOKENIZER_FILES):
        missing.append("the tokenizer files (vocab.json, merges.txt)")
    if not found:
        return None, None, missing
    snapshot = found.get("config.json", next(iter(found.values()))).parent
    return snapshot, snapshot.name, missing


def resolve(spec: str, revision: str = "main", option_hint: str = "") -> WeightsSource:
    """Resolve a hub id or local folder; never downloads (loading does, when the hub is reachable)."""
    path = Path(spec).expanduser()
    if path.exists() or spec.startswith((".", "/", "~")):
        if not path.is_dir() or not _has_weights(path):
            return WeightsSource(spec, path, f"local:{path}", f"{path} is not a model folder "
                                 f"(needs config.json and {' or '.join(WEIGHT_FILES[:2])})")
        return WeightsSource(spec, path, f"local:{local_digest(path)}", None)
    snapshot, commit, missing = _hub_snapshot(spec, revision)
    if not missing:
        return WeightsSource(spec, snapshot, f"hub:{spec}@{commit}", None)
    problem = None
    if hub_offline():
        hint = f"--set {option_hint}=PATH" if option_hint else "a local folder"
        problem = (
            f"{spec} is not in the Hugging Face cache (missing {', '.join(missing)}) and the hub is offline "
            f"(HF_HUB_OFFLINE=1): point at a local copy with {hint}, or fill the cache where the hub is "
            f"reachable (huggingface-cli download {spec})"
        )
    return WeightsSource(spec, None, f"hub:{spec}@{revision}", problem)


def clear_temp(root: Path, log: Callable[[str], None] | None = None) -> None:
    """Remove temp folders of builds that died (only ones whose process is gone)."""
    if not root.is_dir():
        return
    for tmp in root.glob(".tmp-*"):
        try:
            pid = int(tmp.name.rsplit("-", 2)[-2])
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(tmp, ignore_errors=True)
            if log:
                log(f"removed stale {tmp}")
        except (ValueError, PermissionError, IndexError):
            continue
