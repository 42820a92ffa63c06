"""The `tradeoff` statistic against R's lme4 + lmerTest, whole processes side by side.

    python -m benchmarks.lmm_bench [--sizes 1600,4800,13200] [--repeats 3] [--json]   # from the repository root

For each size, one simulated table of the study's design (the lme4 fixtures' seeds and shapes,
tests/support/fixture_tables.py) is written once as a tidy CSV; then, alternating,
`Rscript` fits it with lmer (REML, the default extended formula; "lmer"), the same plus lmerTest's
Satterthwaite t tests and joint F test of the three-way terms ("lmer + lmerTest"), and
`harness stats TABLE --stats tradeoff --json` does the latter's work (plus its report pieces).
Wall time and peak RSS come from /usr/bin/time for the whole process (interpreter start and
imports included). Medians of the repeats; the machine's load average is recorded (on a shared
CPU, ratios are steadier than seconds).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

R_SCRIPT = r"""
args <- commandArgs(trailingOnly = TRUE)
tests <- args[2] == "tests"
suppressMessages(library(lme4))
if (tests) suppressMessages(library(lmerTest))
d <- read.csv(args[1])
d <- d[d$tier %in% c("low", "high"), ]
d$variant <- relevel(factor(d$model), ref = "base")
d$kind <- factor(d$kind, levels = c("helpful", "harmful"))
d$tier <- factor(d$tier, levels = c("high", "low"))
d$item <- paste(d$source, d$kind, d$prompt_id, sep = "|")
m <- lmer(score ~ variant * kind * tier + (1|item) + (1|language) + (1|language:item) +
          (1|language:variant) + (1|language:variant:kind), data = d, REML = TRUE)
fe <- fixef(m)
print(summary(m)$coefficients[grepl(":.*:", names(fe)), ])
if (tests) {
  L <- diag(length(fe))[grepl(":.*:", names(fe)), , drop = FALSE]
  print(contest(m, L, joint = TRUE))
}
"""

SIZES = {1600: "het1600", 4800: "het4800", 13200: "het13200"}


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, peak RSS MB) of a whole process, from /usr/bin/time."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as out:
        proc = subprocess.run(
            ["/usr/bin/time", "-f", "%e %M", "-o", out.name, *cmd], env=env, capture_output=True, text=True
        )
        if proc.returncode:
            raise RuntimeError(f"{cmd[0]} failed: {proc.stderr[-2000:]}")
        wall, rss_kb = out.read().split()[-2:]
    return float(wall), float(rss_kb) / 1024


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="1600,4800,13200")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    from harness.table import write_table
    from tests.support.fixture_tables import lme4_rows

    env = dict(os.environ)  # the harness the benchmark runs under (an install or an editable checkout)
    results = {"load_average": os.getloadavg(), "sizes": {}}
    with tempfile.TemporaryDirectory() as tmp:
        rscript = Path(tmp) / "fit.R"
        rscript.write_text(R_SCRIPT)
        for size in (int(s) for s in args.sizes.split(",")):
            table = write_table(lme4_rows(SIZES[size]), Path(tmp) / f"t{size}.csv")
            sides = {
                "lme4": ["Rscript", str(rscript), str(table), "fit"],
                "lme4+lmerTest": ["Rscript", str(rscript), str(table), "tests"],
                "harness": [
                    sys.executable,
                    "-c",
                    "from harness.cli import main; main()",
                    "stats",
                    str(table),
                    "--stats",
                    "tradeoff",
                    "--json",
                ],
            }
            runs: dict[str, list[tuple[float, float]]] = {k: [] for k in sides}
            for _ in range(args.repeats):
                for name, cmd in sides.items():
                    runs[name].append(timed(cmd, env))
                    print(f"{size} {name}: {runs[name][-1][0]:.2f} s, {runs[name][-1][1]:.0f} MB", file=sys.stderr)
            row = {
                name: {"wall_s": statistics.median(r[0] for r in rs), "peak_rss_mb": max(r[1] for r in rs)}
                for name, rs in runs.items()
            }
            row["ratio_harness_over_lme4"] = row["harness"]["wall_s"] / row["lme4"]["wall_s"]
            row["ratio_harness_over_lmertest"] = row["harness"]["wall_s"] / row["lme4+lmerTest"]["wall_s"]
            results["sizes"][size] = row
    results["load_average_after"] = os.getloadavg()
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(
        "| rows | Rscript lmer (s) | Rscript lmer + lmerTest F (s) | harness stats (s) | harness / lmer | "
        "harness / lmer+lmerTest | lmer peak MB | harness peak MB |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size, row in results["sizes"].items():
        print(
            f"| {size} | {row['lme4']['wall_s']:.2f} | {row['lme4+lmerTest']['wall_s']:.2f} | "
            f"{row['harness']['wall_s']:.2f} | {row['ratio_harness_over_lme4']:.2f} | "
            f"{row['ratio_harness_over_lmertest']:.2f} | {row['lme4']['peak_rss_mb']:.0f} | "
            f"{row['harness']['peak_rss_mb']:.0f} |"
        )
    print(f"load average before/after: {results['load_average']} / {results['load_average_after']}")


if __name__ == "__main__":
    main()
