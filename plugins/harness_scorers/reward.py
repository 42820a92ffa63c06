"""Sequence-classification reward models (the DeBERTa reward model and any like it).

Input is the sentence pair ``tokenizer(prompt, response)`` as the OpenAssistant model card
does, truncated explicitly to ``max_length``; the score is the single logit.

Batch-size independence: on CPU and GPU a matrix product's rounding depends on its shape
(a 1-row batch takes a different kernel than an 8-row one; a longer padded length changes
reduction order). So the loaded model never runs the caller's batch as-is: it sorts the
items by length, pads each to a bucketed length (next multiple of ``pad_to_multiple_of``)
and runs fixed-shape micro-batches of exactly ``micro_batch`` rows (a short last chunk is
filled with copies of its first row, whose outputs are dropped). Every item therefore meets
the same shapes whatever the batch size, and scores are identical bit for bit.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from itertools import groupby
from pathlib import Path
from typing import Any

from harness.dtypes import component_dtype
from harness.fingerprint import digest
from harness.types import Context, HarnessError, LoadedScorer, ScoreOutput, Scorer, ScoreRequest

from .encoding import ENCODING_VERSION, EncodedPair, bucket_length, encode_pair
from .resolve import ResolvedModel, offline, resolve_model

DEFAULT_REWARD_MODEL = "OpenAssistant/reward-model-deberta-v3-large-v2"

REWARD_OPTIONS: Mapping[str, Any] = {
    "model": DEFAULT_REWARD_MODEL,
    "revision": None,
    "max_length": 512,
    "micro_batch": 8,
    "pad_to_multiple_of": 32,
    "dtype": "auto",
    "trust_remote_code": False,
}


def checkpoint_dtype(resolved: ResolvedModel) -> str | None:
    """The dtype a local checkpoint's config.json declares (what ``auto`` means on a GPU)."""
    if resolved.dtype:
        return resolved.dtype
    config = Path(resolved.source) / "config.json"
    if not config.is_file():
        return None
    data = json.loads(config.read_text(encoding="utf-8"))
    return data.get("dtype") or data.get("torch_dtype")


def scorer_dtype(option: Any, ctx: Context, resolved: ResolvedModel) -> str:
    """The scorer's ``dtype`` option when set, else the run's ``--dtype`` (fp32 on CPU under auto)."""
    device = ctx.device
    return component_dtype(None if option is None else str(option), ctx.dtype, device, checkpoint_dtype(resolved))


class LoadedRewardModel(LoadedScorer):
    """A reward model in memory, scoring in fixed-shape micro-batches (see module docstring)."""

    def __init__(self, model: Any, tokenizer: Any, device: str, options: Mapping[str, Any]) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.device = device
        self.max_length = int(options["max_length"])
        self.micro_batch = max(1, int(options["micro_batch"]))
        self.multiple = int(options["pad_to_multiple_of"])
        pad = tokenizer.pad_token_id
        self.pad_id = int(pad if pad is not None else 0)

    def encode(self, items: Sequence[ScoreRequest]) -> list[EncodedPair]:
        return [encode_pair(self.tokenizer, it.prompt, it.response, self.max_length) for it in items]

    def auto_batch_size(self, items: Sequence[ScoreRequest]) -> int:
        """Large runner batches: within one, rows are grouped by padded length, so the fewer the
        batches the fewer part-filled micro-batches (padded with copies for exact invariance)."""
        return self.micro_batch * 32

    def score(self, items: Sequence[ScoreRequest]) -> list[ScoreOutput]:
        encoded = self.encode(items)
        values = self.score_encoded(encoded)
        return [ScoreOutput(v, {"truncated": e.truncated, "n_tokens": e.n_tokens}) for v, e in zip(values, encoded)]

    def score_encoded(self, encoded: Sequence[EncodedPair]) -> list[Any]:
        import torch

        order = sorted(range(len(encoded)), key=lambda i: (len(encoded[i].input_ids), i))
        out: list[Any] = [0.0] * len(encoded)

        def bucket(i: int) -> int:
            return bucket_length(len(encoded[i].input_ids), self.multiple, self.max_length)

        for length, group in groupby(order, key=bucket):
            idx = list(group)
            for start in range(0, len(idx), self.micro_batch):
                chunk = idx[start : start + self.micro_batch]
                rows = chunk + [chunk[0]] * (self.micro_batch - len(chunk))
                batch = self._tensors([encoded[i] for i in rows], length)
                with torch.inference_mode():
                    logits = self.model(**{k: v.to(self.device) for k, v in batch.items()}).logits
                for i, v in zip(chunk, self.reduce(logits)):
                    out[i] = v
        return out

    def reduce(self, logits: Any) -> list[Any]:
        """One value per row of a micro-batch's logits: the reward model's single logit."""
        return [float(v) for v in logits[:, 0].float().cpu().tolist()]

    def _tensors(self, rows: Sequence[EncodedPair], length: int) -> dict[str, Any]:
        import torch

        ids = torch.full((len(rows), length), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), length), dtype=torch.long)
        types = torch.zeros((len(rows), length), dtype=torch.long)
        for r, e in enumerate(rows):  # right padding: reward models pool the first token
            n = len(e.input_ids)
            ids[r, :n] = torch.tensor(e.input_ids)
            mask[r, :n] = 1
            if e.token_type_ids is not None:
                types[r, :n] = torch.tensor(e.token_type_ids)
        batch = {"input_ids": ids, "attention_mask": mask}
        if rows and rows[0].token_type_ids is not None:
            batch["token_type_ids"] = types
        return batch

    def close(self) -> None:
        self.model = None
        self.tokenizer = None


def load_reward_model(
    resolved: ResolvedModel,
    ctx: Context,
    options: Mapping[str, Any],
    loaded_cls: type[LoadedRewardModel] = LoadedRewardModel,
    num_labels: int | None = 1,
    tokenizer_source: str | None = None,
) -> LoadedRewardModel:
    """Load tokenizer and weights in the resolved dtype; HarnessError when the weights cannot be reached.

    A classifier with several labels (a guard's head) passes its own ``loaded_cls`` and ``num_labels=None``;
    ``tokenizer_source`` is for checkpoints published without their tokenizer."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    device = ctx.device
    kwargs: dict[str, Any] = {"trust_remote_code": bool(options.get("trust_remote_code", False))}
    if resolved.revision:
        kwargs["revision"] = resolved.revision
    try:
        tokenizer = AutoTokenizer.from_pretrained(tokenizer_source or resolved.source, **kwargs)
        model = AutoModelForSequenceClassification.from_pretrained(
            resolved.source, dtype=getattr(torch, scorer_dtype(options.get("dtype"), ctx, resolved)), **kwargs
        )
    except HarnessError:
        raise
    except (OSError, ValueError) as exc:
        where = " (HF_HUB_OFFLINE=1)" if offline() else ""
        raise HarnessError(
            f"cannot load reward model {resolved.source}{where}: {str(exc).splitlines()[0][:200]}"
        ) from None
    if num_labels is not None and model.config.num_labels != num_labels:
        raise HarnessError(f"{resolved.source} has {model.config.num_labels} labels; a reward model has one")
    torch.manual_seed(ctx.seed)
    model.to(device).eval()
    return loaded_cls(model, tokenizer, device, options)


class RewardModelScorer(Scorer):
    """Any sequence-classification reward model, scoring the (prompt, response) pair directly."""

    metric = "reward"

    def __init__(self, name: str = "deberta-reward", description: str = "", **defaults: Any) -> None:
        self.name = name
        self.description = description or (
            "Reward-model logit of the (prompt, response) sentence pair; default "
            f"{DEFAULT_REWARD_MODEL}, truncated to 512 tokens"
        )
        self.default_options = {**REWARD_OPTIONS, **defaults}

    def options(self, ctx: Context) -> dict[str, Any]:
        return {**self.default_options, **dict(ctx.options)}

    def resolve(self, ctx: Context) -> ResolvedModel:
        opts = self.options(ctx)
        return resolve_model(str(opts["model"]), opts.get("revision"))

    def pin(self, ctx: Context) -> ResolvedModel:
        """What pins the weights in the fingerprint: ``resolve`` (hub commit, or the files' digest)."""
        return self.resolve(ctx)

    def fingerprint_parts(self, ctx: Context) -> dict[str, Any]:
        opts = self.options(ctx)
        resolved = self.pin(ctx)
        return {
            "kind": "reward-model",
            "model": str(opts["model"]) if resolved.revision else "local",
            "weights": resolved.weights,
            "tokenizer": resolved.tokenizer,
            "encoding": ENCODING_VERSION,
            "max_length": int(opts["max_length"]),
            "micro_batch": int(opts["micro_batch"]),
            "pad_to_multiple_of": int(opts["pad_to_multiple_of"]),
            "dtype": scorer_dtype(opts.get("dtype"), ctx, resolved),
        }

    def fingerprint(self, ctx: Context) -> str:
        return digest(self.fingerprint_parts(ctx))

    def load(self, ctx: Context) -> LoadedRewardModel:
        opts = self.options(ctx)
        return load_reward_model(self.resolve(ctx), ctx, opts)

    def describe(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "input": "tokenizer(prompt, response) sentence pair",
            "max_length": self.default_options["max_length"],
            "model": self.default_options["model"],
        }
