"""Batches are cut by the worker's own length measure (tokens for a model with a tokenizer)."""

from __future__ import annotations

import pytest

from harness.types import Context, HarnessError, LoadedModel, Prompt, WorkUnit


class _Worker(LoadedModel):
    def __init__(self, lengths: dict[str, int] | None) -> None:
        self.lengths = lengths

    def generate(self, prompts):  # pragma: no cover - batches only
        raise AssertionError

    def item_lengths(self, prompts):
        return [self.lengths[p.prompt_id] for p in prompts] if self.lengths is not None else [1]


class _CharWorker(LoadedModel):
    def generate(self, prompts):  # pragma: no cover - batches only
        raise AssertionError


def _unit(texts: dict[str, str], size: int) -> WorkUnit:
    items = [Prompt("s", pid, "en", "helpful", t) for pid, t in texts.items()]
    return WorkUnit("generate", "m", object(), Context(), items, size)


def test_batches_follow_the_models_token_counts_not_characters():
    # a short Devanagari text can be many more tokens than a long Latin one
    texts = {"a": "x" * 40, "b": "y" * 38, "c": "नमस्ते", "d": "दुनिया"}
    unit = _unit(texts, 2)
    by_chars = [[unit.items[i].prompt_id for i in b] for b in unit.batches(_CharWorker())]
    tokens = _Worker({"a": 10, "b": 9, "c": 30, "d": 29})
    by_tokens = [[unit.items[i].prompt_id for i in b] for b in unit.batches(tokens)]
    assert by_tokens == [["c", "d"], ["a", "b"]]
    assert by_chars == [["a", "b"], ["d", "c"]]  # the default: characters (6 each, ties by text)


def test_a_length_measure_that_loses_items_is_an_error():
    unit = _unit({"a": "x", "b": "y"}, 2)
    with pytest.raises(HarnessError, match="item_lengths gave 1 lengths for 2 prompts"):
        unit.batches(_Worker(None))
