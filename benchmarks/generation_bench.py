"""Generation, several ways, on one model object: the harness Runner (at the benchmark's batch
size and at its own ``auto`` one), a plain batched loop, the study's one-prompt-at-a-time loop
and lm-evaluation-harness's HF backend (at the benchmark's batch size and at a wide one, so the
harness is compared with lm-eval at the better of the two).

The harness side is the real path a user runs (plan -> pending prompts -> length-sorted
batches -> ``LoadedModel.generate`` -> store commit per batch) with a fresh SQLite store per
repeat. The model is loaded once through the plugin and then shared by every side, so all
four use the same weights, dtype, device, prompts, batch size and ``max_new_tokens``; model
load time is reported apart and never part of a ratio.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import cpu_seconds, log, median, ratio, rounded, sync, timed

from harness.context import make_context
from harness.plan import Plan
from harness.plugins import PluginHost
from harness.runner import Runner
from harness.store import Store
from harness.suite import Suite
from harness.types import Context, GenerationOutput, LoadedModel, ModelVariant, Prompt

DEMO_LANGS = ("en", "de", "es", "zh", "sw", "ht", "mr")


#: every side a generation benchmark can time (``run.py --sides`` picks a subset)
SIDES = ("harness", "harness_auto", "handloop", "per_prompt", "lm_eval", "lm_eval_wide")


@dataclass
class GenSpec:
    """One generation benchmark: which model, how many prompts, tokens, batch size, repeats."""

    model: str
    langs: tuple[str, ...]
    per_kind: int  # prompts per kind per language (demo-prompts has 10 of each)
    max_new_tokens: int
    batch_size: int
    repeats: int
    sides: tuple[str, ...] = SIDES
    wide_batch: int = 64  # lm-eval's second batch size (``lm_eval_wide``)
    extra: dict[str, Any] = field(default_factory=dict)


# ----------------------------------------------------------------- the harness side


class _TimedLoaded(LoadedModel):
    """The plugin's loaded model, kept open across repeats, timing its own generate calls."""

    def __init__(self, inner: LoadedModel) -> None:
        self.inner = inner
        self.generate_s = 0.0
        self.outputs: list[GenerationOutput] = []
        self.by_text: dict[str, str] = {}

    def generate(self, prompts: Sequence[Prompt]) -> list[GenerationOutput]:
        t0 = time.perf_counter()
        out = self.inner.generate(prompts)
        self.generate_s += time.perf_counter() - t0
        self.outputs.extend(out)
        self.by_text.update((p.text, o.response) for p, o in zip(prompts, out))
        return out

    def auto_batch_size(self, prompts: Sequence[Prompt]) -> int:
        return self.inner.auto_batch_size(prompts)

    def item_lengths(self, prompts: Sequence[Prompt]) -> list[int]:  # batches as a user's run cuts them
        return self.inner.item_lengths(prompts)

    def close(self) -> None:  # the benchmark closes the real model itself, after every side ran
        pass


class _Preloaded(ModelVariant):
    """Stands in for the registered variant so each repeat reuses the model already in memory."""

    def __init__(self, inner: ModelVariant, loaded: _TimedLoaded) -> None:
        self.inner, self.loaded = inner, loaded
        self.name, self.family, self.recipe = inner.name, inner.family, inner.recipe

    def fingerprint(self, ctx: Context) -> str:
        return self.inner.fingerprint(ctx)

    def load(self, ctx: Context) -> LoadedModel:
        return self.loaded


def bench_suite(spec: GenSpec) -> Suite:
    data = {
        "name": "bench",
        "seed": 0,
        "langs": list(spec.langs),
        "tier_scheme": "joshi",
        "generation": {"max_new_tokens": spec.max_new_tokens, "prompt_format": "raw", "do_sample": False},
        "models": {spec.model: {}},
        "sources": {"demo-prompts": {}},
    }
    return Suite(name="bench", path=None, data=data)


def bench_plan(host: PluginHost, suite: Suite, spec: GenSpec) -> Plan:
    """The plan the CLI would build for this suite, minus scorers (this benchmark only generates)."""
    scheme = host.tier_schemes[suite.tier_scheme]
    return Plan(suite, [spec.model], ["demo-prompts"], [], [], list(spec.langs), scheme,
                langs_by_source={"demo-prompts": list(spec.langs)})


def run_harness(host: PluginHost, plan: Plan, device: str, batch_size: int | str, limit: int,
                dtype: str = "auto") -> tuple[float, Runner]:
    """One full ``Runner.generate()`` into a fresh store; returns (wall seconds, runner)."""
    with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
        store = Store(Path(tmp) / "store.sqlite")
        runner = Runner(host, plan, store, device=device, dtype=dtype, batch_size=batch_size, limit=limit,
                        progress=False,
                        log=lambda m: None)
        sync(device)
        t0 = time.perf_counter()
        runner.generate()
        sync(device)
        seconds = time.perf_counter() - t0
        assert runner.stats.generated == len(runner.all_prompts()), "the harness skipped prompts"
        store.close()
    return seconds, runner


# ----------------------------------------------------------------- the other sides


def gen_config(tok: Any, max_new_tokens: int) -> Any:
    """The generation settings the harness plugin uses (greedy, same EOS/pad ids)."""
    from transformers import GenerationConfig

    return GenerationConfig(max_new_tokens=max_new_tokens, do_sample=False, num_beams=1,
                            eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
                            bos_token_id=tok.bos_token_id)


def count_new(ids: list[int], eos: int) -> int:
    """New tokens up to (not including) the first EOS, as the harness counts them."""
    return ids.index(eos) if eos in ids else len(ids)


def prompt_budget(model: Any, max_new_tokens: int) -> int:
    """Prompt tokens that fit beside the new ones (lm-eval and the plugin both cut prompts from the left)."""
    return max(8, int(model.config.max_position_embeddings) - max_new_tokens)


def handloop(model: Any, tok: Any, texts: list[str], batch_size: int, max_new_tokens: int, device: str,
             responses: dict[str, str] | None = None) -> list[int]:
    """A plain batched ``generate`` loop, prompts in their given order, left padding."""
    import torch

    cfg = gen_config(tok, max_new_tokens)
    tok.padding_side = tok.truncation_side = "left"
    budget = prompt_budget(model, max_new_tokens)
    counts: list[int] = []
    for i in range(0, len(texts), batch_size):
        enc = tok(texts[i : i + batch_size], return_tensors="pt", padding=True, truncation=True,
                  max_length=budget).to(device)
        with torch.inference_mode():
            out = model.generate(**enc, generation_config=cfg)
        new = out[:, enc["input_ids"].shape[1]:].tolist()
        tok.batch_decode(new, skip_special_tokens=True)
        counts.extend(count_new(ids, tok.eos_token_id) for ids in new)
        if responses is not None:  # the harness's response text: new tokens cut at the first EOS
            for text, ids in zip(texts[i : i + batch_size], new):
                responses[text] = tok.decode(ids[: count_new(ids, tok.eos_token_id)], skip_special_tokens=True)
    return counts


def per_prompt(model: Any, tok: Any, texts: list[str], max_new_tokens: int, device: str) -> list[int]:
    """The study's loop: one prompt, one ``generate`` call, one decode, next prompt."""
    import torch

    cfg = gen_config(tok, max_new_tokens)
    tok.truncation_side = "left"
    budget = prompt_budget(model, max_new_tokens)
    counts: list[int] = []
    for text in texts:
        enc = tok(text, return_tensors="pt", truncation=True, max_length=budget).to(device)
        with torch.inference_mode():
            out = model.generate(**enc, generation_config=cfg)
        new = out[0, enc["input_ids"].shape[1]:].tolist()
        tok.decode(new, skip_special_tokens=True)
        counts.append(count_new(new, tok.eos_token_id))
    return counts


def make_lm_eval(model: Any, tok: Any, batch_size: int, max_new_tokens: int) -> Any:
    """lm-eval's HF backend on the model object already in memory, counting the tokens it generates."""
    from lm_eval.models.huggingface import HFLM

    class CountingHFLM(HFLM):
        new_tokens = 0

        def _model_generate(self, context, max_length, stop, **kwargs):  # noqa: ANN001, ANN202
            out = super()._model_generate(context, max_length, stop, **kwargs)
            eos = self.tokenizer.eos_token_id
            self.new_tokens += sum(count_new(ids, eos) for ids in out[:, context.shape[1]:].tolist())
            return out

    return CountingHFLM(pretrained=model, tokenizer=tok, batch_size=batch_size, max_gen_toks=max_new_tokens)


def lm_eval_generate(lm: Any, texts: list[str], max_new_tokens: int) -> list[str]:
    """``generate_until`` with no stop string but EOS (lm-eval adds it), greedy, same token budget."""
    from lm_eval.api.instance import Instance

    kwargs = {"until": [], "max_gen_toks": max_new_tokens, "do_sample": False}
    reqs = [Instance(request_type="generate_until", doc={}, arguments=(t, dict(kwargs)), idx=i)
            for i, t in enumerate(texts)]
    return lm.generate_until(reqs, disable_tqdm=True)


# ----------------------------------------------------------------- the benchmark


def run_generation(host: PluginHost, spec: GenSpec, device: str) -> dict[str, Any]:
    """Time every side of ``spec.sides`` on the same loaded model; medians over ``spec.repeats``."""
    suite = bench_suite(spec)
    plan = bench_plan(host, suite, spec)
    variant = host.models[spec.model]
    ctx = make_context(host, suite, "models", spec.model, device=device, batch_size=spec.batch_size,
                       log=lambda m: log(f"  {spec.model}: {m}"))
    log(f"{spec.model}: loading through the plugin (device {device})")
    load_s, inner = timed(lambda: variant.load(ctx), device)
    loaded = _TimedLoaded(inner)
    model, tok = inner.model, inner.tokenizer  # type: ignore[attr-defined]
    host.registries["models"][spec.model] = _Preloaded(variant, loaded)
    try:
        texts_runner = Runner(host, plan, Store(":memory:"), limit=spec.per_kind, progress=False)
        prompts = texts_runner.all_prompts()
        texts = [p.text for p in prompts]
        auto_bs = _auto_batch(loaded, prompts)
        n, bs, m = len(texts), spec.batch_size, spec.max_new_tokens
        log(f"{spec.model}: {n} prompts, batch {bs}, {m} new tokens, {spec.repeats} repeat(s); warming up")
        # Warm-up: one short batch through each path (kernels, allocator, lazy imports).
        handloop(model, tok, texts[:bs], bs, min(m, 4), device)
        per_prompt(model, tok, texts[:1], min(m, 4), device)
        lms: dict[str, Any] = {}
        for side, size in (("lm_eval", bs), ("lm_eval_wide", spec.wide_batch)):
            if side in spec.sides:
                lms[side] = make_lm_eval(model, tok, size, m)
                lm_eval_generate(lms[side], texts[:size], min(m, 4))

        times: dict[str, list[float]] = {s: [] for s in spec.sides}
        tokens: dict[str, int] = {}
        hand_text: dict[str, str] = {}
        side_text: dict[str, dict[str, str]] = {}
        inner_s: list[float] = []
        cpu: dict[str, list[float]] = {s: [] for s in spec.sides}
        for r in range(spec.repeats):
            order = spec.sides[r % len(spec.sides):] + spec.sides[: r % len(spec.sides)]  # rotate against drift
            for side in order:
                c0 = cpu_seconds()
                if side in ("harness", "harness_auto"):
                    loaded.generate_s, loaded.outputs, loaded.by_text = 0.0, [], {}
                    seconds, _ = run_harness(host, plan, device, bs if side == "harness" else "auto", spec.per_kind)
                    if side == "harness":
                        inner_s.append(loaded.generate_s)
                    tokens[side] = sum(int(o.meta.get("n_new_tokens", 0)) for o in loaded.outputs)
                    side_text[side] = dict(loaded.by_text)
                elif side == "handloop":
                    seconds, counts = timed(lambda: handloop(model, tok, texts, bs, m, device, hand_text), device)
                    tokens[side] = sum(counts)
                elif side == "per_prompt":
                    seconds, counts = timed(lambda: per_prompt(model, tok, texts, m, device), device)
                    tokens[side] = sum(counts)
                elif side in lms:
                    lm = lms[side]
                    lm.new_tokens = 0
                    seconds, out = timed(lambda lm=lm: lm_eval_generate(lm, texts, m), device)
                    tokens[side] = lm.new_tokens
                    side_text[side] = dict(zip(texts, out))
                else:
                    raise ValueError(side)
                times[side].append(seconds)
                cpu[side].append(cpu_seconds() - c0)
                log(f"{spec.model}: repeat {r + 1}/{spec.repeats} {side}: {seconds:.2f}s")
    finally:
        host.registries["models"][spec.model] = variant
        inner.close()

    med = {s: median(v) for s, v in times.items()}
    full = n * m
    result: dict[str, Any] = {
        "model": spec.model,
        "device": device,
        "dtype": str(next(model.parameters()).dtype).replace("torch.", ""),
        "prompts": n,
        "languages": list(spec.langs),
        "batch_size": bs,
        "wide_batch": spec.wide_batch,
        "max_new_tokens": m,
        "repeats": spec.repeats,
        "load_s": rounded(load_s),
        "seconds": {s: rounded(v) for s, v in med.items()},
        "all_seconds": {s: [rounded(x) for x in v] for s, v in times.items()},
        "cpu_seconds": {s: rounded(median(v)) for s, v in cpu.items()},
        "new_tokens": tokens,
        "tokens_per_s": {s: rounded(tokens.get(s, full) / v, 1) for s, v in med.items() if v > 0},
        # Every path must do the same work: a path whose sequences stop early at EOS does less.
        "all_full_length": all(t == full for t in tokens.values()),
    }
    if inner_s:
        gen = median(inner_s)
        result["harness_generate_calls_s"] = rounded(gen)
        result["harness_overhead_s"] = rounded(med["harness"] - gen)
    h = med.get("harness")
    result["harness_vs_handloop"] = ratio(h, med.get("handloop"))
    result["per_prompt_vs_harness"] = ratio(med.get("per_prompt"), h)
    # Each tool at the better of its measured batch sizes: the harness's own choice (auto) or the
    # benchmark's; lm-eval at the benchmark's or the wide one.
    best_h = min((v for k, v in med.items() if k in ("harness", "harness_auto")), default=None)
    best_l = min((v for k, v in med.items() if k in ("lm_eval", "lm_eval_wide")), default=None)
    result["harness_vs_lm_eval"] = ratio(best_h, best_l)
    result["harness_vs_lm_eval_same_batch"] = ratio(h, med.get("lm_eval"))
    result["harness_auto_batch"] = auto_bs
    if hand_text:  # the fast path must give the plain loop's tokens
        for side, by_text in side_text.items():
            result[f"{side}_identical_to_handloop"] = rounded(
                sum(by_text.get(t) == r for t, r in hand_text.items()) / len(hand_text))
    lm_text = side_text.get("lm_eval_wide") or side_text.get("lm_eval")
    if lm_text:  # the harness's responses against lm-eval's, also when the plain loop is not measured
        for side in ("harness", "harness_auto"):
            if side in side_text:
                result[f"{side}_identical_to_lm_eval"] = rounded(
                    sum(side_text[side].get(t) == r for t, r in lm_text.items()) / len(lm_text))
    # The same ratios on process CPU time: steadier than wall time when other jobs share the cores.
    c = {s: median(v) for s, v in cpu.items()}
    result["cpu_time_ratios"] = {
        "harness_vs_handloop": ratio(c.get("harness"), c.get("handloop")),
        "per_prompt_vs_harness": ratio(c.get("per_prompt"), c.get("harness")),
        "harness_vs_lm_eval_same_batch": ratio(c.get("harness"), c.get("lm_eval")),
    }
    return result


def _auto_batch(loaded: LoadedModel, prompts: Sequence[Prompt]) -> int | None:
    try:
        return int(loaded.auto_batch_size(prompts))
    except Exception:  # noqa: BLE001 - a figure for the record, not a measurement
        return None
