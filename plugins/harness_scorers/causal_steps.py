"""Greedy next-token steps of a causal LM whose results do not depend on the batch.

Guards and judges read the logits of a few answer tokens. A row's logits must be the same bits
whatever rows share its batch, so, as for the reward model, a batch never runs as given: rows
are right-padded to a length that depends only on the row (the next multiple of ``multiple``),
grouped by that length and run in micro-batches of exactly ``micro_batch`` rows (a short one
filled with copies of its first row). Right padding leaves a causal row's last real position
untouched by the pads, so the logits read there are the row's own. Each step recomputes the
whole sequence (no cache), which keeps the shapes a function of the row alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from .encoding import bucket_length


@dataclass(frozen=True)
class Step:
    """One row's next-token facts: the greedy token and the log-probabilities of the watched tokens."""

    token: int
    watched: tuple[float, ...]


class FixedShapeSteps:
    """Next-token steps over a loaded causal LM (``model(input_ids, attention_mask).logits``)."""

    def __init__(self, model: Any, device: str, pad_id: int, micro_batch: int = 8, multiple: int = 32) -> None:
        self.model = model
        self.device = device
        self.pad_id = int(pad_id)
        self.micro_batch = max(1, int(micro_batch))
        self.multiple = int(multiple)

    def step(self, seqs: Sequence[Sequence[int]], watch: Sequence[int] = ()) -> list[Step]:
        """The greedy next token of every sequence and the log-probabilities of ``watch``."""
        import torch

        out: list[Step | None] = [None] * len(seqs)
        order = sorted(range(len(seqs)), key=lambda i: (len(seqs[i]), i))
        width = lambda i: bucket_length(len(seqs[i]), self.multiple, 1 << 30)  # noqa: E731
        watch_t = torch.tensor(list(watch), dtype=torch.long)
        for length, group in groupby(order, key=width):
            idx = list(group)
            for start in range(0, len(idx), self.micro_batch):
                chunk = idx[start : start + self.micro_batch]
                rows = chunk + [chunk[0]] * (self.micro_batch - len(chunk))
                ids = torch.full((len(rows), length), self.pad_id, dtype=torch.long)
                mask = torch.zeros((len(rows), length), dtype=torch.long)
                for r, i in enumerate(rows):
                    ids[r, : len(seqs[i])] = torch.tensor(list(seqs[i]), dtype=torch.long)
                    mask[r, : len(seqs[i])] = 1
                last = torch.tensor([len(seqs[i]) - 1 for i in rows])
                with torch.inference_mode():
                    picked = self.last_logits(ids.to(self.device), mask.to(self.device), last).float().cpu()
                logp = torch.log_softmax(picked, dim=-1)
                tokens = picked.argmax(dim=-1).tolist()
                watched = logp[:, watch_t].tolist() if len(watch) else [[] for _ in rows]
                for r, i in enumerate(chunk):
                    out[i] = Step(int(tokens[r]), tuple(float(v) for v in watched[r]))
        return [s for s in out if s is not None]

    def last_logits(self, ids: Any, mask: Any, last: Any) -> Any:
        """Next-token logits at each row's last real position only: the decoder's hidden state there
        through the output head (a 128k vocabulary over every position would not fit a batch)."""
        import torch

        base = getattr(self.model, getattr(self.model, "base_model_prefix", ""), None)
        head = self.model.get_output_embeddings()
        rows = torch.arange(ids.shape[0], device=ids.device)
        if base is None or head is None:
            return self.model(input_ids=ids, attention_mask=mask).logits[rows, last.to(ids.device)]
        hidden = base(input_ids=ids, attention_mask=mask).last_hidden_state
        logits = head(hidden[rows, last.to(ids.device)])
        cap = getattr(self.model.config, "final_logit_softcapping", None)
        return torch.tanh(logits / cap) * cap if cap else logits

    def greedy(
        self,
        seqs: Sequence[Sequence[int]],
        max_new: int,
        stop: Sequence[int] = (),
        done: Callable[[list[int]], bool] | None = None,
    ) -> list[list[int]]:
        """Greedy continuations of up to ``max_new`` tokens, each ending at a ``stop`` token (kept) or as
        soon as ``done(new tokens)`` says the answer is complete."""
        grown = [list(s) for s in seqs]
        new: list[list[int]] = [[] for _ in seqs]
        active = list(range(len(seqs)))
        stops = set(stop)
        for _ in range(max_new):
            if not active:
                break
            steps = self.step([grown[i] for i in active])
            still = []
            for i, st in zip(active, steps):
                grown[i].append(st.token)
                new[i].append(st.token)
                if st.token not in stops and not (done and done(new[i])):
                    still.append(i)
            active = still
        return new
