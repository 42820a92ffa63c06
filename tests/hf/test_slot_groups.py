"""Rows of one cache capacity share an attention call (decode: the group; prefill: a block of it): slots
stay packed, a new row finds its slot zeroed, and rows of several capacities give transformers' own
tokens at every width."""

from __future__ import annotations

import pytest

from .conftest import TEXTS, make_ctx

pytestmark = pytest.mark.ml


class _Row:
    group = None
    slot = -1


def test_capacity_rounds_up_to_few_sizes():
    from harness_opt.slots import capacity

    assert [capacity(n) for n in (1, 63, 128, 129, 255, 1000, 1025, 2100)] == [128, 128, 128, 256, 256, 1024,
                                                                              1152, 2304]
    assert all(capacity(n) >= n for n in range(1, 5000, 7))


def test_a_freed_slot_takes_the_last_row_and_a_new_row_finds_zeros():
    import torch
    from harness_opt.slots import SlotGroup

    group = SlotGroup(8)
    rows = [_Row() for _ in range(6)]
    for r in rows[:3]:
        group.add(r)
    key = torch.zeros(1, 2, 3, 4)
    keys, values = group.layer(0, key, key)
    for r in rows[:3]:
        keys[r.slot] = r.slot + 1.0
    group.remove(rows[1])
    assert [r.slot for r in group.rows] == [0, 1] and rows[2].slot == 1 and rows[1].group is None
    assert bool((keys[1] == 3.0).all())  # the last row's cache moved with it
    group.add(rows[3])  # takes slot 2, which held the moved row's old copy
    assert rows[3].slot == 2 and bool((group.keys[0][2] == 0).all())
    group.add(rows[4])
    group.add(rows[5])  # a fifth row grows every layer's tensors, keeping the others' caches
    assert group.slots == 8 and bool((group.keys[0][0] == 1.0).all()) and bool((group.keys[0][1] == 3.0).all())


def test_a_prefill_chunk_makes_one_block_per_group_and_prefill_length():
    from harness_opt.slots import SlotGroup, prefill_blocks

    big, small = SlotGroup(256), SlotGroup(128)
    rows = []
    for n, group in ((100, big), (70, big), (40, small), (60, big), (10, big)):  # longest first, as admitted
        row = _Row()
        row.prompt = [0] * n
        group.add(row)
        rows.append(row)
    blocks = prefill_blocks(rows)
    assert [(b.group is big, b.first, b.count, b.length) for b in blocks] == [
        (True, 0, 2, 128), (False, 0, 1, 64), (True, 2, 2, 64)]
    last = blocks[2]
    assert last.src.tolist() == list(range(210, 280)) and last.slots.tolist() == [2] * 60 + [3] * 10
    assert last.positions.tolist() == list(range(60)) + list(range(10))


def test_rows_of_several_capacities_give_generates_tokens_at_every_width(hf_variants, home):
    import torch

    from .test_architectures import _reference

    torch.set_num_threads(1)
    v = hf_variants["tiny-gemma2"]  # sliding window and soft-capping: the masks matter most here
    loaded = v.load(make_ctx(v, home))
    try:
        texts = [TEXTS[6] * 3, *TEXTS[:5], TEXTS[8] * 2]  # prompts of ~10 to ~150 tokens: two capacities
        _, ref = _reference(loaded, texts, 12)
        ids = [loaded.tokenizer(loaded.format(t), add_special_tokens=False)["input_ids"] for t in texts]
        from harness_opt.slots import capacity

        assert len({capacity(len(i) + 12) for i in ids}) > 1
        for width in (1, 2, 5, len(ids)):
            assert loaded.packed.generate(ids, 12, width=width) == ref
        assert loaded.packed.groups == {}  # every cache freed at the end
    finally:
        loaded.close()
