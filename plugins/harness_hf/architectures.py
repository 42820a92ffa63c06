"""Tiny random models of several transformers architectures, built locally with a chat template.

They make every architecture testable offline: the same byte-level BPE as the tiny OPT family
(``harness_opt.builders``) plus four chat tokens and a template in the style of the family
(Gemma's template rejects a system role, as the real one does). The folder is keyed by a
digest of the build config and seed, like the tiny OPT base.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness_opt.builders import build_tokenizer
from harness_opt.checkpoints import atomic_folder, is_complete, store_root, write_marker
from harness_opt.train_data import tiny_prefs_path

from harness.fingerprint import digest, file_digest

CHAT_TOKENS = ["<|system|>", "<|user|>", "<|assistant|>", "<|end|>"]
END = "<|end|>"

#: A generic chat template (system, user and assistant turns, each closed by <|end|>).
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}<|end|>{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
#: Gemma's shape: user/model turns, and a system turn is an error.
GEMMA_TEMPLATE = (
    "{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}"
    "{% for m in messages %}<|{{ 'assistant' if m['role'] == 'assistant' else 'user' }}|>"
    "{{ m['content'] }}<|end|>{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}"
)

#: model_type -> (transformers config class, extra config values, chat template)
ARCHITECTURES: dict[str, tuple[str, dict[str, Any], str]] = {
    "llama": ("LlamaConfig", {"num_key_value_heads": 2, "tie_word_embeddings": False}, CHAT_TEMPLATE),
    "qwen2": ("Qwen2Config", {"num_key_value_heads": 2, "tie_word_embeddings": False}, CHAT_TEMPLATE),
    "gemma2": ("Gemma2Config", {"num_key_value_heads": 2, "head_dim": 16, "sliding_window": 8,
                                "attn_logit_softcapping": 50.0, "final_logit_softcapping": 30.0}, GEMMA_TEMPLATE),
    "gpt_neox": ("GPTNeoXConfig", {"rotary_pct": 0.25, "use_parallel_residual": True}, CHAT_TEMPLATE),
}


def tiny_family(model_type: str) -> str:
    """The registered tiny family of an architecture (``gpt_neox`` -> ``tiny-gpt-neox``)."""
    return "tiny-" + model_type.replace("_", "-")


def tiny_key(tiny: Mapping[str, Any], seed: int) -> str:
    model_type = str(tiny.get("model_type", ""))
    _, extra, template = ARCHITECTURES.get(model_type, ("", {}, ""))
    return digest("tiny-hf-base/v1", dict(tiny), seed, extra, template, file_digest(tiny_prefs_path()))


def build_chat_tokenizer(vocab_size: int, max_length: int, template: str):
    """The tiny OPT tokenizer plus chat tokens and ``template``."""
    tok = build_tokenizer(vocab_size, max_length)
    tok.add_special_tokens({"additional_special_tokens": CHAT_TOKENS})
    tok.chat_template = template
    return tok


def build_tiny(tiny: Mapping[str, Any], seed: int):
    """(model, tokenizer) of ``tiny['model_type']`` with random weights from ``seed`` (fp32, CPU)."""
    import torch
    import transformers
    from transformers import AutoModelForCausalLM, GenerationConfig

    model_type = str(tiny.get("model_type", ""))
    if model_type not in ARCHITECTURES:
        from harness.choices import unknown

        raise unknown("tiny architecture (recipe tiny.model_type)", model_type, ARCHITECTURES)
    config_cls, extra, template = ARCHITECTURES[model_type]
    tok = build_chat_tokenizer(int(tiny["vocab_size"]), int(tiny["max_position_embeddings"]), template)
    values = {k: v for k, v in tiny.items() if k not in ("model_type", "vocab_size")}
    cfg = getattr(transformers, config_cls)(
        vocab_size=len(tok), pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id, **{**extra, **values})
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(cfg, dtype=torch.float32)
    model.generation_config = GenerationConfig(
        bos_token_id=tok.bos_token_id, pad_token_id=tok.pad_token_id,
        eos_token_id=[tok.eos_token_id, tok.convert_tokens_to_ids(END)])
    return model, tok


def ensure_tiny_base(home: Path, family: str, tiny: Mapping[str, Any], seed: int, log=print) -> Path:
    """The tiny base folder of ``family`` (model + tokenizer), built once per config and seed."""
    key = tiny_key(tiny, seed)
    final = store_root(home, family) / f"base-{key[:16]}"
    if is_complete(final):
        return final
    log(f"building {family} base {key[:16]} ...")
    with atomic_folder(final) as tmp:
        model, tok = build_tiny(tiny, seed)
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        write_marker(tmp, {"kind": f"{family} base", "key": key, "seed": seed, "tiny": dict(tiny)})
    return final
