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

Any other decoder-only architecture (llama, qwen2, gemma2, gpt_neox, ...) runs through its own
model forward with ``harness_rowwise_any`` attention, the model's own attention function (its
``eager`` or ``sdpa``, with its GQA, soft-capping and sliding window): in prefill on each row alone
with the row's causal mask; in decode once per layer for all rows of a cache capacity, each row
over its own slot with its own mask (``slots.py``: why that is still invariant). OPT keeps its
dedicated forward.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from .slots import PrefillBlock, SlotGroup, capacity, decode_mask, prefill_blocks

ROWWISE = "harness_rowwise"
ROWWISE_ANY = "harness_rowwise_any"
#: Prompt tokens packed into one prefill call (one GEMM of this many rows per linear layer).
PREFILL_TOKENS = 1024
#: The most memory the rows in flight may hold in KV caches: wide decode of short prompts, fewer
#: rows at once when prompts are long (64 rows of 2,000 tokens would need 25 GB on OPT-350M).
KV_BUDGET_BYTES = 4 << 30
_STEP: ContextVar[Step | None] = ContextVar("harness_opt_step", default=None)
_registered = False
_registered_any = False
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
    #: the generic path's cache: the row's group of equal capacity and its slot there
    group: SlotGroup | None = None
    slot: int = -1

    @property
    def position(self) -> int:
        """Position of the token decode feeds next (the last new one), which is also where its K/V go."""
        return len(self.prompt) + len(self.new) - 1


@dataclass
class Step:
    """What the attention function needs for one forward: the rows, and prefill or decode."""

    rows: list[Row]
    prefill: bool
    #: the model's own attention implementation name (generic path only: ``eager``, ``sdpa`` ...)
    native: str = ""
    #: generic decode: the slot groups, whose rows are ``rows`` in this order
    groups: list[SlotGroup] = field(default_factory=list)
    #: generic prefill: the chunk's rows by block (one attention call a layer each)
    blocks: list[PrefillBlock] = field(default_factory=list)
    _made: dict[Any, Any] = field(default_factory=dict)

    def slots_and_positions(self, group: SlotGroup) -> tuple[Any, Any]:
        """Slot indices 0..n-1 of ``group`` and its rows' positions (made once per step, for every layer)."""
        key = ("index", id(group))
        if key not in self._made:
            import torch

            self._made[key] = (torch.arange(len(group.rows)), torch.tensor([r.position for r in group.rows]))
        return self._made[key]

    def mask(self, group: SlotGroup, window: int | None, dtype: Any) -> Any:
        """``group``'s decode mask for layers with this window (made once per step)."""
        key = ("mask", id(group), window, dtype)
        if key not in self._made:
            self._made[key] = decode_mask(self.slots_and_positions(group)[1], group.capacity, window, dtype)
        return self._made[key]


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


def _native_attention(module: Any, native: str) -> Any:
    """The attention function the model would use: its ``eager_attention_forward`` or a registered one."""
    import sys

    from transformers import AttentionInterface

    eager = getattr(sys.modules[type(module).__module__], "eager_attention_forward", None)
    if native == "eager" or native not in AttentionInterface._global_mapping:
        if eager is None:
            raise RuntimeError(f"{type(module).__name__} has no eager attention to run row by row")
        return eager
    return AttentionInterface._global_mapping[native]


def _row_mask(query: Any, first: int, n_q: int, n_k: int, window: int | None, native: str) -> Any:
    """Additive causal mask of queries at positions first..first+n_q-1 over keys 0..n_k-1, with the
    model's sliding window when it has one; None when the attention needs none (one query that sees
    every key, or SDPA's own causal flag over a whole row), as the model itself would call it."""
    import torch

    whole = not window or n_k <= window
    if whole and (n_q == 1 or (native == "sdpa" and first == 0 and n_q == n_k)):
        return None

    q = torch.arange(first, first + n_q).unsqueeze(1)
    k = torch.arange(n_k).unsqueeze(0)
    allowed = k <= q
    if window:
        allowed = allowed & (q - k < window)
    if bool(allowed.all()):
        return None
    mask = torch.zeros(n_q, n_k, dtype=query.dtype)
    mask.masked_fill_(~allowed, torch.finfo(query.dtype).min)
    return mask.view(1, 1, n_q, n_k)


def rowwise_attention_any(module: Any, query: Any, key: Any, value: Any, attention_mask: Any, **kwargs: Any
                          ) -> tuple[Any, None]:
    """``rowwise_attention`` for any architecture: the model's own attention function, per row in prefill,
    per slot group in decode, each row over its own cache (K/V kept as the model hands them: before any
    GQA head repetition)."""
    import torch

    step = _STEP.get()
    if step is None:
        raise RuntimeError("rowwise attention runs only inside PackedGenerator")
    attend = _native_attention(module, step.native)
    window = kwargs.get("sliding_window")
    kw = {k: v for k, v in kwargs.items() if k not in ("position_ids", "cache_position")}
    layer = module.layer_idx
    b, h, q_len, _ = query.shape
    if step.prefill:  # per block of rows: each row's queries and keys padded with zeros to its prefill length
        out = query.new_zeros(b, q_len, h, value.shape[-1])
        q_all, k_all, v_all = query[0].transpose(0, 1), key[0].transpose(0, 1), value[0].transpose(0, 1)
        for blk in step.blocks:
            keys, values = blk.group.layer(layer, key, value)
            keys[blk.slots, :, blk.positions] = k_all[blk.src]
            values[blk.slots, :, blk.positions] = v_all[blk.src]
            q = query.new_zeros(blk.count, h, blk.length, query.shape[-1])
            q[blk.slots - blk.first, :, blk.positions] = q_all[blk.src]
            rows = slice(blk.first, blk.first + blk.count)
            att, _ = attend(module, q, keys[rows, :, : blk.length], values[rows, :, : blk.length],
                            _row_mask(query, 0, blk.length, blk.length, window, step.native), **kw)
            out[0, blk.src] = att[blk.slots - blk.first, blk.positions]
        return out, None
    outs, start = [], 0
    for group in step.groups:  # one call per group: every row over its whole slot, masked past its position
        n = len(group.rows)
        keys, values = group.layer(layer, key, value)
        slots, at = step.slots_and_positions(group)
        keys[slots, :, at] = key[start : start + n, :, 0]
        values[slots, :, at] = value[start : start + n, :, 0]
        att, _ = attend(module, query[start : start + n], keys[:n], values[:n], step.mask(group, window, query.dtype),
                        **kw)
        outs.append(att)
        start += n
    if start < b:  # filler rows that only make the GEMM wide enough
        outs.append(query.new_zeros(b - start, q_len, h, value.shape[-1]))
    return outs[0] if len(outs) == 1 else torch.cat(outs), None


def register_rowwise() -> None:
    """Make ``harness_rowwise`` a transformers attention implementation (once per process)."""
    global _registered
    if not _registered:
        from transformers import AttentionInterface

        AttentionInterface.register(ROWWISE, rowwise_attention)
        _registered = True


def register_rowwise_any() -> None:
    """Make ``harness_rowwise_any`` a transformers attention implementation (once per process)."""
    global _registered_any
    if not _registered_any:
        from transformers import AttentionInterface

        AttentionInterface.register(ROWWISE_ANY, rowwise_attention_any)
        _registered_any = True


def probe_weights(model: Any) -> list[Any]:
    """Every distinct linear shape of the first block and the output head: what the probe measures."""
    import torch

    blocks = next(m for m in model.modules() if isinstance(m, torch.nn.ModuleList))
    seen: dict[tuple[int, ...], Any] = {}
    for mod in blocks[0].modules():
        if isinstance(mod, torch.nn.Linear):
            seen.setdefault(tuple(mod.weight.shape), mod.weight)
    return [*seen.values(), model.get_output_embeddings().weight]


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
    """Greedy decoding for a transformers decoder-only model with packed prefill and per-row caches
    (OPT through its decoder's layers, any other architecture through its own model forward)."""

    def __init__(self, model: Any, eos_id: int | Collection[int] | None, width: int,
                 prefill_tokens: int = PREFILL_TOKENS, kv_budget_bytes: int = KV_BUDGET_BYTES) -> None:
        import torch

        self.model = model
        self.decoder = getattr(getattr(model, "model", None), "decoder", None)  # OPT's; None: the generic path
        self.eos = frozenset([eos_id] if isinstance(eos_id, int) else (eos_id or ()))
        self.width = max(1, width)
        self.prefill_tokens = prefill_tokens
        self.dtype = next(model.parameters()).dtype
        cfg = model.config
        if self.decoder is not None:
            per_token = 2 * cfg.num_hidden_layers * cfg.hidden_size * 4  # K and V of every layer, kept in fp32
            layer = self.decoder.layers[0]
            weights = [lin.weight for lin in (layer.self_attn.q_proj, layer.fc1, layer.fc2, model.lm_head)]
            self.attn = ROWWISE
            register_rowwise()
        else:
            heads = cfg.num_attention_heads
            head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // heads
            kv_heads = getattr(cfg, "num_key_value_heads", None) or heads
            per_token = 2 * cfg.num_hidden_layers * kv_heads * head_dim * self.dtype.itemsize
            weights = probe_weights(model)
            self.attn = ROWWISE_ANY
            register_rowwise_any()
        self.kv_budget_tokens = max(1, kv_budget_bytes // per_token)
        self.floor, self.small_ok = invariant_min_rows(weights)
        self.softcap = getattr(cfg, "final_logit_softcapping", None)
        self.native = ""
        self.groups: dict[int, SlotGroup] = {}  # generic path: rows in flight by cache capacity
        self.torch = torch

    def rows_for(self, m: int) -> int:
        """The GEMM row count to run ``m`` real rows at: ``m`` if invariant there, else the next size that is."""
        if m >= self.floor or m in self.small_ok:
            return m
        return min([s for s in self.small_ok if s > m] + [self.floor])

    def _forward(self, ids: Any, positions: Any, step: Step) -> Any:
        """The decoder's forward without its mask and cache machinery; hidden states out."""
        if self.decoder is None:
            step.native = self.native
            token = _STEP.set(step)
            try:
                return self.model.base_model(input_ids=ids, position_ids=positions, use_cache=False).last_hidden_state
            finally:
                _STEP.reset(token)
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
        logits = self.model.get_output_embeddings()(last_hidden)
        if self.softcap:  # the model's own final soft-capping (gemma2): monotonic, but ties follow the model
            logits = self.torch.tanh(logits / self.softcap) * self.softcap
        return logits[:m].argmax(dim=-1).tolist()

    def _prefill(self, rows: list[Row]) -> None:
        torch = self.torch
        step = Step(rows, prefill=True)
        if self.decoder is None:
            for r in rows:
                cap = capacity(len(r.prompt) + r.max_new)
                if cap not in self.groups:
                    self.groups[cap] = SlotGroup(cap)
                self.groups[cap].add(r)
            step.blocks = prefill_blocks(rows)
        ids = [t for r in rows for t in r.prompt]
        pos = [p for r in rows for p in range(len(r.prompt))]
        total = self.rows_for(len(ids))
        ids += [ids[0]] * (total - len(ids))  # filler tokens: attended by nobody, attend to nothing
        pos += [0] * (total - len(pos))
        hidden = self._forward(torch.tensor([ids]), torch.tensor([pos]), step)
        ends = []
        end = 0
        for r in rows:
            end += len(r.prompt)
            ends.append(end - 1)
        for r, tok in zip(rows, self._next_tokens(hidden[0, ends], len(rows))):
            r.new.append(tok)

    def _decode(self, rows: list[Row]) -> None:
        torch = self.torch
        step = Step(rows, prefill=False)
        if self.decoder is None:  # the rows in slot order, group after group (any order gives the same tokens)
            step.groups = [self.groups[c] for c in sorted(self.groups)]
            rows = step.rows = [r for g in step.groups for r in g.rows]
        m = len(rows)
        total = self.rows_for(m)
        ids = [r.new[-1] for r in rows] + [rows[0].new[-1]] * (total - m)
        pos = [r.position for r in rows] + [0] * (total - m)
        hidden = self._forward(torch.tensor(ids).unsqueeze(1), torch.tensor(pos).unsqueeze(1), step)
        for r, tok in zip(rows, self._next_tokens(hidden[:, 0], m)):
            r.new.append(tok)

    def _done(self, row: Row) -> bool:
        return len(row.new) >= row.max_new or bool(row.new and row.new[-1] in self.eos)

    def _running(self, active: list[Row]) -> list[Row]:
        """The rows still generating; a finished row's cache is freed at once, not at the end."""
        still = []
        for r in active:
            if self._done(r):
                r.keys, r.values = [], []
                if r.group is not None:
                    group = r.group
                    group.remove(r)
                    if not group.rows:
                        del self.groups[group.capacity]
            else:
                still.append(r)
        return still

    def _cache_tokens(self, row: Row) -> int:
        """Cache positions a row holds: its prompt and budget (the generic path: its slot's capacity)."""
        n = len(row.prompt) + row.max_new
        return n if self.decoder is not None else capacity(n)

    def _admit(self, pending: deque[Row], active: list[Row], width: int) -> None:
        """Prefill the next prompts into free slots, packed into chunks of at most ``prefill_tokens``."""
        chunk: list[Row] = []
        size = 0
        held = sum(self._cache_tokens(r) for r in active)
        while pending and len(active) + len(chunk) < width:
            need = self._cache_tokens(pending[0])
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
        self.native = before
        self.model.set_attn_implementation(self.attn)  # only for this call: the model stays usable by others
        try:
            self._run(pending, active, max(1, width or self.width))
        finally:
            self.model.set_attn_implementation(before)
            self.groups = {}
        return [r.new for r in rows]

    def _run(self, pending: deque[Row], active: list[Row], width: int) -> None:
        with self.torch.inference_mode():
            while pending or active:
                active = self._running(active)
                self._admit(pending, active, width)
                active = self._running(active)  # a first token can already end a row
                if active:
                    self._decode(active)
