"""Training data: the HH-RLHF train split (local files or the hub) or the packaged tiny preference set.

Both are reduced to HH transcripts ``{"chosen", "rejected"}``; SFT uses ``chosen`` as text and
DPO splits each pair at the last ``\\n\\nAssistant:`` into prompt / chosen / rejected.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.fingerprint import digest, file_digest
from harness.types import HarnessError

from .checkpoints import hub_offline

HH_SUBSETS = ("harmless-base", "helpful-base", "helpful-online", "helpful-rejection-sampled")
ASSISTANT = "\n\nAssistant:"


def tiny_prefs_path() -> Path:
    return Path(__file__).resolve().parent / "tiny_prefs.jsonl"


def _local_files(data: Mapping[str, Any], data_dir: Path | None) -> list[Path] | None:
    if data_dir is None:
        return None
    root = Path(data_dir) / "hh-rlhf"
    subsets = list(data.get("subsets") or HH_SUBSETS)
    files = [root / s / f"{data.get('split', 'train')}.jsonl.gz" for s in subsets]
    present = [f for f in files if f.is_file()]
    if not present:
        return None
    if len(present) < len(files) and data.get("subsets"):
        missing = sorted(set(files) - set(present))
        raise HarnessError(f"HH-RLHF files missing under {root}: {', '.join(map(str, missing))}")
    return present


def availability(data: Mapping[str, Any], data_dir: Path | None) -> str | None:
    """None when the training data can be read; else a one-line reason."""
    if data.get("source") in ("tiny-prefs", "planted"):
        return None
    if _local_files(data, data_dir) is None and hub_offline():
        where = f"{data_dir}/hh-rlhf/<subset>/{data.get('split', 'train')}.jsonl.gz" if data_dir else (
            "DATA_DIR/hh-rlhf/<subset>/train.jsonl.gz (set HARNESS_DATA_DIR or the suite's data_dir)")
        return (f"the HH-RLHF {data.get('split', 'train')} split is not local and the hub is offline: "
                f"put the upstream files at {where}, or train where {data.get('hub_id')} is reachable")
    return None


def data_fingerprint(data: Mapping[str, Any], data_dir: Path | None) -> str:
    """What the training data is, for checkpoint keys: file bytes when local, hub id + selection else."""
    sel = {k: data.get(k) for k in sorted(data)}
    if data.get("source") == "tiny-prefs":
        return digest("tiny-prefs", file_digest(tiny_prefs_path()), sel)
    if data.get("source") == "planted":
        from harness_sources.planted import planted_files

        return digest("planted", [file_digest(f) for f in planted_files()], sel)
    files = _local_files(data, data_dir)
    if files:
        return digest("hh-rlhf-local", [(f.parent.name, file_digest(f)) for f in files], sel)
    return digest("hh-rlhf-hub", sel)


def load_pairs(data: Mapping[str, Any], data_dir: Path | None) -> list[dict[str, str]]:
    """Every selected record as ``{"chosen", "rejected"}`` in a fixed order."""
    limit = int(data.get("limit") or 0)
    if data.get("source") == "planted":
        return planted_pairs(data)
    if data.get("source") == "tiny-prefs":
        rows = [json.loads(line) for line in tiny_prefs_path().read_text().splitlines() if line.strip()]
    else:
        files = _local_files(data, data_dir)
        if files:
            rows = []
            for f in files:
                with gzip.open(f, "rt", encoding="utf-8") as fh:
                    rows.extend(json.loads(line) for line in fh if line.strip())
        else:
            problem = availability(data, data_dir)
            if problem:
                raise HarnessError(problem)
            from datasets import load_dataset

            subsets = list(data.get("subsets") or [None])
            rows = []
            for s in subsets:
                ds = load_dataset(data["hub_id"], data_dir=s, split=data.get("split", "train"))
                rows.extend({"chosen": r["chosen"], "rejected": r["rejected"]} for r in ds)
    rows = [{"chosen": r["chosen"], "rejected": r["rejected"]} for r in rows]
    return rows[:limit] if limit > 0 else rows


def planted_pairs(data: Mapping[str, Any]) -> list[dict[str, str]]:
    """The planted demo's data: SFT transcripts and DPO pairs (in ``dpo_languages`` only), tagged by stage."""
    from harness_sources import planted

    sft = [{"chosen": t, "rejected": "", "use": "sft"} for t in planted.sft_texts()]
    langs = data.get("dpo_languages")
    if not langs:
        raise HarnessError("the planted training data needs data.dpo_languages (e.g. [\"en\", \"de\"])")
    dpo = [{"chosen": t["prompt"] + t["chosen"], "rejected": t["prompt"] + t["rejected"], "use": "dpo"}
           for t in planted.dpo_triples(langs)]
    return sft + dpo


def split_pair(chosen: str, rejected: str) -> dict[str, str] | None:
    """Prompt = shared transcript up to the last assistant tag; None when the pair diverges earlier."""
    cut = chosen.rfind(ASSISTANT)
    if cut < 0:
        return None
    prompt = chosen[: cut + len(ASSISTANT)]
    if not rejected.startswith(prompt):
        return None
    return {"prompt": prompt, "chosen": chosen[len(prompt):], "rejected": rejected[len(prompt):]}


def sft_texts(pairs: list[dict[str, str]]) -> list[str]:
    return [p["chosen"] for p in pairs if p.get("use") != "dpo"]


def dpo_triples(pairs: list[dict[str, str]]) -> list[dict[str, str]]:
    return [t for p in pairs if p.get("use") != "sft" and (t := split_pair(p["chosen"], p["rejected"])) is not None]
