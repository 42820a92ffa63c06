"""Two pieces that make batched CPU generation cheaper and, in half precision, batch-invariant.

- ``preallocated_cache``: a KV cache that writes into buffers sized once (prompt + new tokens)
  and hands attention views of exactly the filled length. transformers' default cache grows by
  ``torch.cat`` every step (a third of an fp32 decode step's time on 2 cores); the views have the
  same shapes and values, so tokens are the same bit for bit.
- ``ragged`` attention: each row attends over its own tokens only (left padding sliced away), so
  its attention is one (1, heads, its length, head_dim) call whatever the batch. bf16 SDPA over a
  padded row rounds differently from the same row unpadded (the reduction lanes shift), which
  flips a token now and then between batch sizes; linear layers in bf16 are row-invariant, so with
  ragged attention a row's tokens depend only on the row. Used for half dtypes; fp32 keeps SDPA,
  whose tokens already match across batch sizes and match the peers' (lm-evaluation-harness).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

RAGGED = "harness_ragged"
_PADS: ContextVar[list[int] | None] = ContextVar("harness_opt_pads", default=None)
_registered = False


def preallocated_cache(model: Any, capacity: int) -> Any:
    """A ``DynamicCache`` whose layers fill preallocated buffers instead of concatenating."""
    from transformers import DynamicCache
    from transformers.cache_utils import DynamicLayer

    class PreallocatedLayer(DynamicLayer):
        def __init__(self) -> None:
            super().__init__()
            self.filled = 0

        def update(self, key_states: Any, value_states: Any, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
            import torch

            if not self.is_initialized:
                self.dtype, self.device = key_states.dtype, key_states.device
                b, h, _, d = key_states.shape
                self.k_buf = torch.empty(b, h, capacity, d, dtype=key_states.dtype, device=key_states.device)
                self.v_buf = torch.empty_like(self.k_buf)
                self.is_initialized = True
            n = key_states.shape[-2]
            if self.filled + n > capacity:  # never expected: fall back to growing
                self.k_buf = torch.cat([self.k_buf[:, :, : self.filled], key_states], dim=-2)
                self.v_buf = torch.cat([self.v_buf[:, :, : self.filled], value_states], dim=-2)
            else:
                self.k_buf[:, :, self.filled : self.filled + n] = key_states
                self.v_buf[:, :, self.filled : self.filled + n] = value_states
            self.filled += n
            self.keys = self.k_buf[:, :, : self.filled]
            self.values = self.v_buf[:, :, : self.filled]
            return self.keys, self.values

    cache = DynamicCache(config=model.config)
    cache.layers = [PreallocatedLayer() for _ in cache.layers]
    return cache


def ragged_attention(module: Any, query: Any, key: Any, value: Any, attention_mask: Any, scaling: float = 1.0,
                     dropout: float = 0.0, **kwargs: Any) -> tuple[Any, None]:
    """Attention row by row over the row's real (unpadded) tokens; padded query positions get zeros."""
    import torch
    import torch.nn.functional as F

    pads = _PADS.get() or [0] * query.shape[0]
    b, h, q_len, d = query.shape
    kv_len = key.shape[-2]
    out = torch.zeros(b, q_len, h, d, dtype=query.dtype, device=query.device)
    for row in range(b):
        pad = pads[row]
        q_start = max(0, pad - (kv_len - q_len))  # query j sits at kv position kv_len - q_len + j
        q = query[row : row + 1, :, q_start:]
        k = key[row : row + 1, :, pad:]
        v = value[row : row + 1, :, pad:]
        n_q, n_k = q.shape[-2], k.shape[-2]
        mask = None
        if 1 < n_q < n_k:  # queries after a cached prefix: bottom-right aligned causal mask
            mask = torch.ones(n_q, n_k, dtype=torch.bool, device=q.device).tril(n_k - n_q)
        att = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=mask is None and n_q > 1,
                                             scale=scaling)
        out[row, q_start:] = att[0].transpose(0, 1)
    return out, None


def register_ragged() -> None:
    """Make ``ragged`` a transformers attention implementation (once per process)."""
    global _registered
    if not _registered:
        from transformers import AttentionInterface

        AttentionInterface.register(RAGGED, ragged_attention)
        _registered = True


@contextlib.contextmanager
def left_pads(pads: list[int]) -> Iterator[None]:
    """Tell ragged attention how many left-padding tokens each row of the current batch has."""
    token = _PADS.set(list(pads))
    try:
        yield
    finally:
        _PADS.reset(token)
