"""Benchmarks of the harness against the alternatives, side by side in one run.

    python benchmarks/run.py [--device cpu|cuda] [--json] [--quick] [--parts ...]

Prints one JSON object at the end (with ``--json`` only that on stdout; progress on stderr):

- ``harness_vs_handloop``: the harness Runner's wall time to generate a fixed prompt set /
  a plain batched ``transformers`` ``generate`` loop's (same model object, prompts, batch
  size, dtype, ``max_new_tokens``; target <= 1.10);
- ``per_prompt_vs_harness``: the study's one-prompt-at-a-time loop / the harness (target >= 3 on CPU);
- ``harness_vs_lm_eval``: the harness / lm-evaluation-harness 0.4.13 HF ``generate_until``, each
  at the better of its measured batch sizes (the harness: the benchmark's and its own ``auto``;
  lm-eval: the benchmark's and a wide one), target <= 0.67; ``harness_vs_lm_eval_same_batch``
  both at the benchmark's batch size; ``harness_identical_to_handloop`` the share of responses
  equal to the plain loop's;
- ``score_batched_speedup``: unbatched reward scoring / the harness's batched scoring, on the
  DeBERTa-v3-large architecture with random weights and a locally built tokenizer;
- ``overhead_ms_per_row_1k``, ``overhead_ms_per_row_40k``: the runner's own cost per row on the
  fake suite (a model and scorer that cost nothing) at ~1,000 and ~40,000 rows (``overhead_bench.py``);
- ``cached_rerun_s``, ``peak_rss_mb``: a fully cached re-run of
  ``harness run --suite demo --models all --langs low,high`` in a temporary HARNESS_HOME
  (target <= 3 s), and the first run's peak resident memory;

- ``ray_overhead_one_replica``: ``--executor ray`` on one replica joining a running cluster / the
  local executor on the demo suite (target <= 1.10; ``ray_overhead_with_ray_start`` counts
  starting a local Ray instance too), and ``ray_rows_per_s_1_2_replicas`` on the fake suite with
  a simulated model cost (``scaleout_bench.py``; needs the ``distributed`` extra);

plus every raw figure behind them under ``details``. Generation is measured on
``opt-350m-random`` (the real OPT-350M architecture, random weights: the real model's cost) and
on ``tiny-opt`` (a tiny model, so the harness's own overhead shows); the headline ratios are
the OPT-350M ones, the tiny ones sit beside them as ``*_tiny``. Part ``llama350m`` measures
``llama-350m-random`` (a Llama architecture of OPT-350M's size, random weights, through the
general packed path) the same way: ``*_llama350m``. Model load time is reported,
never part of a ratio. Every side warms up once; figures are medians of the repeats.

``--quick`` shrinks every part to about a minute; ``--parts`` picks parts (tiny, 350m, llama350m, score, demo,
overhead, scaleout).
The machine's load average is recorded: on a shared CPU, ratios are steadier than seconds.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
import traceback
from typing import Any

from common import log, machine_facts, set_threads  # benchmarks/ is the script's folder: on the path

from harness.devices import resolve_device

PARTS = ("tiny", "350m", "llama350m", "score", "demo", "overhead", "bf16gen", "bf16score", "scaleout")
TARGETS = {
    "harness_vs_handloop": "<= 1.10",
    "per_prompt_vs_harness": ">= 3 (CPU)",
    "harness_vs_lm_eval": "<= 0.67",
    "bf16_gen_speedup": ">= 3",
    "bf16_score_speedup": ">= 3",
    "cached_rerun_s": "<= 3",
    "ray_overhead_one_replica": "<= 1.10",
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="cpu")
    p.add_argument("--json", action="store_true", help="only the JSON object on stdout")
    p.add_argument("--quick", action="store_true", help="small sizes: about a minute")
    p.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated subset of {','.join(PARTS)}")
    p.add_argument("--threads", type=int, default=2, help="torch threads for every side (and the demo run)")
    p.add_argument("--no-lm-eval", action="store_true", help="skip the lm-evaluation-harness side")
    p.add_argument("--repeats", type=int, default=None, help="override the repeats of every generation part")
    from generation_bench import SIDES

    p.add_argument("--sides", default=None,
                   help=f"comma-separated subset of the generation sides ({','.join(SIDES)}), e.g. "
                        "harness_auto,lm_eval_wide for the headline pair alone")
    args = p.parse_args(argv)
    wrong = [s for s in (args.sides or "").split(",") if s and s not in SIDES]
    if wrong:
        p.error(f"unknown side {wrong[0]!r}; sides: {', '.join(SIDES)}")
    return args


def gen_specs(quick: bool, device: str, no_lm_eval: bool, repeats: int | None,
              only: str | None = None) -> dict[str, Any]:
    specs = _gen_specs(quick, device, no_lm_eval, repeats)
    if not only:
        return specs
    keep = set(only.split(","))
    return {part: dataclasses.replace(spec, sides=tuple(s for s in spec.sides if s in keep))
            for part, spec in specs.items()}


def _gen_specs(quick: bool, device: str, no_lm_eval: bool, repeats: int | None) -> dict[str, Any]:
    from generation_bench import DEMO_LANGS, SIDES, GenSpec

    sides = tuple(s for s in SIDES if not (no_lm_eval and s.startswith("lm_eval")))
    no_loop = tuple(s for s in sides if s != "per_prompt")
    gpu = device.startswith("cuda")
    if quick:
        tiny = GenSpec("tiny-opt", DEMO_LANGS[:1], 8, 16, 8, repeats or 1, sides, wide_batch=16)
        big = GenSpec("opt-350m-random", DEMO_LANGS[:1], 2, 4, 4, repeats or 1, sides, wide_batch=8)
        llama = GenSpec("llama-350m-random", DEMO_LANGS[:1], 2, 4, 4, repeats or 1, sides, wide_batch=8)
    elif gpu:
        tiny = GenSpec("tiny-opt", DEMO_LANGS, 10, 50, 16, repeats or 3, sides)
        big = GenSpec("opt-350m-random", DEMO_LANGS, 10, 50, 16, repeats or 3, sides)
        llama = GenSpec("llama-350m-random", DEMO_LANGS, 10, 50, 16, repeats or 3, sides)
    else:  # the study's 50 new tokens on 7 languages' prompts (~12 minutes on 2 CPU cores); the
        # one-prompt loop is measured on the tiny model only (on OPT-350M it alone takes ~10 minutes)
        tiny = GenSpec("tiny-opt", DEMO_LANGS, 10, 50, 16, repeats or 3, sides)
        big = GenSpec("opt-350m-random", DEMO_LANGS, 4, 50, 16, repeats or 1, no_loop)
        llama = GenSpec("llama-350m-random", DEMO_LANGS, 4, 50, 16, repeats or 1, no_loop)
    return {"tiny": tiny, "350m": big, "llama350m": llama}


def headline(result: dict[str, Any]) -> dict[str, Any]:
    d = result["details"]
    big, tiny = d.get("generation_350m", {}), d.get("generation_tiny", {})
    out: dict[str, Any] = {}
    for key in ("harness_vs_handloop", "per_prompt_vs_harness", "harness_vs_lm_eval",
                "harness_vs_lm_eval_same_batch"):
        out[key] = big.get(key) if big.get(key) is not None else tiny.get(key)
        out[f"{key}_tiny"] = tiny.get(key)
    out["score_batched_speedup"] = d.get("scoring", {}).get("score_batched_speedup")
    out["cached_rerun_s"] = d.get("demo", {}).get("cached_rerun_s")
    out["peak_rss_mb"] = d.get("demo", {}).get("peak_rss_mb")
    scale = d.get("scaleout", {})
    out["ray_overhead_one_replica"] = scale.get("overhead_one_replica", {}).get("ray_joined_vs_local")
    out["ray_overhead_with_ray_start"] = scale.get("overhead_one_replica", {}).get("ray_local_instance_vs_local")
    out["ray_rows_per_s_1_2_replicas"] = [
        scale.get("replicas_fake", {}).get(f"replicas_{n}", {}).get("rows_per_s") for n in (1, 2)
    ]
    llama = d.get("generation_llama350m", {})
    for key in ("harness_vs_lm_eval", "harness_vs_lm_eval_same_batch", "harness_identical_to_handloop"):
        out[f"{key}_llama350m"] = llama.get(key)
    if big.get("tokens_per_s"):
        out["tokens_per_s_350m"] = big["tokens_per_s"].get("harness")
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    parts = [x.strip() for x in args.parts.split(",") if x.strip()]
    bad = [x for x in parts if x not in PARTS]
    if bad:
        print(f"unknown part(s) {', '.join(bad)}: use {', '.join(PARTS)}", file=sys.stderr)
        return 2
    set_threads(args.threads)
    device = resolve_device(args.device)
    t0 = time.perf_counter()
    result: dict[str, Any] = {"quick": args.quick, "parts": parts, "machine": machine_facts(device, args.threads),
                              "targets": TARGETS, "details": {}, "errors": {}}

    def attempt(name: str, fn) -> None:  # noqa: ANN001
        log(f"--- {name}")
        t = time.perf_counter()
        try:
            result["details"][name] = fn()
        except Exception as exc:  # noqa: BLE001 - one broken part must not hide the others' figures
            result["errors"][name] = f"{type(exc).__name__}: {exc}"
            traceback.print_exc(file=sys.stderr)
        log(f"--- {name} took {time.perf_counter() - t:.1f}s")

    host = None
    if any(p in parts for p in ("tiny", "350m", "llama350m")):
        from generation_bench import run_generation
        from random_variants import bench_host

        host = bench_host()  # the product's plugins and the benchmark-only random-weight variants
        specs = gen_specs(args.quick, device, args.no_lm_eval, args.repeats, args.sides)
        for part in ("tiny", "350m", "llama350m"):
            if part in parts:
                attempt(f"generation_{part}", lambda part=part: run_generation(host, specs[part], device))
    if "score" in parts:
        from scoring_bench import run_scoring

        attempt("scoring", lambda: run_scoring(device, quick=args.quick, gpu=device.startswith("cuda")))
    if "demo" in parts:
        from demo_bench import run_demo

        attempt("demo", lambda: run_demo(args.threads, device, quick=args.quick))
    if "overhead" in parts:
        from overhead_bench import run_overhead

        attempt("overhead", lambda: run_overhead((1000, 10000) if args.quick else (1000, 10000, 40000)))
    if "scaleout" in parts:
        from scaleout_bench import run_scaleout

        attempt("scaleout", lambda: run_scaleout(args.threads, quick=args.quick, repeats=args.repeats))

    if "bf16gen" in parts or "bf16score" in parts:
        from bf16_bench import bf16_parts

        for name, fn in bf16_parts(parts, args.quick, device, args.repeats):
            attempt(name, fn)

    result.update(headline(result))
    from bf16_bench import bf16_and_identity_keys

    result.update(bf16_and_identity_keys(result["details"]))
    from overhead_bench import overhead_keys

    result.update(overhead_keys(result["details"].get("overhead", {})))
    result["total_s"] = round(time.perf_counter() - t0, 1)
    ordered = {k: result[k] for k in result if k not in ("details", "errors", "machine", "targets")}
    ordered.update({k: result[k] for k in ("machine", "targets", "details", "errors")})
    text = json.dumps(ordered, indent=1, sort_keys=False)
    if not args.json:
        log("done; JSON follows")
    print(text)
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
