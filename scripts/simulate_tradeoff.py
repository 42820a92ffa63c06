"""Simulation check of the trade-off LRT (also available as `harness simulate`).

Fits >= 200 simulated data sets with no three-way effect (false-positive rate, should
be close to 5%) and >= 200 with a planted one (power). Usage:

    python scripts/simulate_tradeoff.py --n-null 200 --n-effect 200 --effect 1.0
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # small fits: threads only add overhead on a shared machine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-null", type=int, default=200)
    parser.add_argument("--n-effect", type=int, default=200)
    parser.add_argument("--effect", type=float, default=1.0, help="planted three-way effect, reward points")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from harness_stats.simulate import report

    print(report(args.n_null, args.n_effect, args.effect, args.seed))


if __name__ == "__main__":
    main()
