"""Greedy generation with no padding at all, whose tokens depend only on the row (CPU).

Why: a padded batch pays for its padding twice (prefill over pad tokens, decode attention over
them) and ties the decode width to the prefill batch. Here

- *prefill* packs whole prompts end to end into one sequence (``PREFILL_TOKENS`` at a time),
  each prompt attending only to itself, so no token is spent on padding and the GEMMs are large;
- *decode* runs up to ``width`` rows at once (one weight read per step for all of them; on a
  CPU a decode step is bound by reading the weights, so wider is cheaper per token), and a row
  that stops at EOS frees its slot for the next prompt at once (continuous batching);
- every row keeps its own KV cache and attends over it alone (one SDPA call per row), in fp32
  whatever the model's dtype (CPU SDPA runs 3-7x slower per call in bf16 than in fp32).

Batch invariance is by construction, not by luck: attention is per row, and on CPU a linear
layer gives every row the same bits whatever the other rows, provided the row count M of the
GEMM avoids the few small sizes where the BLAS takes another kernel (measured at load by
``invariant_min_rows``: on MKL, M in {4, 8} or M >= 12). Short calls are padded with copies of
their first row up to that size. So a row's tokens are the same at any width, in any chunk, in
any order, which is what lets the scheduler pack and refill freely.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

ROWWISE = "harness_rowwise"
#: Prompt tokens packed into one prefill call (one GEMM of this many rows per linear layer).
PREFILL_TOKENS = 1024
#: The most memory the rows in flight may hold in KV caches: wide decode of short prompts, fewer
#: rows at once when prompts are long (64 rows of 2,000 tokens would need 25 GB on OPT-350M).
KV_BUDGET_BYTES = 4 << 30
_STEP: ContextVar[Step | None] = ContextVar("harness_opt_step", default=None)
_registered = False
_PROBED: dict[Any, tuple[int, frozenset[int]]] = {}


@dataclass
class Row:
    """One prompt in flight: its tokens so far and, per layer, its own K and V buffers."""

    index: int
    prompt: list[int]
    max_new: int
    new: list[int] = field(default_factory=list)
    keys: list[Any] = field(default_factory=list)
    values: list[Any] = field(default_factory=list)

    @property
    def position(self) -> int:
        """Position of the token decode feeds next (the last new one), which is also where its K/V go."""
        return len(self.prompt) + len(self.new) - 1


@dataclass
class Step:
    """What the attention function needs for one forward: the rows, and prefill or decode."""

    rows: list[Row]
    prefill: bool


def rowwise_attention(module: Any, query: Any, key: Any, value: Any, attention_mask: Any, scaling: float = 1.0,
                      dropout: float = 0.0, **kwargs: Any) -> tuple[Any, None]:
    """Store this layer's new K/V in each row's cache and attend row by row over the row alone."""
    import torch
    import torch.nn.functional as F

    step = _STEP.get()
    if step is None:
        raise RuntimeError("rowwise attention runs only inside PackedGenerator")
    layer = module.layer_idx
    b, h, q_len, d = query.shape
    dtype = query.dtype
    if dtype != torch.float32:  # CPU SDPA in bf16/fp16 is 3-7x slower per call than in fp32 (measured):
        query, key, value = query.float(), key.float(), value.float()  # attend in fp32, caches in fp32
    if step.prefill:
        # one packed sequence: row r owns positions [start, start + len)
        out = torch.empty(b, q_len, h, d, dtype=query.dtype, device=query.device)
        start = 0
        for row in step.rows:
            n = len(row.prompt)
            cap = n + row.max_new
            k_buf = key.new_empty(1, h, cap, d)
            v_buf = value.new_empty(1, h, cap, d)
            k_buf[:, :, :n] = key[:, :, start : start + n]
            v_buf[:, :, :n] = value[:, :, start : start + n]
            row.keys.append(k_buf)
            row.values.append(v_buf)
            att = F.scaled_dot_product_attention(query[:, :, start : start + n], k_buf[:, :, :n], v_buf[:, :, :n],
                                                 is_causal=True, scale=scaling)
            out[0, start : start + n] = att[0].transpose(0, 1)
            start += n
        if start < q_len:  # filler rows that only make the GEMM wide enough
            out[0, start:] = 0
        return out.to(dtype), None
    outs = []
    for i, row in enumerate(step.rows):  # decode: one new token per row, appended to its cache
        at = row.position
        k_buf, v_buf = row.keys[layer], row.values[layer]
        k_buf[0, :, at] = key[i, :, 0]
        v_buf[0, :, at] = value[i, :, 0]
        outs.append(F.scaled_dot_product_attention(query[i : i + 1], k_buf[:, :, : at + 1], v_buf[:, :, : at + 1],
                                                   scale=scaling))
    if len(outs) < b:  # filler rows that only make the GEMM wide enough
        outs.append(query.new_zeros(b - len(outs), h, q_len, d))
    return torch.cat(outs).transpose(1, 2).to(dtype), None


def register_rowwise() -> None:
    """Make ``harness_rowwise`` a transformers attention implementation (once per process)."""
    global _registered
    if not _registered:
        from transformers import AttentionInterface

        AttentionInterface.register(ROWWISE, rowwise_attention)
        _registered = True


def invariant_min_rows(weights: Sequence[Any], probe: int = 40) -> tuple[int, frozenset[int]]:
    """The smallest M from which this machine's BLAS gives every row of linear layers with these weights the
    same bits as in a large GEMM, and the smaller sizes that also do. Measured on the model's own
    layers, because it depends on the BLAS, the CPU, the dtype and the shapes (so once per process
    for the same shapes and dtype)."""
    import torch
    import torch.nn.functional as F

    key = (probe, tuple((tuple(w.shape), str(w.dtype)) for w in weights))
    if key in _PROBED:  # the kernels depend on shapes and dtype, not values: one probe per process
        return _PROBED[key]
    g = torch.Generator().manual_seed(0)
    good = set(range(1, probe + 1))
    with torch.inference_mode():
        for weight in weights:
            w = weight[:4096]  # a vocabulary-sized head is probed on a slice: same kernels, less time
            x = torch.randn(probe + 64, w.shape[1], generator=g).to(w.dtype)
            full = F.linear(x, w)
            good = {m for m in good if all(torch.equal(F.linear(x[s : s + m], w), full[s : s + m])
                                           for s in (0, 5, 33))}
    floor = probe + 1
    for m in range(probe, 0, -1):
        if m not in good:
            break
        floor = m
    _PROBED[key] = (floor, frozenset(m for m in good if m < floor))
    return _PROBED[key]


class PackedGenerator:
    """Greedy decoding for a transformers OPT model with packed prefill and per-row caches."""

    def __init__(self, model: Any, eos_id: int | None, width: int, prefill_tokens: int = PREFILL_TOKENS,
                 kv_budget_bytes: int = KV_BUDGET_BYTES) -> None:
        import torch

        self.model = model
        self.decoder = model.model.decoder
        self.eos = eos_id
        self.width = max(1, width)
        self.prefill_tokens = prefill_tokens
        self.dtype = next(model.parameters()).dtype
        cfg = model.config
        per_token = 2 * cfg.num_hidden_layers * cfg.hidden_size * 4  # K and V of every layer, kept in fp32
        self.kv_budget_tokens = max(1, kv_budget_bytes // per_token)
        layer = self.decoder.layers[0]
        self.floor, self.small_ok = invariant_min_rows(
            [lin.weight for lin in (layer.self_attn.q_proj, layer.fc1, layer.fc2, model.lm_head)])
        register_rowwise()
        self.torch = torch

    def rows_for(self, m: int) -> int:
        """The GEMM row count to run ``m`` real rows at: ``m`` if invariant there, else the next size that is."""
        if m >= self.floor or m in self.small_ok:
            return m
        return min([s for s in self.small_ok if s > m] + [self.floor])

    def _forward(self, ids: Any, positions: Any, step: Step) -> Any:
        """The decoder's forward without its mask and cache machinery; hidden states out."""
        dec = self.decoder
        hidden = dec.embed_tokens(ids)
        pos = dec.embed_positions(None, 0, position_ids=positions)
        if dec.project_in is not None:
            hidden = dec.project_in(hidden)
        hidden = hidden + pos
        token = _STEP.set(step)
        try:
            for layer in dec.layers:
                hidden = layer(hidden, attention_mask=None, position_ids=positions)
        finally:
            _STEP.reset(token)
        if dec.final_layer_norm is not None:
            hidden = dec.final_layer_norm(hidden)
        if dec.project_out is not None:
            hidden = dec.project_out(hidden)
        return hidden

    def _next_tokens(self, last_hidden: Any, m: int) -> list[int]:
        """Greedy next token of the first ``m`` rows of ``last_hidden`` (padded to an invariant size)."""
        rows = self.rows_for(m)
        if rows > last_hidden.shape[0]:
            last_hidden = self.torch.cat([last_hidden, last_hidden[:1].expand(rows - last_hidden.shape[0], -1)])
        logits = self.model.lm_head(last_hidden)
        return logits[:m].argmax(dim=-1).tolist()

    def _prefill(self, rows: list[Row]) -> None:
        torch = self.torch
        ids = [t for r in rows for t in r.prompt]
        pos = [p for r in rows for p in range(len(r.prompt))]
        total = self.rows_for(len(ids))
        ids += [ids[0]] * (total - len(ids))  # filler tokens: attended by nobody, attend to nothing
        pos += [0] * (total - len(pos))
        hidden = self._forward(torch.tensor([ids]), torch.tensor([pos]), Step(rows, prefill=True))
        ends = []
        end = 0
        for r in rows:
            end += len(r.prompt)
            ends.append(end - 1)
        for r, tok in zip(rows, self._next_tokens(hidden[0, ends], len(rows))):
            r.new.append(tok)

    def _decode(self, rows: list[Row]) -> None:
        torch = self.torch
        m = len(rows)
        total = self.rows_for(m)
        ids = [r.new[-1] for r in rows] + [rows[0].new[-1]] * (total - m)
        pos = [r.position for r in rows] + [0] * (total - m)
        hidden = self._forward(torch.tensor(ids).unsqueeze(1), torch.tensor(pos).unsqueeze(1),
                               Step(rows, prefill=False))
        for r, tok in zip(rows, self._next_tokens(hidden[:, 0], m)):
            r.new.append(tok)

    def _done(self, row: Row) -> bool:
        return len(row.new) >= row.max_new or (self.eos is not None and row.new and row.new[-1] == self.eos)

    def _running(self, active: list[Row]) -> list[Row]:
        """The rows still generating; a finished row's cache is freed at once, not at the end."""
        still = []
        for r in active:
            if self._done(r):
                r.keys, r.values = [], []
            else:
                still.append(r)
        return still

    def _admit(self, pending: deque[Row], active: list[Row], width: int) -> None:
        """Prefill the next prompts into free slots, packed into chunks of at most ``prefill_tokens``."""
        chunk: list[Row] = []
        size = 0
        held = sum(len(r.prompt) + r.max_new for r in active)
        while pending and len(active) + len(chunk) < width:
            need = len(pending[0].prompt) + pending[0].max_new
            if (active or chunk) and held + need > self.kv_budget_tokens:
                break  # memory: wait for rows to finish (one row is always let in)
            held += need
            row = pending.popleft()
            if chunk and size + len(row.prompt) > self.prefill_tokens:
                self._prefill(chunk)
                active.extend(chunk)
                chunk, size = [], 0
            chunk.append(row)
            size += len(row.prompt)
        if chunk:
            self._prefill(chunk)
            active.extend(chunk)

    def generate(self, prompts: Sequence[list[int]], max_new_tokens: int, width: int | None = None) -> list[list[int]]:
        """New token ids per prompt (up to and including the first EOS), in the prompts' order, with at
        most ``width`` rows in flight (the generator's own width by default)."""
        rows = [Row(i, list(p), max_new_tokens) for i, p in enumerate(prompts)]
        if max_new_tokens <= 0:
            return [[] for _ in rows]
        # Longest first: long prompts are packed together, and the shortest fill the last slots.
        pending = deque(sorted(rows, key=lambda r: -len(r.prompt)))
        active: list[Row] = []
        before = self.model.config._attn_implementation
        self.model.set_attn_implementation(ROWWISE)  # only for this call: the model stays usable by others
        try:
            self._run(pending, active, max(1, width or self.width))
        finally:
            self.model.set_attn_implementation(before)
        return [r.new for r in rows]

    def _run(self, pending: deque[Row], active: list[Row], width: int) -> None:
        with self.torch.inference_mode():
            while pending or active:
                active = self._running(active)
                self._admit(pending, active, width)
                active = self._running(active)  # a first token can already end a row
                if active:
                    self._decode(active)
