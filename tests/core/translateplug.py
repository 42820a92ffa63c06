"""A test plugin with a translated fake source and a translator that returns one constant string.

Used with ``fakeplug`` (its languages, models and scorer) to test accounting when every
translated prompt has the same text.
"""

from __future__ import annotations

from fakeplug import LANGS, _log

from harness import LoadedTranslator, Prompt, PromptSource, Translator, hookimpl
from harness.fingerprint import digest


class TranslatedSource(PromptSource):
    """English prompts, translated into the other languages by the translator in option ``translate``."""

    name = "fake-translated"
    description = "Three English prompts of each kind, machine-translated into every other fake language"
    default_options = {"n": 3, "translate": "fake-constant"}

    def languages(self, ctx):
        return sorted(LANGS)

    def load(self, language, ctx):
        from harness.translation import get_translator

        n = int(ctx.options.get("n", 3))
        base = [(kind, i, f"{kind} english prompt {i}") for kind in ("harmful", "helpful") for i in range(n)]
        texts = [t for _, _, t in base]
        if language != "en":
            texts = get_translator(ctx, str(ctx.options["translate"])).translate(texts, "en", language)
        return [
            Prompt(self.name, f"{kind}-{i}", language, kind, text, {"translated": language != "en"})
            for (kind, i, _), text in zip(base, texts)
        ]

    def fingerprint(self, language, ctx):
        return digest(self.name, language, dict(ctx.options))


class _Constant(LoadedTranslator):
    def translate(self, texts, source_lang, target_lang):
        return ["the same text" for _ in texts]


class ConstantTranslator(Translator):
    """A translator that answers every input with one constant string (the worst case for accounting)."""

    name = "fake-constant"
    description = "returns one constant string for every input"

    def languages(self):
        return sorted(LANGS)

    def fingerprint(self, ctx):
        return digest(self.name)

    def load(self, ctx):
        _log("load translator fake-constant")
        return _Constant()



@hookimpl
def harness_register_sources(register):
    register(TranslatedSource())


@hookimpl
def harness_register_translators(register):
    register(ConstantTranslator())
