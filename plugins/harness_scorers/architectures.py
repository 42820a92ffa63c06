"""The DeBERTa-v3 architecture, defined once: the OpenAssistant reward model's backbone.

The tiny offline reward model shrinks it; the benchmarks (scoring_bench.py, scoring_throughput.py) build the
full-size one with random weights to measure the real model's cost without its weights.
"""

from __future__ import annotations

from typing import Any

#: What makes a DeBERTa-v2 config a v3 one: relative attention with log buckets, no token types.
DEBERTA_V3_LAYOUT: dict[str, Any] = {
    "max_position_embeddings": 512,
    "relative_attention": True,
    "position_buckets": 256,
    "max_relative_positions": -1,
    "pos_att_type": ["p2c", "c2p"],
    "norm_rel_ebd": "layer_norm",
    "share_att_key": True,
    "position_biased_input": False,
    "type_vocab_size": 0,
}

#: microsoft/deberta-v3-large (as in its config.json), one output logit.
DEBERTA_V3_LARGE: dict[str, Any] = {
    **DEBERTA_V3_LAYOUT,
    "vocab_size": 128100,
    "hidden_size": 1024,
    "num_hidden_layers": 24,
    "num_attention_heads": 16,
    "intermediate_size": 4096,
    "pooler_hidden_size": 1024,
    "num_labels": 1,
}
