"""Cached translation shared by sources (gap filling) and scorers (translate-test).

Translations are content-addressed in the store's cache: the key covers the
translator's fingerprint, both language codes and the text, so a re-run never
loads the translation model for text it has already translated.

A translation model is loaded at most once per process (``_LOADED``, keyed by its
fingerprint), however many sources, languages or scorers ask for it; the runner
frees them with ``release_translators()`` at the end of a run. Under ``plan_only()``
(``harness run --dry-run``) nothing is loaded: a cache miss is counted and answered
with a placeholder, so a plan can say how much is left to translate.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from .choices import unknown
from .context import split_resources
from .fingerprint import digest
from .types import Context, LoadedTranslator, Prompt, Translator

#: fingerprint -> the loaded model, shared by every CachedTranslator of this process.
_LOADED: dict[str, LoadedTranslator] = {}
#: Set by ``plan_only()``: texts that would be translated, counted instead (None: translate for real).
_PLAN_ONLY: dict[str, int] | None = None
#: How many times each translator was loaded in this process (tests and the manifest read it).
LOADS: dict[str, int] = {}


@contextlib.contextmanager
def plan_only() -> Iterator[dict[str, int]]:
    """Within this block translators load nothing; yields ``{translator name: texts to translate}``."""
    global _PLAN_ONLY
    previous, _PLAN_ONLY = _PLAN_ONLY, {}
    try:
        yield _PLAN_ONLY
    finally:
        _PLAN_ONLY = previous


def planning() -> bool:
    """True inside ``plan_only()``: translations are placeholders, so nothing should be measured on them."""
    return _PLAN_ONLY is not None


def planned_translations() -> int:
    """Texts counted so far by ``plan_only()`` (0 outside it)."""
    return sum(_PLAN_ONLY.values()) if _PLAN_ONLY is not None else 0


def release_translators() -> None:
    """Close every loaded translation model (the end of a run)."""
    while _LOADED:
        _, loaded = _LOADED.popitem()
        loaded.close()


class CachedTranslator:
    """Wraps a Translator: loads it lazily, on the first cache miss only, once per process."""

    def __init__(self, translator: Translator, ctx: Context) -> None:
        self.translator = translator
        self.ctx = ctx
        self.fingerprint = translator.fingerprint(ctx)
        self.namespace = f"translation:{self.fingerprint}"

    def _key(self, text: str, src: str, tgt: str) -> str:
        return digest(src, tgt, text)

    def _model(self) -> LoadedTranslator:
        loaded = _LOADED.get(self.fingerprint)
        if loaded is None:
            loaded = _LOADED[self.fingerprint] = self.translator.load(self.ctx)
            LOADS[self.translator.name] = LOADS.get(self.translator.name, 0) + 1
        return loaded

    def translate(self, texts: Sequence[str], src: str, tgt: str) -> list[str]:
        if src == tgt:
            return list(texts)
        cache = self.ctx.cache
        keys = [self._key(t, src, tgt) for t in texts]
        out: list[str | None] = [cache.get(self.namespace, k) if cache else None for k in keys]
        missing = sorted({t for t, o in zip(texts, out) if o is None})
        if missing and _PLAN_ONLY is not None:
            name = self.translator.name
            _PLAN_ONLY[name] = _PLAN_ONLY.get(name, 0) + len(missing)
            fresh = {self._key(t, src, tgt): f"[untranslated {src}->{tgt}] {t}" for t in missing}
            return [o if o is not None else fresh[k] for o, k in zip(out, keys)]
        if missing:
            done = self._model().translate(missing, src, tgt)
            fresh = {self._key(t, src, tgt): d for t, d in zip(missing, done)}
            if cache:
                cache.put_many(self.namespace, fresh)
            out = [o if o is not None else fresh[k] for o, k in zip(out, keys)]
        return [o for o in out if o is not None]

    def close(self) -> None:
        """Kept for callers that close after use; the model stays loaded for this process
        (``release_translators`` frees it), so the next language does not load it again."""


def translator_context(ctx: Context, name: str) -> Context:
    """The translator's own context: its ``default_options`` overlaid by the suite's
    ``[translators.NAME]``, not the options of the source or scorer that called it."""
    translator = ctx.translators[name]
    options = dict(getattr(translator, "default_options", {}) or {})
    options.update(dict(ctx.config.get("translators", {}).get(name, {}) or {}))
    options, resources = split_resources(options)
    return replace(ctx, options=options, resources=resources)


def get_translator(ctx: Context, name: str) -> CachedTranslator:
    """The named translator from ``ctx.translators``, cached through ``ctx.cache``."""
    if name not in ctx.translators:
        raise unknown("translator", name, ctx.translators)
    return CachedTranslator(ctx.translators[name], translator_context(ctx, name))


def translation_facts(prompts: Sequence[Prompt]) -> dict[str, Any]:
    """What a run's prompts say about their machine translation, for the manifest, plan and report.

    A source may put ``meta["round_trip"]`` (a dict: ``chrf``, ``n``, ``translator``, ``pivot``, or
    ``reason`` when it could not be measured) on the prompts it translated into a language, and
    ``meta["note"]`` (a sentence) on any prompt, e.g. where a translator's variety of a language is
    not a source's. Returns ``{"round_trip": [one dict per (source, language)], "notes": [...]}``.
    """
    trips: dict[tuple[str, str], dict[str, Any]] = {}
    notes: list[str] = []
    for p in prompts:
        trip = p.meta.get("round_trip")
        if isinstance(trip, dict) and (p.source, p.language) not in trips:
            trips[(p.source, p.language)] = {"source": p.source, "language": p.language, **trip}
        note = p.meta.get("note")
        if isinstance(note, str) and note and note not in notes:
            notes.append(note)
    return {"round_trip": list(trips.values()), "notes": notes}


def round_trip_lines(facts: Mapping[str, Any]) -> list[str]:
    """One sentence per language (its sources' figures), the weakest language first, then the notes."""
    by_lang: dict[str, list[dict[str, Any]]] = {}
    for trip in facts.get("round_trip") or []:
        by_lang.setdefault(str(trip["language"]), []).append(trip)

    def weakest(lang: str) -> tuple[float, str]:
        values = [t["chrf"] for t in by_lang[lang] if t.get("chrf") is not None]
        return (min(values) if values else float("inf"), lang)

    lines = []
    for lang in sorted(by_lang, key=weakest):
        parts = [
            f"{t['source']} {t['chrf']:.1f} ({t.get('pivot')}, {t.get('n')} prompts)" if t.get("chrf") is not None
            else f"{t['source']} not measured: {t.get('reason')}"
            for t in sorted(by_lang[lang], key=lambda t: str(t["source"]))
        ]
        translators = ", ".join(sorted({str(t.get("translator")) for t in by_lang[lang]}))
        lines.append(f"{lang} ({translators}): round-trip chrF {'; '.join(parts)}")
    return [*lines, *(f"note: {n}" for n in facts.get("notes") or [])]
