"""Scoring throughput (pairs/s) at several batch sizes: ``python -m harness_scorers.throughput``.

Measures tiny-reward (built under HARNESS_HOME) and a randomly initialised model with the
DeBERTa-v3-large layout (same code path as ``deberta-reward``; weights random because the
real ones are not reachable offline) on the OPT-350M study's released (prompt, response) pairs.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from harness.paths import harness_home
from harness.types import Context, ScoreRequest

LARGE = {  # microsoft/deberta-v3-large, as in its config.json
    "vocab_size": 128100,
    "hidden_size": 1024,
    "num_hidden_layers": 24,
    "num_attention_heads": 16,
    "intermediate_size": 4096,
    "max_position_embeddings": 512,
    "relative_attention": True,
    "position_buckets": 256,
    "max_relative_positions": -1,
    "pos_att_type": ["p2c", "c2p"],
    "norm_rel_ebd": "layer_norm",
    "share_att_key": True,
    "position_biased_input": False,
    "type_vocab_size": 0,
    "pooler_hidden_size": 1024,
    "num_labels": 1,
}


def study_pairs(data: Path, n: int) -> list[ScoreRequest]:
    """The study's released pairs; the package's preference pairs where ../shared/data is absent."""
    rows = []
    for path in sorted((data / "opt350m-paper" / "responses").glob("*.json")):
        rows += json.loads(path.read_text(encoding="utf-8"))
    if not rows:
        from .tiny_reward import load_pairs

        rows = [{"prompt": r["prompt"], "response": r["chosen"]} for r in load_pairs()]
    return [ScoreRequest(f"k{i}", r["prompt"], r["response"], "en", "x") for i, r in enumerate(rows[:n])]


def measure(loaded, items, sizes) -> dict[int, float]:
    out = {}
    loaded.score(items[: min(8, len(items))])  # warm-up
    for bs in sizes:
        t = time.perf_counter()
        for start in range(0, len(items), bs):
            loaded.score(items[start : start + bs])
        out[bs] = round(len(items) / (time.perf_counter() - t), 2)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(Path(__file__).resolve().parents[3] / "shared" / "data"))
    ap.add_argument("--device", default="auto")
    ap.add_argument("--tiny-pairs", type=int, default=256)
    ap.add_argument("--large-pairs", type=int, default=8)
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()

    import torch
    from transformers import DebertaV2Config, DebertaV2ForSequenceClassification

    from harness.devices import resolve_device

    from .reward import REWARD_OPTIONS, LoadedRewardModel
    from .tiny_reward import TinyRewardScorer

    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    ctx = Context(home=harness_home(), device=device, log=lambda m: None)
    tiny = TinyRewardScorer().load(ctx)
    sizes = (1, 8, 32)
    result = {"device": device, "threads": torch.get_num_threads()}
    items = study_pairs(Path(args.data), args.tiny_pairs)
    result["tiny-reward"] = {"pairs": len(items), "pairs_per_s": measure(tiny, items, sizes)}
    torch.manual_seed(0)
    model = DebertaV2ForSequenceClassification(DebertaV2Config(**LARGE)).float().to(device).eval()
    large = LoadedRewardModel(model, tiny.tokenizer, device, REWARD_OPTIONS)
    items = study_pairs(Path(args.data), args.large_pairs)
    result["deberta-v3-large-random"] = {"pairs": len(items), "pairs_per_s": measure(large, items, sizes)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
