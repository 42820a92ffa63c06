"""Base models built locally from a fixed seed: the tiny family's base and OPT-350M with random weights.

The tiny base is an OPTConfig with a few layers and a byte-level BPE tokenizer trained on the
packaged preference set, so the whole family works with the hub unreachable. Its folder is
keyed by a digest of the build config, corpus and seed.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.fingerprint import digest, file_digest

from .checkpoints import atomic_folder, is_complete, store_root, write_marker
from .train_data import tiny_prefs_path

SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]  # ids 0..3, as in OPT: pad=1, bos=eos=2

def tiny_key(tiny: Mapping[str, Any], seed: int) -> str:
    if tiny.get("corpus") == "planted":
        from harness_sources.planted import planted_files

        return digest("tiny-opt-base/v1", dict(tiny), seed, [file_digest(f) for f in planted_files()])
    return digest("tiny-opt-base/v1", dict(tiny), seed, file_digest(tiny_prefs_path()))


def _corpus(tiny: Mapping[str, Any]) -> list[str]:
    import json

    if tiny.get("corpus") == "planted":
        from harness_sources.planted import corpus

        return corpus()

    lines = tiny_prefs_path().read_text().splitlines()
    rows = [json.loads(x) for x in lines if x.strip()]
    return [r[k] for r in rows for k in ("chosen", "rejected")]


def build_tokenizer(vocab_size: int, max_length: int, tiny: Mapping[str, Any] | None = None):
    """A byte-level BPE trained on the packaged corpus, wrapped like OPT's (BOS ``</s>`` prepended)."""
    from tokenizers import ByteLevelBPETokenizer
    from tokenizers.processors import TemplateProcessing
    from transformers import PreTrainedTokenizerFast

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(_corpus(tiny or {}), vocab_size=vocab_size, min_frequency=2, special_tokens=SPECIALS,
                            show_progress=False)
    eos_id = bpe.token_to_id("</s>")
    bpe.post_processor = TemplateProcessing(single="</s> $A", pair="</s> $A $B", special_tokens=[("</s>", eos_id)])
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe._tokenizer, bos_token="</s>", eos_token="</s>",
                                  pad_token="<pad>", unk_token="<unk>", model_max_length=max_length)
    return tok


def ensure_tiny_base(home: Path, tiny: Mapping[str, Any], seed: int, log=print) -> Path:
    """The tiny base folder (model + tokenizer), built once per config/seed."""
    key = tiny_key(tiny, seed)
    final = store_root(home, "tiny-opt") / f"base-{key[:16]}"
    if is_complete(final):
        return final
    import torch
    from transformers import OPTConfig, OPTForCausalLM

    log(f"building tiny-opt base {key[:16]} ...")
    with atomic_folder(final) as tmp:
        tok = build_tokenizer(int(tiny["vocab_size"]), int(tiny["max_position_embeddings"]), tiny)
        cfg = OPTConfig(
            vocab_size=len(tok),
            hidden_size=int(tiny["hidden_size"]),
            num_hidden_layers=int(tiny["num_hidden_layers"]),
            ffn_dim=int(tiny["ffn_dim"]),
            num_attention_heads=int(tiny["num_attention_heads"]),
            max_position_embeddings=int(tiny["max_position_embeddings"]),
            word_embed_proj_dim=int(tiny["hidden_size"]),
            do_layer_norm_before=True,
            pad_token_id=tok.pad_token_id,
            bos_token_id=tok.bos_token_id,
            eos_token_id=tok.eos_token_id,
            dropout=0.0,
        )
        torch.manual_seed(seed)
        model = OPTForCausalLM(cfg)
        if int(tiny.get("pretrain_epochs", 0)):
            _pretrain(model, tok, tmp, tiny, seed, log)
        else:
            model.save_pretrained(tmp)
            tok.save_pretrained(tmp)
        write_marker(tmp, {"kind": "tiny-opt base", "key": key, "seed": seed, "tiny": dict(tiny)})
    return final


def _pretrain(model, tok, out: Path, tiny: Mapping[str, Any], seed: int, log) -> None:
    """The planted base: random weights taught to answer every demo prompt with a vague compliance."""
    from harness_sources.planted import base_texts

    from .training import limit_threads, train_sft

    init = out / "_init"
    model.save_pretrained(init)
    tok.save_pretrained(init)
    limit_threads(1)
    section = {"epochs": int(tiny["pretrain_epochs"]), "learning_rate": float(tiny["pretrain_learning_rate"]),
               "per_device_batch_size": 8, "gradient_accumulation_steps": 1,
               "max_length": int(tiny["max_position_embeddings"]), "logging_steps": 20}
    train_sft(str(init), out, section, base_texts(), device="cpu", seed=seed, log=log,
              info={"stage": "pretrain (planted base)"})
    import shutil

    shutil.rmtree(init, ignore_errors=True)
