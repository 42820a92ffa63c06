"""KV caches of rows in flight, grouped so that one attention call per layer serves many rows.

Why: calling the model's attention once per row and layer costs a decode step of 56 rows
1,344 calls (24 layers), each a parallel region of its own: on a shared CPU the threads wait
on each other more than they compute. Rows whose caches have the same *capacity* (prompt plus
token budget, rounded up by ``capacity``) share one K and one V tensor per layer, a row per slot,
so a decode step makes one call per layer and capacity group instead.

Batch invariance stays by construction: a row attends over its whole slot (its capacity, a
function of the row alone), keys past its position masked; the slot holds zeros beyond the row's
own tokens (zeroed when the row takes it), and the attention kernels compute each batch element
on its own. So a row's inputs to attention, and its bits, are the same whatever rows share the
call. Rows occupy slots 0..n-1 of their group (a finishing row's slot takes the group's last
row), so the group's tensors are passed as views, never gathered.
"""

from __future__ import annotations

from typing import Any


def capacity(tokens: int) -> int:
    """Cache length for a row of ``tokens`` (prompt + new): a multiple of 128, or of an eighth of its
    power of two when longer (at most ~14% unused keys beyond 1,024 tokens; few distinct groups, so
    few calls: unused keys of short rows cost less than a call)."""
    step = max(128, (1 << (max(tokens, 1).bit_length() - 1)) // 8)
    return -(-tokens // step) * step


class SlotGroup:
    """Rows of one capacity: per layer a K and a V tensor ``[slots, kv_heads, capacity, head_dim]``."""

    def __init__(self, cap: int) -> None:
        self.capacity = cap
        self.rows: list[Any] = []
        self.slots = 0
        self.keys: dict[int, Any] = {}
        self.values: dict[int, Any] = {}

    def add(self, row: Any) -> None:
        """Give ``row`` the next slot (zeroed), growing every layer's tensors when full."""
        n = len(self.rows)
        if n == self.slots:
            self.slots = max(4, 2 * self.slots)
            for store in (self.keys, self.values):
                for layer, old in store.items():
                    new = old.new_zeros(self.slots, *old.shape[1:])
                    new[:n] = old[:n]
                    store[layer] = new
        else:
            for store in (self.keys, self.values):
                for t in store.values():
                    t[n].zero_()
        row.group, row.slot = self, n
        self.rows.append(row)

    def remove(self, row: Any) -> None:
        """Free ``row``'s slot: the group's last row moves into it, so slots stay 0..n-1."""
        last = len(self.rows) - 1
        s = row.slot
        if s != last:
            mover = self.rows[last]
            for store in (self.keys, self.values):
                for t in store.values():
                    t[s] = t[last]
            self.rows[s], mover.slot = mover, s
        self.rows.pop()
        row.group, row.slot = None, -1

    def layer(self, idx: int, key: Any, value: Any) -> tuple[Any, Any]:
        """This layer's K and V tensors, made (zeros, the shapes and dtype of ``key``/``value``) on first use."""
        if idx not in self.keys:
            self.keys[idx] = key.new_zeros(self.slots, key.shape[1], self.capacity, key.shape[-1])
            self.values[idx] = value.new_zeros(self.slots, value.shape[1], self.capacity, value.shape[-1])
        return self.keys[idx], self.values[idx]


def decode_mask(positions: Any, cap: int, window: int | None, dtype: Any) -> Any:
    """Additive mask ``[rows, 1, 1, cap]``: each row sees keys 0..position (the last ``window`` of them
    when the layer has a sliding window)."""
    import torch

    k = torch.arange(cap).unsqueeze(0)
    q = positions.unsqueeze(1)
    allowed = k <= q
    if window:
        allowed = allowed & (q - k < window)
    mask = torch.zeros(allowed.shape, dtype=dtype)
    mask.masked_fill_(~allowed, torch.finfo(dtype).min)
    return mask.view(-1, 1, 1, cap)
