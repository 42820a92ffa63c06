"""What every prompt source shares: options, seeded sampling, data-file lookup and gap filling.

A source implements ``native_languages`` and ``load_native``; this base adds the
languages a translator covers (option ``translate``), translates the pivot-language
prompts for those (same ``prompt_id``, ``meta.translated = True``) and fingerprints
data files plus options.
"""

from __future__ import annotations

import random
import re
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from harness.fingerprint import digest, file_digest
from harness.plan import first_per_kind
from harness.translation import get_translator
from harness.types import Context, HarnessError, Prompt, PromptSource

from .round_trip import round_trip

T = TypeVar("T")

#: Role prefixes of HH-style transcripts; translation keeps them and translates the rest.
_ROLE = re.compile(r"^(Human|Assistant):[ \t]?", re.S)


def natural_key(value: Hashable) -> tuple[int, Any]:
    """Sort ints numerically and everything else as text, so id order never depends on file order."""
    text = str(value)
    return (0, int(text)) if text.isdigit() else (1, text)


def seeded_sample(items: Sequence[T], n: int, seed: int, what: str) -> list[T]:
    """``random.Random(seed).sample(items, n)``; all items (in order) when n <= 0."""
    if n <= 0:
        return list(items)
    if n > len(items):
        raise HarnessError(f"{what}: asked for n={n} prompts but only {len(items)} are available")
    return random.Random(seed).sample(list(items), n)


def translate_texts(translator: Any, texts: Sequence[str], src: str, tgt: str) -> list[str]:
    """Translate paragraph by paragraph, keeping ``Human:``/``Assistant:`` markers untranslated."""
    pieces: list[list[tuple[str, str]]] = []
    bodies: list[str] = []
    for text in texts:
        parts = []
        for para in text.split("\n\n"):
            m = _ROLE.match(para)
            prefix, body = (m.group(0), para[m.end():]) if m else ("", para)
            parts.append((prefix, body))
            if body.strip():
                bodies.append(body)
        pieces.append(parts)
    unique = sorted(set(bodies))
    done = dict(zip(unique, translator.translate(unique, src, tgt))) if unique else {}
    return ["\n\n".join(p + (done[b] if b.strip() else b) for p, b in parts) for parts in pieces]


class BaseSource(PromptSource):
    """A prompt source with seeded sampling and translation of the languages it lacks."""

    #: Options every source understands; subclasses extend this mapping.
    common_options: dict[str, Any] = {"n": 50, "seed": None, "translate": "", "translate_from": "en",
                                      "round_trip": 8}
    default_options: dict[str, Any] = dict(common_options)

    # ------------------------------------------------------------------ to implement

    def native_languages(self, ctx: Context) -> list[str]:
        raise NotImplementedError

    def load_native(self, language: str, ctx: Context) -> list[Prompt]:
        raise NotImplementedError

    def data_files(self, language: str, ctx: Context) -> list[Path | str]:
        """Files (or hub ids as strings) behind ``load_native(language)``, for the fingerprint."""
        return []

    # ------------------------------------------------------------------ shared

    def opts(self, ctx: Context) -> dict[str, Any]:
        """Options with defaults filled in (the core merges too; unit tests may not)."""
        return {**self.default_options, **dict(ctx.options)}

    def seed(self, ctx: Context) -> int:
        value = self.opts(ctx).get("seed")
        return int(ctx.seed if value is None or value == "" else value)

    def n(self, ctx: Context) -> int:
        try:
            return int(self.opts(ctx).get("n") or 0)
        except (TypeError, ValueError) as exc:
            raise HarnessError(f"{self.name}: option n must be an integer") from exc

    def local(self, ctx: Context, *parts: str) -> Path | None:
        """The upstream-layout path under the data directory, or None when no data directory is set."""
        return Path(ctx.data_dir).joinpath(*parts) if ctx.data_dir else None

    def translator_name(self, ctx: Context) -> str:
        """Option ``translate``, else the suite's ``translator``; ``"none"`` turns gap filling off."""
        name = str(self.opts(ctx).get("translate") or (ctx.config or {}).get("translator") or "")
        return "" if name == "none" else name

    def languages(self, ctx: Context) -> list[str]:
        native = list(self.native_languages(ctx))
        name = self.translator_name(ctx)
        if not name:
            return native
        if name not in ctx.translators:
            valid = ", ".join(sorted(ctx.translators)) or "none registered"
            raise HarnessError(f"{self.name}: unknown translator {name!r} in option translate; valid: {valid}")
        extra = [c for c in ctx.translators[name].languages() if c not in native]
        return native + sorted(extra)

    def load(self, language: str, ctx: Context) -> list[Prompt]:
        native = self.native_languages(ctx)
        if language in native:
            return self.load_native(language, ctx)
        name = self.translator_name(ctx)
        if not name:
            raise HarnessError(
                f"source {self.name} has no {language!r} prompts (it covers {', '.join(native)}); "
                f"set {self.name}.translate=<translator> to translate them"
            )
        return self._load_translated(language, name, ctx)

    def _load_translated(self, language: str, name: str, ctx: Context) -> list[Prompt]:
        pivot = str(self.opts(ctx).get("translate_from") or "en")
        if pivot not in self.native_languages(ctx):
            raise HarnessError(f"{self.name}: translate_from={pivot!r} is not a language this source has")
        if language not in self.languages(ctx):
            raise HarnessError(f"translator {name} does not cover {language!r}")
        base = first_per_kind(self.load_native(pivot, ctx), ctx.limit)  # the run keeps only these
        translator = get_translator(ctx, name)
        originals = [p.text for p in base]
        try:
            texts = translate_texts(translator, originals, pivot, language)
            trip = round_trip(lambda back: translate_texts(translator, back, language, pivot), originals, texts,
                              int(self.opts(ctx).get("round_trip") or 0), {"translator": name, "pivot": pivot})
        finally:
            translator.close()
        note = (getattr(ctx.translators[name], "notes", None) or {}).get(language)
        extra = {**({"round_trip": trip} if trip else {}), **({"note": note} if note else {})}
        return [
            Prompt(
                source=p.source,
                prompt_id=p.prompt_id,
                language=language,
                kind=p.kind,
                text=t,
                meta={**p.meta, "translated": True, "translator": name, "translated_from": pivot, **extra},
            )
            for p, t in zip(base, texts)
        ]

    def fingerprint(self, language: str, ctx: Context) -> str:
        native = language in self.native_languages(ctx)
        lang = language if native else str(self.opts(ctx).get("translate_from") or "en")
        files = [f if isinstance(f, str) else file_digest(f) for f in self.data_files(lang, ctx)]
        translator = ""
        if not native and self.translator_name(ctx) in ctx.translators:
            translator = ctx.translators[self.translator_name(ctx)].fingerprint(ctx)
        seed = self.seed(ctx)
        return digest(self.name, language, files, self.opts(ctx), seed, translator)


def resolve_path(value: str, ctx: Context) -> Path:
    """A user path: absolute, or relative to the data directory when that holds it, else to the cwd."""
    path = Path(value).expanduser()
    if not path.is_absolute() and ctx.data_dir and (Path(ctx.data_dir) / path).exists():
        return Path(ctx.data_dir) / path
    return path


class ItemSource(BaseSource):
    """A source whose data is a list of items per language, keyed by an id shared across languages.

    Subclasses return ``(id, text, meta)`` triples from ``items`` (``meta["kind"]`` overrides
    the source's ``kind`` for mixed sources); sampling picks the same
    ids in every language (ids are sorted before a seeded sample), so parallel data stays parallel.
    """

    kind: str = "helpful"
    #: Prepended to item ids so ids never collide across sources; None means ``"<name>-"``.
    id_prefix: str | None = None

    def items(self, language: str, ctx: Context) -> list[tuple[str, str, dict[str, Any]]]:
        raise NotImplementedError

    def load_native(self, language: str, ctx: Context) -> list[Prompt]:
        items = sorted(self.items(language, ctx), key=lambda it: natural_key(it[0]))
        seed, n = self.seed(ctx), self.n(ctx)
        picked = seeded_sample(items, n, seed, f"{self.name} {language}")
        prefix = f"{self.name}-" if self.id_prefix is None else self.id_prefix
        return [
            Prompt(self.name, f"{prefix}{pid}", language, meta.get("kind", self.kind), text,
                   {**{k: v for k, v in meta.items() if k != "kind"}, "seed": seed, "n": n})
            for pid, text, meta in picked
        ]
