"""``madlad``: MADLAD-400 (``google/madlad400-3b-mt`` by default), a T5 told the target by a ``<2xx>`` prefix.

Apache-2.0 weights: the licence-free alternative to ``nllb`` (CC-BY-NC 4.0), at 3B parameters
(about 12 GB in fp32). Its codes are the BCP-47 ones of the MADLAD-400 paper (Kudugunta et al.
2023, tables 16-17): ISO 639-1 where one exists, ``fil`` for Tagalog/Filipino.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.fingerprint import digest
from harness.types import Context

from .languages import XTREME_R
from .nllb import NllbTranslator
from .seq2seq_hub import language_code, load_checkpoint, token_id
from .translators import Seq2SeqTranslator

#: ISO 639-1 -> MADLAD-400 code (the ``<2xx>`` token), for every XTREME-R language.
MADLAD_CODES: dict[str, str] = {c: ("fil" if c == "tl" else c) for c, *_ in XTREME_R}

MADLAD_NOTES: dict[str, str] = {
    "qu": "madlad's qu is Quechua as one macrolanguage (web text, no variety named); XCOPA's own Quechua is "
          "Eastern Apurimac (qve)",
    "tl": "madlad has no Tagalog token: tl is written and read as <2fil> (Filipino, the standard based on Tagalog)",
}


class MadladTranslator(NllbTranslator):
    """MADLAD-400 through transformers: ``<2xx> text`` in, the translation out (no forced token)."""

    name = "madlad"
    description = "MADLAD-400 3B MT (T5, <2xx> target prefix; all 50 XTREME-R languages; Apache-2.0 weights)"
    stand_in = "tiny-madlad"
    licence = "Apache-2.0"
    codes = MADLAD_CODES
    notes = MADLAD_NOTES
    default_options: dict[str, Any] = {**NllbTranslator.default_options, "model": "google/madlad400-3b-mt"}

    def fingerprint(self, ctx: Context) -> str:
        return digest("madlad/prefix", super().fingerprint(ctx))

    def load_from(self, model_id: str, revision: str, ctx: Context, o: dict[str, Any]) -> Seq2SeqTranslator:
        tok, model = load_checkpoint(self.name, model_id, revision, ctx)
        name, codes = self.name, self.codes

        def prefix(lang: str) -> str:
            token = f"<2{language_code(name, codes, lang)}>"
            token_id(tok, token, name, lang)  # a code the vocabulary lacks is an error, not silent garbage
            return token

        def encode(texts: Sequence[str], src: str, tgt: str) -> Any:
            head = prefix(tgt)
            return tok([f"{head} {t}" for t in texts], return_tensors="pt", padding=True, truncation=True,
                       max_length=int(o["max_length"]))

        return Seq2SeqTranslator(model, encode, None, lambda g: tok.batch_decode(g, skip_special_tokens=True),
                                 batch_size=int(o["batch_size"]), max_new_tokens=int(o["max_new_tokens"]),
                                 num_beams=int(o["num_beams"]), name=name)
