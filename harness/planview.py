"""The plan a user reads before paying for a run: ``harness run --dry-run`` and the opening of every run.

It is compact at any size (no line per cell): models, languages per tier, per source the
prompts per language and how many languages come from translation (and how many texts are
still to translate), scorers, the rows planned, the distinct generations and scores needed
and already cached, and an estimate of the work in tokens and, where an earlier run on this
machine measured a throughput, in seconds.
"""

from __future__ import annotations

from typing import Any

from .accounting import read_throughput
from .runner import Runner
from .translation import translation_facts

#: Rough characters per token for the token estimate (no tokenizer is loaded for a plan).
CHARS_PER_TOKEN = 4


def _range(values: list[int]) -> int | list[int]:
    return values[0] if len(set(values)) == 1 else [min(values), max(values)]


def plan_summary(runner: Runner, rehearsal: dict[str, str] | None = None) -> dict[str, Any]:
    """The plan as data (what ``--dry-run --json`` prints)."""
    plan = runner.plan
    prompts = runner.prompts()
    tiers: dict[str, list[str]] = {}
    covered = [c for c in plan.requested_langs if c not in plan.skipped_langs]
    for code in covered:
        tiers.setdefault(plan.tier_of(code), []).append(code)
    sources: dict[str, Any] = {}
    for source in plan.sources:
        langs = plan.langs_by_source.get(source, [])
        per_kind: dict[str, list[int]] = {}
        for lang in langs:
            counts: dict[str, int] = {}
            for p in prompts[(source, lang)]:
                counts[p.kind] = counts.get(p.kind, 0) + 1
            for kind, n in counts.items():
                per_kind.setdefault(kind, []).append(n)
        translated = [lang for lang in langs if any(p.meta.get("translated") for p in prompts[(source, lang)])]
        sources[source] = {
            "languages": langs,
            "prompts_per_language": {k: _range(v) for k, v in sorted(per_kind.items())},
            "translated_languages": translated,
            "texts_to_translate": sum(runner.translations_todo.get((source, lang), 0) for lang in langs),
        }
    work = runner.work()
    max_new = plan.suite.generation.get("max_new_tokens", 50)
    gen_tokens = sum(
        w["pending_chars"] // CHARS_PER_TOKEN + (w["needed"] - w["cached"]) * max_new for w in work["models"].values()
    )
    score_tokens = sum(
        w["pending_chars"] // CHARS_PER_TOKEN + (w["needed"] - w["cached"]) * max_new for w in work["scorers"].values()
    )
    measured = read_throughput()
    seconds: dict[str, float | None] = {}
    for section in ("models", "scorers"):
        for name, w in work[section].items():
            todo = w["needed"] - w["cached"]
            if not todo:
                continue
            device = runner.ctx(section, name).device
            speed = measured.get(f"{section}/{name}/{device}")
            seconds[name] = round(todo * speed["seconds"] / speed["items"], 1) if speed else None
    for model, w in work["models"].items():  # what a run would stop on, named before it starts
        if w["needed"] > w["cached"] and model not in runner.unavailable:
            reason = runner.host.models[model].is_available(runner.ctx("models", model))
            if reason:
                runner.unavailable[model] = reason
    known = [s for s in seconds.values() if s is not None]
    return {
        "suite": plan.suite.name,
        "rehearsal": {"stand_ins": rehearsal} if rehearsal else None,
        "models": plan.models,
        "languages": tiers,
        "skipped_languages": plan.skipped_langs,
        "sources": sources,
        "scorers": plan.scorers,
        "rows": runner.planned_rows(),
        "prompts": len(runner.all_prompts()),
        "generations": _counts(work["models"]),
        "scores": _counts(work["scorers"]),
        "unavailable": dict(runner.unavailable),
        "notes": translation_facts(runner.all_prompts())["notes"],  # e.g. a translator's variety of a language
        "estimate": {
            "generation_tokens": gen_tokens,
            "scoring_tokens": score_tokens,
            "seconds": seconds,
            # the sum over components with a measured speed; ``unmeasured`` names the others
            "total_seconds": round(sum(known), 1) if known else None,
            "unmeasured": [name for name, v in seconds.items() if v is None],
        },
    }


def _counts(per: dict[str, dict[str, int]]) -> dict[str, int]:
    needed = sum(w["needed"] for w in per.values())
    cached = sum(w["cached"] for w in per.values())
    return {"needed": needed, "cached": cached, "to_do": needed - cached}


def _kinds(per_kind: dict[str, Any]) -> str:
    def n(v: Any) -> str:
        return f"{v[0]}-{v[1]}" if isinstance(v, list) else str(v)

    return " + ".join(f"{n(v)} {k}" for k, v in per_kind.items()) or "no prompts"


def format_summary(s: dict[str, Any]) -> list[str]:
    """The plan as a few lines of text (the same content as the data)."""
    head = f"plan: suite {s['suite']}"
    if s["rehearsal"]:
        swaps = ", ".join(f"{a} -> {b}" for a, b in s["rehearsal"]["stand_ins"].items())
        head += f" (REHEARSAL with offline stand-ins: {swaps})"
    lines = [head, f"  models ({len(s['models'])}): {', '.join(s['models'])}"]
    n_langs = sum(len(v) for v in s["languages"].values())
    tiers = "; ".join(f"{t} ({len(c)}): {', '.join(c)}" for t, c in s["languages"].items())
    lines.append(f"  languages ({n_langs}): {tiers}")
    if s["skipped_languages"]:
        lines.append(f"  skipped (no chosen source covers them): {', '.join(s['skipped_languages'])}")
    all_langs = {c for codes in s["languages"].values() for c in codes}
    for name, src in s["sources"].items():
        every = set(src["languages"]) == all_langs and len(all_langs) > 1
        covers = "all" if every else ", ".join(src["languages"])
        line = (
            f"  source {name} ({len(src['languages'])} languages: {covers}): "
            f"{_kinds(src['prompts_per_language'])} per language"
        )
        if src["translated_languages"]:
            line += f"; {len(src['translated_languages'])} languages by translation"
            if src["texts_to_translate"]:
                line += f" ({src['texts_to_translate']} texts still to translate)"
        lines.append(line)
    lines.append(f"  scorers ({len(s['scorers'])}): {', '.join(s['scorers'])}")
    lines.append(
        f"  rows: {s['rows']} planned = {len(s['models'])} models x {s['prompts']} prompts x "
        f"{len(s['scorers'])} scorers"
    )
    est = s["estimate"]
    for what, tokens in (("generations", "generation_tokens"), ("scores", "scoring_tokens")):
        c = s[what]
        lines.append(
            f"  {what}: {c['needed']} distinct needed, {c['cached']} cached, {c['to_do']} to do "
            f"(~{est[tokens]:,} tokens)"
        )
    if est["seconds"] and not any(v is not None for v in est["seconds"].values()):
        lines.append("  time: no speed measured on this machine yet (every run records one)")
    elif est["seconds"]:
        parts = [f"{n} {'?' if v is None else f'{v:.0f}s'}" for n, v in est["seconds"].items()]
        more = " + the unmeasured ones" if est["unmeasured"] else ""
        lines.append(
            f"  time: ~{est['total_seconds']:.0f}s{more} ({', '.join(parts)}; "
            "from speeds measured on this machine, ? = none measured yet)"
        )
    for name, why in s["unavailable"].items():
        lines.append(f"  not available here: {name}: {why}")
    lines += [f"  note: {n}" for n in s.get("notes") or []]
    return lines
