"""A statistic with a figure, so the core tests cover plots/*.png (fixed bytes, no matplotlib)."""

from __future__ import annotations

from harness import Statistic, StatResult, hookimpl

#: A fixed 'figure': the core writes whatever bytes a statistic returns.
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8


class FakePlot(Statistic):
    name = "fake-plot"
    description = "Row count per model, with a figure"

    def compute(self, rows, options):
        counts = {}
        for r in rows:
            counts[r["model"]] = counts.get(r["model"], 0) + 1
        data = [{"model": m, "rows": n} for m, n in sorted(counts.items())]
        return StatResult(self.name, "Rows per model", data=data, figures={"rows": PNG}, markdown="Rows.")


@hookimpl
def harness_register_stats(register):
    register(FakePlot())
