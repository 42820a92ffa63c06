"""Scores a scorer could not compute (NaN) survive the store and the tidy table as missing values."""

from __future__ import annotations

import json
import math

from harness.store import Store
from harness.table import read_table, write_table


def test_nan_score_round_trips_as_missing(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    store.put_scores(
        [("k1", "g1", "lang-x", "fp", math.nan, {"reason": "not covered"}), ("k2", "g2", "x", "fp", 0.5, {})]
    )
    got = store.get_scores(["k1", "k2"])
    assert math.isnan(got["k1"][0]) and got["k1"][1] == {"reason": "not covered"}
    assert got["k2"][0] == 0.5

    row = dict(
        model="m",
        source="s",
        kind="helpful",
        language="wo",
        tier="low",
        prompt_id="1",
        prompt="p",
        response="r",
        scorer="lang-x",
        score=math.nan,
    )
    jsonl = write_table([row], tmp_path / "t.jsonl")
    assert json.loads(jsonl.read_text())["score"] is None  # valid JSON, not NaN
    csv = write_table([row], tmp_path / "t.csv")
    for path in (jsonl, csv):
        back = read_table(path)
        assert math.isnan(back[0]["score"])
