"""Cached translation shared by sources (gap filling) and scorers (translate-test).

Translations are content-addressed in the store's cache: the key covers the
translator's fingerprint, both language codes and the text, so a re-run never
loads the translation model for text it has already translated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from .choices import unknown
from .context import split_resources
from .fingerprint import digest
from .types import Context, LoadedTranslator, Translator


class CachedTranslator:
    """Wraps a Translator: loads it lazily, on the first cache miss only."""

    def __init__(self, translator: Translator, ctx: Context) -> None:
        self.translator = translator
        self.ctx = ctx
        self.fingerprint = translator.fingerprint(ctx)
        self._loaded: LoadedTranslator | None = None
        self.namespace = f"translation:{self.fingerprint}"

    def _key(self, text: str, src: str, tgt: str) -> str:
        return digest(src, tgt, text)

    def translate(self, texts: Sequence[str], src: str, tgt: str) -> list[str]:
        if src == tgt:
            return list(texts)
        cache = self.ctx.cache
        keys = [self._key(t, src, tgt) for t in texts]
        out: list[str | None] = [cache.get(self.namespace, k) if cache else None for k in keys]
        missing = sorted({t for t, o in zip(texts, out) if o is None})
        if missing:
            if self._loaded is None:
                self._loaded = self.translator.load(self.ctx)
            done = self._loaded.translate(missing, src, tgt)
            fresh = {self._key(t, src, tgt): d for t, d in zip(missing, done)}
            if cache:
                cache.put_many(self.namespace, fresh)
            out = [o if o is not None else fresh[k] for o, k in zip(out, keys)]
        return [o for o in out if o is not None]

    def close(self) -> None:
        if self._loaded is not None:
            self._loaded.close()
            self._loaded = None


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
