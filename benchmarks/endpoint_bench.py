"""Requests per second of the ``openai`` backend at ``max_concurrency`` 1 and 8, side by side, against a real
``transformers serve`` on 127.0.0.1 serving the tiny llama (built offline), and whether both give the same
answers.

    HARNESS_HOME=/tmp/bench-home python benchmarks/endpoint_bench.py [--prompts 64]
        [--max-new-tokens 32] [--continuous-batching]

Each prompt is one request; the server's own batching decides how much concurrency buys (plain
``transformers serve`` generates one request at a time on one thread, so concurrency overlaps only the
HTTP and tokenization work; ``--continuous-batching`` batches concurrent requests). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from harness_endpoints.backend import OpenAIBackend  # noqa: E402
from harness_hf.architectures import ensure_tiny_base  # noqa: E402
from harness_opt.recipes import load_recipe_file  # noqa: E402
from local_server import LocalServer  # noqa: E402

from harness.types import Context, GenerationSettings, Prompt  # noqa: E402


def demo_prompts(n: int) -> list[Prompt]:
    data = json.loads((ROOT / "plugins" / "harness_sources" / "demo_prompts.json").read_text(encoding="utf-8"))
    texts: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, str):
            texts.append(node)
        elif isinstance(node, dict):
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(data)
    texts = [t for t in dict.fromkeys(texts) if len(t) > 12]
    return [Prompt("bench", str(i), "xx", "helpful", texts[i % len(texts)] + ("" if i < len(texts) else f" ({i})"))
            for i in range(n)]


def timed(url: str, prompts: list[Prompt], concurrency: int, max_new: int) -> tuple[float, list[str], dict]:
    variant = OpenAIBackend().declare("bench", f"harness/tiny-llama@{url}", {})
    ctx = Context(options={**variant.default_options, "max_concurrency": concurrency},
                  generation=GenerationSettings(max_new_tokens=max_new, prompt_format="chat"))
    loaded = variant.load(ctx)
    loaded.generate(prompts[:2])  # warm-up: the server's first request pays its lazy set-up
    t0 = time.perf_counter()
    outs = loaded.generate(prompts)
    seconds = time.perf_counter() - t0
    return seconds, [o.response for o in outs], loaded.run_facts()["usage"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prompts", type=int, default=64)
    ap.add_argument("--max-new-tokens", type=int, default=32)
    ap.add_argument("--continuous-batching", action="store_true")
    args = ap.parse_args()
    home = Path(os.environ.get("HARNESS_HOME") or tempfile.mkdtemp(prefix="bench-home-"))
    recipe = load_recipe_file("tiny-llama")
    folder = ensure_tiny_base(home, "tiny-llama", recipe["tiny"], int(recipe.get("seed", 0)), log=lambda m: None)
    extra = ("--continuous-batching",) if args.continuous_batching else ()
    prompts = demo_prompts(args.prompts)
    with tempfile.TemporaryDirectory() as work, \
            LocalServer(folder, "harness/tiny-llama", Path(work), extra_args=extra) as server:
        s1, r1, u1 = timed(server.url, prompts, 1, args.max_new_tokens)
        s8, r8, u8 = timed(server.url, prompts, 8, args.max_new_tokens)
    same = sum(a == b for a, b in zip(r1, r8))
    print(json.dumps({
        "server": "transformers serve" + (" --continuous-batching" if extra else "") + ", tiny llama, CPU, float32",
        "requests": len(prompts), "max_new_tokens": args.max_new_tokens,
        "requests_per_s_concurrency_1": round(len(prompts) / s1, 2),
        "requests_per_s_concurrency_8": round(len(prompts) / s8, 2),
        "speedup_8_vs_1": round(s1 / s8, 2),
        "identical_responses_8_vs_1": f"{same}/{len(prompts)}",
        "completion_tokens": [u1["completion_tokens"], u8["completion_tokens"]],
    }, indent=2))


if __name__ == "__main__":
    main()
