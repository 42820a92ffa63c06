"""``nllb``: NLLB-200 (``facebook/nllb-200-distilled-600M`` by default), the FLORES-200 codes.

It covers all 50 XTREME-R languages, Telugu, Basque, Haitian Creole, Wolof and Quechua
included, which M2M100 does not. Its weights are licensed CC-BY-NC 4.0: translations made with
it, and results built on them, are for non-commercial use (``madlad`` is Apache-2.0).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.fingerprint import digest
from harness.types import Context, LoadedTranslator, Translator

from .flores_codes import NLLB_CODES
from .languages import XTREME_R
from .seq2seq_hub import coverage, language_code, load_checkpoint, token_id
from .translators import Seq2SeqTranslator, translator_options

#: Where the translator's variety is not the one a source's own data uses (shown in the plan and report).
NLLB_NOTES: dict[str, str] = {
    "qu": "nllb writes and reads qu as quy_Latn, Ayacucho Quechua; XCOPA's own Quechua is Eastern Apurimac "
          "(qve): qu prompts translated by nllb and XCOPA's qu prompts are different varieties, and "
          "translate-test reads XCOPA's qu as Ayacucho",
}

LICENCE = "CC-BY-NC-4.0"


class NllbTranslator(Translator):
    """NLLB-200 through transformers: ``src_lang`` on the tokenizer, the target code forced first."""

    name = "nllb"
    description = "NLLB-200 distilled 600M (FLORES-200 codes; all 50 XTREME-R languages; CC-BY-NC 4.0 weights)"
    stand_in = "tiny-nllb"
    licence = LICENCE
    codes = NLLB_CODES
    notes = NLLB_NOTES
    default_options: dict[str, Any] = {
        "model": "facebook/nllb-200-distilled-600M", "revision": "main", "batch_size": 8,
        "max_new_tokens": 256, "num_beams": 1, "max_length": 512,
    }

    def languages(self) -> list[str]:
        return sorted(self.codes)

    def opts(self, ctx: Context) -> dict[str, Any]:
        return translator_options(self, ctx)

    def fingerprint(self, ctx: Context) -> str:
        o = self.opts(ctx)
        return digest(self.name, o["model"], o["revision"], o["max_new_tokens"], o["num_beams"], o["max_length"],
                      sorted(self.codes.items()))

    def load(self, ctx: Context) -> LoadedTranslator:
        o = self.opts(ctx)
        return self.load_from(str(o["model"]), str(o["revision"]), ctx, o)

    def load_from(self, model_id: str, revision: str, ctx: Context, o: dict[str, Any]) -> Seq2SeqTranslator:
        tok, model = load_checkpoint(self.name, model_id, revision, ctx)
        name, codes = self.name, self.codes

        def code(lang: str) -> str:
            return language_code(name, codes, lang)

        def encode(texts: Sequence[str], src: str, tgt: str) -> Any:
            tok.src_lang = code(src)  # NLLB layout: src_code tokens </s>
            return tok(list(texts), return_tensors="pt", padding=True, truncation=True,
                       max_length=int(o["max_length"]))

        return Seq2SeqTranslator(model, encode, lambda lang: token_id(tok, code(lang), name, lang),
                                 lambda g: tok.batch_decode(g, skip_special_tokens=True),
                                 batch_size=int(o["batch_size"]), max_new_tokens=int(o["max_new_tokens"]),
                                 num_beams=int(o["num_beams"]), name=name)

    def describe(self) -> dict[str, Any]:
        return {"licence": self.licence, "model": self.default_options.get("model"), "notes": dict(self.notes),
                **coverage(self.codes, [c for c, *_ in XTREME_R])}
