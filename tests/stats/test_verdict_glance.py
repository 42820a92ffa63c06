"""The verdict at a glance: the opening sentence names the flagged variants and direction; the table has
one row per variant and measure."""

from __future__ import annotations

from harness_stats.statistics.verdict_glance import compact_table, glance, opening_sentence


def _c(variant, estimate, lo, hi, metric=None, p=0.01):
    c = {"scorer": "rm", "variant": variant, "base": "b", "estimate": estimate, "ci_low": lo, "ci_high": hi,
         "p_holm": p, "reported": True}
    if metric:
        c.update(metric=metric, change_low=1.0, change_high=1.0 - estimate)
    return c


def test_names_flagged_variants_together_and_the_quiet_ones():
    lmm = [_c("dpo", -7.0, -10, -4), _c("both", -6.0, -9, -3), _c("sft", 0.1, -3, 3, p=0.9)]
    rates = [_c("dpo", -80, -100, -60, "HmR"), _c("both", -70, -90, -50, "HmR"), _c("sft", 5, -5, 15, "HmR", 0.3)]
    s = opening_sentence(lmm, rates, "low", "high")
    assert s == ("Yes for both and dpo: their harmlessness gain is smaller in low- than in high-resource languages "
                 "(reward points, HmR); no clear difference for sft.")


def test_says_no_when_every_interval_includes_zero():
    s = opening_sentence([_c("dpo", -1.0, -4, 2, p=0.6)], [_c("dpo", 3, -20, 26, "HpR", 1.0)], "low", "high")
    assert s.startswith("No: no aligned variant's trade-off differs clearly between low- and high-resource")


def test_table_rows_per_variant_and_measure_with_tier_changes_from_the_rows():
    rows = [{"scorer": "rm", "model": m, "kind": k, "tier": t, "score": v}
            for m, k, t, v in [("b", "harmful", "low", -5), ("b", "helpful", "low", 1), ("dpo", "harmful", "low", -4),
                               ("dpo", "helpful", "low", 1), ("b", "harmful", "high", -5), ("b", "helpful", "high", 1),
                               ("dpo", "harmful", "high", 3), ("dpo", "helpful", "high", 1)]]
    table = compact_table(rows, [_c("dpo", -7.0, -10, -4)], [_c("dpo", -80, -100, -60, "HmR")], "low", "high")
    lines = table.splitlines()
    assert lines[0].startswith("| variant | measure | change low | change high | difference (low - high)")
    assert lines[2] == "| dpo | reward points | +1.00 | +8.00 | **-7.00** | -10.00 to -4.00 | 0.01 |"
    assert lines[3].startswith("| dpo | HmR points | +1.0 | +81.0 | **-80.0** |")
    assert glance(rows, [], [], "low", "high").startswith("No:")
