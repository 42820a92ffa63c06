"""The seeded, simulated tables R's fits were recorded on (numbers only), how they are written and read, and
R's recorded lme4 fits with the names to compare them by.

    python -m tests.support.fixture_tables lme4 [DIR]
    Rscript tests/stats/fixtures/lme4/record.R DIR
    python -m tests.support.fixture_tables language_contrast [DIR]
    Rscript tests/stats/fixtures/language_contrast/record.R DIR

DIR defaults to the set's folder under tests/stats/fixtures.

Two sets: ``lme4`` (the study's design, `SimDesign`; lme4 + lmerTest fits of the whole table) and
``language_contrast`` (the verdict's design, `VerdictDesign`, with tier-specific variances; clubSandwich,
t.test and per-tier lme4 fits). The tests read the recorded CSVs and check that these functions still
write exactly them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
from harness_stats.simulation.simulate import SimDesign, simulate_rows
from harness_stats.statistics.tradeoff_model import design_frames

from tests.support.verdict_sim import VerdictDesign, simulate_table

FIXTURES = Path(__file__).resolve().parents[1] / "stats" / "fixtures"
LME4_FITS: dict[str, Any] = json.loads((FIXTURES / "lme4" / "lme4_fits.json").read_text())
COLUMNS = ["score", "variant", "kind", "tier", "language", "item"]

LME4 = {
    # name: (design, planted effect, seed); variant x language heterogeneity (SD 0.3 for language:variant
    # and language:variant:kind)
    "het1600": (SimDesign(items_per_kind=20, low_languages=5, high_languages=5), 0.0, 1),
    "het4800": (SimDesign(items_per_kind=30, low_languages=8, high_languages=12), 0.5, 2),
    "het13200": (SimDesign(), 0.0, 3),
    # no language-level variation at all: a singular fit (variances on the boundary)
    "singular": (
        SimDesign(
            variants=2,
            items_per_kind=12,
            low_languages=2,
            high_languages=2,
            sd_language=0.0,
            sd_language_variant=0.0,
            sd_language_variant_kind=0.0,
        ),
        0.0,
        0,
    ),
}

LANGUAGE_CONTRAST = {
    # name: (design, planted effect, seed, share of rows dropped at random: an unbalanced table)
    "noisy_low": (
        VerdictDesign(
            variants=3,
            languages_per_tier=8,
            low_languages=5,
            items_per_kind=10,
            sd_variant_language_kind=0.15,
            low_scale=(("residual", 1.5), ("variant:language:kind", 2.0)),
        ).null(),
        0.0,
        1,
        0.0,
    ),
    "heavy_tails_planted": (
        VerdictDesign(
            variants=2,
            languages_per_tier=4,
            items_per_kind=8,
            sd_variant_language_kind=0.3,
            residual_df=5.0,
            low_scale=(("variant:language", 2.0),),
        ),
        1.0,
        2,
        0.0,
    ),
    "unbalanced": (VerdictDesign(variants=2, languages_per_tier=4, low_languages=3, items_per_kind=8), 0.5, 3, 0.08),
}


def lme4_rows(name: str) -> list[dict[str, Any]]:
    """The tidy rows of a table of the ``lme4`` set (also read by tests and benchmarks/lmm_bench.py)."""
    design, effect, seed = LME4[name]
    return simulate_rows(np.random.default_rng(seed), effect, design)


def language_contrast_rows(name: str) -> list[dict[str, Any]]:
    """The tidy rows of a table of the ``language_contrast`` set."""
    design, effect, seed, drop = LANGUAGE_CONTRAST[name]
    rng = np.random.default_rng(seed)
    rows = simulate_table(rng, effect, design)
    if drop:
        keep = rng.random(len(rows)) >= drop
        rows = [r for r, k in zip(rows, keep) if k]
    return rows


SETS = {"lme4": (LME4, lme4_rows), "language_contrast": (LANGUAGE_CONTRAST, language_contrast_rows)}


def write(fixture_set: str, name: str, out: Path) -> Path:
    """The table's analysis frame as ``out/NAME.csv.gz``, byte for byte what R was given (gzip mtime 0)."""
    rows = SETS[fixture_set][1](name)
    frame = design_frames(rows, {})[0]["frame"]
    path = out / f"{name}.csv.gz"
    frame[COLUMNS].to_csv(path, index=False, float_format="%.17g", compression={"method": "gzip", "mtime": 0})
    return path


def load(fixture_set: str, name: str) -> Any:
    """A recorded table as R read it: base first among the variants, helpful and the high tier the references."""
    import pandas as pd

    d = pd.read_csv(FIXTURES / fixture_set / f"{name}.csv.gz")
    others = sorted(v for v in d["variant"].unique() if v != "base")
    d["variant"] = pd.Categorical(d["variant"], categories=["base", *others])
    d["kind"] = pd.Categorical(d["kind"], categories=["helpful", "harmful"])
    d["tier"] = pd.Categorical(d["tier"], categories=["high", "low"])
    return d


def r_name(name: str) -> str:
    """R's name of one of our fixed-effect names ("variant[T.v1]:kind[T.harmful]" -> "variantv1:kindharmful")."""
    return "(Intercept)" if name == "Intercept" else name.replace("[T.", "").replace("]", "")


def r_variances(ref: dict) -> dict[str, float]:
    """An lme4 fit's variance components under `LmmFit.variance_components`'s keys."""
    vc = ref["varcorr"]
    out = {}
    for grp, v1, v2, value in zip(vc["grp"], vc["var1"], vc["var2"], vc["vcov"]):
        if v2:
            continue
        key = "residual" if grp == "Residual" else grp if v1 in ("(Intercept)", "") else f"{grp}: {v1}"
        out[key] = value
    return out


def main(argv: list[str]) -> None:
    if not argv or argv[0] not in SETS:
        sys.exit(f"usage: python -m tests.support.fixture_tables {{{','.join(SETS)}}} [DIR]")
    out = Path(argv[1]) if len(argv) > 1 else FIXTURES / argv[0]
    for name in SETS[argv[0]][0]:
        print(write(argv[0], name, out))


if __name__ == "__main__":
    main(sys.argv[1:])
