"""bf16 against fp32, side by side in one run: generation and reward scoring.

Generation: the harness path (Runner -> plugin ``generate`` -> store, the harness's own batch
size) on ``opt-350m-random`` loaded once in fp32 and once in bf16 (``--dtype bf16``), the two
sides alternating per repeat;
``bf16_gen_speedup`` = fp32 seconds / bf16 seconds, ``bf16_identical_responses`` = the share of
prompts whose bf16 response equals the fp32 one. Scoring: DeBERTa-v3-large (random weights)
scored one pair per forward pass in fp32 (the unbatched baseline of ``score_batched_speedup``)
against the harness's batched scorer in bf16; ``bf16_score_max_abs_diff`` is the largest
|bf16 - fp32| score over the pairs, and bf16 scores are checked for batch invariance.
"""

from __future__ import annotations

from typing import Any

from common import cpu_seconds, log, median, ratio, rounded, timed, timed_cpu


def run_bf16_generation(host: Any, spec: Any, device: str) -> dict[str, Any]:
    """``spec`` is a generation_bench.GenSpec; every side goes through the Runner into a fresh store."""
    from generation_bench import _Preloaded, _TimedLoaded, bench_plan, bench_suite, run_harness

    from harness.context import make_context
    from harness.dtypes import cpu_half_support
    from harness.run_options import RunOptions

    suite = bench_suite(spec)
    plan = bench_plan(host, suite, spec)
    variant = host.models[spec.model]
    loaded: dict[str, _TimedLoaded] = {}
    load_s: dict[str, float] = {}
    for dtype in ("float32", "bfloat16"):
        run = RunOptions.resolve(device=device, dtype=dtype, batch_size=spec.batch_size, log=lambda m: None)
        ctx = make_context(host, suite, "models", spec.model, run)
        log(f"bf16 generation: loading {spec.model} in {dtype}")
        load_s[dtype], inner = timed(lambda ctx=ctx: variant.load(ctx), device)
        loaded[dtype] = _TimedLoaded(inner)
        loaded[dtype].generate([p for p in _prompts(host, plan, spec)[: spec.batch_size]])  # warm-up
    times: dict[str, list[float]] = {d: [] for d in loaded}
    cpu: dict[str, list[float]] = {d: [] for d in loaded}
    responses: dict[str, list[str]] = {}
    try:
        for r in range(spec.repeats):
            for dtype in (("float32", "bfloat16") if r % 2 == 0 else ("bfloat16", "float32")):
                side = loaded[dtype]
                host.registries["models"][spec.model] = _Preloaded(variant, side)
                side.outputs = []
                c0 = cpu_seconds()
                seconds, runner = run_harness(host, plan, device, "auto", spec.per_kind, dtype=dtype)
                times[dtype].append(seconds)
                cpu[dtype].append(cpu_seconds() - c0)
                responses[dtype] = [o.response for o in side.outputs]
                log(f"bf16 generation: repeat {r + 1}/{spec.repeats} {dtype}: {seconds:.2f}s")
    finally:
        host.registries["models"][spec.model] = variant
        for side in loaded.values():
            side.inner.close()
    a, b = responses["float32"], responses["bfloat16"]
    med = {d: median(v) for d, v in times.items()}
    c = {d: median(v) for d, v in cpu.items()}
    return {
        "model": spec.model,
        "prompts": len(a),
        "max_new_tokens": spec.max_new_tokens,
        "batch_size": "auto",
        "repeats": spec.repeats,
        "cpu_bf16": cpu_half_support("bfloat16"),
        "load_s": {d: rounded(v) for d, v in load_s.items()},
        "seconds": {d: rounded(v) for d, v in med.items()},
        "all_seconds": {d: [rounded(x) for x in v] for d, v in times.items()},
        "cpu_seconds": {d: rounded(v) for d, v in c.items()},
        "bf16_gen_speedup": ratio(med["float32"], med["bfloat16"]),
        "bf16_gen_speedup_cpu_time": ratio(c["float32"], c["bfloat16"]),
        "bf16_identical_responses": rounded(sum(x == y for x, y in zip(a, b)) / max(1, len(a))),
    }


def _prompts(host: Any, plan: Any, spec: Any) -> list[Any]:
    from harness.run_options import RunOptions
    from harness.runner import Runner
    from harness.store import Store

    return Runner(host, plan, Store(":memory:"), RunOptions.resolve(limit=spec.per_kind), progress=False).all_prompts()


def run_bf16_scoring(device: str, quick: bool = False) -> dict[str, Any]:
    """Unbatched fp32 DeBERTa-v3-large against the harness's batched bf16 scorer, same pairs."""
    import copy

    import torch
    from harness_scorers.reward import REWARD_OPTIONS, LoadedRewardModel
    from scoring_bench import build_model, harness_scored, requests, unbatched

    from harness.dtypes import cpu_half_support

    n, repeats = (8, 1) if quick else (32, 2)
    log(f"bf16 scoring: building DeBERTa-v3-large (random weights) on {device}")
    model, tok = build_model(device)
    half = copy.deepcopy(model).to(torch.bfloat16).eval()
    options = dict(REWARD_OPTIONS)
    fp32 = LoadedRewardModel(model, tok, device, options)
    bf16 = LoadedRewardModel(half, tok, device, options)
    items = requests(n)
    batch = bf16.auto_batch_size(items)
    max_len = int(options["max_length"])
    warm = items[:1]
    unbatched(model, tok, warm, max_len, device)
    bf16.score(warm)
    t_u, t_b, t_f, c_u, c_b = [], [], [], [], []
    for r in range(repeats):
        s, c, ref = timed_cpu(lambda: unbatched(model, tok, items, max_len, device), device)
        t_u.append(s)
        c_u.append(c)
        s, c, got = timed_cpu(lambda: harness_scored(bf16, items, batch), device)
        t_b.append(s)
        c_b.append(c)
        s, batched32 = timed(lambda: harness_scored(fp32, items, batch), device)
        t_f.append(s)
        log(f"bf16 scoring: repeat {r + 1}/{repeats}: fp32 unbatched {t_u[-1]:.2f}s, fp32 harness {t_f[-1]:.2f}s, "
            f"bf16 harness {t_b[-1]:.2f}s")
    one_by_one = [v for it in items for v in harness_scored(bf16, [it], 1)]
    fp32.close()
    bf16.close()
    u, b, f = median(t_u), median(t_b), median(t_f)
    return {
        "model": "DeBERTa-v3-large architecture, random weights, local tokenizer",
        "pairs": n,
        "repeats": repeats,
        "batch_size": batch,
        "cpu_bf16": cpu_half_support("bfloat16"),
        "seconds": {"fp32_unbatched": rounded(u), "fp32_harness": rounded(f), "bf16_harness": rounded(b)},
        "cpu_seconds": {"fp32_unbatched": rounded(median(c_u)), "bf16_harness": rounded(median(c_b))},
        "bf16_score_speedup": ratio(u, b),
        "bf16_score_speedup_cpu_time": ratio(median(c_u), median(c_b)),
        "bf16_vs_fp32_harness_speedup": ratio(f, b),
        "bf16_score_max_abs_diff": rounded(max(abs(x - y) for x, y in zip(ref, got)), 6),
        "fp32_score_range": [rounded(min(ref)), rounded(max(ref))],
        "bf16_batch_invariant": one_by_one == got,
    }


def bf16_parts(parts: list[str], quick: bool, device: str, repeats: int | None) -> list[tuple[str, Any]]:
    """(detail name, thunk) for the bf16 parts that ``--parts`` asks for."""
    out: list[tuple[str, Any]] = []
    if "bf16gen" in parts:
        from generation_bench import DEMO_LANGS, GenSpec
        from random_variants import bench_host

        spec = (GenSpec("opt-350m-random", DEMO_LANGS[:1], 4, 8, 8, repeats or 1) if quick
                else GenSpec("opt-350m-random", DEMO_LANGS, 2, 50, 16, repeats or 1))
        out.append(("bf16_generation", lambda: run_bf16_generation(bench_host(), spec, device)))
    if "bf16score" in parts:
        out.append(("bf16_scoring", lambda: run_bf16_scoring(device, quick=quick)))
    return out


def bf16_and_identity_keys(details: dict[str, Any]) -> dict[str, Any]:
    """The headline keys of the bf16 parts and the 350m part's identity to the plain loop (None where a part
    did not run)."""
    gen, score = details.get("bf16_generation", {}), details.get("bf16_scoring", {})
    big = details.get("generation_350m", {})
    return {
        # the worse of the harness's two batch sizes: the packed engine must give the plain loop's tokens at both
        "harness_identical_to_handloop": min(
            (v for k in ("harness", "harness_auto") if (v := big.get(f"{k}_identical_to_handloop")) is not None),
            default=None),
        "bf16_gen_speedup": gen.get("bf16_gen_speedup"),
        "bf16_identical_responses": gen.get("bf16_identical_responses"),
        "bf16_score_speedup": score.get("bf16_score_speedup"),
        "bf16_score_max_abs_diff": score.get("bf16_score_max_abs_diff"),
    }
