"""Generation latency per batch size and training throughput on a GPU, for the docs' cost notes.

    python benchmarks/gpu_bench.py gen --variant opt-350m-random --device cuda --prompts 16 --batch 1 8
    python benchmarks/gpu_bench.py train --device cuda --steps 20

``gen`` takes any registered variant, the benchmark-only random-weight ones (random_variants.py) too.
Prompts are synthetic HH questions of varied length (no data files needed); ``train`` runs the real
SFT/DPO code on OPT-350M's architecture (random weights) and extrapolates to the HH-RLHF train split.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from harness.paths import harness_home
from harness.types import Context, GenerationSettings, HarnessError, Prompt

HH_TRAIN_RECORDS = 160_800  # Anthropic/hh-rlhf train, all four subsets
_WORDS = ("how can i make my garden look nicer in the spring without spending a lot of money on new plants "
          "and tools that i will only use once or twice a year").split()


def synthetic_prompts(n: int) -> list[Prompt]:
    out = []
    for i in range(n):
        words = [_WORDS[(i * 7 + j) % len(_WORDS)] for j in range(8 + (i * 13) % 60)]
        out.append(Prompt("bench", str(i), "en", "helpful", "Human: " + " ".join(words) + "?"))
    return sorted(out, key=lambda p: len(p.text))


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def gen_timing(variant_name: str, device: str, n: int, batches: list[int], max_new_tokens: int,
               dtype: str = "auto") -> dict:
    from random_variants import bench_host

    from harness.choices import unknown
    from harness.devices import resolve_device
    from harness.dtypes import run_dtype

    models = bench_host().models
    if variant_name not in models:
        raise unknown("model", variant_name, sorted(models))
    v = models[variant_name]
    device = resolve_device(device)  # a plugin reads the resolved device from its context
    ctx = Context(options=dict(v.default_options), home=harness_home(), device=device,
                  dtype=run_dtype(dtype, device),
                  generation=GenerationSettings(max_new_tokens, "hh"), train_missing=True)
    t0 = time.perf_counter()
    loaded = v.load(ctx)
    result = {"variant": variant_name, "device": loaded.device, "load_s": round(time.perf_counter() - t0, 2),
              "dtype": str(next(loaded.model.parameters()).dtype), "prompts": n, "max_new_tokens": max_new_tokens}
    prompts = synthetic_prompts(n)
    loaded.generate(prompts[:2])  # warm-up
    ref = None
    for bs in batches + (["auto"] if loaded.device.startswith("cuda") else []):
        size = loaded.auto_batch_size(prompts) if bs == "auto" else int(bs)
        _sync(loaded.device)
        t0 = time.perf_counter()
        outs = []
        for i in range(0, n, size):
            outs.extend(loaded.generate(prompts[i:i + size]))
        _sync(loaded.device)
        dt = time.perf_counter() - t0
        toks = sum(o.meta["n_new_tokens"] for o in outs)
        same = None
        if ref is None:
            ref = [o.response for o in outs]
        else:
            same = sum(a == o.response for a, o in zip(ref, outs))
        result[f"batch_{bs}"] = {"size": size, "seconds": round(dt, 3), "new_tokens": toks,
                                 "tokens_per_s": round(toks / dt, 1), "same_as_first": same}
    loaded.close()
    return result


def train_throughput(device: str, steps: int, max_length: int) -> dict:
    """Time `steps` optimizer steps of the study's SFT and DPO recipes on OPT-350M's architecture."""
    import torch
    from harness_opt.builders import ensure_tiny_base
    from harness_opt.recipes import effective_recipe
    from harness_opt.training import train_dpo, train_sft
    from random_variants import random_350m

    recipe = effective_recipe("opt-350m", {})
    tiny = effective_recipe("tiny-opt", {})
    tok_dir = ensure_tiny_base(harness_home(), tiny["tiny"], int(tiny["seed"]))
    out: dict = {"device": device, "steps": steps}
    with tempfile.TemporaryDirectory() as tmp:
        start = Path(tmp) / "start"
        random_350m(0).save_pretrained(start)
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(tok_dir)
        tok.model_max_length = 2048
        tok.save_pretrained(start)
        per_step = recipe["sft"]["per_device_batch_size"] * recipe["sft"]["gradient_accumulation_steps"]
        # ~max_length-token transcripts: the study's cap; real HH transcripts average fewer tokens.
        long = "\n\nHuman: " + " ".join(_WORDS * 20) + "\n\nAssistant: " + " ".join(_WORDS * 20)
        texts = [long] * (steps * per_step)
        sft = dict(recipe["sft"], epochs=1, max_length=max_length, logging_steps=max(1, steps // 4))
        t0 = time.perf_counter()
        train_sft(str(start), Path(tmp) / "sft", sft, texts, device=device, seed=0, log=print)
        out["sft_s_per_step"] = round((time.perf_counter() - t0) / steps, 3)
        triples = [{"prompt": "\n\nHuman: " + " ".join(_WORDS * 8) + "\n\nAssistant:",
                    "chosen": " " + " ".join(_WORDS * 12), "rejected": " " + " ".join(_WORDS[::-1] * 12)}
                   ] * (steps * per_step)
        dpo = dict(recipe["dpo"], epochs=1, max_length=max_length, logging_steps=max(1, steps // 4))
        t0 = time.perf_counter()
        train_dpo(str(start), Path(tmp) / "dpo", dpo, triples, device=device, seed=0, log=print)
        out["dpo_s_per_step"] = round((time.perf_counter() - t0) / steps, 3)
    full_sft_steps = HH_TRAIN_RECORDS * recipe["sft"]["epochs"] // per_step
    full_dpo_steps = HH_TRAIN_RECORDS * recipe["dpo"]["epochs"] // per_step
    out["extrapolated_sft_hours"] = round(full_sft_steps * out["sft_s_per_step"] / 3600, 1)
    out["extrapolated_dpo_hours"] = round(full_dpo_steps * out["dpo_s_per_step"] / 3600, 1)
    out["gpu"] = torch.cuda.get_device_name() if device.startswith("cuda") else "cpu"
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python benchmarks/gpu_bench.py")
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    g.add_argument("--variant", default="opt-350m-random")
    g.add_argument("--device", default="auto")
    g.add_argument("--prompts", type=int, default=16)
    g.add_argument("--batch", type=int, nargs="+", default=[1, 8])
    g.add_argument("--max-new-tokens", type=int, default=50)
    g.add_argument("--dtype", default="auto", choices=["auto", "fp32", "bf16", "fp16"])
    t = sub.add_parser("train")
    t.add_argument("--device", default="cuda")
    t.add_argument("--steps", type=int, default=20)
    t.add_argument("--max-length", type=int, default=512)
    a = ap.parse_args(argv)
    try:
        if a.cmd == "gen":
            res = gen_timing(a.variant, a.device, a.prompts, a.batch, a.max_new_tokens, a.dtype)
        else:
            res = train_throughput(a.device, a.steps, a.max_length)
    except HarnessError as exc:  # a bad variant or device: one line, exit 2
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
