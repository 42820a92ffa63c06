"""Scoring throughput (pairs/s) at several batch sizes: ``python benchmarks/scoring_throughput.py``.

Measures tiny-reward (built under HARNESS_HOME) and a randomly initialised model with the
DeBERTa-v3-large layout (same code path as ``deberta-reward``; weights random because the
real ones are not reachable offline) on the OPT-350M study's released (prompt, response) pairs.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from harness_scorers.architectures import DEBERTA_V3_LARGE as LARGE

from harness.paths import harness_home
from harness.types import Context, ScoreRequest


def study_pairs(data: Path, n: int) -> list[ScoreRequest]:
    """The study's released pairs; the package's preference pairs where ../shared/data is absent."""
    rows = []
    for path in sorted((data / "opt350m-paper" / "responses").glob("*.json")):
        rows += json.loads(path.read_text(encoding="utf-8"))
    if not rows:
        from harness_scorers.tiny_reward import load_pairs

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
    ap.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    ap.add_argument("--device", default="auto")
    ap.add_argument("--tiny-pairs", type=int, default=256)
    ap.add_argument("--large-pairs", type=int, default=8)
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()

    import torch
    from harness_scorers.reward import REWARD_OPTIONS, LoadedRewardModel
    from harness_scorers.tiny_reward import TinyRewardScorer
    from transformers import DebertaV2Config, DebertaV2ForSequenceClassification

    from harness.devices import resolve_device

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
