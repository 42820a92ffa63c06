"""KV caches of rows in flight, grouped so that one attention call per layer serves many rows.

Why: calling the model's attention once per row and layer costs a decode step of 56 rows
1,344 calls (24 layers), each a parallel region of its own: on a shared CPU the threads wait
on each other more than they compute. Rows whose caches have the same *capacity* (prompt plus
token budget, rounded up by ``capacity``) share one K and one V tensor per layer, a row per slot,
so a decode step makes one call per layer and capacity group instead; a prefill chunk makes one
per block of its rows with consecutive slots and the same prefill length (``prefill_length``).

Batch invariance stays by construction: in decode a row attends over its whole slot (its
capacity, a function of the row alone), keys past its position masked; in prefill its queries
and keys are its prompt's, zero-padded to its prefill length, under the causal mask. The slot
holds zeros beyond the row's own tokens (zeroed when the row takes it), and the attention kernels
compute each batch element on its own. So a row's inputs to attention, and its bits, are the
same whatever rows share the call. Rows occupy slots 0..n-1 of their group (a finishing row's
slot takes the group's last row), so the group's tensors are passed as views, never gathered.
"""

from __future__ import annotations

from dataclasses import dataclass
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


def prefill_length(prompt: int, cap: int) -> int:
    """Keys and queries a row's prefill attends over: its prompt rounded up to 64 (a function of the row)."""
    return min(cap, -(-prompt // 64) * 64)


@dataclass
class PrefillBlock:
    """Rows of one prefill chunk that share a group, consecutive slots and a prefill length: one call a
    layer. ``src`` are their tokens' places in the packed sequence, ``slots``/``positions`` where they go."""

    group: SlotGroup
    first: int
    count: int
    length: int
    src: Any
    slots: Any
    positions: Any


def prefill_blocks(rows: list[Any]) -> list[PrefillBlock]:
    """The blocks of a chunk whose rows (in packed order) already hold their slots."""
    import torch

    runs: list[list[tuple[Any, int]]] = []
    lengths: list[int] = []
    open_runs: dict[tuple[int, int], int] = {}
    start = 0
    for row in rows:
        n = len(row.prompt)
        length = prefill_length(n, row.group.capacity)
        i = open_runs.get((id(row.group), length))
        if i is None or runs[i][-1][0].slot + 1 != row.slot:  # a new block when slots stop being consecutive
            i = open_runs[(id(row.group), length)] = len(runs)
            runs.append([])
            lengths.append(length)
        runs[i].append((row, start))
        start += n
    blocks = []
    for run, length in zip(runs, lengths):
        src = torch.cat([torch.arange(s, s + len(r.prompt)) for r, s in run])
        slots = torch.cat([torch.full((len(r.prompt),), r.slot) for r, _ in run])
        positions = torch.cat([torch.arange(len(r.prompt)) for r, _ in run])
        blocks.append(PrefillBlock(run[0][0].group, run[0][0].slot, len(run), length, src, slots, positions))
    return blocks
