"""Loading a hub (or local) sequence-to-sequence translation checkpoint, shared by ``nllb`` and ``madlad``.

Both translators, and their offline stand-ins (the same code on a tiny local folder), load
through ``load_checkpoint``: one place turns an offline hub or a missing file into one line.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.types import Context, HarnessError


def load_checkpoint(name: str, model_id: str, revision: str, ctx: Context) -> tuple[Any, Any]:
    """(tokenizer, model in eval mode on the run's device) of a seq2seq checkpoint, in fp32."""
    try:
        import torch
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer
    except ImportError as exc:
        raise HarnessError(f"translator {name} needs the `ml` extra (torch, transformers)") from exc
    try:
        tok = AutoTokenizer.from_pretrained(model_id, revision=revision)
        model = AutoModelForSeq2SeqLM.from_pretrained(model_id, revision=revision, dtype=torch.float32)
    except Exception as exc:  # offline hub, missing files, missing sentencepiece ...
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise HarnessError(
            f"translator {name}: cannot load {model_id} (offline or not downloaded?): {first[:160]}"
        ) from exc
    model.to(ctx.device).eval()
    return tok, model


def language_code(name: str, codes: Mapping[str, str], lang: str) -> str:
    """Translator ``name``'s code for ``lang``; a language it does not cover is one line with "did you mean"."""
    if lang not in codes:
        from harness.choices import unknown

        raise unknown(f"language for translator {name}:", lang, codes)
    return codes[lang]


def token_id(tok: Any, token: str, name: str, lang: str) -> int:
    """The id of a language token, or a one-line error when the vocabulary lacks it."""
    tid = tok.convert_tokens_to_ids(token)
    if tid is None or tid == tok.unk_token_id:
        raise HarnessError(f"translator {name}: the tokenizer has no {token!r} token for language {lang!r}")
    return int(tid)


def coverage(codes: dict[str, str], xtreme_r: list[str]) -> dict[str, Any]:
    """The XTREME-R languages a translator covers and those it does not, with its own codes."""
    return {
        "xtreme_r_covered": {c: codes[c] for c in xtreme_r if c in codes},
        "xtreme_r_not_covered": [c for c in xtreme_r if c not in codes],
    }
