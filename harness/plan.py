"""Turning a suite plus CLI choices into a run plan.

The plan is the cross product model x (source, language) x scorer, restricted to
the languages each source covers. Requested languages that no chosen source covers
are kept in ``skipped`` so the plan can say so instead of silently dropping them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .choices import resolve_names, split_csv, unknown
from .plugins import PluginHost
from .suite import Suite
from .types import HarnessError, Prompt, TierScheme

UNTIERED = "untiered"


def tier_scheme(host: PluginHost, suite: Suite) -> TierScheme:
    """The suite's tier scheme: one defined in the suite's [tier_schemes.NAME], else a registered one."""
    name = suite.tier_scheme
    custom = suite.data.get("tier_schemes", {}).get(name)
    if isinstance(custom, dict):
        tiers_def = custom.get("tiers", {})
        if not isinstance(tiers_def, dict) or not tiers_def:
            raise HarnessError(f"suite {suite.name}: [tier_schemes.{name}] needs tiers = {{TIER = [codes]}}")
        mapping = {str(code): str(tier) for tier, codes in tiers_def.items() for code in codes}
        order = tuple(custom.get("order", list(tiers_def.keys())))
        return TierScheme(name=name, tiers=mapping, order=order, description=custom.get("description", ""))
    schemes = host.tier_schemes
    if name not in schemes:
        raise unknown("tier scheme", name, [*schemes, *suite.data.get("tier_schemes", {})])
    return schemes[name]


def expand_langs(tokens: list[str], scheme: TierScheme, known: set[str]) -> list[str]:
    """Tier names and language codes, mixed, to codes (order kept, duplicates dropped)."""
    tiers = set(scheme.tiers.values())
    out: list[str] = []
    for token in tokens:
        if token in tiers:
            codes = scheme.languages_in(token)
        elif token in known or token in scheme.tiers:
            codes = [token]
        else:
            raise unknown(
                f"language or tier (scheme {scheme.name}: tiers {', '.join(scheme.order)})",
                token,
                sorted(tiers | known),
            )
        out.extend(c for c in codes if c not in out)
    return out


@dataclass
class Plan:
    """Everything the runner needs, resolved: names, languages per source, options."""

    suite: Suite
    models: list[str]
    sources: list[str]
    scorers: list[str]
    stats: list[str]
    requested_langs: list[str]
    scheme: TierScheme
    langs_by_source: dict[str, list[str]] = field(default_factory=dict)
    skipped_langs: list[str] = field(default_factory=list)

    def tier_of(self, code: str) -> str:
        return self.scheme.tier_of(code) or UNTIERED

    def cells(self) -> list[tuple[str, str, str, str]]:
        return [
            (m, s, lang, sc)
            for m in self.models
            for s in self.sources
            for lang in self.langs_by_source.get(s, [])
            for sc in self.scorers
        ]

    def describe(self) -> dict[str, Any]:
        return {
            "suite": self.suite.name,
            "models": self.models,
            "sources": {s: self.langs_by_source.get(s, []) for s in self.sources},
            "scorers": self.scorers,
            "stats": self.stats,
            "requested_langs": self.requested_langs,
            "skipped_langs": self.skipped_langs,
            "tier_scheme": self.scheme.name,
            "tiers": {code: self.tier_of(code) for code in self.requested_langs},
        }


def first_per_kind(prompts: list[Prompt], limit: int | None) -> list[Prompt]:
    """The first ``limit`` prompts of each kind, in order (what ``--limit`` keeps); all when None."""
    if limit is None:
        return prompts
    seen: dict[str, int] = {}
    kept = []
    for p in prompts:
        if seen.get(p.kind, 0) < limit:
            kept.append(p)
            seen[p.kind] = seen.get(p.kind, 0) + 1
    return kept


def _pick(what: str, value: str | None, suite_names: list[str], registered: dict[str, Any]) -> list[str]:
    if value is not None and not split_csv(value):
        raise HarnessError(
            f"--{what}s is empty ({value!r}): give 'all' or NAME,NAME; valid: {', '.join(sorted(registered)) or 'none'}"
        )
    if value is None or value == "all":
        names = suite_names
    else:
        names = split_csv(value)
    names = resolve_names(what, names, registered)
    if not names:
        raise HarnessError(f"no {what}s selected: the suite lists none and none were given (--{what}s)")
    return names


def check_options(
    host: PluginHost, suite: Suite, models: list[str], sources: list[str], scorers: list[str], stats: list[str]
) -> None:
    """Every chosen component (and every translator the suite configures) checks its options, before any work."""
    for section, names in (("models", models), ("sources", sources), ("scorers", scorers), ("stats", stats)):
        for name in names:
            host.registries[section][name].check_options(suite.options(section, name))
    chosen = suite.data.get("translator")
    if chosen is not None and chosen not in host.translators:
        raise unknown("translator", str(chosen), host.translators)
    for name in suite.data.get("translators", {}):
        if name not in host.translators:
            raise unknown("translator", name, host.translators)
        host.translators[name].check_options(suite.options("translators", name))


def build_plan(
    host: PluginHost,
    suite: Suite,
    *,
    models: str | None = None,
    langs: str | None = None,
    sources: str | None = None,
    scorers: str | None = None,
    stats: str | None = None,
    context_for: Any = None,
) -> Plan:
    """Resolve names against the registries; ``context_for(section, name)`` gives a source its Context."""
    model_names = _pick("model", models, suite.models, host.models)
    source_names = _pick("source", sources, suite.sources, host.sources)
    scorer_names = _pick("scorer", scorers, suite.scorers, host.scorers)
    if stats is not None and not split_csv(stats):
        raise HarnessError(f"--stats is empty ({stats!r}): give NAME,NAME; valid: {', '.join(sorted(host.stats))}")
    stat_names = resolve_names("statistic", split_csv(stats) if stats else suite.stats, host.stats)
    check_options(host, suite, model_names, source_names, scorer_names, stat_names)
    scheme = tier_scheme(host, suite)
    if langs is not None and not split_csv(langs):
        tiers = sorted(set(scheme.tiers.values()))
        raise HarnessError(f"--langs is empty ({langs!r}): give tiers ({', '.join(tiers)}) or language codes")
    tokens = split_csv(langs) if langs is not None else suite.langs
    requested = expand_langs(tokens, scheme, set(host.languages))
    plan = Plan(suite, model_names, source_names, scorer_names, stat_names, requested, scheme)
    covered: set[str] = set()
    for name in source_names:
        ctx = context_for("sources", name) if context_for else None
        offered = set(host.sources[name].languages(ctx))
        plan.langs_by_source[name] = [c for c in requested if c in offered]
        covered.update(plan.langs_by_source[name])
    plan.skipped_langs = [c for c in requested if c not in covered]
    if not covered:
        raise HarnessError(
            f"none of the requested languages ({', '.join(requested) or 'none'}) is covered by the sources "
            f"{', '.join(source_names)}; see `harness sources --json` for what each covers"
        )
    return plan


def components_in_run(host: PluginHost, plan: Plan) -> dict[str, str]:
    """name -> section of every component the run uses: those chosen, a chosen variant's base
    (same family, recipe ``base``), and translators a chosen source or scorer names in its options."""
    used = {n: "models" for n in plan.models}
    used.update({n: "sources" for n in plan.sources})
    used.update({n: "scorers" for n in plan.scorers})
    used.update({n: "stats" for n in plan.stats})
    families = {getattr(host.models[m], "family", "") for m in plan.models} - {""}
    for name, obj in host.models.items():
        if getattr(obj, "recipe", "") == "base" and getattr(obj, "family", "") in families:
            used.setdefault(name, "models")
    if plan.suite.data.get("translator") in host.translators:
        used.setdefault(str(plan.suite.data["translator"]), "translators")
    for section in ("sources", "scorers"):
        for name in getattr(plan, section):
            obj = host.registries[section][name]
            opts = {**dict(getattr(obj, "default_options", {}) or {}), **plan.suite.options(section, name)}
            for value in opts.values():
                if isinstance(value, str) and value in host.translators:
                    used.setdefault(value, "translators")
    return used


def check_set_targets(host: PluginHost, plan: Plan, sets: list[str], top_keys: Any) -> None:
    """``--set NAME.key=v`` must name a component of this run (or one that feeds it): a typo or a
    component the run does not use would otherwise be ignored silently."""
    used = components_in_run(host, plan)
    sections = {"models", "sources", "scorers", "stats", "translators"}
    for assignment in sets:
        key = assignment.split("=", 1)[0].strip()
        parts = [p for p in key.split(".") if p]
        if not parts:
            continue
        if parts[0] in sections:
            if len(parts) < 2:
                continue
            name = parts[1]
        elif parts[0] in top_keys:
            continue
        else:
            name = parts[0]
        if name not in used:
            hint = unknown("", name, used).args[0].split(f"{name!r}", 1)[1]  # " (did you mean ...?); valid: ..."
            raise HarnessError(f"--set {key}: {name!r} is not in this run and feeds none of it{hint}")
