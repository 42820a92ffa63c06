"""How a (prompt, response) pair becomes model input: the sentence pair, truncated explicitly.

The OpenAssistant reward model's tokenizer reports ``model_max_length`` = 1e30, so nothing
would truncate by itself; we cut to ``max_length`` tokens, the response first and the
prompt only when it alone does not fit, and say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Part of every reward scorer's fingerprint: bump when the encoding below changes.
ENCODING_VERSION = "sentence-pair/v2: tokenizer(prompt, response); only_second then longest_first"


@dataclass(frozen=True)
class EncodedPair:
    input_ids: list[int]
    token_type_ids: list[int] | None
    truncated: bool
    n_tokens: int  # length before truncation, special tokens included


def encode_pair(tokenizer: Any, prompt: str, response: str, max_length: int) -> EncodedPair:
    """Encode one pair exactly as ``tokenizer(prompt, response)`` does, cut to ``max_length`` tokens.

    An empty response is what the tokenizer makes of ``text_pair=""``: the prompt alone.
    """
    enc = tokenizer(prompt, response)
    total = len(enc["input_ids"])
    if total > max_length:
        n_prompt = len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
        n_special = tokenizer.num_special_tokens_to_add(pair=True)
        # only_second cannot help when the prompt alone (plus one response token) overflows.
        strategy = "only_second" if n_prompt + n_special < max_length else "longest_first"
        enc = tokenizer(prompt, response, truncation=strategy, max_length=max_length)
    ids = list(enc["input_ids"])
    types = list(enc["token_type_ids"]) if "token_type_ids" in enc else None
    return EncodedPair(ids, types, truncated=total > max_length, n_tokens=total)


def bucket_length(n: int, multiple: int, max_length: int) -> int:
    """The padded length of a sequence of ``n`` tokens: the next multiple of ``multiple``, capped."""
    return min(max_length, -(-n // multiple) * multiple) if multiple > 0 else n
