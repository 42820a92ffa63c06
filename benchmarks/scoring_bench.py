"""Reward scoring: one (prompt, response) pair per forward pass vs the harness's batched scorer.

The model is the DeBERTa-v3-large architecture (the OpenAssistant reward model's) with random
weights and a tokenizer built locally, so the cost is the real model's and nothing is
downloaded. The harness side is the scorer plugin's ``LoadedRewardModel.score`` fed the way
the runner feeds it (length-sorted batches of the runner's batch size); the unbatched side
encodes each pair the same way and runs it alone, unpadded.
"""

from __future__ import annotations

from typing import Any

from common import log, median, ratio, rounded, timed, timed_cpu
from harness_scorers.architectures import DEBERTA_V3_LARGE

from harness.runner import batches_of
from harness.types import ScoreRequest


def build_model(device: str, seed: int = 0) -> tuple[Any, Any]:
    """(random-weight DeBERTa-v3-large classifier, locally trained Unigram tokenizer)."""
    import torch
    from harness_scorers.tiny_reward import load_pairs, train_tokenizer
    from transformers import DebertaV2Config, DebertaV2ForSequenceClassification

    texts = [t for r in load_pairs() for t in (r["prompt"], r["chosen"], r["rejected"])]
    tok = train_tokenizer(texts)
    torch.manual_seed(seed)
    config = DebertaV2Config(pad_token_id=tok.pad_token_id, **DEBERTA_V3_LARGE)
    model = DebertaV2ForSequenceClassification(config).to(device).eval()
    return model, tok


def requests(n: int) -> list[ScoreRequest]:
    """``n`` pairs from the demo prompts, with responses of a generation's typical length (~50 words)."""
    from harness_sources.demo import demo_document

    doc = demo_document()
    texts = [p["text"][lang] for p in doc["prompts"] for lang in ("en", "de", "es", "sw") if lang in p["text"]]
    out = []
    for i in range(n):
        response = " ".join(texts[(i + k) % len(texts)] for k in (3, 7))
        out.append(ScoreRequest(f"g{i}", texts[i % len(texts)], response, "en", "helpful"))
    return out


def unbatched(model: Any, tok: Any, items: list[ScoreRequest], max_length: int, device: str) -> list[float]:
    """One pair per forward pass, no padding: what a per-item scoring loop does."""
    import torch
    from harness_scorers.encoding import encode_pair

    out = []
    for it in items:
        e = encode_pair(tok, it.prompt, it.response, max_length)
        ids = torch.tensor([e.input_ids], device=device)
        with torch.inference_mode():
            logits = model(input_ids=ids, attention_mask=torch.ones_like(ids)).logits
        out.append(float(logits[0, 0]))
    return out


def harness_scored(loaded: Any, items: list[ScoreRequest], batch_size: int) -> list[float]:
    """The runner's way: length-sorted batches, one ``score`` call per batch."""
    by_key = {}
    batches = batches_of(items, batch_size, lambda r: len(r.prompt) + len(r.response),
                         lambda r: r.generation_key + r.language + r.kind)
    for batch in batches:
        for r, o in zip(batch, loaded.score(batch)):
            by_key[r.generation_key] = o.value
    return [by_key[it.generation_key] for it in items]


def run_scoring(device: str, quick: bool = False, gpu: bool = False) -> dict[str, Any]:
    from harness_scorers.reward import REWARD_OPTIONS, LoadedRewardModel

    n, repeats = (2, 1) if quick else (64, 3) if gpu else (32, 1)
    log(f"scoring: building DeBERTa-v3-large (random weights) on {device}")
    build_s, (model, tok) = timed(lambda: build_model(device), device)
    options = dict(REWARD_OPTIONS)
    loaded = LoadedRewardModel(model, tok, device, options)
    batch_size = int(getattr(loaded, "auto_batch_size", lambda _: 8)(requests(n)))
    items = requests(n)
    lengths = [len(loaded.encode([it])[0].input_ids) for it in items]
    log(f"scoring: {n} pairs ({min(lengths)}-{max(lengths)} tokens), batch {batch_size}; warming up")
    warm = [ScoreRequest("w", "Hi.", "Hello.", "en", "helpful")]  # short: one small micro-batch
    unbatched(model, tok, warm, int(options["max_length"]), device)
    loaded.score(warm)
    t_u, t_h, c_u, c_h = [], [], [], []
    for r in range(repeats):
        s, c, ref = timed_cpu(lambda: unbatched(model, tok, items, int(options["max_length"]), device), device)
        t_u.append(s)
        c_u.append(c)
        s, c, got = timed_cpu(lambda: harness_scored(loaded, items, batch_size), device)
        t_h.append(s)
        c_h.append(c)
        log(f"scoring: repeat {r + 1}/{repeats}: unbatched {t_u[-1]:.2f}s, harness {t_h[-1]:.2f}s")
    # The rows the harness actually computed: each length bucket is padded to full micro-batches.
    from harness_scorers.encoding import bucket_length

    buckets: dict[int, int] = {}
    for batch in batches_of(list(range(n)), batch_size, lambda i: len(items[i].prompt) + len(items[i].response),
                            lambda i: items[i].generation_key):
        for L in {bucket_length(lengths[i], int(options["pad_to_multiple_of"]), int(options["max_length"]))
                  for i in batch}:
            k = sum(1 for i in batch if bucket_length(lengths[i], int(options["pad_to_multiple_of"]),
                                                      int(options["max_length"])) == L)
            buckets[L] = buckets.get(L, 0) + -(-k // int(options["micro_batch"])) * int(options["micro_batch"])
    padded_tokens = sum(L * rows for L, rows in buckets.items())
    loaded.close()
    u, h = median(t_u), median(t_h)
    return {
        "model": "DeBERTa-v3-large architecture, random weights (DebertaV2Config, vocab 128100), local tokenizer",
        "device": device,
        "dtype": "float32",
        "pairs": n,
        "tokens": sum(lengths),
        "token_range": [min(lengths), max(lengths)],
        "batch_size": batch_size,
        "micro_batch": int(options["micro_batch"]),
        "pad_to_multiple_of": int(options["pad_to_multiple_of"]),
        "rows_computed_by_harness": sum(buckets.values()),
        "tokens_computed_by_harness": padded_tokens,
        "build_s": rounded(build_s),
        "seconds": {"unbatched": rounded(u), "harness": rounded(h)},
        "cpu_seconds": {"unbatched": rounded(median(c_u)), "harness": rounded(median(c_h))},
        "pairs_per_s": {"unbatched": rounded(n / u, 2), "harness": rounded(n / h, 2)},
        "max_abs_score_diff": rounded(max(abs(a - b) for a, b in zip(ref, got)), 6),
        "score_batched_speedup": ratio(u, h),
    }
