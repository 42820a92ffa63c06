"""Coverage and type-I error of the verdict's two headlines by simulation.

    python -m benchmarks.verdict_coverage [--n 200] [--effect 1.0] [--seed 0] [--languages 5] [--items 20] [--reps 0]

Draws --n tables with a planted three-way effect (reward points) and --n null tables (no tier
effect), pushes each through the `verdict` statistic and prints, for the reward-point contrast (its
default `reward_test`) and the HmR and HpR rate contrasts, how often the 95% CI covers the exact
truth and how often p < 0.05 on null tables. Targets: coverage 0.95 +/- 0.03, type-I error
0.05 +/- 0.02. --reps > 0 also scores the cluster bootstrap's coverage. Tier-specific variances: verdict_variance.py.
"""

from __future__ import annotations

import argparse

from tests.support.verdict_sim import VerdictDesign, report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--effect", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--languages", type=int, default=5, help="languages per tier")
    ap.add_argument("--items", type=int, default=20, help="prompts per kind")
    ap.add_argument("--reps", type=int, default=0, help="cluster-bootstrap resamples (0: skip)")
    a = ap.parse_args()
    design = VerdictDesign(languages_per_tier=a.languages, items_per_kind=a.items)
    print(report(a.n, a.effect, a.seed, design, a.reps))


if __name__ == "__main__":
    main()
